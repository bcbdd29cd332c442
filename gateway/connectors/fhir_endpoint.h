// FHIR R4 messaging over HTTPS: `POST /fhir/$process-message` on the HTTPS
// listener (https_server.h). A member posts a message Bundle; it is published
// exactly as Exchange.PublishRaw would (content type application/fhir+json, the
// FHIR adapter bound to the member, then the Publisher: validation, routing, one
// synced write) and answered with the FHIR response the bound adapter writes
// (FhirAdapter::EncodeProcessMessageResponse): 200 and a response message
// Bundle (MessageHeader.response.code `ok`, response.identifier = the message id)
// only once the message is durable; otherwise an OperationOutcome. Re-posting
// the same Bundle gets the same answer and stores nothing (the Publisher's dedup).
//
// Identity comes from the TLS peer only: the verified client certificate, matched
// and audited by RpcGuard::IdentifyPeer as for gRPC and MLLP. Refusals made here
// (content type, binding) are audited too; nothing is stored on any error.
//
// HTTP status of an answer (HttpStatusFor; the OperationOutcome's issue code
// follows the status code):
//   200  accepted (or accepted before: same receipt)
//   400  INVALID_ARGUMENT for a body that is not a FHIR message at all: not JSON,
//        not an object, resourceType not `Bundle`, type not `message`, or
//        entry[0] not a MessageHeader
//   401  no client certificate
//   403  a certificate that names no member, a suspended member
//        (UNAUTHENTICATED / PERMISSION_DENIED from identification); a member
//        with no FHIR adapter bound (FAILED_PRECONDITION, decided here before
//        publishing); PERMISSION_DENIED from publishing (another sender, a
//        destination not involved with the client, break-glass not allowed)
//   409  ALREADY_EXISTS (the message id was used for other content), ABORTED
//   415  Content-Type other than application/fhir+json or application/json
//   422  any other INVALID_ARGUMENT: a message Bundle whose content is refused
//        (bad dateTime, missing element, unknown event, unknown client, ...);
//        NOT_FOUND (something the message names is unknown); other
//        FAILED_PRECONDITION (e.g. a suspended destination)
//   429  RESOURCE_EXHAUSTED
//   503  UNAVAILABLE / DEADLINE_EXCEEDED (shutting down, store busy): retry;
//        with Retry-After
//   500  anything else
// The server itself answers 404, 405, 413, 400 (not HTTP) under /fhir/ with an
// OperationOutcome too. `diagnostics` is the status message; for content errors
// it is the adapter's, without the `payload: ` prefix PublishRaw adds, so that
// it starts with the FHIRPath-like location (`Bundle.timestamp: ...`), which is
// also the issue's `expression`.
//
// Thread-safe: immutable after construction.
#ifndef SWITCHBOARD_GATEWAY_CONNECTORS_FHIR_ENDPOINT_H_
#define SWITCHBOARD_GATEWAY_CONNECTORS_FHIR_ENDPOINT_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "adapters/fhir/fhir_adapter.h"
#include "boost/beast/http/status.hpp"
#include "gateway/connectors/https_server.h"
#include "gateway/exchange/raw_publisher.h"
#include "gateway/identity/rpc_guard.h"

namespace switchboard::gateway::connectors {

inline constexpr char kProcessMessagePath[] = "/fhir/$process-message";

// The HTTP status answering a refusal `status` (not OK) of a posted Bundle, by
// the table above; `message_bundle` tells whether the body is shaped as a FHIR
// message Bundle (decides 400 / 422 for INVALID_ARGUMENT). UNAUTHENTICATED is
// 401 here; identification refines it (a certificate that names no member: 403).
boost::beast::http::status HttpStatusFor(const absl::Status& status, bool message_bundle);

class FhirEndpoint {
 public:
  // `guard` and `publisher` must outlive the endpoint, which must outlive the
  // server its routes are added to.
  FhirEndpoint(const identity::RpcGuard* guard, const exchange::RawPublisher* publisher);

  FhirEndpoint(const FhirEndpoint&) = delete;
  FhirEndpoint& operator=(const FhirEndpoint&) = delete;

  // Adds `POST /fhir/$process-message` and renders the server's own errors under
  // `/fhir/` as OperationOutcomes. Errors as HttpRoutes::Add (the route is taken).
  absl::Status AddRoutes(HttpRoutes* routes) const;

  // The route's handler: answers through `respond` exactly once, as above.
  void ProcessMessage(HttpRequest request, const identity::PeerInfo& peer,
                      HttpRespond respond) const;

 private:
  // Constant after construction.
  const identity::RpcGuard* const guard_;
  const exchange::RawPublisher* const publisher_;
  // Writes OperationOutcomes when the caller has no FHIR adapter of its own
  // (not identified, not bound); its source is never used.
  std::unique_ptr<adapters::fhir::FhirAdapter> outcomes_;
};

}  // namespace switchboard::gateway::connectors

#endif  // SWITCHBOARD_GATEWAY_CONNECTORS_FHIR_ENDPOINT_H_
