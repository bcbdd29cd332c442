#include "policy/client_linking.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace switchboard::policy {
namespace {

using Kind = ClientLinkDecision::Kind;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

IdentifierLookup Id(const std::string& system, const std::string& value,
                    const std::string& client_id = "", bool strong = false, bool issued = false) {
  IdentifierLookup out;
  out.identifier.set_system(system);
  out.identifier.set_value(value);
  out.client_id = client_id;
  out.strong = strong;
  out.issued_by_sender = issued;
  return out;
}

std::vector<std::string> Values(const std::vector<v1::ClientIdentifier>& ids) {
  std::vector<std::string> out;
  for (const auto& id : ids) out.push_back(id.value());
  return out;
}

TEST(ClientLinkingTest, IdentifiersOfTwoClientsAreAConflict) {
  const auto d = DecideClientLink({Id("mrn", "1", "client-a"), Id("nhi", "9", "client-b", true),
                                   Id("case", "3", "client-a")});
  EXPECT_EQ(d.kind, Kind::kConflict);
  EXPECT_THAT(d.conflicting_clients, ElementsAre("client-a", "client-b"));
  EXPECT_THAT(d.link, IsEmpty());
}

TEST(ClientLinkingTest, UnknownStrongIdentifierLinksToTheKnownClient) {
  const auto d = DecideClientLink({Id("mrn", "1", "client-a"), Id("nhi", "9", "", true)});
  EXPECT_EQ(d.kind, Kind::kKnownClient);
  EXPECT_EQ(d.client_id, "client-a");
  EXPECT_THAT(Values(d.link), ElementsAre("9"));
  EXPECT_THAT(d.not_linked, IsEmpty());
}

TEST(ClientLinkingTest, UnknownWeakIdentifierIsNotLinkedButTheMessageStands) {
  const auto d = DecideClientLink({Id("case", "3"), Id("nhi", "9", "client-a", true)});
  EXPECT_EQ(d.kind, Kind::kKnownClient);
  EXPECT_EQ(d.client_id, "client-a");
  EXPECT_THAT(d.link, IsEmpty());
  EXPECT_THAT(Values(d.not_linked), ElementsAre("3"));
}

TEST(ClientLinkingTest, TheSendersOwnIdentifierLinksToTheKnownClient) {
  const auto d = DecideClientLink(
      {Id("mrn", "1", "", false, /*issued=*/true), Id("nhi", "9", "client-a", true)});
  EXPECT_EQ(d.kind, Kind::kKnownClient);
  EXPECT_THAT(Values(d.link), ElementsAre("1"));
}

TEST(ClientLinkingTest, NothingKnownCreatesWhenTheSenderIssuesAnIdentifier) {
  const auto d = DecideClientLink(
      {Id("nhi", "9", "", true), Id("mrn", "1", "", false, true), Id("case", "3")});
  EXPECT_EQ(d.kind, Kind::kNewClient);
  EXPECT_THAT(Values(d.link), ElementsAre("9", "1"));
  EXPECT_THAT(Values(d.not_linked), ElementsAre("3"));
}

TEST(ClientLinkingTest, NothingKnownAndNothingIssuedIsUnknown) {
  EXPECT_EQ(DecideClientLink({Id("nhi", "9", "", true), Id("case", "3")}).kind,
            Kind::kUnknownClient);
}

}  // namespace
}  // namespace switchboard::policy
