// MllpClient: pushes each delivery as one HL7 v2 message over MLLP
// (0x0B message 0x1C 0x0D) to a member's listener (PushEndpoint.mllp) and reads
// the ACK that answers it.
//
//   MSA-1 AA or CA                  kDelivered
//   MSA-1 AE, AR, CE or CR          kRefused, detail "ACK AE: <ERR-8 / ERR-3 / MSA-3 text>"
//   no ACK within the timeout,      kFailed, and the connection is dropped (a late
//   a broken frame or ACK, an ACK      ACK must not be taken for the next message's)
//   whose MSA-2 is not the sent
//   MSH-10 (when both are present)
//
// Mutual TLS (server checked against the CA and the host) when endpoint.tls,
// plain TCP otherwise. One connection, kept open across sends; a send that
// fails on a reused connection (closed by the partner while idle) is tried
// once more on a new one before it counts as failed.
//
// Thread-safety: as PushTransport (Send from one thread at a time).
#ifndef SWITCHBOARD_GATEWAY_CONNECTORS_MLLP_CLIENT_H_
#define SWITCHBOARD_GATEWAY_CONNECTORS_MLLP_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/connectors/push_stream.h"
#include "gateway/connectors/push_transport.h"

namespace switchboard::gateway::connectors {

// What an ACK (unframed ER7) says about the message whose MSH-10 was
// `sent_control_id` ("" when unknown: MSA-2 is then not checked). kFailed for
// an ACK that is not ER7, has no MSA-1 it knows or answers another message.
PushResult ReadMllpAck(absl::string_view ack, absl::string_view sent_control_id);

class MllpClient final : public PushTransport {
 public:
  // INVALID_ARGUMENT `<field_prefix>.mllp.address: ...` for an address that is
  // not HOST:PORT, `tls.*: ...` for PEM OpenSSL refuses (when endpoint.tls).
  // Does not connect.
  static absl::StatusOr<std::unique_ptr<MllpClient>> Create(const v1::MllpEndpoint& endpoint,
                                                            uint32_t timeout_ms, const PushTls& tls,
                                                            const std::string& field_prefix);

  PushResult Send(const PushRequest& request) override;
  void Cancel() override { stream_->Cancel(); }
  std::string Describe() const override;

 private:
  MllpClient(bool tls, uint32_t timeout_ms, std::unique_ptr<PushStream> stream);

  // Constant after construction.
  const bool tls_;
  const uint32_t timeout_ms_;

  // Send thread only.
  std::unique_ptr<PushStream> stream_;
  std::string in_;  // bytes read past the last ACK frame
};

}  // namespace switchboard::gateway::connectors

#endif  // SWITCHBOARD_GATEWAY_CONNECTORS_MLLP_CLIENT_H_
