#include "tools/cli/plan_commands.h"

#include <cstdint>
#include <functional>
#include <iostream>
#include <random>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "switchboard/common/time_util.h"
#include "switchboard/v1/careplans.grpc.pb.h"
#include "switchboard/v1/exchange.grpc.pb.h"
#include "switchboard/v1/message.pb.h"
#include "tools/cli/common.h"
#include "tools/cli/format.h"

ABSL_DECLARE_FLAG(std::string, as_of);
ABSL_DECLARE_FLAG(uint32_t, page_size);
ABSL_DECLARE_FLAG(std::string, page_token);
ABSL_DECLARE_FLAG(std::vector<std::string>, from);
ABSL_DECLARE_FLAG(std::vector<std::string>, domain);
ABSL_DECLARE_FLAG(std::optional<int>, rating);
ABSL_DECLARE_FLAG(std::string, scale);
ABSL_DECLARE_FLAG(std::string, note);
ABSL_DECLARE_FLAG(std::optional<int64_t>, plan_version);
ABSL_DECLARE_FLAG(std::string, reason);

namespace switchboard::tools::sbctl {
namespace {

constexpr char kPlanUsage[] =
    "plan: show CLIENT [--as_of TIME] | history CLIENT | timeline CLIENT [--page_size N] "
    "[--page_token T] [--from ORG] [--domain D] | update CLIENT FILE | progress CLIENT ITEM_ID "
    "[--rating N] [--scale S] [--note TEXT] [--plan_version N] | status CLIENT ITEM_ID STATUS "
    "[--note TEXT] [--plan_version N]";
constexpr char kReferralUsage[] =
    "referral: list CLIENT | update CLIENT REFERRAL_ID STATUS [--reason TEXT] [--note TEXT]";

// Exit code of a refused RPC; a version conflict says how to go on.
int FailUpdate(const grpc::Status& s) {
  const int code = FailRpc(s);
  if (s.error_code() == grpc::StatusCode::ABORTED) {
    std::cerr << "  (the plan changed since it was read: read it again and retry)\n";
  }
  return code;
}

v1::ProgressEntry NewProgress(std::optional<int> rating, const std::string& scale,
                              const std::string& note) {
  v1::ProgressEntry e;
  *e.mutable_at() = ToProtoTime(absl::Now());
  if (rating.has_value()) e.set_attainment(*rating);
  e.set_scale(scale);
  e.set_note(note);
  e.set_author(absl::GetFlag(FLAGS_user));
  return e;
}

int Show(v1::CarePlans::Stub& stub, const v1::ClientIdentifier& client) {
  v1::GetCarePlanRequest req;
  *req.mutable_client() = client;
  std::optional<absl::Time> as_of;
  if (const std::string text = absl::GetFlag(FLAGS_as_of); !text.empty()) {
    absl::Time t;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
      return Usage(absl::StrCat("--as_of: '", text,
                                "' is not an RFC 3339 time such as 2026-11-20T10:00:00Z (", error,
                                ")"));
    }
    as_of = t;
    *req.mutable_as_of() = ToProtoTime(t);
  }
  auto ctx = NewContext(Options());
  v1::CarePlanView view;
  grpc::Status s = stub.GetCarePlan(ctx.get(), req, &view);
  if (!s.ok()) return FailRpc(s);
  Print(view, FormatCarePlan(view, as_of));
  return 0;
}

int History(v1::CarePlans::Stub& stub, const v1::ClientIdentifier& client) {
  v1::CarePlanHistoryRequest req;
  *req.mutable_client() = client;
  auto ctx = NewContext(Options());
  v1::CarePlanHistoryResponse resp;
  grpc::Status s = stub.History(ctx.get(), req, &resp);
  if (!s.ok()) return FailRpc(s);
  Print(resp, FormatPlanHistory(resp));
  return 0;
}

int Timeline(v1::CarePlans::Stub& stub, const std::string& client_arg,
             const v1::ClientIdentifier& client) {
  v1::GetTimelineRequest req;
  *req.mutable_client() = client;
  // The filters go again into the `more:` line: a page token does not carry them.
  std::vector<std::string> repeat;
  const absl::CommandLineFlag& page_size = absl::GetFlagReflectionHandle(FLAGS_page_size);
  if (absl::GetFlag(FLAGS_page_size) < 1 || absl::GetFlag(FLAGS_page_size) > 500) {
    return Usage("plan timeline: --page_size is 1..500");
  }
  req.set_page_size(static_cast<int32_t>(absl::GetFlag(FLAGS_page_size)));
  if (page_size.CurrentValue() != page_size.DefaultValue()) {
    repeat.push_back(absl::StrCat("--page_size=", page_size.CurrentValue()));
  }
  req.set_page_token(absl::GetFlag(FLAGS_page_token));
  for (const std::string& org : absl::GetFlag(FLAGS_from)) {
    if (org.empty()) continue;
    req.add_organisations(org);
    repeat.push_back(absl::StrCat("--from=", org));
  }
  for (const std::string& domain : absl::GetFlag(FLAGS_domain)) {
    if (domain.empty()) continue;
    req.add_domains(domain);
    repeat.push_back(absl::StrCat("--domain=", domain));
  }
  auto ctx = NewContext(Options());
  v1::GetTimelineResponse resp;
  grpc::Status s = stub.GetTimeline(ctx.get(), req, &resp);
  if (!s.ok()) return FailRpc(s);
  Print(resp, FormatTimeline(resp, client_arg, repeat));
  return 0;
}

int Update(v1::CarePlans::Stub& stub, const v1::ClientIdentifier& client, const std::string& path) {
  v1::UpdateCarePlanRequest req;
  if (auto p = ParseJsonFile(path, &req); !p.ok()) return Fail(std::string(p.message()), 2);
  *req.mutable_client() = client;
  auto ctx = NewContext(Options());
  v1::UpdateCarePlanResponse resp;
  grpc::Status s = stub.Update(ctx.get(), req, &resp);
  if (!s.ok()) return FailUpdate(s);
  Print(resp, FormatUpdateResponse(resp));
  return 0;
}

// Reads the plan, applies `change` to the one item `item_id` as read and sends
// that item back against --plan_version (else the version just read).
int UpdateItem(v1::CarePlans::Stub& stub, const std::string& client_arg,
               const v1::ClientIdentifier& client, const std::string& item_id,
               const std::function<void(v1::CarePlanItem&)>& change) {
  v1::GetCarePlanRequest get;
  *get.mutable_client() = client;
  v1::CarePlanView view;
  {
    auto ctx = NewContext(Options());
    grpc::Status s = stub.GetCarePlan(ctx.get(), get, &view);
    if (!s.ok()) return FailRpc(s);
  }
  const v1::CarePlanItem* found = nullptr;
  for (const v1::CarePlanViewItem& entry : view.items()) {
    if (!entry.redacted() && entry.item().id() == item_id) found = &entry.item();
  }
  if (found == nullptr) {
    return Fail(absl::StrCat("no item ", item_id, " in the plan of ", client_arg, " you can see"));
  }
  v1::UpdateCarePlanRequest req;
  *req.mutable_client() = client;
  req.set_expected_version(absl::GetFlag(FLAGS_plan_version).value_or(view.version()));
  v1::CarePlanItem* item = req.add_items();
  *item = *found;
  change(*item);
  auto ctx = NewContext(Options());
  v1::UpdateCarePlanResponse resp;
  grpc::Status s = stub.Update(ctx.get(), req, &resp);
  if (!s.ok()) return FailUpdate(s);
  Print(resp, FormatUpdateResponse(resp));
  return 0;
}

int Progress(v1::CarePlans::Stub& stub, const std::string& client_arg,
             const v1::ClientIdentifier& client, const std::string& item_id) {
  const std::optional<int> rating = absl::GetFlag(FLAGS_rating);
  const std::string scale = absl::GetFlag(FLAGS_scale);
  const std::string note = absl::GetFlag(FLAGS_note);
  if (!rating.has_value() && note.empty()) {
    return Usage("plan progress: give --rating N, --note TEXT or both");
  }
  if (!scale.empty() && !rating.has_value()) {
    return Usage("plan progress: --scale is the scale of --rating, which is missing");
  }
  const v1::ProgressEntry entry = NewProgress(rating, scale, note);
  return UpdateItem(stub, client_arg, client, item_id,
                    [&](v1::CarePlanItem& item) { *item.add_progress() = entry; });
}

int SetStatus(v1::CarePlans::Stub& stub, const std::string& client_arg,
              const v1::ClientIdentifier& client, const std::string& item_id,
              const std::string& status_text) {
  auto status = ParseItemStatus(status_text);
  if (!status.ok()) return Usage(absl::StrCat("plan status: ", status.status().message()));
  if (absl::GetFlag(FLAGS_rating).has_value() || !absl::GetFlag(FLAGS_scale).empty()) {
    return Usage("plan status: --rating and --scale are for plan progress");
  }
  const std::string note = absl::GetFlag(FLAGS_note);
  std::optional<v1::ProgressEntry> entry;
  if (!note.empty()) entry = NewProgress(std::nullopt, "", note);
  return UpdateItem(stub, client_arg, client, item_id, [&](v1::CarePlanItem& item) {
    item.set_status(*status);
    if (entry.has_value()) *item.add_progress() = *entry;
  });
}

grpc::Status ListReferrals(v1::CarePlans::Stub& stub, const v1::ClientIdentifier& client,
                           v1::ListReferralsResponse* out) {
  v1::ListReferralsRequest req;
  *req.mutable_client() = client;
  auto ctx = NewContext(Options());
  return stub.ListReferrals(ctx.get(), req, out);
}

// `<REFERRAL_ID>-<status>-<8 random hex>`: a new message id for each update (a
// retry of the same command is a new message; the state machine refuses a
// move already made).
std::string ReferralMessageId(const std::string& referral_id, v1::Referral::Status status) {
  std::random_device random;
  return absl::StrFormat("%s-%s-%08x", referral_id, ReferralStatusText(status),
                         static_cast<uint32_t>(random()));
}

int UpdateReferral(const std::shared_ptr<grpc::Channel>& channel, const std::string& client_arg,
                   const v1::ClientIdentifier& client, const std::string& referral_id,
                   const std::string& status_text) {
  auto status = ParseReferralStatus(status_text);
  if (!status.ok()) return Usage(absl::StrCat("referral update: ", status.status().message()));
  const std::string source = absl::GetFlag(FLAGS_as);
  if (source.empty()) {
    return Usage(
        "referral update: --as ORG is needed (the update is a message published by your "
        "organisation, header.source)");
  }
  auto plans = v1::CarePlans::NewStub(channel);
  v1::ListReferralsResponse referrals;
  if (grpc::Status s = ListReferrals(*plans, client, &referrals); !s.ok()) return FailRpc(s);
  const v1::ReferralState* found = nullptr;
  for (const v1::ReferralState& r : referrals.referrals()) {
    if (r.referral().referral_id() == referral_id) found = &r;
  }
  if (found == nullptr) {
    return Fail(absl::StrCat("no referral ", referral_id, " of ", client_arg, " that you can see"));
  }
  v1::Message message;
  v1::MessageHeader* header = message.mutable_header();
  header->set_id(ReferralMessageId(referral_id, *status));
  header->set_event("referral");
  header->set_source(source);
  *header->mutable_client() = client;
  *header->mutable_occurred_at() = ToProtoTime(absl::Now());
  header->set_author(absl::GetFlag(FLAGS_user));
  v1::Referral* referral = message.mutable_referral();
  *referral = found->referral();
  referral->set_status(*status);
  referral->set_status_reason(absl::GetFlag(FLAGS_reason));
  referral->set_note(absl::GetFlag(FLAGS_note));

  auto exchange = v1::Exchange::NewStub(channel);
  auto ctx = NewContext(Options());
  v1::Receipt receipt;
  grpc::Status s = exchange->Publish(ctx.get(), message, &receipt);
  if (!s.ok()) return FailRpc(s);
  Print(receipt, FormatReceipt(receipt));
  return 0;
}

}  // namespace

int Plan(const std::shared_ptr<grpc::Channel>& channel, const std::vector<std::string>& args) {
  if (args.size() < 2) return Usage(kPlanUsage);
  const std::string& sub = args[0];
  const std::string& client_arg = args[1];
  auto client = ParseIdentifier(client_arg);
  if (!client.ok()) return Usage(absl::StrCat("plan ", sub, ": ", client.status().message()));
  auto stub = v1::CarePlans::NewStub(channel);
  if (sub == "show" && args.size() == 2) return Show(*stub, *client);
  if (sub == "history" && args.size() == 2) return History(*stub, *client);
  if (sub == "timeline" && args.size() == 2) return Timeline(*stub, client_arg, *client);
  if (sub == "update" && args.size() == 3) return Update(*stub, *client, args[2]);
  if (sub == "progress" && args.size() == 3) return Progress(*stub, client_arg, *client, args[2]);
  if (sub == "status" && args.size() == 4) {
    return SetStatus(*stub, client_arg, *client, args[2], args[3]);
  }
  return Usage(kPlanUsage);
}

int Referral(const std::shared_ptr<grpc::Channel>& channel, const std::vector<std::string>& args) {
  if (args.size() < 2) return Usage(kReferralUsage);
  const std::string& client_arg = args[1];
  auto client = ParseIdentifier(client_arg);
  if (!client.ok()) {
    return Usage(absl::StrCat("referral ", args[0], ": ", client.status().message()));
  }
  if (args[0] == "list" && args.size() == 2) {
    auto stub = v1::CarePlans::NewStub(channel);
    v1::ListReferralsResponse referrals;
    if (grpc::Status s = ListReferrals(*stub, *client, &referrals); !s.ok()) return FailRpc(s);
    Print(referrals, FormatReferrals(referrals));
    return 0;
  }
  if (args[0] == "update" && args.size() == 4) {
    return UpdateReferral(channel, client_arg, *client, args[2], args[3]);
  }
  return Usage(kReferralUsage);
}

}  // namespace switchboard::tools::sbctl
