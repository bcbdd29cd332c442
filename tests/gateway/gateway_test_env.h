// Test-only environment for gateway unit tests: a real RocksDB Store in a temporary
// directory, a real Committer, a Directory and the demo event catalogue, plus small
// helpers to count and snapshot column families. Nothing here replaces a component
// with a double; it only wires the real ones together the way gateway.cc does.
//
// Not thread-safe itself (the components it holds are).
#ifndef SWITCHBOARD_TESTS_GATEWAY_GATEWAY_TEST_ENV_H_
#define SWITCHBOARD_TESTS_GATEWAY_GATEWAY_TEST_ENV_H_

#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/config/event_catalogue.h"
#include "gateway/consent/access.h"
#include "gateway/consent/consent_ops.h"
#include "gateway/exchange/publisher.h"
#include "gateway/identity/authenticator.h"
#include "gateway/registry/directory.h"
#include "gateway/registry/registry_ops.h"
#include "gateway/registry/seed.h"
#include "gateway/store/committer.h"
#include "gateway/store/store.h"
#include "gtest/gtest.h"
#include "switchboard/common/time_util.h"
#include "switchboard/v1/config.pb.h"
#include "switchboard/v1/storage.pb.h"
#include "tests/common/status_matchers.h"
#include "tests/common/temp_dir.h"

namespace switchboard::gateway::testing {

// The five event types of deploy/demo/switchboard.textproto.
inline v1::GatewayConfig EventConfig() {
  v1::GatewayConfig config;
  auto add = [&](const char* code, v1::EventType::Payload payload) {
    v1::EventType* t = config.add_event_types();
    t->set_code(code);
    t->set_payload(payload);
  };
  add("discharge", v1::EventType::DISCHARGE_NOTE);
  add("case-note", v1::EventType::CASE_NOTE);
  add("referral", v1::EventType::REFERRAL);
  add("care-plan-change", v1::EventType::CARE_PLAN_CHANGE);
  add("consent-change", v1::EventType::CONSENT_CHANGE);
  return config;
}

inline std::string SanOf(const std::string& id) { return "spiffe://switchboard.example/org/" + id; }

inline v1::Organisation MakeOrganisation(const std::string& id, v1::Organisation::Role role) {
  v1::Organisation org;
  org.set_id(id);
  org.set_display_name("Organisation " + id);
  org.add_roles(role);
  org.set_certificate_san(SanOf(id));
  return org;
}

inline identity::Caller AdminCaller() {
  identity::Caller caller;
  caller.organisation_id = "admin";
  caller.admin = true;
  caller.user = "test admin";
  return caller;
}

inline identity::Caller MemberCaller(const std::string& id) {
  identity::Caller caller;
  caller.organisation_id = id;
  caller.user = "worker at " + id;
  return caller;
}

inline constexpr char kMrnSystem[] = "https://st-marys.example.org/fhir/mrn";

inline v1::ClientIdentifier Mrn(const std::string& value) {
  v1::ClientIdentifier id;
  id.set_system(kMrnSystem);
  id.set_value(value);
  return id;
}

// A small federation: st-marys (hospital), harbour-housing and northside-family
// (agencies), care-coord (coordinator, subscribed to `discharge`), admin; one client
// (MRN-1) whose care team is st-marys and harbour-housing.
inline v1::Seed SmallSeed() {
  v1::Seed seed;
  *seed.add_organisations() = MakeOrganisation("st-marys", v1::Organisation::HOSPITAL);
  *seed.add_organisations() = MakeOrganisation("harbour-housing", v1::Organisation::AGENCY);
  *seed.add_organisations() = MakeOrganisation("northside-family", v1::Organisation::AGENCY);
  *seed.add_organisations() = MakeOrganisation("care-coord", v1::Organisation::COORDINATOR);
  *seed.add_organisations() = MakeOrganisation("admin", v1::Organisation::ADMIN);
  v1::Subscription* sub = seed.add_subscriptions();
  sub->set_organisation_id("care-coord");
  sub->add_event_codes("discharge");
  v1::Client* client = seed.add_clients();
  client->set_id("client-0001");
  *client->add_identifiers() = Mrn("MRN-1");
  v1::CareTeam* team = seed.add_care_teams();
  team->set_client_id("client-0001");
  team->add_members()->set_organisation_id("st-marys");
  team->add_members()->set_organisation_id("harbour-housing");
  return seed;
}

// A valid discharge note from st-marys about MRN-1. The content depends only on
// the arguments (a fixed occurred_at), so two calls make the same message.
inline v1::Message Discharge(const std::string& id, const std::string& text = "Observed.") {
  v1::Message m;
  v1::MessageHeader* h = m.mutable_header();
  h->set_id(id);
  h->set_event("discharge");
  h->set_source("st-marys");
  *h->mutable_client() = Mrn("MRN-1");
  *h->mutable_occurred_at() = ToProtoTime(absl::FromUnixSeconds(1'704'067'200));  // 2024-01-01
  h->set_purpose_of_use("TREAT");
  v1::Section* section = m.mutable_discharge_note()->add_sections();
  section->set_title("Hospital course");
  section->set_text(text);
  return m;
}

// A sharing policy under which, without a consent, TREAT content without a
// sensitive label goes to every recipient routing chose (the care team and the
// event's subscribers), for tests about delivery mechanics rather than consent.
inline policy::SharingPolicy OpenSharingPolicy() {
  v1::SharingPolicy p = policy::SharingPolicy::Default().proto();
  p.mutable_defaults(0)->set_unlabelled(v1::SharingPolicy::Default::ANY_RECIPIENT);
  return *policy::SharingPolicy::FromProto(p, [](absl::string_view) { return true; });
}

inline v1::Limits DefaultLimits() {
  v1::Limits limits;
  limits.set_max_message_bytes(1 << 20);
  limits.set_max_destinations(64);
  return limits;
}

// Base fixture: opens the store and starts the committer in SetUp.
class GatewayTest : public ::testing::Test {
 protected:
  GatewayTest() : events_(EventConfig()) {}

  void SetUp() override { ASSERT_NO_FATAL_FAILURE(OpenAndStart()); }
  void TearDown() override { StopAndClose(); }

  void OpenAndStart() {
    auto store = store::Store::Open(dir_.Sub("data"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    committer_ = std::make_unique<store::Committer>(store_.get());
    ASSERT_THAT(committer_->Start(), ::switchboard::testing::IsOk());
    ASSERT_THAT(directory_.Load(*store_), ::switchboard::testing::IsOk());
    decider_ = std::make_unique<consent::AccessDecider>(store_.get(), &directory_, sharing_policy_);
  }

  void StopAndClose() {
    if (committer_ != nullptr) committer_->Stop();
    decider_.reset();
    committer_.reset();
    if (store_ != nullptr) {
      EXPECT_THAT(store_->Close(), ::switchboard::testing::IsOk());
    }
    store_.reset();
  }

  // Stop, close, reopen and start again on the same directory.
  void Restart() {
    StopAndClose();
    ASSERT_NO_FATAL_FAILURE(OpenAndStart());
  }

  registry::RegistryContext Context() {
    return registry::RegistryContext{
        .directory = &directory_,
        .events = &events_,
        .on_suspended = [this](const std::string& id) { suspended_.push_back(id); },
        .on_care_team_changed = [this] { decider_->Invalidate(); },
        .on_identifiers_changed = [this] { decider_->Invalidate(); },
    };
  }

  consent::ConsentOpsContext ConsentContext() {
    return consent::ConsentOpsContext{
        .directory = &directory_,
        .events = &events_,
        .policy = &decider_->policy(),
        .on_queued = [this](uint64_t, const std::shared_ptr<const v1::Message>&,
                            const std::vector<std::string>& recipients) {
          notified_.push_back(recipients);
        },
        .on_consents_changed = [this] { decider_->Invalidate(); },
    };
  }

  // Every key and value of one column family, in key order.
  std::map<std::string, std::string> Contents(store::Cf cf) const {
    std::map<std::string, std::string> out;
    auto it = store_->NewIterator(cf);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      out.emplace(it->key().ToString(), it->value().ToString());
    }
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
    return out;
  }

  size_t CountKeys(store::Cf cf) const { return Contents(cf).size(); }

  // Every audit record in chain order.
  std::vector<v1::AuditRecord> AuditRecords() const {
    std::vector<v1::AuditRecord> out;
    for (const auto& [key, value] : Contents(store::Cf::kAudit)) {
      v1::AuditRecord record;
      EXPECT_TRUE(record.ParseFromString(value));
      out.push_back(std::move(record));
    }
    return out;
  }

  // Registers an organisation through the registry ops, as the admin.
  absl::Status Register(const v1::Organisation& org) {
    return committer_->Run([&](store::Transaction& txn) {
      v1::Organisation out;
      return registry::RegisterOrganisation(txn, Context(), AdminCaller(), org, &out);
    });
  }

  // Applies SmallSeed() through the registry ops.
  void ApplySmallSeed() {
    ASSERT_THAT(registry::ApplySeed(committer_.get(), Context(), SmallSeed()),
                ::switchboard::testing::IsOk());
  }

  // A Publisher over this fixture's components (notifications are recorded, on
  // the committer's completion thread, before the publish's answer).
  std::unique_ptr<exchange::Publisher> MakePublisher() {
    return std::make_unique<exchange::Publisher>(
        store_.get(), committer_.get(), &directory_, &events_, decider_.get(), ConsentContext(),
        DefaultLimits(),
        [this](uint64_t message_seq, const std::shared_ptr<const v1::Message>& message,
               const std::vector<std::string>& recipients) {
          notified_.push_back(recipients);
          accepted_.push_back(Accepted{message_seq, message, committer_->durable_seq()});
        });
  }

  // Publishes and waits for the answer.
  static absl::StatusOr<v1::Receipt> PublishAndWait(const exchange::Publisher& publisher,
                                                    const identity::Caller& caller,
                                                    v1::Message message) {
    std::promise<absl::StatusOr<v1::Receipt>> promise;
    publisher.Publish(caller, std::move(message), [&promise](absl::StatusOr<v1::Receipt> r) {
      promise.set_value(std::move(r));
    });
    return promise.get_future().get();
  }

  // What a Publisher from MakePublisher() told, one entry per accepted message.
  struct Accepted {
    uint64_t message_seq;
    std::shared_ptr<const v1::Message> message;
    uint64_t durable_seq;  // the committer's, when it was told
  };
  std::vector<std::vector<std::string>> notified_;  // the recipients
  std::vector<Accepted> accepted_;
  switchboard::testing::TempDir dir_;
  config::EventCatalogue events_;
  registry::Directory directory_;
  std::vector<std::string> suspended_;  // written on the writer thread by on_suspended
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::Committer> committer_;
  // The built-in sharing policy unless a test sets another before SetUp.
  policy::SharingPolicy sharing_policy_ = policy::SharingPolicy::Default();
  std::unique_ptr<consent::AccessDecider> decider_;
};

}  // namespace switchboard::gateway::testing

#endif  // SWITCHBOARD_TESTS_GATEWAY_GATEWAY_TEST_ENV_H_
