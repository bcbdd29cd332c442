// A member whose translator runs as its own service: the real `switchboard`
// binary bound (adapter_bindings, RemoteAdapterConfig with paths relative to the
// config) to the real tools/remote-adapter-example process, over mutual TLS.
// Raw publishes are decoded remotely and delivered; remote refusals keep their
// location; an adapter that is down stores nothing.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/adapters/remote/remote_adapter_pki.h"
#include "tests/integration/integration_fixture.h"

extern char** environ;

namespace switchboard::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kCaseNote[] = "text/x-case-note";
constexpr char kNorthsideSystem[] = "https://northside-family.example.org/case";

// tools/remote-adapter-example as a child process (dies with the test).
class ExampleAdapter {
 public:
  explicit ExampleAdapter(std::string stderr_path) : stderr_path_(std::move(stderr_path)) {}
  ~ExampleAdapter() { Stop(); }

  // Starts it on 127.0.0.1, port 0; returns once it prints `listening on`.
  absl::Status Start() {
    const CertFiles server = AdapterServerCert();
    const std::string binary = BinaryDir() + "/tools/remote-adapter-example/remote-adapter-example";
    std::vector<std::string> args = {binary,
                                     "--listen=127.0.0.1:0",
                                     "--ca=" + server.ca,
                                     "--cert=" + server.cert,
                                     "--key=" + server.key,
                                     "--source=northside-family",
                                     absl::StrCat("--client_system=", kNorthsideSystem)};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return absl::InternalError("pipe");
    const int err = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      dup2(out[1], STDOUT_FILENO);
      dup2(err, STDERR_FILENO);
      execve(binary.c_str(), argv.data(), environ);
      _exit(127);
    }
    close(out[1]);
    close(err);
    std::string line;
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (pid_ > 0 && line.find('\n') == std::string::npos) {
      const int left = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
      pollfd p{out[0], POLLIN, 0};
      char buf[256];
      ssize_t n = 0;
      if (left <= 0 || poll(&p, 1, left) <= 0 || (n = read(out[0], buf, sizeof(buf))) <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    close(out[0]);
    const std::string prefix = "listening on ";
    if (line.rfind(prefix, 0) != 0) {
      Stop();
      return absl::UnavailableError(
          absl::StrCat("remote-adapter-example did not start: '", line, "'; see ", stderr_path_));
    }
    address_ = line.substr(prefix.size(), line.find('\n') - prefix.size());
    return absl::OkStatus();
  }

  // SIGTERM, then waits for it to exit.
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  const std::string& address() const { return address_; }

 private:
  const std::string stderr_path_;
  pid_t pid_ = -1;
  std::string address_;
};

// A case note in the example's format.
std::string Note(const std::string& id, const std::string& occurred = "2026-01-05T10:00:00Z") {
  return absl::StrCat("# Northside Family Services\nid=", id, "\nclient=NF-17\noccurred=", occurred,
                      "\ntitle=Home visit\ndomain=family\nmood=settled\n",
                      "note=Family settled in.\\nNext visit in two weeks.\n");
}

class RemoteAdapterTest : public GatewayTest {
 protected:
  void SetUp() override {
    // The gateway's TLS material for the adapter, next to its config: the
    // binding names it by relative paths.
    const std::string certs = dir_.Sub("remote-adapter");
    std::filesystem::create_directories(certs);
    const CertFiles& client = GatewayClientCert();
    std::filesystem::copy_file(client.ca, certs + "/ca.pem");
    std::filesystem::copy_file(client.cert, certs + "/gateway-client.pem");
    std::filesystem::copy_file(client.key, certs + "/gateway-client.key");
    absl::Status started = adapter_.Start();
    ASSERT_TRUE(started.ok()) << started;
    GatewayTest::SetUp();
  }

  GatewayOptions Options() override {
    GatewayOptions options;
    options.extra_config =
        absl::StrFormat(R"pb(
                          adapter_bindings {
                            organisation_id: "northside-family"
                            config {
                              [type.googleapis.com/switchboard.v1.adapters.RemoteAdapterConfig] {
                                address: "%s"
                                timeout_ms: 5000
                                content_type: "%s"
                                ca_cert_file: "remote-adapter/ca.pem"
                                cert_file: "remote-adapter/gateway-client.pem"
                                key_file: "remote-adapter/gateway-client.key"
                              }
                            }
                          }
                        )pb",
                        adapter_.address(), kCaseNote);
    // A client northside-family knows by its own case number.
    options.extra_seed =
        absl::StrFormat(R"pb(
                          clients {
                            id: "client-n"
                            identifiers { system: "%s" value: "NF-17" }
                          }
                          care_teams {
                            client_id: "client-n"
                            members { organisation_id: "northside-family" role: "family-support" }
                            members { organisation_id: "harbour-housing" role: "housing-support" }
                          }
                        )pb",
                        kNorthsideSystem);
    return options;
  }

  ExampleAdapter adapter_{dir_.Sub("remote-adapter.stderr")};
};

TEST_F(RemoteAdapterTest, RawCaseNoteIsDecodedRemotelyAndDelivered) {
  auto family = As("northside-family");
  v1::Receipt receipt;
  grpc::Status s = family->PublishRaw(kCaseNote, Note("NF-0001"), &receipt);
  ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << gateway_->StderrTail();
  EXPECT_EQ(receipt.message_id(), "NF-0001");
  EXPECT_EQ(receipt.source(), "northside-family");
  EXPECT_THAT(receipt.ignored_elements(), ElementsAre("line 7 (mood)"));

  auto housing = Subscribe("harbour-housing");
  auto d = housing->Next();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->message_id(), "NF-0001");
  const v1::Message& m = d->message();
  EXPECT_EQ(m.header().event(), "case-note");
  EXPECT_EQ(m.header().source(), "northside-family");
  ASSERT_TRUE(m.has_case_note());
  EXPECT_EQ(m.case_note().title(), "Home visit");
  ASSERT_EQ(m.case_note().sections_size(), 1);
  EXPECT_EQ(m.case_note().sections(0).text(), "Family settled in.\nNext visit in two weeks.");
  EXPECT_FALSE(d->has_partner());  // harbour-housing has no binding
  housing->Ack({d->id()});
  ASSERT_TRUE(housing->Close().ok());
}

TEST_F(RemoteAdapterTest, DeliveriesToTheBoundMemberAreEncodedRemotely) {
  ASSERT_TRUE(As("harbour-housing")
                  ->Publish(CaseNote("HH-NOTE-1", "harbour-housing", kNorthsideSystem, "NF-17"))
                  .ok());
  auto family = Subscribe("northside-family");
  auto d = family->Next();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->message_id(), "HH-NOTE-1");
  ASSERT_TRUE(d->has_partner());
  EXPECT_EQ(d->partner().error(), "");
  EXPECT_EQ(d->partner().content_type(), kCaseNote);
  EXPECT_THAT(d->partner().bytes(), HasSubstr("id=HH-NOTE-1\nclient=NF-17\n"));
  EXPECT_THAT(d->partner().bytes(), HasSubstr("note=Home visit went well.\n"));
  family->Ack({d->id()});
  ASSERT_TRUE(family->Close().ok());
}

TEST_F(RemoteAdapterTest, RemoteRefusalIsInvalidArgumentWithItsLocationAndNothingIsStored) {
  auto family = As("northside-family");
  grpc::Status s = family->PublishRaw(kCaseNote, Note("NF-0002", "24/11/2026"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            "payload: line 4 (occurred): not an RFC 3339 time such as 2026-11-24T15:30:00Z");
  EXPECT_EQ(family->Status("NF-0002").error_code(), grpc::StatusCode::NOT_FOUND);

  s = family->PublishRaw(kCaseNote, "id=NF-0003\noccurred=2026-01-05T10:00:00Z\nnote=x\n");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "payload: client: required");
  EXPECT_EQ(family->Status("NF-0003").error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(RemoteAdapterTest, AdapterDownIsAnErrorNamingItsAddressAndNothingIsStored) {
  const std::string address = adapter_.address();
  adapter_.Stop();
  auto family = As("northside-family");
  grpc::Status s = family->PublishRaw(kCaseNote, Note("NF-0004"));
  // Not the payload's fault: UNAVAILABLE, so the member publishes again later.
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(s.error_message(),
              HasSubstr(absl::StrCat("remote adapter at ", address, " is unavailable: ")));
  EXPECT_EQ(family->Status("NF-0004").error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace switchboard::testing
