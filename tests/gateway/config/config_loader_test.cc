#include "gateway/config/config_loader.h"

#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/config/event_catalogue.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"
#include "tests/common/temp_dir.h"

namespace switchboard::gateway::config {
namespace {

using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using ::switchboard::testing::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kMinimal[] = R"pb(
  listen { grpc_address: "127.0.0.1:0" }
  tls {
    ca_cert_file: "certs/ca.pem"
    server_cert_file: "certs/gateway.pem"
    server_key_file: "certs/gateway.key"
  }
  data_dir: "data"
  event_types { code: "discharge" payload: DISCHARGE_NOTE }
  event_types { code: "case-note" payload: CASE_NOTE }
  event_types { code: "referral" payload: REFERRAL }
)pb";

v1::GatewayConfig Minimal() {
  auto config = ParseConfig(kMinimal, "minimal", "/srv/sb");
  EXPECT_THAT(config, IsOk());
  return config.ok() ? *config : v1::GatewayConfig();
}

std::string SourceDir() {
  const char* dir = std::getenv("SB_SOURCE_DIR");
  return dir == nullptr ? std::string() : std::string(dir);
}

TEST(ConfigLoaderTest, ParseErrorNamesOriginLineAndColumn) {
  const std::string text =
      "listen { grpc_address: \"127.0.0.1:0\" }\n"
      "data_dir: \"data\"\n"
      "limits { max_destinations: \"many\" }\n";
  const int column = static_cast<int>(std::string("limits { max_destinations: ").size()) + 1;
  EXPECT_THAT(ParseConfig(text, "gw.textproto", "/srv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith(absl::StrCat("gw.textproto:3:", column, ": "))));
}

TEST(ConfigLoaderTest, UnknownFieldIsAParseErrorOnItsLine) {
  // Protobuf places the column just after the field name; the line is what matters.
  EXPECT_THAT(ParseConfig("data_dir: \"d\"\n  no_such_field: 1\n", "x.textproto", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("x.textproto:2:"), HasSubstr("no_such_field"))));
}

TEST(ConfigLoaderTest, LoadConfigNamesTheFileInParseErrors) {
  TempDir dir;
  const std::string path = dir.Sub("broken.textproto");
  std::ofstream(path) << "listen {\n";
  EXPECT_THAT(LoadConfig(path),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith(path + ":")));
}

TEST(ConfigLoaderTest, MissingFileIsNotFound) {
  TempDir dir;
  EXPECT_THAT(LoadConfig(dir.Sub("absent.textproto")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("absent.textproto")));
}

TEST(ConfigLoaderTest, UnsetLimitsAndDeliverySettingsGetTheirDefaults) {
  const v1::GatewayConfig c = Minimal();
  EXPECT_EQ(c.limits().max_message_bytes(), 1u << 20);  // 1 MiB
  EXPECT_EQ(c.limits().max_destinations(), 64u);
  EXPECT_EQ(c.delivery().default_window(), 64u);
  EXPECT_EQ(c.delivery().max_window(), 1024u);
  EXPECT_EQ(c.delivery().ack_timeout_ms(), 30000u);
  EXPECT_GT(c.shutdown_grace_ms(), 0u);
}

TEST(ConfigLoaderTest, ExplicitSettingsAreKept) {
  ASSERT_OK_AND_ASSIGN(
      v1::GatewayConfig c,
      ParseConfig(absl::StrCat(kMinimal,
                               "limits { max_message_bytes: 2048 max_destinations: 3 }\n"
                               "delivery { default_window: 5 max_window: 10 ack_timeout_ms: 7 }\n"
                               "shutdown_grace_ms: 9\n"),
                  "explicit", ""));
  EXPECT_EQ(c.limits().max_message_bytes(), 2048u);
  EXPECT_EQ(c.limits().max_destinations(), 3u);
  EXPECT_EQ(c.delivery().default_window(), 5u);
  EXPECT_EQ(c.delivery().max_window(), 10u);
  EXPECT_EQ(c.delivery().ack_timeout_ms(), 7u);
  EXPECT_EQ(c.shutdown_grace_ms(), 9u);
}

TEST(ConfigLoaderTest, RelativePathsAreResolvedAgainstTheBaseDirectory) {
  ASSERT_OK_AND_ASSIGN(v1::GatewayConfig c,
                       ParseConfig(R"pb(
                                     tls {
                                       ca_cert_file: "certs/ca.pem"
                                       server_cert_file: "./certs/../certs/gateway.pem"
                                       server_key_file: "/etc/sb/gateway.key"
                                     }
                                     data_dir: "../state/data"
                                   )pb",
                                   "paths", "/srv/sb"));
  EXPECT_EQ(c.tls().ca_cert_file(), "/srv/sb/certs/ca.pem");
  EXPECT_EQ(c.tls().server_cert_file(), "/srv/sb/certs/gateway.pem");
  EXPECT_EQ(c.tls().server_key_file(), "/etc/sb/gateway.key");  // absolute: unchanged
  EXPECT_EQ(c.data_dir(), "/srv/state/data");
}

TEST(ConfigLoaderTest, LoadConfigResolvesAgainstTheFilesDirectory) {
  TempDir dir;
  const std::string path = dir.Sub("switchboard.textproto");
  std::ofstream(path) << kMinimal;
  ASSERT_OK_AND_ASSIGN(v1::GatewayConfig c, LoadConfig(path));
  EXPECT_EQ(c.data_dir(), dir.Sub("data"));
  EXPECT_EQ(c.tls().ca_cert_file(), dir.Sub("certs/ca.pem"));
}

TEST(ConfigLoaderTest, MinimalConfigIsValid) { EXPECT_THAT(ValidateConfig(Minimal()), IsOk()); }

struct ConfigRule {
  std::string rule;
  std::function<void(v1::GatewayConfig&)> change;
  std::string prefix;
};

TEST(ConfigLoaderTest, ValidateConfigNamesTheOffendingField) {
  using C = v1::GatewayConfig;
  const std::vector<ConfigRule> rules = {
      {"grpc_address required", [](C& c) { c.mutable_listen()->clear_grpc_address(); },
       "listen.grpc_address: "},
      {"ca_cert_file required", [](C& c) { c.mutable_tls()->clear_ca_cert_file(); },
       "tls.ca_cert_file: "},
      {"server_cert_file required", [](C& c) { c.mutable_tls()->clear_server_cert_file(); },
       "tls.server_cert_file: "},
      {"server_key_file required", [](C& c) { c.mutable_tls()->clear_server_key_file(); },
       "tls.server_key_file: "},
      {"data_dir required", [](C& c) { c.clear_data_dir(); }, "data_dir: "},
      {"default window within max", [](C& c) { c.mutable_delivery()->set_default_window(2000); },
       "delivery.default_window: "},
      {"event types required", [](C& c) { c.clear_event_types(); }, "event_types: "},
      {"event code a slug", [](C& c) { c.mutable_event_types(1)->set_code("Case Note"); },
       "event_types[1].code: "},
      {"event code required", [](C& c) { c.mutable_event_types(0)->clear_code(); },
       "event_types[0].code: "},
      {"event code listed twice", [](C& c) { c.mutable_event_types(2)->set_code("discharge"); },
       "event_types[2].code: 'discharge' is listed twice"},
      {"payload required", [](C& c) { c.mutable_event_types(0)->clear_payload(); },
       "event_types[0].payload: "},
      {"strong system not empty", [](C& c) { c.add_strong_identifier_systems(""); },
       "strong_identifier_systems[0]: empty"},
      {"strong system listed twice",
       [](C& c) {
         c.add_strong_identifier_systems("https://nhi.example.org");
         c.add_strong_identifier_systems("https://nhi.example.org");
       },
       "strong_identifier_systems[1]: 'https://nhi.example.org' is listed twice"},
  };
  for (const ConfigRule& r : rules) {
    v1::GatewayConfig c = Minimal();
    r.change(c);
    EXPECT_THAT(ValidateConfig(c),
                StatusIs(absl::StatusCode::kInvalidArgument, StartsWith(r.prefix)))
        << r.rule;
  }
}

TEST(ConfigLoaderTest, DemoConfigLoadsAndValidates) {
  const std::string source = SourceDir();
  ASSERT_FALSE(source.empty()) << "SB_SOURCE_DIR is not set (ctest sets it)";
  const std::string path = source + "/deploy/demo/switchboard.textproto";
  ASSERT_OK_AND_ASSIGN(v1::GatewayConfig c, LoadConfig(path));
  EXPECT_THAT(ValidateConfig(c), IsOk());
  EXPECT_EQ(c.data_dir(), source + "/deploy/demo/data");
  EXPECT_EQ(c.tls().ca_cert_file(), source + "/deploy/demo/certs/ca.pem");
  // Every event the seed subscribes to is in the catalogue.
  const EventCatalogue events(c);
  for (const v1::Subscription& sub : c.seed().subscriptions()) {
    for (const std::string& code : sub.event_codes()) EXPECT_TRUE(events.Contains(code)) << code;
  }
  for (const v1::EventType& type : c.event_types()) {
    EXPECT_NE(PayloadCaseOf(type.payload()), v1::Message::PAYLOAD_NOT_SET) << type.code();
  }
  EXPECT_FALSE(c.seed().organisations().empty());
}

}  // namespace
}  // namespace switchboard::gateway::config
