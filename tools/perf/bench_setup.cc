#include "tools/perf/bench_setup.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "tools/perf/gateway_process.h"

namespace switchboard::tools::perf {
namespace {

constexpr char kSanPrefix[] = "spiffe://switchboard.example/org/";

// Narrative padding: printable text, as a real discharge summary would carry.
constexpr char kNarrative[] =
    "Admitted with community-acquired pneumonia; treated with oral antibiotics and "
    "discharged home with follow-up by the practice nurse in seven days. ";

std::string Narrative(size_t n) {
  std::string out;
  out.reserve(n);
  while (out.size() < n) out.append(kNarrative);
  out.resize(n);
  return out;
}

v1::Organisation Org(const std::string& id, const std::string& name, v1::Organisation::Role role) {
  v1::Organisation org;
  org.set_id(id);
  org.set_display_name(name);
  org.add_roles(role);
  org.set_certificate_san(absl::StrCat(kSanPrefix, id));
  return org;
}

}  // namespace

Topology MakeTopology(int publishers, int fanout) {
  Topology t;
  for (int i = 1; i <= publishers; ++i) t.publishers.push_back(absl::StrFormat("lg-pub-%03d", i));
  for (int i = 1; i <= fanout; ++i) t.recipients.push_back(absl::StrFormat("lg-rcpt-%02d", i));
  t.admin = "lg-admin";
  return t;
}

v1::ClientIdentifier ClientIdentifierOf(const std::string& publisher) {
  v1::ClientIdentifier id;
  id.set_system(absl::StrCat("https://", publisher, ".example.org/fhir/mrn"));
  id.set_value(absl::StrCat("MRN-", publisher));
  return id;
}

absl::Status MakeCertificates(const std::string& dev_ca, const std::string& certs_dir,
                              const Topology& topology) {
  std::vector<std::string> argv = {dev_ca, "demo", certs_dir, topology.admin};
  argv.insert(argv.end(), topology.publishers.begin(), topology.publishers.end());
  argv.insert(argv.end(), topology.recipients.begin(), topology.recipients.end());
  absl::StatusOr<std::string> out = RunCommand(argv);
  if (!out.ok()) {
    return absl::Status(out.status().code(), absl::StrCat("making certificates with tools/dev-ca: ",
                                                          out.status().message()));
  }
  return absl::OkStatus();
}

v1::GatewayConfig MakeGatewayConfig(const Topology& topology, uint32_t max_message_bytes) {
  v1::GatewayConfig c;
  c.mutable_listen()->set_grpc_address("127.0.0.1:0");
  c.mutable_tls()->set_ca_cert_file("certs/ca.pem");
  c.mutable_tls()->set_server_cert_file("certs/gateway.pem");
  c.mutable_tls()->set_server_key_file("certs/gateway.key");
  c.set_data_dir("data");
  c.mutable_limits()->set_max_message_bytes(max_message_bytes);
  c.mutable_limits()->set_max_destinations(64);
  // A window large enough that the subscriber's round trip never throttles the
  // stream; the subscribers ask for what --window says, up to max_window.
  c.mutable_delivery()->set_default_window(1024);
  c.mutable_delivery()->set_max_window(4096);
  c.mutable_delivery()->set_ack_timeout_ms(30000);
  c.set_shutdown_grace_ms(5000);
  v1::EventType* discharge = c.add_event_types();
  discharge->set_code("discharge");
  discharge->set_payload(v1::EventType::DISCHARGE_NOTE);
  discharge->set_display("Hospital discharge summary");

  v1::Seed* seed = c.mutable_seed();
  *seed->add_organisations() =
      Org(topology.admin, "loadgen administration", v1::Organisation::ADMIN);
  for (const std::string& p : topology.publishers) {
    *seed->add_organisations() =
        Org(p, absl::StrCat("loadgen hospital ", p), v1::Organisation::HOSPITAL);
  }
  for (const std::string& r : topology.recipients) {
    *seed->add_organisations() =
        Org(r, absl::StrCat("loadgen agency ", r), v1::Organisation::AGENCY);
  }
  for (const std::string& p : topology.publishers) {
    v1::Client* client = seed->add_clients();
    client->set_id(absl::StrCat("client-", p));
    *client->add_identifiers() = ClientIdentifierOf(p);
    v1::CareTeam* team = seed->add_care_teams();
    team->set_client_id(client->id());
    v1::CareTeamMember* hospital = team->add_members();
    hospital->set_organisation_id(p);
    hospital->set_role("hospital");
    for (const std::string& r : topology.recipients) {
      v1::CareTeamMember* member = team->add_members();
      member->set_organisation_id(r);
      member->set_role("housing-support");
    }
  }
  return c;
}

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read '", path, "'"));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

absl::Status WriteTextFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write '", path, "'"));
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MemberChannel(const std::string& address,
                                                             const std::string& certs_dir,
                                                             const std::string& org) {
  grpc::SslCredentialsOptions ssl;
  absl::StatusOr<std::string> ca = ReadTextFile(absl::StrCat(certs_dir, "/ca.pem"));
  if (!ca.ok()) return ca.status();
  absl::StatusOr<std::string> cert = ReadTextFile(absl::StrCat(certs_dir, "/", org, ".pem"));
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadTextFile(absl::StrCat(certs_dir, "/", org, ".key"));
  if (!key.ok()) return key.status();
  ssl.pem_root_certs = *std::move(ca);
  ssl.pem_cert_chain = *std::move(cert);
  ssl.pem_private_key = *std::move(key);
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args);
}

absl::StatusOr<MessageFactory> MessageFactory::Create(const std::string& publisher, int size,
                                                      absl::Time occurred_at) {
  MessageFactory f;
  v1::MessageHeader* h = f.message_.mutable_header();
  h->set_id(std::string(kIdLength, '0'));
  h->set_event("discharge");
  h->set_source(publisher);
  *h->mutable_client() = ClientIdentifierOf(publisher);
  // A whole second and no nanos: the timestamp's encoded size never varies.
  h->mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(occurred_at));
  h->set_purpose_of_use("TREAT");
  v1::DischargeNote* note = f.message_.mutable_discharge_note();
  note->set_title("Discharge summary");
  note->set_discharge_disposition("home");
  v1::Section* section = note->add_sections();
  section->set_code("8648-8");
  section->set_title("Hospital course");

  // Pad with the section text. Length prefixes are varints, so one more byte of
  // text can add two bytes to the message; then a byte of author text shifts it.
  const size_t target = static_cast<size_t>(size);
  for (size_t extra = 0; extra < 8; ++extra) {
    h->set_author(std::string(extra, 'a'));
    section->set_text("x");
    const size_t smallest = f.message_.ByteSizeLong();
    if (smallest > target) break;
    size_t n = target - smallest + 1;
    section->set_text(Narrative(n));
    while (f.message_.ByteSizeLong() > target && n > 1) {
      n -= std::min(n - 1, f.message_.ByteSizeLong() - target);
      section->set_text(Narrative(n));
    }
    if (f.message_.ByteSizeLong() == target) return f;
  }
  h->clear_author();
  section->set_text("x");
  return absl::InvalidArgumentError(
      absl::StrCat("--size: ", size,
                   " bytes cannot be built exactly; the smallest DischargeNote loadgen sends is ",
                   f.message_.ByteSizeLong(), " bytes"));
}

const v1::Message& MessageFactory::Make(const std::string& id) {
  message_.mutable_header()->set_id(id);
  return message_;
}

}  // namespace switchboard::tools::perf
