// A minimal HL7 v2 sender over MLLP over mutual TLS, for the integration tests
// that play a hospital's interface engine (mllp_test.cc, push_test.cc).
#ifndef SWITCHBOARD_TESTS_INTEGRATION_MLLP_SENDER_H_
#define SWITCHBOARD_TESTS_INTEGRATION_MLLP_SENDER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "adapters/hl7v2/er7.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/read_until.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/write.hpp"
#include "tests/integration/test_pki.h"

namespace switchboard::testing {

inline std::string Frame(const std::string& payload) {
  return absl::StrCat("\x0b", payload, "\x1c\x0d");
}

// A minimal MLLP-over-TLS sender: trusts the test CA, presents `cert` if given.
class MllpSender {
 public:
  MllpSender(const std::string& address, const CertFiles* cert)
      : ssl_(boost::asio::ssl::context::tls_client) {
    boost::system::error_code ec;
    ssl_.load_verify_file(TestPki::Get().ca(), ec);
    ssl_.set_verify_mode(boost::asio::ssl::verify_peer, ec);
    if (cert != nullptr) {
      ssl_.use_certificate_chain_file(cert->cert, ec);
      ssl_.use_private_key_file(cert->key, boost::asio::ssl::context::pem, ec);
    }
    // After the context is complete: a stream copies its settings when created.
    stream_ = std::make_unique<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>(io_, ssl_);
    const size_t colon = address.rfind(':');
    boost::asio::ip::tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(address.substr(0, colon), address.substr(colon + 1), ec);
    if (!ec) boost::asio::connect(stream_->lowest_layer(), endpoints, ec);
    if (!ec) stream_->handshake(boost::asio::ssl::stream_base::client, ec);
    error_ = ec;
  }

  // The handshake's outcome (TLS 1.3 servers may refuse a client only afterwards).
  bool connected() const { return !error_; }

  absl::Status Write(const std::string& bytes) {
    boost::system::error_code ec;
    boost::asio::write(*stream_, boost::asio::buffer(bytes), ec);
    if (ec) return absl::UnavailableError(ec.message());
    return absl::OkStatus();
  }

  // The next ACK, unframed.
  absl::StatusOr<std::string> ReadAck() {
    boost::system::error_code ec;
    const size_t n =
        boost::asio::read_until(*stream_, boost::asio::dynamic_buffer(in_), "\x1c\x0d", ec);
    if (ec) return absl::UnavailableError(ec.message());
    std::string frame = in_.substr(0, n);
    in_.erase(0, n);
    if (frame.size() < 3 || frame[0] != '\x0b') return absl::InternalError("bad frame");
    return frame.substr(1, frame.size() - 3);
  }

  absl::StatusOr<adapters::hl7v2::Message> Send(const std::string& payload) {
    if (!connected()) return absl::UnavailableError(error_.message());
    if (absl::Status s = Write(Frame(payload)); !s.ok()) return s;
    absl::StatusOr<std::string> ack = ReadAck();
    if (!ack.ok()) return ack.status();
    return adapters::hl7v2::ParseEr7(*ack);
  }

 private:
  boost::asio::io_context io_;
  boost::asio::ssl::context ssl_;
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> stream_;
  boost::system::error_code error_;
  std::string in_;
};

}  // namespace switchboard::testing

#endif  // SWITCHBOARD_TESTS_INTEGRATION_MLLP_SENDER_H_
