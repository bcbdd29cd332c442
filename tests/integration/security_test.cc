// Identity and authorisation against the real binary: identity only from the TLS
// peer; unknown, suspended, foreign-CA, expired and certificate-less callers are
// refused; a member never sees another member's objects (NOT_FOUND, as if absent).
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"

namespace switchboard::testing {
namespace {

using ::testing::HasSubstr;

using SecurityTest = GatewayTest;

// Audit records after `after_seq`, read by the admin.
std::vector<v1::AuditRecord> AuditAfter(Member& admin, uint64_t after_seq) {
  v1::ListAuditRecordsRequest req;
  req.set_after_seq(after_seq);
  req.set_page_size(1000);
  v1::ListAuditRecordsResponse resp;
  grpc::Status s = admin.operations->ListAuditRecords(Ctx().get(), req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return {resp.records().begin(), resp.records().end()};
}

uint64_t LastAuditSeq(Member& admin) {
  auto records = AuditAfter(admin, 0);
  return records.empty() ? 0 : records.back().seq();
}

TEST_F(SecurityTest, UnregisteredCertificateIsUnauthenticatedAndAudited) {
  auto admin = As("admin");
  const uint64_t before = LastAuditSeq(*admin);
  Member stranger(gateway_->address(), TestPki::Get().Stranger());
  grpc::Status s = stranger.Publish(Discharge("u-1", "MRN-1", "st-marys"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("not registered"));

  bool audited = false;
  for (const auto& r : AuditAfter(*admin, before)) {
    if (r.action() == v1::AuditRecord::AUTHENTICATE && r.outcome() == v1::AuditRecord::REFUSED &&
        r.peer_identity() == TestPki::San("stranger") && r.operation() == "Exchange/Publish") {
      audited = true;
    }
  }
  EXPECT_TRUE(audited) << "no AUTHENTICATE refusal naming the stranger's SAN";
  EXPECT_EQ(As("st-marys")->Status("u-1").error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(SecurityTest, SuspendedMemberIsPermissionDeniedOnEveryRpcAndAudited) {
  auto admin = As("admin");
  v1::SuspendOrganisationRequest req;
  req.set_organisation_id("st-marys");
  req.set_reason("audit finding");
  v1::Organisation org;
  ASSERT_TRUE(admin->registry->SuspendOrganisation(Ctx().get(), req, &org).ok());
  const uint64_t before = LastAuditSeq(*admin);

  auto hospital = As("st-marys");
  EXPECT_EQ(hospital->Publish(Discharge("p-1")).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(hospital->Status("p-1").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  Subscriber sub(hospital->channel);
  auto ended = sub.WaitEnded();
  ASSERT_TRUE(ended.has_value());
  EXPECT_EQ(ended->error_code(), grpc::StatusCode::PERMISSION_DENIED);

  int refusals = 0;
  for (const auto& r : AuditAfter(*admin, before)) {
    if (r.action() == v1::AuditRecord::AUTHENTICATE && r.actor_organisation() == "st-marys" &&
        r.outcome() == v1::AuditRecord::REFUSED) {
      ++refusals;
    }
  }
  EXPECT_EQ(refusals, 3);
}

TEST_F(SecurityTest, CertificateSignedByAnotherCaIsRejectedAtTheHandshake) {
  Member foreign(gateway_->address(), TestPki::Get().OtherCa());
  grpc::Status s = foreign.Publish(Discharge("f-1"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_EQ(As("st-marys")->Status("f-1").error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(SecurityTest, ExpiredCertificateIsRejectedAtTheHandshake) {
  Member expired(gateway_->address(), TestPki::Get().Expired());
  grpc::Status s = expired.Publish(Discharge("e-1"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_EQ(As("st-marys")->Status("e-1").error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(SecurityTest, NoClientCertificateIsRejectedAtTheHandshake) {
  Member anonymous(gateway_->address(), TestPki::Get().Member("st-marys"), /*client_cert=*/false);
  grpc::Status s = anonymous.Publish(Discharge("n-1"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  Subscriber sub(anonymous.channel);
  auto ended = sub.WaitEnded();
  ASSERT_TRUE(ended.has_value());
  EXPECT_FALSE(ended->ok());
  EXPECT_EQ(As("st-marys")->Status("n-1").error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(SecurityTest, PublishingAsAnotherMemberIsRefusedAndStoresNothing) {
  auto housing = As("harbour-housing");
  grpc::Status s = housing->Publish(Discharge("spoof-1", "MRN-1", /*source=*/"st-marys"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("message.header.source"));
  EXPECT_EQ(As("st-marys")->Status("spoof-1").error_code(), grpc::StatusCode::NOT_FOUND);
  v1::ListDeliveriesResponse pending;
  ASSERT_TRUE(As("northside-family")->Deliveries(v1::Delivery::STATE_UNSPECIFIED, &pending).ok());
  EXPECT_EQ(pending.deliveries_size(), 0);
}

TEST_F(SecurityTest, AnotherMembersMessageIsNotFoundExactlyLikeAnUnknownId) {
  ASSERT_TRUE(As("st-marys")->Publish(Discharge("mine-1")).ok());
  auto housing = As("harbour-housing");  // a recipient of mine-1, not its publisher
  grpc::Status other = housing->Status("mine-1");
  grpc::Status unknown = As("st-marys")->Status("mine-1-nope");
  EXPECT_EQ(other.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(other.error_message(), "no message 'mine-1'");
  EXPECT_EQ(unknown.error_message(), "no message 'mine-1-nope'");
}

TEST_F(SecurityTest, IdentityComesOnlyFromTheCertificateNeverFromMetadata) {
  ASSERT_TRUE(As("st-marys")->Publish(Discharge("meta-1")).ok());
  auto housing = As("harbour-housing");
  auto ctx = Ctx();
  // Claims a caller might try: none of them is an identity.
  ctx->AddMetadata("sb-org", "st-marys");
  ctx->AddMetadata("sb-user", "st-marys");
  ctx->AddMetadata("x-forwarded-client-cert", "URI=" + TestPki::San("st-marys"));
  v1::GetMessageStatusRequest req;
  req.set_message_id("meta-1");
  v1::MessageStatus status;
  grpc::Status s = housing->operations->GetMessageStatus(ctx.get(), req, &status);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(SecurityTest, MembersSeeAndAcknowledgeOnlyTheirOwnDeliveries) {
  v1::Receipt receipt;
  ASSERT_TRUE(As("st-marys")->Publish(Discharge("own-1"), &receipt).ok());
  std::string northside_delivery;
  for (const auto& r : receipt.recipients()) {
    if (r.organisation_id() == "northside-family") northside_delivery = r.delivery_id();
  }
  ASSERT_FALSE(northside_delivery.empty());

  // harbour-housing acknowledges northside-family's delivery id on its own stream.
  auto housing = Subscribe("harbour-housing");
  auto mine = housing->Next();
  ASSERT_TRUE(mine.has_value());
  housing->Ack({northside_delivery});
  ASSERT_TRUE(housing->Close().ok());

  v1::ListDeliveriesResponse listed;
  ASSERT_TRUE(As("harbour-housing")->Deliveries(v1::Delivery::STATE_UNSPECIFIED, &listed).ok());
  for (const auto& d : listed.deliveries()) EXPECT_EQ(d.recipient(), "harbour-housing");

  v1::MessageStatus status;
  ASSERT_TRUE(As("st-marys")->Status("own-1", &status).ok());
  for (const auto& d : status.deliveries()) {
    if (d.recipient() == "northside-family") {
      EXPECT_EQ(d.state(), v1::Delivery::PENDING);
    }
  }
  auto northside = Subscribe("northside-family");
  auto theirs = northside->Next();
  ASSERT_TRUE(theirs.has_value());
  EXPECT_EQ(theirs->id(), northside_delivery);
}

TEST_F(SecurityTest, RegistryWritesNeedTheAdminRoleAndRefusalsAreAudited) {
  auto admin = As("admin");
  const uint64_t before = LastAuditSeq(*admin);
  auto hospital = As("st-marys");
  v1::RegisterOrganisationRequest req;
  req.mutable_organisation()->set_id("rogue-org");
  req.mutable_organisation()->set_display_name("Rogue");
  req.mutable_organisation()->add_roles(v1::Organisation::ADMIN);
  req.mutable_organisation()->set_certificate_san("spiffe://switchboard.example/org/rogue-org");
  v1::Organisation org;
  grpc::Status s = hospital->registry->RegisterOrganisation(Ctx().get(), req, &org);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::GetOrganisationRequest get;
  get.set_organisation_id("rogue-org");
  EXPECT_EQ(admin->registry->GetOrganisation(Ctx().get(), get, &org).error_code(),
            grpc::StatusCode::NOT_FOUND);
  bool audited = false;
  for (const auto& r : AuditAfter(*admin, before)) {
    audited |= r.action() == v1::AuditRecord::AUTHORISE && r.actor_organisation() == "st-marys" &&
               r.outcome() == v1::AuditRecord::REFUSED;
  }
  EXPECT_TRUE(audited);
  // Audit itself is admin-only.
  v1::ListAuditRecordsResponse resp;
  EXPECT_EQ(hospital->operations->ListAuditRecords(Ctx().get(), {}, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(SecurityTest, CareTeamOfAClientIsNotFoundForNonMembersLikeAnUnknownClient) {
  auto outsider = As("eastside-mh");
  v1::GetCareTeamRequest req;
  req.mutable_client()->set_system(kMrnSystem);
  req.mutable_client()->set_value("MRN-1");
  v1::CareTeam team;
  grpc::Status s = outsider->registry->GetCareTeam(Ctx().get(), req, &team);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), std::string("no client with identifier '") + kMrnSystem + "|MRN-1'");
  ASSERT_TRUE(As("harbour-housing")->registry->GetCareTeam(Ctx().get(), req, &team).ok());
  EXPECT_EQ(team.client_id(), "client-a");
}

}  // namespace
}  // namespace switchboard::testing
