#include "gateway/connectors/tls_server.h"

#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"
#include "boost/asio/buffer.hpp"

namespace switchboard::gateway::connectors {
namespace {

namespace ssl = boost::asio::ssl;

absl::Status TlsError(const char* field, const boost::system::error_code& ec) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", ec.message()));
}

}  // namespace

absl::Status Listen(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address,
                    const std::string& field, const std::string& example, std::string* host,
                    int* port) {
  using boost::asio::ip::tcp;
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": '", address, "' is not HOST:PORT (e.g. ", example, ")"));
  }
  std::string h = address.substr(0, colon);
  const std::string service = address.substr(colon + 1);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  boost::system::error_code ec;
  tcp::resolver resolver(acceptor.get_executor());
  auto endpoints =
      resolver.resolve(h, service, tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": cannot resolve '", address, "': ", ec.message()));
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  if (acceptor.open(endpoint.protocol(), ec) ||
      acceptor.set_option(tcp::acceptor::reuse_address(true), ec) || acceptor.bind(endpoint, ec) ||
      acceptor.listen(boost::asio::socket_base::max_listen_connections, ec)) {
    return absl::UnavailableError(
        absl::StrCat(field, ": cannot listen on '", address, "': ", ec.message()));
  }
  *host = h;
  *port = acceptor.local_endpoint(ec).port();
  return absl::OkStatus();
}

absl::Status ConfigureServerTls(ssl::context& ctx, const std::string& ca_pem,
                                const std::string& cert_pem, const std::string& key_pem,
                                bool require_client_certificate,
                                const std::string& session_context) {
  boost::system::error_code ec;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                      ssl::context::single_dh_use,
                  ec);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  if (ctx.use_certificate_chain(boost::asio::buffer(cert_pem), ec)) {
    return TlsError("tls.server_cert_file", ec);
  }
  if (ctx.use_private_key(boost::asio::buffer(key_pem), ssl::context::pem, ec)) {
    return TlsError("tls.server_key_file", ec);
  }
  if (ctx.add_certificate_authority(boost::asio::buffer(ca_pem), ec)) {
    return TlsError("tls.ca_cert_file", ec);
  }
  ctx.set_verify_mode(require_client_certificate
                          ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert
                          : ssl::verify_peer,
                      ec);
  SSL_CTX_set_session_id_context(ctx.native_handle(),
                                 reinterpret_cast<const unsigned char*>(session_context.data()),
                                 static_cast<unsigned int>(session_context.size()));
  return absl::OkStatus();
}

identity::PeerInfo PeerFromTls(SSL* ssl) {
  identity::PeerInfo peer;
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return peer;
  peer.authenticated = SSL_get_verify_result(ssl) == X509_V_OK;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      if (name->type != GEN_URI) continue;
      const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
      peer.sans.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                             static_cast<size_t>(ASN1_STRING_length(uri)));
    }
    GENERAL_NAMES_free(names);
  }
  X509_free(cert);
  return peer;
}

}  // namespace switchboard::gateway::connectors
