// The MLLP listener's answers: which ACK code and ERR entry each outcome gets.
#include "gateway/connectors/mllp_ack.h"

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "adapters/hl7v2/er7.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace switchboard::gateway::connectors {
namespace {

namespace hl7 = adapters::hl7v2;
using ::testing::HasSubstr;

hl7::Message Inbound() {
  auto m = hl7::ParseEr7(
      "MSH|^~\\&|EPIC|ST_MARYS|SWITCHBOARD|SWITCHBOARD|20240312143000||ADT^A03^ADT_A03|CTL-1|P|2."
      "5\r"
      "PID|1||MRN-1^^^STMARYS^MR\r");
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

std::string Value(const hl7::Message& m, const std::string& path) {
  auto v = hl7::Get(m, path);
  return v.ok() ? *v : "<" + std::string(v.status().message()) + ">";
}

const absl::Time kNow = absl::FromUnixSeconds(1'710'254'000);

TEST(MllpAckTest, AcceptedIsAaEchoingTheControlIdWithOurOwn) {
  const hl7::Message ack = AckFor(Inbound(), absl::OkStatus(), "gw-42", kNow);
  EXPECT_EQ(Value(ack, "MSA-1"), "AA");
  EXPECT_EQ(Value(ack, "MSA-2"), "CTL-1");
  EXPECT_EQ(Value(ack, "MSH-10"), "gw-42");
  EXPECT_EQ(ack.FindSegment("ERR"), nullptr);
}

TEST(MllpAckTest, ContentErrorsAreAeLocatedFromTheMessage) {
  const hl7::Message ack =
      AckFor(Inbound(),
             absl::InvalidArgumentError("payload: PID-3: assigning authority 'X' is not mapped"),
             "c", kNow);
  EXPECT_EQ(Value(ack, "MSA-1"), "AE");
  EXPECT_EQ(Value(ack, "ERR-2.1"), "PID");
  EXPECT_EQ(Value(ack, "ERR-2.3"), "3");
  EXPECT_EQ(Value(ack, "ERR-3"), "102");
  EXPECT_THAT(Value(ack, "ERR-8"), HasSubstr("assigning authority"));

  const hl7::Message missing =
      AckFor(Inbound(), absl::InvalidArgumentError("payload: PV1-45: required"), "c", kNow);
  EXPECT_EQ(Value(missing, "MSA-1"), "AE");
  EXPECT_EQ(Value(missing, "ERR-3"), "101");
}

TEST(MllpAckTest, AReusedIdIsAeDuplicateKey) {
  const hl7::Message ack = AckFor(
      Inbound(),
      absl::AlreadyExistsError("message.header.id: 'CTL-1' was published with other content"), "c",
      kNow);
  EXPECT_EQ(Value(ack, "MSA-1"), "AE");
  EXPECT_EQ(Value(ack, "ERR-3"), "205");
}

TEST(MllpAckTest, RefusalsNotAboutTheContentAreAr) {
  for (const absl::Status& s :
       {absl::PermissionDeniedError("member 'x' is suspended"),
        absl::UnauthenticatedError("no member has this certificate"),
        absl::FailedPreconditionError("no adapter is bound"),
        absl::UnavailableError("adapter: remote adapter at h:1 did not answer within 2000 ms")}) {
    SCOPED_TRACE(s.ToString());
    const hl7::Message ack = AckFor(Inbound(), s, "c", kNow);
    EXPECT_EQ(Value(ack, "MSA-1"), "AR");
    EXPECT_EQ(Value(ack, "ERR-3"), "207");
    EXPECT_EQ(Value(ack, "ERR-8"), std::string(s.message()));
  }
}

TEST(MllpAckTest, FramingWrapsThePayload) {
  EXPECT_EQ(MllpFrame("MSH|x"), std::string("\x0bMSH|x\x1c\x0d"));
}

}  // namespace
}  // namespace switchboard::gateway::connectors
