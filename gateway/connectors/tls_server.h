// What the gateway's own TLS listeners (MLLP, HTTPS) share: binding the
// listening socket, the server context built from the `tls` material, and the
// peer identity read from a session.
// Thread-compatible: the context is set up before the listener starts.
#ifndef SWITCHBOARD_GATEWAY_CONNECTORS_TLS_SERVER_H_
#define SWITCHBOARD_GATEWAY_CONNECTORS_TLS_SERVER_H_

#include <openssl/ssl.h>

#include <string>

#include "absl/status/status.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl/context.hpp"
#include "gateway/identity/authenticator.h"

namespace switchboard::gateway::connectors {

// Opens, binds and listens on `address` (HOST:PORT, IPv6 hosts in brackets;
// port 0 picks a free port); sets *host and *port to where it listens.
// INVALID_ARGUMENT `<field>: ...` for an address that is not HOST:PORT or does
// not resolve (`example` is shown in the message), UNAVAILABLE when it cannot
// be bound.
absl::Status Listen(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address,
                    const std::string& field, const std::string& example, std::string* host,
                    int* port);

// TLS 1.2 or later with the gateway's certificate chain and key; client
// certificates must chain to `ca_pem`. `require_client_certificate`: a client
// without one fails the handshake; otherwise one is asked for and checked when
// presented (each request then decides). `session_context` names the context
// so that OpenSSL resumes sessions of clients that presented a certificate.
// INVALID_ARGUMENT naming `tls.server_cert_file`, `tls.server_key_file` or
// `tls.ca_cert_file` for material OpenSSL refuses.
absl::Status ConfigureServerTls(boost::asio::ssl::context& ctx, const std::string& ca_pem,
                                const std::string& cert_pem, const std::string& key_pem,
                                bool require_client_certificate,
                                const std::string& session_context);

// The identity material of a TLS session: the URI SANs of the peer's
// certificate and whether it verified; nothing when it presented none.
identity::PeerInfo PeerFromTls(SSL* ssl);

}  // namespace switchboard::gateway::connectors

#endif  // SWITCHBOARD_GATEWAY_CONNECTORS_TLS_SERVER_H_
