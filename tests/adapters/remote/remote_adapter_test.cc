// The remote adapter against an in-process switchboard.v1.Adapter server over
// mutual TLS (real dev-ca certificates): it plays a member's translator.
#include "adapters/remote/remote_adapter.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "adapters/adapter_registry.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "switchboard/v1/adapter_service.grpc.pb.h"
#include "tests/adapters/remote/remote_adapter_pki.h"
#include "tests/common/status_matchers.h"
#include "tests/common/temp_dir.h"

namespace switchboard::adapters::remote {
namespace {

using ::switchboard::testing::CertFiles;
using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kContentType[] = "text/x-case-note";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A member's translator, scripted by the test.
class FakeTranslator final : public v1::Adapter::CallbackService {
 public:
  enum class Mode {
    kTranslate,  // Decode: header.id = the bytes; Encode: `id=<header.id>`.
    kRefuse,     // INVALID_ARGUMENT with a location.
    kFail,       // INTERNAL.
    kNoMessage,  // Decode answers OK without a message.
    kHold,       // Answers only when the test releases it (after the deadline).
  };

  void set_mode(Mode mode) {
    absl::MutexLock lock(&mu_);
    mode_ = mode;
  }
  std::string last_content_type() {
    absl::MutexLock lock(&mu_);
    return last_content_type_;
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

  // Answers every held call (CANCELLED: the client has long given up).
  void ReleaseHeld() {
    std::vector<grpc::ServerUnaryReactor*> held;
    {
      absl::MutexLock lock(&mu_);
      held.swap(held_);
    }
    for (grpc::ServerUnaryReactor* reactor : held) {
      reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "released"));
    }
  }

  grpc::ServerUnaryReactor* Decode(grpc::CallbackServerContext* context,
                                   const v1::DecodeRequest* request,
                                   v1::DecodeResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    absl::MutexLock lock(&mu_);
    ++calls_;
    last_content_type_ = request->content_type();
    switch (mode_) {
      case Mode::kTranslate: {
        v1::Message* m = response->mutable_message();
        m->mutable_header()->set_id(request->bytes());
        m->mutable_header()->set_event("case-note");
        m->mutable_case_note()->add_sections()->set_text("note");
        response->add_ignored_elements("line 4 (colour)");
        response->add_ignored_elements("line 6 (mood)");
        reactor->Finish(grpc::Status::OK);
        break;
      }
      case Mode::kRefuse:
        reactor->Finish(
            grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "line 3 (client): required"));
        break;
      case Mode::kFail:
        reactor->Finish(grpc::Status(grpc::StatusCode::INTERNAL, "translator crashed"));
        break;
      case Mode::kNoMessage:
        reactor->Finish(grpc::Status::OK);
        break;
      case Mode::kHold:
        held_.push_back(reactor);
        break;
    }
    return reactor;
  }

  grpc::ServerUnaryReactor* Encode(grpc::CallbackServerContext* context,
                                   const v1::EncodeRequest* request,
                                   v1::EncodeResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    absl::MutexLock lock(&mu_);
    ++calls_;
    switch (mode_) {
      case Mode::kTranslate:
      case Mode::kNoMessage:
        // No content type: the adapter fills in the configured one.
        response->set_bytes(absl::StrCat("id=", request->message().header().id(), "\n"));
        reactor->Finish(grpc::Status::OK);
        break;
      case Mode::kRefuse:
        reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                     "case_note.sections[1]: this format holds one section"));
        break;
      case Mode::kFail:
        reactor->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "decode only"));
        break;
      case Mode::kHold:
        held_.push_back(reactor);
        break;
    }
    return reactor;
  }

 private:
  absl::Mutex mu_;
  Mode mode_ ABSL_GUARDED_BY(mu_) = Mode::kTranslate;
  std::string last_content_type_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<grpc::ServerUnaryReactor*> held_ ABSL_GUARDED_BY(mu_);
};

// The translator on 127.0.0.1, port 0, requiring a client certificate of `ca`.
class TranslatorServer {
 public:
  explicit TranslatorServer(const CertFiles& server) {
    grpc::SslServerCredentialsOptions tls(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    tls.pem_root_certs = ReadAll(testing::TestPki::Get().ca());
    tls.pem_key_cert_pairs.push_back({ReadAll(server.key), ReadAll(server.cert)});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(tls), &port_);
    builder.RegisterService(&translator_);
    server_ = builder.BuildAndStart();
  }
  ~TranslatorServer() { Stop(); }

  void Stop() {
    if (server_ == nullptr) return;
    translator_.ReleaseHeld();  // Shutdown waits for every call to finish.
    server_->Shutdown();
    server_.reset();
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  FakeTranslator& translator() { return translator_; }

 private:
  FakeTranslator translator_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

v1::adapters::RemoteAdapterConfig Config(const std::string& address, uint32_t timeout_ms = 5000) {
  const CertFiles& client = testing::GatewayClientCert();
  v1::adapters::RemoteAdapterConfig config;
  config.set_address(address);
  config.set_timeout_ms(timeout_ms);
  config.set_content_type(kContentType);
  config.set_ca_cert_file(client.ca);
  config.set_cert_file(client.cert);
  config.set_key_file(client.key);
  return config;
}

std::unique_ptr<RemoteAdapter> MustCreate(v1::adapters::RemoteAdapterConfig config) {
  absl::StatusOr<std::unique_ptr<RemoteAdapter>> adapter = RemoteAdapter::Create(std::move(config));
  EXPECT_THAT(adapter, IsOk());
  return adapter.ok() ? *std::move(adapter) : nullptr;
}

class RemoteAdapterTest : public ::testing::Test {
 protected:
  RemoteAdapterTest() : server_(testing::AdapterServerCert()) {}

  TranslatorServer server_;
};

TEST_F(RemoteAdapterTest, DecodeReturnsTheRemoteMessageAndItsIgnoredElements) {
  auto adapter = MustCreate(Config(server_.address()));
  ASSERT_NE(adapter, nullptr);
  absl::StatusOr<DecodeResult> result =
      adapter->DecodeWithReport("text/x-case-note; charset=utf-8", "CN-1");
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->message.header().id(), "CN-1");
  EXPECT_EQ(result->message.header().event(), "case-note");
  EXPECT_THAT(result->ignored, ElementsAre("line 4 (colour)", "line 6 (mood)"));
  EXPECT_EQ(server_.translator().last_content_type(), "text/x-case-note; charset=utf-8");

  // Plain Decode, and no content type: the configured one is sent.
  absl::StatusOr<v1::Message> message = adapter->Decode("", "CN-2");
  ASSERT_THAT(message, IsOk());
  EXPECT_EQ(message->header().id(), "CN-2");
  EXPECT_EQ(server_.translator().last_content_type(), kContentType);
}

TEST_F(RemoteAdapterTest, AnotherContentTypeIsRefusedWithoutCallingTheRemote) {
  auto adapter = MustCreate(Config(server_.address()));
  ASSERT_NE(adapter, nullptr);
  EXPECT_THAT(adapter->Decode("application/hl7-v2", "x"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "content_type: 'application/hl7-v2' is not text/x-case-note"));
  EXPECT_EQ(server_.translator().calls(), 0);
}

TEST_F(RemoteAdapterTest, EncodeReturnsTheRemoteBytesWithTheConfiguredContentType) {
  auto adapter = MustCreate(Config(server_.address()));
  ASSERT_NE(adapter, nullptr);
  v1::Message message;
  message.mutable_header()->set_id("OUT-1");
  absl::StatusOr<PartnerPayload> payload = adapter->Encode(message);
  ASSERT_THAT(payload, IsOk());
  EXPECT_EQ(payload->content_type, kContentType);
  EXPECT_EQ(payload->bytes, "id=OUT-1\n");
}

TEST_F(RemoteAdapterTest, RemoteRefusalIsInvalidArgumentWithItsLocationKept) {
  server_.translator().set_mode(FakeTranslator::Mode::kRefuse);
  auto adapter = MustCreate(Config(server_.address()));
  ASSERT_NE(adapter, nullptr);
  EXPECT_THAT(adapter->Decode(kContentType, "x"),
              StatusIs(absl::StatusCode::kInvalidArgument, "line 3 (client): required"));
  EXPECT_THAT(adapter->Encode(v1::Message()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "case_note.sections[1]: this format holds one section"));
}

TEST_F(RemoteAdapterTest, RemoteFailuresAreUnavailableNamingTheAddress) {
  auto adapter = MustCreate(Config(server_.address()));
  ASSERT_NE(adapter, nullptr);
  const std::string at = "remote adapter at " + server_.address();

  server_.translator().set_mode(FakeTranslator::Mode::kFail);
  EXPECT_THAT(adapter->Decode(kContentType, "x"),
              StatusIs(absl::StatusCode::kUnavailable,
                       at + " failed Decode: INTERNAL: translator crashed"));
  // An adapter with no outbound direction.
  EXPECT_THAT(adapter->Encode(v1::Message()),
              StatusIs(absl::StatusCode::kUnimplemented, at + " does not implement Encode"));

  server_.translator().set_mode(FakeTranslator::Mode::kNoMessage);
  EXPECT_THAT(adapter->Decode(kContentType, "x"),
              StatusIs(absl::StatusCode::kUnavailable, at + " answered Decode without a message"));
}

TEST_F(RemoteAdapterTest, NoAnswerWithinTheDeadlineIsAnErrorNamingAddressAndTimeout) {
  server_.translator().set_mode(FakeTranslator::Mode::kHold);
  auto adapter = MustCreate(Config(server_.address(), /*timeout_ms=*/200));
  ASSERT_NE(adapter, nullptr);
  const std::string expected =
      absl::StrCat("remote adapter at ", server_.address(), " did not answer within 200 ms");
  EXPECT_THAT(adapter->Decode(kContentType, "x"),
              StatusIs(absl::StatusCode::kUnavailable, expected));
  EXPECT_THAT(adapter->Encode(v1::Message()), StatusIs(absl::StatusCode::kUnavailable, expected));
  server_.translator().ReleaseHeld();
}

TEST_F(RemoteAdapterTest, ServerDownIsUnavailableNamingTheAddress) {
  const std::string address = server_.address();
  server_.Stop();
  auto adapter = MustCreate(Config(address));
  ASSERT_NE(adapter, nullptr);
  EXPECT_THAT(adapter->Decode(kContentType, "x"),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("remote adapter at " + address + " is unavailable: ")));
}

TEST(RemoteAdapterTlsTest, ServerCertificateOfAnotherCaIsRefused) {
  TranslatorServer impostor(testing::OtherCaServerCert());
  auto adapter = MustCreate(Config(impostor.address()));
  ASSERT_NE(adapter, nullptr);
  EXPECT_THAT(adapter->Decode(kContentType, "x"),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("remote adapter at " + impostor.address() + " is unavailable")));
  EXPECT_EQ(impostor.translator().calls(), 0);
}

TEST_F(RemoteAdapterTest, ConcurrentCallsShareOneAdapter) {
  auto adapter = MustCreate(Config(server_.address()));
  ASSERT_NE(adapter, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&adapter, t] {
      for (int i = 0; i < 20; ++i) {
        const std::string id = absl::StrCat("T", t, "-", i);
        absl::StatusOr<v1::Message> m = adapter->Decode(kContentType, id);
        EXPECT_THAT(m, IsOk());
        if (m.ok()) {
          EXPECT_EQ(m->header().id(), id);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(server_.translator().calls(), 80);
}

TEST(RemoteAdapterConfigTest, BadConfigsAreRefusedNamingTheField) {
  testing::TempDir dir;
  const std::string not_pem = dir.Sub("not.pem");
  std::ofstream(not_pem) << "hello";
  struct Case {
    void (*edit)(v1::adapters::RemoteAdapterConfig&, const std::string& not_pem);
    const char* error;
  };
  using C = v1::adapters::RemoteAdapterConfig;
  const Case cases[] = {
      {[](C& c, const std::string&) { c.clear_address(); }, "address: required (host:port)"},
      {[](C& c, const std::string&) { c.set_address("adapter.example.org"); },
       "address: 'adapter.example.org' is not host:port (e.g. adapter.example.org:7450)"},
      {[](C& c, const std::string&) { c.set_address("dns:///a.example:1"); },
       "address: 'dns:///a.example:1' is not host:port"},
      {[](C& c, const std::string&) { c.set_address("a.example:0"); },
       "address: 'a.example:0' is not host:port"},
      {[](C& c, const std::string&) { c.set_address("a.example:65536"); },
       "address: 'a.example:65536' is not host:port"},
      {[](C& c, const std::string&) { c.set_address("a.example:+80"); },
       "address: 'a.example:+80' is not host:port"},
      {[](C& c, const std::string&) { c.set_address(":7450"); },
       "address: ':7450' is not host:port"},
      {[](C& c, const std::string&) { c.set_address("[::1]"); },
       "address: '[::1]' is not host:port"},
      {[](C& c, const std::string&) { c.set_timeout_ms(30001); },
       "timeout_ms: 30001 is over the maximum of 30000"},
      {[](C& c, const std::string&) { c.clear_content_type(); },
       "content_type: required (e.g. text/x-case-note)"},
      {[](C& c, const std::string&) { c.clear_ca_cert_file(); }, "ca_cert_file: required"},
      {[](C& c, const std::string&) { c.set_cert_file("/nonexistent/gw.pem"); },
       "cert_file: cannot read '/nonexistent/gw.pem'"},
      {[](C& c, const std::string& p) { c.set_key_file(p); }, "key_file: '%s' is not a PEM file"},
  };
  for (const Case& test : cases) {
    C config = Config("127.0.0.1:7450");
    test.edit(config, not_pem);
    std::string error = test.error;
    if (const size_t at = error.find("%s"); at != std::string::npos) {
      error.replace(at, 2, not_pem);
    }
    EXPECT_THAT(RemoteAdapter::Create(config),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(error)))
        << config.ShortDebugString();
  }
  // Good ones: IPv6, a name, the default timeout.
  for (const char* address : {"[::1]:7450", "adapter-1.northside.example:443"}) {
    C config = Config(address, /*timeout_ms=*/0);
    absl::StatusOr<std::unique_ptr<RemoteAdapter>> adapter = RemoteAdapter::Create(config);
    ASSERT_THAT(adapter, IsOk()) << address;
    EXPECT_EQ((*adapter)->timeout_ms(), kDefaultTimeoutMs);
  }
}

TEST(RemoteAdapterConfigTest, IsABuiltinTypeAndItsFactoryNamesTheField) {
  AdapterRegistry registry;
  RegisterBuiltinAdapters(registry);
  const AdapterFactory* factory =
      registry.FindByConfigType("switchboard.v1.adapters.RemoteAdapterConfig");
  ASSERT_NE(factory, nullptr);
  EXPECT_EQ(factory->name(), "switchboard.adapters.remote");

  google::protobuf::Any any;
  v1::adapters::RemoteAdapterConfig config = Config("127.0.0.1:7450");
  config.clear_cert_file();
  any.PackFrom(config);
  EXPECT_THAT(registry.Create(any),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "adapter 'switchboard.adapters.remote': cert_file: required"));
  any.PackFrom(v1::Message());
  EXPECT_THAT(factory->Create(any),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected ")));
  any.PackFrom(Config("127.0.0.1:7450"));
  EXPECT_THAT(registry.Create(any), IsOk());
}

}  // namespace
}  // namespace switchboard::adapters::remote
