// The inbound MLLP connector end to end: HL7 v2 over MLLP over mutual TLS to the
// real gateway, ACKs (AA once durable, AE for content, AR for refusals), delivery
// of what was accepted, order per connection, and TLS refusals.
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
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
#include "tests/integration/mllp_sender.h"

namespace switchboard::testing {
namespace {

namespace asio = boost::asio;
namespace hl7 = adapters::hl7v2;
using ::testing::IsEmpty;

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

  std::unique_ptr<MllpSender> Connect(const std::string& org) {
    const CertFiles cert = TestPki::Get().Member(org);
    return std::make_unique<MllpSender>(gateway_->mllp_address(), &cert);
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
  MllpSender client(gateway_->mllp_address(), &stranger);
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
    MllpSender client(gateway_->mllp_address(), cert);
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

TEST_F(MllpTest, MalformedHl7IsRefusedNamingTheProblemAndTheConnectionStaysUsable) {
  struct Case {
    std::string name;
    std::string payload;
    std::string code;    // MSA-1
    std::string reason;  // in ERR-8
  };
  const std::string good = AdtA03("BAD-1", "x");
  const std::vector<Case> cases = {
      {"no MSH", good.substr(good.find("EVN|")), "AR", "MSH"},
      {"wrong encoding characters", absl::StrCat("MSH|^~", good.substr(8)), "AR", "MSH-2"},
      {"segment without a name", absl::StrCat(good, "|x|y\r"), "AR", "segment"},
      {"bad date",
       absl::StrReplaceAll(good, {{"EVN|A03|20240312142500+0000", "EVN|A03|2024-03-12"}}), "AE",
       "EVN-2"},
  };
  auto hospital = Connect("st-marys");
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<hl7::Message> ack = hospital->Send(c.payload);
    ASSERT_TRUE(ack.ok()) << ack.status();
    EXPECT_EQ(Value(*ack, "MSA-1"), c.code);
    EXPECT_THAT(Value(*ack, "ERR-8"), ::testing::HasSubstr(c.reason));
  }
  // Nothing was stored, and the same connection still takes a good message.
  EXPECT_EQ(As("st-marys")->Status("BAD-1").error_code(), grpc::StatusCode::NOT_FOUND);
  absl::StatusOr<hl7::Message> ack = hospital->Send(AdtA03("GOOD-1", "y"));
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(Value(*ack, "MSA-1"), "AA");
}

TEST_F(MllpTest, TruncatedAndOversizedFramesStoreNothing) {
  {
    // The sender goes away in the middle of a frame: nothing is published.
    auto hospital = Connect("st-marys");
    const std::string frame = Frame(AdtA03("CUT-1", "x"));
    ASSERT_TRUE(hospital->Write(frame.substr(0, frame.size() / 2)).ok());
  }
  {
    // Over limits.max_message_bytes: AR, and the connection is closed.
    auto hospital = Connect("st-marys");
    const std::string big = AdtA03("BIG-1", std::string((1 << 20) + 10, 'x'));
    absl::StatusOr<hl7::Message> ack = hospital->Send(big);
    ASSERT_TRUE(ack.ok()) << ack.status();
    EXPECT_EQ(Value(*ack, "MSA-1"), "AR");
    EXPECT_THAT(Value(*ack, "ERR-8"), ::testing::HasSubstr("limit"));
    EXPECT_FALSE(hospital->ReadAck().ok());  // closed
  }
  // A new connection works; neither message exists.
  auto hospital = Connect("st-marys");
  absl::StatusOr<hl7::Message> ack = hospital->Send(AdtA03("AFTER-1", "z"));
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(Value(*ack, "MSA-1"), "AA");
  EXPECT_EQ(As("st-marys")->Status("CUT-1").error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(As("st-marys")->Status("BIG-1").error_code(), grpc::StatusCode::NOT_FOUND);
}

// A connection that stalls (in the handshake, in a frame, or idle for long) is
// closed, so it cannot hold a socket for ever.
class MllpTimeoutTest : public MllpTest {
 protected:
  GatewayOptions Options() override {
    GatewayOptions options = MllpTest::Options();
    options.read_timeout_ms = 300;
    return options;
  }
};

TEST_F(MllpTimeoutTest, AFrameThatNeverEndsIsCutOffAndNothingIsStored) {
  auto hospital = Connect("st-marys");
  const std::string frame = Frame(AdtA03("SLOW-1", "x"));
  ASSERT_TRUE(hospital->Write(frame.substr(0, frame.size() / 2)).ok());
  // The gateway closes the connection: the read ends without an ACK.
  const absl::Time start = absl::Now();
  EXPECT_FALSE(hospital->ReadAck().ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(20));
  EXPECT_EQ(As("st-marys")->Status("SLOW-1").error_code(), grpc::StatusCode::NOT_FOUND);
  // Others are served as usual.
  absl::StatusOr<hl7::Message> ack = Connect("st-marys")->Send(AdtA03("FAST-1", "y"));
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(Value(*ack, "MSA-1"), "AA");
}

}  // namespace
}  // namespace switchboard::testing
