// Identity across members against the real binary and the real sbctl: a strong
// identifier links automatically, identifiers of two clients are refused and
// listed for review (`sbctl client review`), a coordinator links and unlinks
// (`sbctl client link|unlink`), and a recipient gets the client by its own
// identifier whatever identifier the sender used.
#include <regex>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"

namespace switchboard::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kNhiSystem[] = "https://nhi.example.org";

constexpr char kIdentityConfig[] = R"(
identifier_authorities { system: "https://st-marys.example.org/fhir/mrn" organisation_ids: "st-marys" }
identifier_authorities { system: "https://harbour-housing.example.org/case" organisation_ids: "harbour-housing" }
strong_identifier_systems: "https://nhi.example.org"
)";

v1::ClientIdentifier Nhi(const std::string& value) {
  v1::ClientIdentifier id;
  id.set_system(kNhiSystem);
  id.set_value(value);
  return id;
}

// `system|value`, quoted for the shell.
std::string Arg(const std::string& system, const std::string& value) {
  return absl::StrCat("'", system, "|", value, "'");
}

class IdentityTest : public GatewayTest {
 protected:
  GatewayOptions Options() override {
    GatewayOptions o;
    o.extra_config = kIdentityConfig;
    return o;
  }
  std::string Sbctl(const std::string& org, const std::string& args, int* code) {
    std::string out;
    *code = RunCommand(absl::StrCat(BinaryDir(), "/tools/cli/sbctl --addr ", gateway_->address(),
                                    " --certs_dir ", TestPki::Get().dir(), " --as ", org, " ", args,
                                    " 2>&1"),
                       &out);
    return out;
  }
};

TEST_F(IdentityTest, AutoLinkConflictReviewAndLinkUnlink) {
  auto hospital = As("st-marys");
  // MRN-1 with a national id nobody knows yet: linked to client-a.
  v1::Message first = Discharge("d-1", "MRN-1");
  *first.mutable_header()->add_other_client_identifiers() = Nhi("NHI-A");
  ASSERT_TRUE(hospital->Publish(first).ok());

  // The same national id with MRN-2 (client-b): refused, listed, nothing merged.
  v1::Message conflict = Discharge("d-2", "MRN-2");
  *conflict.mutable_header()->add_other_client_identifiers() = Nhi("NHI-A");
  grpc::Status refused = hospital->Publish(conflict);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr("NHI-A"));
  EXPECT_THAT(refused.error_message(), HasSubstr("review-"));
  EXPECT_THAT(refused.error_message(), Not(HasSubstr("client-a")));
  EXPECT_THAT(refused.error_message(), Not(HasSubstr("client-b")));

  int code = 0;
  std::string out = Sbctl("care-coord", "client review", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("OPEN"));
  EXPECT_THAT(out, HasSubstr("d-2"));
  EXPECT_THAT(out, HasSubstr("NHI-A"));
  EXPECT_THAT(out, HasSubstr("client-a"));
  EXPECT_THAT(out, HasSubstr("client-b"));
  std::smatch match;
  ASSERT_TRUE(std::regex_search(out, match, std::regex("review-[0-9a-f]{16}"))) << out;
  const std::string review = match.str();

  // Members without the coordinator role may not see or change identities.
  out = Sbctl("harbour-housing", "client review", &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("PERMISSION_DENIED"));
  out = Sbctl("harbour-housing",
              "client link " + Arg(kMrnSystem, "MRN-3") + " " + Arg(kNhiSystem, "NHI-C"), &code);
  EXPECT_EQ(code, 1) << out;

  // Linking another client's identifier is refused: no merges.
  out = Sbctl("care-coord",
              "client link " + Arg(kMrnSystem, "MRN-2") + " " + Arg(kNhiSystem, "NHI-A"), &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("FAILED_PRECONDITION"));
  EXPECT_THAT(out, HasSubstr("merging"));

  // Link and unlink.
  out = Sbctl("care-coord",
              "client link " + Arg(kMrnSystem, "MRN-3") + " " + Arg(kNhiSystem, "NHI-C"), &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("client-c"));
  EXPECT_THAT(out, HasSubstr("NHI-C"));
  out = Sbctl("admin",
              "client unlink " + Arg(kNhiSystem, "NHI-C") + " " + Arg(kMrnSystem, "MRN-3"), &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, Not(HasSubstr("MRN-3\n")));
  out = Sbctl("admin",
              "client unlink " + Arg(kNhiSystem, "NHI-C") + " " + Arg(kNhiSystem, "NHI-C"), &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("last identifier"));

  // The review is closed with a note; it leaves the open list.
  out = Sbctl("care-coord",
              "client review --resolve " + review + " --reason 'wrong national id at st-marys'",
              &code);
  EXPECT_EQ(code, 0) << out;
  out = Sbctl("care-coord", "client review", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("no client reviews"));
  out = Sbctl("care-coord", "client review --all", &code);
  EXPECT_THAT(out, HasSubstr("wrong national id at st-marys"));
}

TEST_F(IdentityTest, RecipientGetsItsOwnIdentifierAndNationalIdsOnly) {
  auto hospital = As("st-marys");
  v1::Message first = Discharge("d-1", "MRN-1");
  *first.mutable_header()->add_other_client_identifiers() = Nhi("NHI-A");
  ASSERT_TRUE(hospital->Publish(first).ok());
  auto housing = Subscribe("harbour-housing");
  std::vector<v1::Delivery> one = housing->Take(1);
  ASSERT_EQ(one.size(), 1u);
  // With a message the consent allowed, housing gets the client's national id
  // (a strong system), never the hospital's own number.
  const v1::MessageHeader& header = one[0].message().header();
  EXPECT_EQ(header.client().system(), kHousingSystem);
  EXPECT_EQ(header.client().value(), "HH-1");
  ASSERT_EQ(header.other_client_identifiers_size(), 1);
  EXPECT_EQ(header.other_client_identifiers(0).system(), kNhiSystem);
  EXPECT_EQ(header.other_client_identifiers(0).value(), "NHI-A");
  EXPECT_THAT(one[0].message().DebugString(), ::testing::Not(HasSubstr("MRN-1")));
  housing->AckAll(one);

  // Named by the national id only: housing gets its own case number.
  v1::Message by_nhi = Discharge("d-2", "NHI-A", "st-marys", kNhiSystem);
  ASSERT_TRUE(hospital->Publish(by_nhi).ok());
  auto got = housing->Next();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->message().header().client().system(), kHousingSystem);
  EXPECT_EQ(got->message().header().client().value(), "HH-1");
}

}  // namespace
}  // namespace switchboard::testing
