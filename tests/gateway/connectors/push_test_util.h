// Shared by the push transport tests: the client TLS material, endpoints and
// requests.
#ifndef SWITCHBOARD_TESTS_GATEWAY_CONNECTORS_PUSH_TEST_UTIL_H_
#define SWITCHBOARD_TESTS_GATEWAY_CONNECTORS_PUSH_TEST_UTIL_H_

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gateway/connectors/push_transport.h"
#include "gtest/gtest.h"
#include "tests/integration/partner_servers.h"
#include "tests/integration/test_pki.h"

namespace switchboard::testing {

namespace connectors = ::switchboard::gateway::connectors;

// The TLS material the transports present: the gateway's own certificate, whose
// extendedKeyUsage includes clientAuth, as partners (any OpenSSL server) require.
inline const CertFiles& PushClientCert() {
  static const CertFiles* const kCert = new CertFiles{TestPki::Get().ca(), TestPki::Get().gateway_cert(),
                                                      TestPki::Get().gateway_key()};
  return *kCert;
}
inline connectors::PushTls ClientTls() { return ReadPushTls(PushClientCert()); }
inline std::string ClientSan() { return "spiffe://switchboard.example/gateway"; }

// An HL7 v2 message whose MSH-10 is `control_id`.
inline std::string Hl7Message(const std::string& control_id) {
  return absl::StrCat(
      "MSH|^~\\&|SWITCHBOARD|GATEWAY|PARTNER|FACILITY|20240101120000||ADT^A03^ADT_A03|", control_id,
      "|P|2.5\rPID|1||12345^^^MRN||Doe^Jane\r");
}

inline connectors::PushRequest Request(const std::string& n, const std::string& bytes = "{}") {
  connectors::PushRequest request;
  request.delivery_id = "d-" + n;
  request.message_id = "m-" + n;
  request.content_type = "application/json";
  request.bytes = bytes;
  return request;
}

// Makes the transport for `endpoint` (the test fails if it cannot).
inline std::unique_ptr<connectors::PushTransport> MustMake(
    const v1::PushEndpoint& endpoint, const connectors::PushTls& tls = ClientTls()) {
  auto made = connectors::MakePushTransport(endpoint, tls, "push_endpoints[0]");
  EXPECT_TRUE(made.ok()) << made.status();
  return made.ok() ? *std::move(made) : nullptr;
}

// Times one call.
template <typename F>
absl::Duration Timed(F&& f) {
  const absl::Time start = absl::Now();
  f();
  return absl::Now() - start;
}

}  // namespace switchboard::testing

#endif  // SWITCHBOARD_TESTS_GATEWAY_CONNECTORS_PUSH_TEST_UTIL_H_
