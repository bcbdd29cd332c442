#include "adapters/hl7v2/er7.h"

#include <cstdlib>
#include <fstream>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"

namespace switchboard::adapters::hl7v2 {

// Failure output shows the ER7 (with \r made visible) rather than raw bytes.
void PrintTo(const Message& m, std::ostream* os) {
  *os << absl::StrReplaceAll(EncodeEr7(m), {{"\r", "\\r\n"}});
}

namespace {

using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr absl::string_view kMsh =
    "MSH|^~\\&|SENDER|SFAC|RECEIVER|RFAC|20240312143000+0000||ADT^A03^ADT_A03|MSG1|P|2.5\r";

// The \r form of a file under tests/data/hl7v2 (stored with \n; see README.md there).
std::string DataFile(const std::string& name) {
  const char* source = std::getenv("SB_SOURCE_DIR");
  if (source == nullptr) {
    ADD_FAILURE() << "SB_SOURCE_DIR is not set (ctest sets it)";
    return "";
  }
  std::ifstream in(std::string(source) + "/tests/data/hl7v2/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::ostringstream out;
  out << in.rdbuf();
  return absl::StrReplaceAll(out.str(), {{"\n", "\r"}});
}

// Get() for paths the test knows are well formed.
std::string At(const Message& m, absl::string_view path) {
  absl::StatusOr<std::string> value = Get(m, path);
  EXPECT_THAT(value, IsOk()) << path;
  return value.ok() ? *value : "<bad path>";
}

Message MustParse(absl::string_view bytes) {
  absl::StatusOr<Message> m = ParseEr7(bytes);
  EXPECT_THAT(m, IsOk());
  return m.ok() ? *std::move(m) : Message();
}

// ---- Escape sequences ----------------------------------------------------------

struct DecodeCase {
  std::string raw;
  std::string decoded;
};

TEST(Er7EscapeTest, DecodesEachSequence) {
  const std::vector<DecodeCase> cases = {
      {"a\\F\\b", "a|b"},
      {"a\\S\\b", "a^b"},
      {"a\\T\\b", "a&b"},
      {"a\\R\\b", "a~b"},
      {"a\\E\\b", "a\\b"},
      {"line 1\\.br\\line 2", "line 1\nline 2"},
      {"\\X41\\\\X4a4B\\", "AJK"},
      {"\\X0D0A\\", "\r\n"},
      {"\\X00\\", std::string(1, '\0')},
      {"\\H\\bold\\N\\ plain", "bold plain"},
      // Kept literally: unknown, unsupported, malformed or unterminated sequences.
      {"\\Z99\\", "\\Z99\\"},
      {"\\.sp2\\x", "\\.sp2\\x"},
      {"\\C2842\\", "\\C2842\\"},
      {"\\X4\\", "\\X4\\"},
      {"\\XZZ\\", "\\XZZ\\"},
      {"C:\\temp", "C:\\temp"},
      {"\\\\", "\\\\"},
      {"\"\"", "\"\""},
  };
  for (const DecodeCase& c : cases) {
    SCOPED_TRACE(c.raw);
    ASSERT_OK_AND_ASSIGN(Message m, ParseEr7(absl::StrCat(kMsh, "ZZZ|", c.raw, "\r")));
    EXPECT_EQ(m.segment("ZZZ").field(1).value(), c.decoded);
    EXPECT_EQ(m.segment("ZZZ").field(1).repetitions().size(), 1u);
  }
}

TEST(Er7EscapeTest, EncodesEachDelimiterAndLineBreak) {
  const std::vector<DecodeCase> cases = {
      {"a\\F\\b", "a|b"},
      {"a\\S\\b", "a^b"},
      {"a\\T\\b", "a&b"},
      {"a\\R\\b", "a~b"},
      {"a\\E\\b", "a\\b"},
      {"one\\.br\\two", "one\ntwo"},
      {"\\X0D\\\\.br\\", "\r\n"},
      {"\\X01\\", "\x01"},
      {"tab\there", "tab\there"},
      {"\"\"", "\"\""},
      {"#1 caf\xC3\xA9", "#1 caf\xC3\xA9"},
  };
  for (const DecodeCase& c : cases) {
    SCOPED_TRACE(c.raw);
    const Message m({Segment("ZZZ", {Field::Of({c.decoded})})});
    EXPECT_EQ(EncodeEr7(m), absl::StrCat("ZZZ|", c.raw, "\r"));
  }
}

TEST(Er7EscapeTest, SequencesUseTheMessagesEscapeCharacter) {
  ASSERT_OK_AND_ASSIGN(Message m, ParseEr7("MSH#$*@!#S#R\rZZZ#a@F@b@S@c@E@d\\e@.br@f"));
  EXPECT_EQ(m.segment("ZZZ").field(1).value(), "a#b$c@d\\e\nf");
}

// ---- Structure and addressing --------------------------------------------------

TEST(Er7ParseTest, SplitsRepetitionsComponentsAndSubcomponents) {
  ASSERT_OK_AND_ASSIGN(Message m, ParseEr7(absl::StrCat(kMsh, "ZZZ|a~b^c&d&&e~~f|^^x\r")));
  const Field& f = m.segment("ZZZ").field(1);
  ASSERT_EQ(f.repetitions().size(), 4u);
  EXPECT_EQ(f.repetition(1).component(1).value(), "a");
  EXPECT_EQ(f.repetition(2).component(1).value(), "b");
  EXPECT_THAT(f.repetition(2).component(2).subcomponents(), ElementsAre("c", "d", "", "e"));
  EXPECT_TRUE(f.repetition(3).empty());
  EXPECT_EQ(f.repetition(4).component(1).value(), "f");
  EXPECT_EQ(At(m, "ZZZ-1(2).2.4"), "e");
  EXPECT_EQ(At(m, "ZZZ-2.3"), "x");
  EXPECT_EQ(At(m, "ZZZ-2"), "");
}

TEST(Er7ParseTest, AbsentPartsReadAsEmpty) {
  const Message m = MustParse(absl::StrCat(kMsh, "PID|1\r"));
  EXPECT_EQ(m.segment("PID").field(0).value(), "");
  EXPECT_EQ(m.segment("PID").field(99).repetition(3).component(2).subcomponent(7), "");
  EXPECT_EQ(m.segment("PV1").id(), "");
  EXPECT_EQ(m.FindSegment("PV1"), nullptr);
  EXPECT_EQ(m.FindSegment("PID", 2), nullptr);
  EXPECT_EQ(At(m, "OBX(4)-5(2).3.2"), "");
}

TEST(Er7ParseTest, TellsExplicitNullFromAbsent) {
  const Message m = MustParse(absl::StrCat(kMsh, "PID|1||\"\"|\r"));
  EXPECT_TRUE(m.segment("PID").field(3).IsNull());
  EXPECT_TRUE(IsNull(At(m, "PID-3")));
  EXPECT_FALSE(m.segment("PID").field(2).IsNull());
  EXPECT_TRUE(m.segment("PID").field(2).empty());
  EXPECT_FALSE(m.segment("PID").field(1).IsNull());
}

TEST(Er7ParseTest, NumbersMshFieldsFromTheFieldSeparator) {
  const Message m = MustParse(kMsh);
  EXPECT_EQ(At(m, "MSH-1"), "|");
  EXPECT_EQ(At(m, "MSH-2"), "^~\\&");
  EXPECT_EQ(At(m, "MSH-3"), "SENDER");
  EXPECT_EQ(At(m, "MSH-6"), "RFAC");
  EXPECT_EQ(At(m, "MSH-7"), "20240312143000+0000");
  EXPECT_EQ(At(m, "MSH-9.1"), "ADT");
  EXPECT_EQ(At(m, "MSH-9.2"), "A03");
  EXPECT_EQ(At(m, "MSH-9.3"), "ADT_A03");
  EXPECT_EQ(At(m, "MSH-10"), "MSG1");
  EXPECT_EQ(At(m, "MSH-12"), "2.5");
}

TEST(Er7ParseTest, ReadsPid3CxRepetitions) {
  const Message m = MustParse(DataFile("adt_a03_discharge.hl7"));
  const Field& ids = m.segment("PID").field(3);
  ASSERT_EQ(ids.repetitions().size(), 3u);
  EXPECT_EQ(At(m, "PID-3.1"), "123456");
  EXPECT_EQ(At(m, "PID-3.5"), "MR");
  EXPECT_EQ(At(m, "PID-3(2).1"), "9434765919");
  EXPECT_EQ(At(m, "PID-3(2).4.1"), "NHS");
  EXPECT_EQ(At(m, "PID-3(2).4.2"), "2.16.840.1.113883.2.1.4.1");
  EXPECT_EQ(At(m, "PID-3(2).4.3"), "ISO");
  EXPECT_EQ(At(m, "PID-3(2).5"), "NH");
  EXPECT_EQ(ids.repetition(3).component(4).subcomponent(1), "HMPO");
  EXPECT_EQ(At(m, "PID-5(2).1"), "SMITH");
  EXPECT_EQ(At(m, "PV1-45"), "20240312142500+0000");
  EXPECT_EQ(At(m, "PV1-36.2"), "Discharged to home or self care");
}

TEST(Er7ParseTest, DecodesFormattedTextLines) {
  const Message m = MustParse(DataFile("mdm_t02_case_note.hl7"));
  EXPECT_EQ(At(m, "OBX-2"), "FT");
  EXPECT_EQ(At(m, "OBX-5"),
            "Home visit 13/03: Mary is managing stairs with one stick.\n"
            "Daughter-in-law visits daily & does shopping.\n\nPlan:\n"
            "1. Grab rail | bath seat (OT referral)\n2. Review in 2 weeks ~ sooner if falls.");
  EXPECT_EQ(At(m, "OBX(2)-5"), "Falls risk: medium ^ improving");
  EXPECT_EQ(At(m, "OBX(3)-5"), "\\\\CAREFIRST\\notes\\2024");
  EXPECT_EQ(At(m, "TXA-12.1"), "DOC-2024-0311");
}

TEST(Er7ParseTest, AcceptsAnySegmentTerminator) {
  const std::string canonical = DataFile("adt_a01_admit.hl7");
  const Message expected = MustParse(canonical);
  ASSERT_EQ(expected.segments().size(), 8u);
  for (const std::string& bytes : {
           absl::StrReplaceAll(canonical, {{"\r", "\n"}}),
           absl::StrReplaceAll(canonical, {{"\r", "\r\n"}}),
           canonical.substr(0, canonical.size() - 1),         // no final terminator
           absl::StrCat(canonical, "\r\n\r\n"),               // trailing blank segments
           absl::StrReplaceAll(canonical, {{"\r", "\n\n"}}),  // blank lines
       }) {
    EXPECT_THAT(ParseEr7(bytes), ::switchboard::testing::IsOkAndHolds(expected));
  }
}

TEST(Er7ParseTest, ReadsCustomDelimiters) {
  // '#' field, '$' component, '*' repetition, '@' escape, '!' subcomponent.
  const std::string custom =
      "MSH#$*@!#SENDER#SFAC$1.2.3$ISO#RECV\r"
      "PID#1##123$$$AUTH!1.2!ISO$MR*456$$$X!9!ISO$NH##O|BRIEN^MARY@S@1$X&Y@T@Z\r";
  const std::string standard =
      "MSH|^~\\&|SENDER|SFAC^1.2.3^ISO|RECV\r"
      "PID|1||123^^^AUTH&1.2&ISO^MR~456^^^X&9&ISO^NH||O\\F\\BRIEN\\S\\MARY$1^X\\T\\Y!Z\r";
  ASSERT_OK_AND_ASSIGN(Message m, ParseEr7(custom));
  EXPECT_EQ(At(m, "MSH-1"), "#");
  EXPECT_EQ(At(m, "MSH-2"), "$*@!");
  EXPECT_EQ(At(m, "MSH-4.2"), "1.2.3");
  EXPECT_EQ(At(m, "PID-3(2).4.2"), "9");
  // @S@ and @T@ stand for this message's '$' and '!'.
  EXPECT_EQ(At(m, "PID-5.1"), "O|BRIEN^MARY$1");
  EXPECT_EQ(At(m, "PID-5.2"), "X&Y!Z");
  // Encoding always uses the standard delimiters.
  EXPECT_EQ(EncodeEr7(m), standard);
  ASSERT_OK_AND_ASSIGN(Message twin, ParseEr7(standard));
  EXPECT_EQ(twin.segment("PID"), m.segment("PID"));
}

TEST(Er7ParseTest, KeepsTheTruncationCharacterInMsh2) {
  const std::string bytes = "MSH|^~\\&#|APP|FAC\rNTE|1||Item #4 ^ done\r";
  ASSERT_OK_AND_ASSIGN(Message m, ParseEr7(bytes));
  EXPECT_EQ(At(m, "MSH-2"), "^~\\&#");
  EXPECT_EQ(At(m, "MSH-3"), "APP");
  EXPECT_EQ(At(m, "NTE-3.1"), "Item #4 ");
  EXPECT_EQ(EncodeEr7(m), bytes);
}

// ---- Errors --------------------------------------------------------------------

struct ErrorCase {
  std::string name;
  std::string bytes;
  std::string message;
};

TEST(Er7ParseTest, MalformedInputNamesThePlace) {
  const std::vector<ErrorCase> cases = {
      {"empty", "", "bytes: does not start with MSH"},
      {"not MSH", "PID|1\rMSH|^~\\&|\r", "bytes: does not start with MSH"},
      {"batch header", "FHS|^~\\&|\r", "bytes: does not start with MSH"},
      {"no field separator", "MSH", "segment 1 (MSH): MSH-1: missing field separator"},
      {"letter separator", "MSHA^~\\&", "segment 1 (MSH): MSH-1: missing field separator"},
      {"short MSH-2", "MSH|^~\\|A\r",
       "segment 1 (MSH): MSH-2: encoding characters must be 4 or 5 distinct characters"},
      {"long MSH-2", "MSH|^~\\&#!|A\r", "segment 1 (MSH): MSH-2: encoding characters"},
      {"repeated MSH-2", "MSH|^~\\^|A\r", "segment 1 (MSH): MSH-2: encoding characters"},
      {"MSH-2 with a letter", "MSH|^~\\A|A\r", "segment 1 (MSH): MSH-2: encoding characters"},
      {"MSH-2 ends early", "MSH|^~\r", "got '^~'"},
      {"lower-case id", absl::StrCat(kMsh, "EVN|A03\rpid|1\r"),
       "segment 3: segment id 'pid' is not an upper-case letter followed by 2"},
      {"short id", absl::StrCat(kMsh, "PI|1\r"), "segment 2: segment id 'PI' is not"},
      {"long id", absl::StrCat(kMsh, "PIDX|1\r"), "segment 2: segment id 'PIDX' is not"},
      {"digit first", absl::StrCat(kMsh, "1PD|1\r"), "segment 2: segment id '1PD' is not"},
      {"second MSH", absl::StrCat(kMsh, kMsh), "segment 2 (MSH): a second MSH"},
      {"MLLP framing left in", absl::StrCat(kMsh, "PID|1||12\x1c\r"),
       "segment 2 (PID): PID-3: control character 0x1C"},
      {"NUL in MSH", std::string("MSH|^~\\&|A|B\0|C\r", 15),
       "segment 1 (MSH): MSH-4: control character 0x00"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_THAT(ParseEr7(c.bytes),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

TEST(Er7ParseTest, EnforcesSizeLimits) {
  const std::string bytes = DataFile("adt_a03_discharge.hl7");
  ParseOptions options;
  options.max_bytes = bytes.size();
  EXPECT_THAT(ParseEr7(bytes, options), IsOk());
  options.max_bytes = bytes.size() - 1;
  EXPECT_THAT(ParseEr7(bytes, options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(absl::StrCat("bytes: ", bytes.size(),
                                              " bytes is over the limit of ", bytes.size() - 1))));
  options = ParseOptions();
  options.max_segments = 6;
  EXPECT_THAT(ParseEr7(bytes, options), IsOk());
  options.max_segments = 5;
  EXPECT_THAT(ParseEr7(bytes, options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("segment 6: over the limit of 5 segments")));
  // The defaults stop a flood of segments before building them all.
  std::string flood(kMsh);
  for (int i = 0; i < 6000; ++i) {
    flood += "NTE|\r";
  }
  EXPECT_THAT(ParseEr7(flood), StatusIs(absl::StatusCode::kInvalidArgument,
                                        HasSubstr("segment 5001: over the limit")));
  EXPECT_THAT(ParseEr7(std::string(5 << 20, 'x')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("over the limit")));
}

TEST(Er7GetTest, RejectsMalformedPaths) {
  const Message m = MustParse(kMsh);
  for (const char* path : {"MSH", "MSH-", "MSH-0", "MSH-x", "MSH-9.0", "MSH-9.1.2.3", "MSH(0)-9",
                           "MSH(-9", "MSH-9(x)", "-9", "MSH-9.a"}) {
    SCOPED_TRACE(path);
    EXPECT_THAT(Get(m, path), StatusIs(absl::StatusCode::kInvalidArgument,
                                       HasSubstr(absl::StrCat("path '", path, "'"))));
  }
  EXPECT_THAT(Get(m, "MSH(1)-9(1).1.1"), ::switchboard::testing::IsOkAndHolds("ADT"));
}

// ---- Round trips -----------------------------------------------------------------

TEST(Er7RoundTripTest, DataFilesRoundTripByteForByte) {
  for (const char* name : {"adt_a01_admit.hl7", "adt_a03_discharge.hl7", "mdm_t02_case_note.hl7",
                           "ref_i12_referral.hl7"}) {
    SCOPED_TRACE(name);
    const std::string bytes = DataFile(name);
    ASSERT_OK_AND_ASSIGN(Message m, ParseEr7(bytes));
    EXPECT_GE(m.segments().size(), 5u);
    const std::string encoded = EncodeEr7(m);
    EXPECT_EQ(encoded, bytes);
    EXPECT_THAT(ParseEr7(encoded), ::switchboard::testing::IsOkAndHolds(m));
  }
}

TEST(Er7RoundTripTest, DropsTrailingEmptyParts) {
  ASSERT_OK_AND_ASSIGN(Message m, ParseEr7(absl::StrCat(kMsh, "PID|1|a^b^^~&||^|~|\r")));
  EXPECT_EQ(EncodeEr7(m), absl::StrCat(kMsh, "PID|1|a^b\r"));
  const Message built({Segment("ZZZ", {Field(), Field::Of({"x", "", ""}), Field(), Field()})});
  EXPECT_EQ(EncodeEr7(built), "ZZZ||x\r");
}

// Random messages over an alphabet heavy in delimiters, escapes and line breaks.
class RandomMessages {
 public:
  explicit RandomMessages(unsigned seed) : rng_(seed) {}

  Message Next() {
    std::vector<Segment> segments;
    std::vector<Field> header = {Field::Of({"|"}), Field::Of({"^~\\&"})};
    for (int i = Uniform(0, 10); i > 0; --i) {
      header.push_back(RandomField());
    }
    segments.emplace_back("MSH", std::move(header));
    for (int s = Uniform(0, 6); s > 0; --s) {
      std::string id = {'Z', Pick("ABCXYZ0123456789"), Pick("ABCDEFGH12")};
      std::vector<Field> fields;
      for (int f = Uniform(0, 8); f > 0; --f) {
        fields.push_back(RandomField());
      }
      segments.emplace_back(std::move(id), std::move(fields));
    }
    return Message(std::move(segments));
  }

 private:
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  char Pick(absl::string_view from) { return from[Uniform(0, static_cast<int>(from.size()) - 1)]; }

  std::string RandomValue() {
    static const std::string kAlphabet =
        std::string("|^~\\&\n\r\"#ab Z9.\t\xC3\xA9XF") + std::string(1, '\0') + "\x1c";
    std::string v;
    for (int i = Uniform(0, 6); i > 0; --i) {
      v += Pick(kAlphabet);
    }
    return v;
  }

  Field RandomField() {
    std::vector<Repetition> reps;
    for (int r = Uniform(0, 3); r > 0; --r) {
      std::vector<Component> comps;
      for (int c = Uniform(0, 4); c > 0; --c) {
        std::vector<std::string> subs;
        for (int s = Uniform(0, 3); s > 0; --s) {
          subs.push_back(RandomValue());
        }
        comps.emplace_back(std::move(subs));
      }
      reps.emplace_back(std::move(comps));
    }
    return Field(std::move(reps));
  }

  std::mt19937 rng_;
};

TEST(Er7RoundTripTest, RandomMessagesSurviveEncodeThenParse) {
  RandomMessages random(20240312);
  for (int i = 0; i < 3000; ++i) {
    const Message m = random.Next();
    const std::string encoded = EncodeEr7(m);
    absl::StatusOr<Message> parsed = ParseEr7(encoded);
    ASSERT_THAT(parsed, IsOk()) << "message " << i;
    ASSERT_EQ(*parsed, m) << "message " << i;
    ASSERT_EQ(EncodeEr7(*parsed), encoded) << "message " << i;
  }
}

// ---- ACK -----------------------------------------------------------------------------

absl::Time AckTime() {
  return absl::FromCivil(absl::CivilSecond(2024, 3, 12, 14, 31, 5), absl::UTCTimeZone());
}

TEST(Er7AckTest, AcceptSwapsEndpointsAndEchoesTheControlId) {
  const Message in = MustParse(DataFile("adt_a03_discharge.hl7"));
  const Message ack = MakeAck(in, AckCode::kAccept, "SB-0001", AckTime(), {});
  EXPECT_EQ(EncodeEr7(ack),
            "MSH|^~\\&|SWITCHBOARD|COUNTY_SOCIAL^2.16.840.1.113883.3.72.9.1^ISO|EPIC_ADT|"
            "ST_MARYS^2.16.840.1.113883.3.72.5.1^ISO|20240312143105+0000||ACK^A03^ACK|"
            "SB-0001|P|2.5\r"
            "MSA|AA|STM-000451\r");
  EXPECT_THAT(ParseEr7(EncodeEr7(ack)), ::switchboard::testing::IsOkAndHolds(ack));
}

TEST(Er7AckTest, ErrorCarriesOneErrSegmentPerError) {
  const Message in = MustParse(DataFile("ref_i12_referral.hl7"));
  std::vector<ErrEntry> errors(2);
  errors[0].segment_id = "PID";
  errors[0].segment_sequence = 1;
  errors[0].field = 3;
  errors[0].repetition = 2;
  errors[0].component = 4;
  errors[0].code = Hl7ErrorCode::kTableValueNotFound;
  errors[0].user_message = "Unknown authority 'NHS|X' for PID-3";
  errors[1].segment_id = "RF1";
  errors[1].segment_sequence = 1;
  errors[1].field = 7;
  errors[1].code = Hl7ErrorCode::kRequiredFieldMissing;
  errors[1].severity = ErrSeverity::kWarning;
  errors[1].user_message = "Effective date missing";
  const Message ack = MakeAck(in, AckCode::kError, "SB-0002", AckTime(), errors);
  const std::string bytes = EncodeEr7(ack);
  EXPECT_THAT(bytes, HasSubstr("|ACK^I12^ACK|SB-0002|P|2.5\rMSA|AE|STM-000460\r"));
  EXPECT_THAT(bytes, HasSubstr("\rERR||PID^1^3^2^4|103^Table value not found^HL70357|E||||"
                               "Unknown authority 'NHS\\F\\X' for PID-3\r"));
  EXPECT_THAT(bytes, HasSubstr("\rERR||RF1^1^7|101^Required field missing^HL70357|W||||"
                               "Effective date missing\r"));
  ASSERT_OK_AND_ASSIGN(Message parsed, ParseEr7(bytes));
  EXPECT_EQ(parsed, ack);
  EXPECT_EQ(At(parsed, "ERR(2)-2.3"), "7");
  EXPECT_EQ(At(parsed, "ERR-8"), "Unknown authority 'NHS|X' for PID-3");
}

TEST(Er7AckTest, RejectWithoutLocationAndFromAMinimalMessage) {
  const Message in = MustParse("MSH|^~\\&|A|B|C|D|||ORU^R01|42|P|2.5.1\r");
  ErrEntry error;
  error.code = Hl7ErrorCode::kUnsupportedMessageType;
  error.user_message = "ORU is not routed";
  const Message ack = MakeAck(in, AckCode::kReject, "SB-0003", AckTime(), {error});
  EXPECT_EQ(EncodeEr7(ack),
            "MSH|^~\\&|C|D|A|B|20240312143105+0000||ACK^R01^ACK|SB-0003|P|2.5.1\r"
            "MSA|AR|42\r"
            "ERR|||200^Unsupported message type^HL70357|E||||ORU is not routed\r");
  // Nothing to copy from an empty message: still a well-formed ACK.
  const Message blank = MakeAck(Message(), AckCode::kReject, "SB-0004", AckTime(), {});
  EXPECT_EQ(EncodeEr7(blank), "MSH|^~\\&|||||20240312143105+0000||ACK^^ACK|SB-0004\rMSA|AR\r");
}

}  // namespace
}  // namespace switchboard::adapters::hl7v2
