// The inbound MLLP connector end to end: HL7 v2 over MLLP over mutual TLS to the
// real gateway, ACKs (AA once durable, AE for content, AR for refusals), delivery
// of what was accepted, order per connection, and TLS refusals.
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "adapters/hl7v2/er7.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/read_until.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/write.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/hl7_samples.h"
#include "tests/integration/integration_fixture.h"

namespace switchboard::testing {
namespace {

namespace asio = boost::asio;
namespace hl7 = adapters::hl7v2;
using ::testing::IsEmpty;

std::string Frame(const std::string& payload) { return absl::StrCat("\x0b", payload, "\x1c\x0d"); }

// A minimal MLLP-over-TLS sender: trusts the test CA, presents `cert` if given.
class MllpClient {
 public:
  MllpClient(const std::string& address, const CertFiles* cert)
      : ssl_(asio::ssl::context::tls_client) {
    boost::system::error_code ec;
    ssl_.load_verify_file(TestPki::Get().ca(), ec);
    ssl_.set_verify_mode(asio::ssl::verify_peer, ec);
    if (cert != nullptr) {
      ssl_.use_certificate_chain_file(cert->cert, ec);
      ssl_.use_private_key_file(cert->key, asio::ssl::context::pem, ec);
    }
    // After the context is complete: a stream copies its settings when created.
    stream_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket>>(io_, ssl_);
    const size_t colon = address.rfind(':');
    asio::ip::tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(address.substr(0, colon), address.substr(colon + 1), ec);
    if (!ec) asio::connect(stream_->lowest_layer(), endpoints, ec);
    if (!ec) stream_->handshake(asio::ssl::stream_base::client, ec);
    error_ = ec;
  }

  // The handshake's outcome (TLS 1.3 servers may refuse a client only afterwards).
  bool connected() const { return !error_; }

  absl::Status Write(const std::string& bytes) {
    boost::system::error_code ec;
    asio::write(*stream_, asio::buffer(bytes), ec);
    if (ec) return absl::UnavailableError(ec.message());
    return absl::OkStatus();
  }

  // The next ACK, unframed.
  absl::StatusOr<std::string> ReadAck() {
    boost::system::error_code ec;
    const size_t n = asio::read_until(*stream_, asio::dynamic_buffer(in_), "\x1c\x0d", ec);
    if (ec) return absl::UnavailableError(ec.message());
    std::string frame = in_.substr(0, n);
    in_.erase(0, n);
    if (frame.size() < 3 || frame[0] != '\x0b') return absl::InternalError("bad frame");
    return frame.substr(1, frame.size() - 3);
  }

  absl::StatusOr<hl7::Message> Send(const std::string& payload) {
    if (!connected()) return absl::UnavailableError(error_.message());
    if (absl::Status s = Write(Frame(payload)); !s.ok()) return s;
    absl::StatusOr<std::string> ack = ReadAck();
    if (!ack.ok()) return ack.status();
    return hl7::ParseEr7(*ack);
  }

 private:
  asio::io_context io_;
  asio::ssl::context ssl_;
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket>> stream_;
  boost::system::error_code error_;
  std::string in_;
};

std::string Value(const hl7::Message& m, const std::string& path) {
  absl::StatusOr<std::string> v = hl7::Get(m, path);
  return v.ok() ? *v : "<" + std::string(v.status().message()) + ">";
}

class MllpTest : public GatewayTest {
 protected:
  GatewayOptions Options() override {
    GatewayOptions options;
    // st-marys speaks HL7 v2; northside-family has no binding.
    options.extra_config = kStMarysHl7Binding;
    options.mllp = true;
    return options;
  }

  std::unique_ptr<MllpClient> Connect(const std::string& org) {
    const CertFiles cert = TestPki::Get().Member(org);
    return std::make_unique<MllpClient>(gateway_->mllp_address(), &cert);
  }
};

TEST_F(MllpTest, DischargeIsAcceptedOnceDurableAndDelivered) {
  ASSERT_THAT(gateway_->mllp_address(), ::testing::StartsWith("127.0.0.1:"));
  auto hospital = Connect("st-marys");
  ASSERT_TRUE(hospital->connected());
  absl::StatusOr<hl7::Message> ack = hospital->Send(AdtA03("MLLP-1", "mllp-marker-1"));
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(Value(*ack, "MSH-9"), "ACK");
  EXPECT_EQ(Value(*ack, "MSA-1"), "AA");
  EXPECT_EQ(Value(*ack, "MSA-2"), "MLLP-1");
  EXPECT_EQ(ack->FindSegment("ERR"), nullptr);

  auto housing = Subscribe("harbour-housing");
  auto d = housing->Next();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->message_id(), "MLLP-1");
  EXPECT_EQ(d->message().header().event(), "discharge");
  EXPECT_EQ(d->message().header().client().system(), kMrnSystem);
  ASSERT_EQ(d->message().discharge_note().sections_size(), 1);
  EXPECT_EQ(d->message().discharge_note().sections(0).text(), "mllp-marker-1");
  housing->Ack({d->id()});
  EXPECT_TRUE(housing->Close().ok());
}

TEST_F(MllpTest, UnknownAssigningAuthorityIsAeNamingPid3) {
  auto hospital = Connect("st-marys");
  absl::StatusOr<hl7::Message> ack = hospital->Send(AdtA03("MLLP-2", "x", "MRN-1^^^ELSEWHERE^MR"));
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(Value(*ack, "MSA-1"), "AE");
  EXPECT_EQ(Value(*ack, "MSA-2"), "MLLP-2");
  ASSERT_NE(ack->FindSegment("ERR"), nullptr);
  EXPECT_EQ(Value(*ack, "ERR-2.1"), "PID");
  EXPECT_EQ(Value(*ack, "ERR-2.3"), "3");
  EXPECT_THAT(Value(*ack, "ERR-8"), ::testing::HasSubstr("PID-3"));
  // The connection stays usable.
  ack = hospital->Send(AdtA03("MLLP-3", "y"));
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(Value(*ack, "MSA-1"), "AA");
}

TEST_F(MllpTest, MemberWithoutBindingIsAr) {
  auto family = Connect("northside-family");
  absl::StatusOr<hl7::Message> ack = family->Send(AdtA03("MLLP-4", "x"));
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(Value(*ack, "MSA-1"), "AR");
  EXPECT_EQ(Value(*ack, "MSA-2"), "MLLP-4");
  EXPECT_EQ(Value(*ack, "ERR-3"), "207");
}

TEST_F(MllpTest, UnregisteredCertificateIsAr) {
  const CertFiles stranger = TestPki::Get().Stranger();
  MllpClient client(gateway_->mllp_address(), &stranger);
  absl::StatusOr<hl7::Message> ack = client.Send(AdtA03("MLLP-5", "x"));
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(Value(*ack, "MSA-1"), "AR");
}

TEST_F(MllpTest, NonHl7FrameIsArAndBytesOutsideAFrameCloseTheConnection) {
  auto hospital = Connect("st-marys");
  absl::StatusOr<hl7::Message> ack = hospital->Send("not hl7 at all");
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(Value(*ack, "MSA-1"), "AR");

  ASSERT_TRUE(hospital->Write("garbage").ok());
  absl::StatusOr<std::string> refusal = hospital->ReadAck();
  ASSERT_TRUE(refusal.ok()) << refusal.status();
  absl::StatusOr<hl7::Message> parsed = hl7::ParseEr7(*refusal);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(Value(*parsed, "MSA-1"), "AR");
  EXPECT_FALSE(hospital->ReadAck().ok());  // closed
}

TEST_F(MllpTest, ClientsWithoutOurCertificateCannotExchange) {
  const CertFiles foreign = TestPki::Get().OtherCa();
  for (const CertFiles* cert : {static_cast<const CertFiles*>(nullptr), &foreign}) {
    MllpClient client(gateway_->mllp_address(), cert);
    // With TLS 1.3 the client may finish its side before the server refuses;
    // either way no message is ever answered.
    absl::StatusOr<hl7::Message> ack = client.Send(AdtA03("MLLP-6", "x"));
    EXPECT_FALSE(ack.ok()) << (cert == nullptr ? "no certificate" : "foreign CA");
  }
}

TEST_F(MllpTest, TwoMessagesOnOneConnectionAreAckedInOrder) {
  auto hospital = Connect("st-marys");
  ASSERT_TRUE(hospital->connected());
  // Both frames in one write: the gateway still answers one at a time, in order.
  ASSERT_TRUE(
      hospital->Write(Frame(AdtA03("MLLP-7", "first")) + Frame(AdtA03("MLLP-8", "second"))).ok());
  for (const char* expected : {"MLLP-7", "MLLP-8"}) {
    absl::StatusOr<std::string> raw = hospital->ReadAck();
    ASSERT_TRUE(raw.ok()) << raw.status();
    absl::StatusOr<hl7::Message> ack = hl7::ParseEr7(*raw);
    ASSERT_TRUE(ack.ok()) << ack.status();
    EXPECT_EQ(Value(*ack, "MSA-1"), "AA");
    EXPECT_EQ(Value(*ack, "MSA-2"), expected);
  }
  auto housing = Subscribe("harbour-housing");
  std::vector<v1::Delivery> got = housing->Take(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].message_id(), "MLLP-7");
  EXPECT_EQ(got[1].message_id(), "MLLP-8");
}

TEST_F(MllpTest, ResentControlIdIsAcceptedAgainAndDeliveredOnce) {
  auto hospital = Connect("st-marys");
  const std::string er7 = AdtA03("MLLP-9", "once");
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<hl7::Message> ack = hospital->Send(er7);
    ASSERT_TRUE(ack.ok()) << ack.status();
    EXPECT_EQ(Value(*ack, "MSA-1"), "AA") << "attempt " << i;
    EXPECT_EQ(Value(*ack, "MSA-2"), "MLLP-9");
  }
  auto housing = Subscribe("harbour-housing");
  std::vector<v1::Delivery> got = housing->Take(1);
  ASSERT_EQ(got.size(), 1u);
  housing->AckAll(got);
  EXPECT_THAT(housing->Drain(absl::Seconds(2)), IsEmpty());
}

}  // namespace
}  // namespace switchboard::testing
