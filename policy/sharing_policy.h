// The federation's sharing policy (switchboard.v1.SharingPolicy), validated:
// what each organisation role may ever receive, what applies when a client has
// no consent on file, and who may break the glass. Pure (parsing text is not
// I/O: the gateway reads the file). Immutable after construction; thread-safe.
#ifndef SWITCHBOARD_POLICY_SHARING_POLICY_H_
#define SWITCHBOARD_POLICY_SHARING_POLICY_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "switchboard/v1/organisation.pb.h"
#include "switchboard/v1/sharing_policy.pb.h"

namespace switchboard::policy {

// True when `code` is an event code of the gateway's catalogue.
using EventLookup = absl::FunctionRef<bool(absl::string_view code)>;

class SharingPolicy {
 public:
  using Audience = v1::SharingPolicy::Default::Audience;

  // The built-in policy: every role may receive every event and label; without
  // a consent, TREAT content without a sensitive label goes to the care team
  // and nothing else to anyone; every ActCode sensitivity code and the
  // confidentiality codes R and V are sensitive; nobody may break the glass.
  static SharingPolicy Default();

  // Parses a textproto (a syntax error names `origin`, line and column) and
  // validates it with FromProto.
  static absl::StatusOr<SharingPolicy> Parse(const std::string& text, absl::string_view origin,
                                             EventLookup known_event);

  // INVALID_ARGUMENT naming the field (`roles[1].events[0]: unknown event code
  // 'x'`, `defaults[0].purpose: 'TREAT' is listed twice`, ...).
  static absl::StatusOr<SharingPolicy> FromProto(v1::SharingPolicy proto, EventLookup known_event);

  const v1::SharingPolicy& proto() const { return proto_; }

  bool IsSensitive(absl::string_view code) const { return sensitive_.contains(code); }

  // Why organisations with `roles` may never receive `event` / content labelled
  // `code`; empty when they may.
  std::string RefusesEvent(const std::vector<v1::Organisation::Role>& roles,
                           absl::string_view event) const;
  std::string RefusesLabel(const std::vector<v1::Organisation::Role>& roles,
                           absl::string_view code) const;

  // The default audience for `purpose` (NOBODY when the purpose has no default).
  Audience DefaultAudience(absl::string_view purpose, bool sensitive) const;

  // Whether `organisation_id` with `roles` may break the glass.
  bool MayBreakGlass(absl::string_view organisation_id,
                     const std::vector<v1::Organisation::Role>& roles) const;
  absl::Duration break_glass_duration() const {
    return absl::Minutes(proto_.break_glass().duration_minutes());
  }

 private:
  explicit SharingPolicy(v1::SharingPolicy proto);

  v1::SharingPolicy proto_;
  absl::flat_hash_set<std::string> sensitive_;
};

}  // namespace switchboard::policy

#endif  // SWITCHBOARD_POLICY_SHARING_POLICY_H_
