// Certificates for remote-adapter tests, on top of TestPki (the real tools/dev-ca):
//   - the adapter's server certificate: TestPki's gateway certificate (dev-ca's
//     only kind with serverAuth and SAN IP:127.0.0.1, which is what a partner's
//     adapter on loopback needs);
//   - the gateway's client certificate towards the adapter: made here with
//     `dev-ca member DIR gateway-client --san spiffe://switchboard.example/gateway`
//     (clientAuth; the gateway's own server certificate is serverAuth only, so it
//     cannot be a TLS client certificate);
//   - a server certificate of another CA (TestPki's other/gateway.pem).
#ifndef SWITCHBOARD_TESTS_ADAPTERS_REMOTE_REMOTE_ADAPTER_PKI_H_
#define SWITCHBOARD_TESTS_ADAPTERS_REMOTE_REMOTE_ADAPTER_PKI_H_

#include <stdexcept>
#include <string>

#include "tests/integration/test_pki.h"

namespace switchboard::testing {

inline constexpr char kGatewayClientSan[] = "spiffe://switchboard.example/gateway";

// The adapter's server certificate, for 127.0.0.1.
inline CertFiles AdapterServerCert() {
  const TestPki& pki = TestPki::Get();
  return CertFiles{pki.ca(), pki.gateway_cert(), pki.gateway_key()};
}

// A server certificate for 127.0.0.1 from another CA (`ca` is that other CA).
inline CertFiles OtherCaServerCert() {
  const std::string dir = TestPki::Get().dir() + "/other";
  return CertFiles{dir + "/ca.pem", dir + "/gateway.pem", dir + "/gateway.key"};
}

// The gateway's client certificate towards remote adapters (made on first use).
inline const CertFiles& GatewayClientCert() {
  static const CertFiles* const kFiles = [] {
    const std::string dir = TestPki::Get().dir();
    std::string out;
    if (RunCommand(SourceDir() + "/tools/dev-ca member " + dir + " gateway-client --san " +
                       kGatewayClientSan + " 2>&1",
                   &out) != 0) {
      throw std::runtime_error("dev-ca member gateway-client failed: " + out);
    }
    return new CertFiles{dir + "/ca.pem", dir + "/gateway-client.pem", dir + "/gateway-client.key"};
  }();
  return *kFiles;
}

}  // namespace switchboard::testing

#endif  // SWITCHBOARD_TESTS_ADAPTERS_REMOTE_REMOTE_ADAPTER_PKI_H_
