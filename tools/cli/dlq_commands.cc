#include "tools/cli/dlq_commands.h"

#include <cstdio>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "switchboard/v1/operations.grpc.pb.h"
#include "tools/cli/common.h"
#include "tools/cli/connection.h"
#include "tools/cli/format.h"

ABSL_DECLARE_FLAG(std::string, org);
ABSL_DECLARE_FLAG(bool, all);

namespace switchboard::tools::sbctl {
namespace {

std::string DeadLetterRow(const v1::Delivery& d) {
  return absl::StrFormat("%-22s %-16s %-26s %-20s %3d  %s\n", d.id(), d.event(), d.message_id(),
                         FormatTime(d.last_attempt_at()), d.attempts(), d.last_error());
}

int List(v1::Operations::Stub& stub) {
  v1::ListDeliveriesRequest req;
  req.set_state(v1::Delivery::DEAD_LETTERED);
  req.set_recipient(absl::GetFlag(FLAGS_org));
  req.set_page_size(1000);
  bool header = !absl::GetFlag(FLAGS_json);
  do {
    auto ctx = NewContext(Options());
    v1::ListDeliveriesResponse resp;
    grpc::Status s = stub.ListDeliveries(ctx.get(), req, &resp);
    if (!s.ok()) return FailRpc(s);
    if (header) {
      std::printf("%-22s %-16s %-26s %-20s %s  %s\n", "DELIVERY", "EVENT", "MESSAGE",
                  "LAST ATTEMPT", "TRIES", "LAST ERROR");
      header = false;
    }
    for (const auto& d : resp.deliveries()) Print(d, DeadLetterRow(d));
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  return 0;
}

int Show(v1::Operations::Stub& stub, const std::string& id) {
  v1::GetDeliveryRequest req;
  req.set_delivery_id(id);
  req.set_recipient(absl::GetFlag(FLAGS_org));
  auto ctx = NewContext(Options());
  v1::Delivery d;
  grpc::Status s = stub.GetDelivery(ctx.get(), req, &d);
  if (!s.ok()) return FailRpc(s);
  std::string text = absl::StrCat(
      d.id(), "  ", v1::Delivery::State_Name(d.state()), "  to ", d.recipient(), "\n",
      "   message     ", d.message_id(), " (", d.gateway_message_id(), ") event ", d.event(),
      " from ", d.source(), "\n", "   created     ", FormatTime(d.created_at()), "\n",
      "   attempts    ", d.attempts(), ", last ", FormatTime(d.last_attempt_at()), "\n");
  if (d.has_next_attempt_at()) {
    absl::StrAppend(&text, "   next        ", FormatTime(d.next_attempt_at()), "\n");
  }
  if (!d.last_error().empty()) absl::StrAppend(&text, "   last error  ", d.last_error(), "\n");
  if (d.has_message()) {
    v1::Delivery with_message = d;
    absl::StrAppend(&text, FormatDelivery(with_message));
  }
  Print(d, text);
  return 0;
}

int Replay(v1::Operations::Stub& stub, const std::vector<std::string>& ids) {
  v1::ReplayDeadLetterRequest req;
  req.set_recipient(absl::GetFlag(FLAGS_org));
  req.set_all(absl::GetFlag(FLAGS_all));
  for (const std::string& id : ids) req.add_delivery_ids(id);
  if (req.all() == !ids.empty()) return Usage("dlq replay: name delivery ids, or --all");
  auto ctx = NewContext(Options());
  v1::ReplayDeadLetterResponse resp;
  grpc::Status s = stub.ReplayDeadLetter(ctx.get(), req, &resp);
  if (!s.ok()) return FailRpc(s);
  std::string text = absl::StrCat("queued again: ", resp.delivery_ids_size(), "\n");
  for (const auto& id : resp.delivery_ids()) absl::StrAppend(&text, "  ", id, "\n");
  Print(resp, text);
  return 0;
}

}  // namespace

int Dlq(const std::shared_ptr<grpc::Channel>& channel, const std::vector<std::string>& args) {
  if (args.empty()) return Usage("dlq: list, show or replay?");
  auto stub = v1::Operations::NewStub(channel);
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "list") return rest.empty() ? List(*stub) : Usage("dlq list: no arguments");
  if (args[0] == "show")
    return rest.size() == 1 ? Show(*stub, rest[0]) : Usage("dlq show DELIVERY_ID");
  if (args[0] == "replay") return Replay(*stub, rest);
  return Usage(absl::StrCat("dlq: unknown subcommand '", args[0], "'"));
}

int Endpoint(const std::shared_ptr<grpc::Channel>& channel, const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0] != "status") return Usage("endpoint status");
  auto stub = v1::Operations::NewStub(channel);
  v1::GetEndpointStatusRequest req;
  req.set_organisation_id(absl::GetFlag(FLAGS_org));
  auto ctx = NewContext(Options());
  v1::EndpointStatus st;
  grpc::Status s = stub->GetEndpointStatus(ctx.get(), req, &st);
  if (!s.ok()) return FailRpc(s);
  std::string text =
      absl::StrCat(st.organisation_id(), ": ", st.endpoint(), "\n", "   breaker     ",
                   v1::EndpointStatus::Breaker_Name(st.breaker()));
  if (st.breaker() != v1::EndpointStatus::CLOSED) {
    absl::StrAppend(&text, " until ", FormatTime(st.open_until()));
  }
  absl::StrAppend(&text, "  (", st.consecutive_failures(), " consecutive failures)\n",
                  "   since start ", st.delivered(), " delivered, ", st.failed_attempts(),
                  " failed attempts, ", st.dead_lettered(), " dead-lettered\n");
  if (st.has_last_success_at()) {
    absl::StrAppend(&text, "   last ok     ", FormatTime(st.last_success_at()), "\n");
  }
  if (!st.last_error().empty()) {
    absl::StrAppend(&text, "   last error  ", st.last_error(), " (", FormatTime(st.last_error_at()),
                    ")\n");
  }
  Print(st, text);
  return 0;
}

}  // namespace switchboard::tools::sbctl
