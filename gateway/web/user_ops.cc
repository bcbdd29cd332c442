#include "gateway/web/user_ops.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gateway/identity/rpc_guard.h"
#include "gateway/store/keys.h"
#include "gateway/web/password.h"
#include "switchboard/common/field_checks.h"
#include "switchboard/common/status_macros.h"
#include "switchboard/common/time_util.h"
#include "switchboard/v1/organisation.pb.h"

namespace switchboard::gateway::web {
namespace {

using store::Cf;
namespace keys = store::keys;

constexpr char kOpAddUser[] = "Registry/AddUser";
constexpr char kOpDisableUser[] = "Registry/DisableUser";
constexpr char kOpResetUserPassword[] = "Registry/ResetUserPassword";
constexpr char kOpListUsers[] = "Registry/ListUsers";
constexpr char kOpSignIn[] = "Web/SignIn";
constexpr char kOpChangePassword[] = "Web/ChangePassword";

// At most 64 printable characters of a value, for messages and audit records
// (what people type at a sign-in form may be anything).
std::string Printable(absl::string_view value) {
  std::string out;
  for (char c : value.substr(0, 64)) out.push_back((c >= 0x20 && c < 0x7f) ? c : '?');
  if (value.size() > 64) out += "...";
  return out;
}

std::string Quote(absl::string_view value) { return absl::StrCat("'", Printable(value), "'"); }

absl::Status UnknownOrganisation(absl::string_view organisation_id) {
  return absl::NotFoundError(absl::StrCat("no organisation ", Quote(organisation_id)));
}

absl::Status UnknownUser(absl::string_view organisation_id, absl::string_view username) {
  return absl::NotFoundError(
      absl::StrCat("no user ", Quote(username), " in ", Quote(organisation_id)));
}

v1::AuditRecord Change(const identity::Caller& actor, absl::string_view op,
                       const std::string& organisation_id) {
  v1::AuditRecord record = identity::AuditFor(actor, op, v1::AuditRecord::REGISTRY_CHANGE);
  record.set_subject_organisation(organisation_id);
  return record;
}

// Records `record` as the refusal of `status` and returns `status`.
absl::Status Refuse(store::Transaction& txn, v1::AuditRecord record, absl::Status status) {
  txn.AuditOnRefusal(identity::Refusal(std::move(record), status));
  return status;
}

// Whether `actor` may manage `organisation_id`'s people (see the header).
absl::StatusOr<bool> MayManage(store::Transaction& txn, const identity::Caller& actor,
                               const std::string& organisation_id) {
  if (!actor.admin && organisation_id != actor.organisation_id) return false;
  SB_ASSIGN_OR_RETURN(auto org, txn.Get(Cf::kRegistry, keys::Organisation(organisation_id)));
  return org.has_value();
}

// The people-management preamble shared by Disable and Reset: rights, then
// the username, then the record. nullopt after refusing (the refusal is in
// `*refused`).
absl::StatusOr<std::optional<v1::StoredUser>> ReadManaged(
    store::Transaction& txn, const identity::Caller& actor, const std::string& organisation_id,
    const std::string& username, const v1::AuditRecord& record, absl::Status* refused) {
  SB_ASSIGN_OR_RETURN(bool allowed, MayManage(txn, actor, organisation_id));
  if (!allowed) {
    *refused = Refuse(txn, record, UnknownOrganisation(organisation_id));
    return std::nullopt;
  }
  if (absl::Status s = CheckUsername("username", username); !s.ok()) {
    *refused = Refuse(txn, record, s);
    return std::nullopt;
  }
  v1::StoredUser stored;
  SB_ASSIGN_OR_RETURN(bool found,
                      txn.GetProto(Cf::kRegistry, keys::User(organisation_id, username), &stored));
  if (!found) {
    *refused = Refuse(txn, record, UnknownUser(organisation_id, username));
    return std::nullopt;
  }
  return stored;
}

// A hash no password matches in practice, with the current work factors, for
// checking a password when there is no such person (same time taken).
const std::string& DummyHash() {
  static const std::string* const kHash = [] {
    absl::StatusOr<std::string> hash = HashPassword("no person has this password, ever");
    // Without OpenSSL's scrypt no password verifies anyway.
    return new std::string(hash.ok() ? *hash : "");
  }();
  return *kHash;
}

// ---- The decision shared by sign-in and password change ----

// What the transaction made of an attempt.
struct Judgement {
  // Empty when accepted; otherwise why it was refused (for the audit record).
  std::string refusal;
  v1::StoredUser stored;  // the person's record, as changed (when found)
};

// Decides `check` as of `now` and counts a wrong password (writing the
// record): the rules of the header's banner.
absl::StatusOr<Judgement> Judge(store::Transaction& txn, const PasswordCheck& check,
                                absl::Time now) {
  Judgement j;
  if (!CheckSlug("organisation", check.organisation_id).ok() ||
      !CheckUsername("username", check.username).ok()) {
    j.refusal = "not a valid organisation id or user name";
    return j;
  }
  v1::Organisation org;
  SB_ASSIGN_OR_RETURN(bool org_found,
                      txn.GetProto(Cf::kRegistry, keys::Organisation(check.organisation_id), &org));
  if (!org_found) {
    j.refusal = "unknown organisation";
    return j;
  }
  const std::string key = keys::User(check.organisation_id, check.username);
  SB_ASSIGN_OR_RETURN(bool found, txn.GetProto(Cf::kRegistry, key, &j.stored));
  if (!found) {
    j.refusal = "unknown user";
  } else if (j.stored.password_hash() != check.checked_hash) {
    j.refusal = "the password was changed or reset during the attempt (not counted)";
  } else if (org.status() == v1::Organisation::SUSPENDED) {
    j.refusal = "the organisation is suspended";
  } else if (j.stored.user().status() != v1::User::ACTIVE) {
    j.refusal = "the user is disabled";
  } else if (j.stored.has_locked_until() && FromProtoTime(j.stored.locked_until()) > now) {
    j.refusal =
        absl::StrCat("locked until ",
                     absl::FormatTime(absl::RFC3339_sec, FromProtoTime(j.stored.locked_until()),
                                      absl::UTCTimeZone()),
                     check.password_ok ? " (right password; not counted)" : " (not counted)");
  } else if (!check.password_ok) {
    const uint32_t failures = j.stored.failed_attempts() + 1;
    j.stored.set_failed_attempts(failures);
    const absl::Duration lock = LockoutAfter(failures);
    j.refusal = absl::StrCat("wrong password (", failures, " consecutive failure",
                             failures == 1 ? "" : "s");
    if (lock > absl::ZeroDuration()) {
      *j.stored.mutable_locked_until() = ToProtoTime(now + lock);
      absl::StrAppend(&j.refusal, "; locked for ", absl::FormatDuration(lock));
    }
    absl::StrAppend(&j.refusal, ")");
    txn.PutProto(Cf::kRegistry, key, j.stored);
  }
  return j;
}

// The audit record of an attempt: the claimed person (as typed) on a refusal,
// the person as actor on success.
v1::AuditRecord AttemptRecord(const PasswordCheck& check, absl::string_view op,
                              const Judgement& j) {
  v1::AuditRecord record;
  record.set_operation(std::string(op));
  record.set_action(v1::AuditRecord::AUTHENTICATE);
  if (CheckSlug("organisation", check.organisation_id).ok()) {
    record.set_subject_organisation(check.organisation_id);
  }
  if (j.refusal.empty()) {
    record.set_outcome(v1::AuditRecord::SUCCESS);
    record.set_actor_organisation(check.organisation_id);
    record.set_actor_user(check.username);
  } else {
    record.set_outcome(v1::AuditRecord::REFUSED);
    record.set_actor_user(Printable(check.username));
    record.set_detail(absl::StrCat("UNAUTHENTICATED: ", kSignInRefused, " (", j.refusal, ")"));
  }
  return record;
}

std::string Lower(absl::string_view text) { return absl::AsciiStrToLower(text); }

}  // namespace

absl::Duration LockoutAfter(uint32_t failed_attempts) {
  if (failed_attempts < kFailuresBeforeLockout) return absl::ZeroDuration();
  const uint32_t doublings = failed_attempts - kFailuresBeforeLockout;
  if (doublings >= 10) return kMaxLockout;  // 30 s << 10 is far past the cap
  return std::min(kFirstLockout * (int64_t{1} << doublings), kMaxLockout);
}

absl::Status CheckUsername(absl::string_view field, absl::string_view username) {
  if (username.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  bool ok = username.size() <= 64 && absl::ascii_isalnum(username.front());
  for (char c : username) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
          c == '@')) {
      ok = false;
    }
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", Quote(username),
                     " is not a valid user name (1..64 lower-case letters, digits, '.', '_', "
                     "'-' and '@', starting with a letter or digit)"));
  }
  return absl::OkStatus();
}

std::string UserOrganisation(const identity::Caller& caller, const std::string& requested) {
  return requested.empty() ? caller.organisation_id : requested;
}

absl::StatusOr<NewPassword> MakeOneTimePassword() {
  NewPassword out;
  SB_ASSIGN_OR_RETURN(out.plain, OneTimePassword());
  SB_ASSIGN_OR_RETURN(out.hash, HashPassword(out.plain));
  return out;
}

absl::Status AddUser(store::Transaction& txn, const identity::Caller& actor,
                     const v1::AddUserRequest& request, const absl::StatusOr<NewPassword>& password,
                     v1::AddUserResponse* out) {
  const std::string org = UserOrganisation(actor, request.organisation_id());
  v1::AuditRecord record = Change(actor, kOpAddUser, org);
  SB_ASSIGN_OR_RETURN(bool allowed, MayManage(txn, actor, org));
  if (!allowed) return Refuse(txn, record, UnknownOrganisation(org));
  if (absl::Status s = CheckUsername("username", request.username()); !s.ok()) {
    return Refuse(txn, record, s);
  }
  if (absl::Status s = CheckText("display_name", request.display_name(), 200, false); !s.ok()) {
    return Refuse(txn, record, s);
  }
  if (!password.ok()) return Refuse(txn, record, password.status());
  const std::string key = keys::User(org, request.username());
  SB_ASSIGN_OR_RETURN(auto existing, txn.Get(Cf::kRegistry, key));
  if (existing.has_value()) {
    return Refuse(txn, record,
                  absl::AlreadyExistsError(absl::StrCat("username: ", Quote(request.username()),
                                                        " is already taken in ", Quote(org))));
  }
  v1::StoredUser stored;
  v1::User* user = stored.mutable_user();
  user->set_organisation_id(org);
  user->set_username(request.username());
  user->set_display_name(request.display_name());
  user->set_status(v1::User::ACTIVE);
  user->set_must_change_password(true);
  *user->mutable_created_at() = ToProtoTime(txn.now());
  *user->mutable_password_changed_at() = ToProtoTime(txn.now());
  stored.set_password_hash(password->hash);
  txn.PutProto(Cf::kRegistry, key, stored);
  record.set_detail(absl::StrCat("added user '", request.username(), "' to '", org,
                                 "' with a one-time password"));
  txn.Audit(record);
  *out->mutable_user() = *user;
  out->set_one_time_password(password->plain);
  return absl::OkStatus();
}

absl::Status DisableUser(store::Transaction& txn, const identity::Caller& actor,
                         const v1::DisableUserRequest& request, v1::User* out) {
  const std::string org = UserOrganisation(actor, request.organisation_id());
  v1::AuditRecord record = Change(actor, kOpDisableUser, org);
  absl::Status refused;
  SB_ASSIGN_OR_RETURN(std::optional<v1::StoredUser> stored,
                      ReadManaged(txn, actor, org, request.username(), record, &refused));
  if (!stored.has_value()) return refused;
  if (stored->user().status() == v1::User::DISABLED) {
    record.set_detail(
        absl::StrCat("user '", request.username(), "' of '", org, "' was already disabled"));
  } else {
    stored->mutable_user()->set_status(v1::User::DISABLED);
    txn.PutProto(Cf::kRegistry, keys::User(org, request.username()), *stored);
    record.set_detail(absl::StrCat("disabled user '", request.username(), "' of '", org, "'"));
  }
  txn.Audit(record);
  *out = stored->user();
  return absl::OkStatus();
}

absl::Status ResetUserPassword(store::Transaction& txn, const identity::Caller& actor,
                               const v1::ResetUserPasswordRequest& request,
                               const absl::StatusOr<NewPassword>& password,
                               v1::ResetUserPasswordResponse* out) {
  const std::string org = UserOrganisation(actor, request.organisation_id());
  v1::AuditRecord record = Change(actor, kOpResetUserPassword, org);
  absl::Status refused;
  SB_ASSIGN_OR_RETURN(std::optional<v1::StoredUser> stored,
                      ReadManaged(txn, actor, org, request.username(), record, &refused));
  if (!stored.has_value()) return refused;
  if (!password.ok()) return Refuse(txn, record, password.status());
  stored->set_password_hash(password->hash);
  stored->set_failed_attempts(0);
  stored->clear_locked_until();
  stored->mutable_user()->set_must_change_password(true);
  *stored->mutable_user()->mutable_password_changed_at() = ToProtoTime(txn.now());
  txn.PutProto(Cf::kRegistry, keys::User(org, request.username()), *stored);
  record.set_detail(absl::StrCat("reset the password of user '", request.username(), "' of '", org,
                                 "' to a one-time password"));
  txn.Audit(record);
  *out->mutable_user() = stored->user();
  out->set_one_time_password(password->plain);
  return absl::OkStatus();
}

absl::StatusOr<v1::ListUsersResponse> ListUsers(const store::Store& store,
                                                const identity::Caller& actor,
                                                const v1::ListUsersRequest& request) {
  const std::string org = UserOrganisation(actor, request.organisation_id());
  if (!actor.admin && org != actor.organisation_id) return UnknownOrganisation(org);
  SB_ASSIGN_OR_RETURN(auto found, store.Get(Cf::kRegistry, keys::Organisation(org)));
  if (!found.has_value()) return UnknownOrganisation(org);
  v1::ListUsersResponse out;
  const std::string prefix = keys::UserPrefix(org);
  auto it = store.NewIterator(Cf::kRegistry, store::PrefixUpperBound(prefix));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    v1::StoredUser stored;
    if (!stored.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat("registry: a user of '", org, "' does not parse"));
    }
    *out.add_users() = std::move(*stored.mutable_user());
  }
  SB_RETURN_IF_ERROR(store::FromRocks(it->status(), "registry: reading users"));
  return out;
}

v1::AuditRecord ListUsersAudit(const identity::Caller& actor, const v1::ListUsersRequest& request) {
  v1::AuditRecord record = identity::AuditFor(actor, kOpListUsers, v1::AuditRecord::AUTHORISE);
  record.set_subject_organisation(UserOrganisation(actor, request.organisation_id()));
  return record;
}

absl::StatusOr<PasswordCheck> CheckPassword(const store::Store& store,
                                            absl::string_view organisation_id,
                                            absl::string_view username,
                                            absl::string_view password) {
  PasswordCheck check;
  check.organisation_id = Lower(organisation_id);
  check.username = Lower(username);
  // Only well-formed names are looked up (anything else is no one).
  if (CheckSlug("organisation", check.organisation_id).ok() &&
      CheckUsername("username", check.username).ok()) {
    v1::StoredUser stored;
    SB_ASSIGN_OR_RETURN(
        bool found,
        store.GetProto(Cf::kRegistry, keys::User(check.organisation_id, check.username), &stored));
    if (found) check.checked_hash = stored.password_hash();
  }
  if (check.checked_hash.empty()) {
    VerifyPassword(password, DummyHash());  // the same time as for a real person
  } else {
    check.password_ok = VerifyPassword(password, check.checked_hash);
  }
  return check;
}

absl::Status SignIn(store::Transaction& txn, const PasswordCheck& check, absl::Time now,
                    absl::StatusOr<v1::User>* result) {
  SB_ASSIGN_OR_RETURN(Judgement j, Judge(txn, check, now));
  v1::AuditRecord record = AttemptRecord(check, kOpSignIn, j);
  if (!j.refusal.empty()) {
    txn.Audit(std::move(record));
    *result = absl::UnauthenticatedError(kSignInRefused);
    return absl::OkStatus();
  }
  if (j.stored.failed_attempts() != 0 || j.stored.has_locked_until()) {
    j.stored.set_failed_attempts(0);
    j.stored.clear_locked_until();
    txn.PutProto(Cf::kRegistry, keys::User(check.organisation_id, check.username), j.stored);
  }
  record.set_detail(j.stored.user().must_change_password()
                        ? "signed in with a one-time password (must change it)"
                        : "signed in");
  txn.Audit(std::move(record));
  *result = j.stored.user();
  return absl::OkStatus();
}

absl::StatusOr<PasswordChange> PrepareChangePassword(const store::Store& store,
                                                     absl::string_view organisation_id,
                                                     absl::string_view username,
                                                     absl::string_view old_password,
                                                     absl::string_view new_password) {
  SB_RETURN_IF_ERROR(CheckPasswordPolicy(new_password, Lower(username)));
  if (new_password == old_password) {
    return absl::InvalidArgumentError("new_password: must differ from the current password");
  }
  PasswordChange change;
  SB_ASSIGN_OR_RETURN(change.check, CheckPassword(store, organisation_id, username, old_password));
  if (change.check.password_ok) {
    SB_ASSIGN_OR_RETURN(change.new_hash, HashPassword(new_password));
  }
  return change;
}

absl::Status ChangePassword(store::Transaction& txn, const PasswordChange& change, absl::Time now,
                            absl::StatusOr<v1::User>* result) {
  const PasswordCheck& check = change.check;
  SB_ASSIGN_OR_RETURN(Judgement j, Judge(txn, check, now));
  v1::AuditRecord record = AttemptRecord(check, kOpChangePassword, j);
  if (!j.refusal.empty() || change.new_hash.empty()) {
    if (j.refusal.empty()) {  // a broken preparation: refuse rather than store no hash
      j.refusal = "no new hash was prepared";
      record = AttemptRecord(check, kOpChangePassword, j);
    }
    txn.Audit(std::move(record));
    *result = absl::UnauthenticatedError(kSignInRefused);
    return absl::OkStatus();
  }
  j.stored.set_password_hash(change.new_hash);
  j.stored.set_failed_attempts(0);
  j.stored.clear_locked_until();
  j.stored.mutable_user()->set_must_change_password(false);
  *j.stored.mutable_user()->mutable_password_changed_at() = ToProtoTime(now);
  txn.PutProto(Cf::kRegistry, keys::User(check.organisation_id, check.username), j.stored);
  record.set_action(v1::AuditRecord::REGISTRY_CHANGE);
  record.set_detail("changed own password");
  txn.Audit(std::move(record));
  *result = j.stored.user();
  return absl::OkStatus();
}

void SubmitSignIn(const store::Store& store, store::Committer* committer,
                  absl::string_view organisation_id, absl::string_view username,
                  absl::string_view password, std::function<void(absl::StatusOr<v1::User>)> done) {
  absl::StatusOr<PasswordCheck> check = CheckPassword(store, organisation_id, username, password);
  if (!check.ok()) return done(check.status());
  auto result = std::make_shared<absl::StatusOr<v1::User>>(absl::UnknownError("not decided"));
  committer->Submit(
      [check = *std::move(check), result](store::Transaction& txn) {
        return SignIn(txn, check, txn.now(), result.get());
      },
      [result, done = std::move(done)](absl::Status s) {
        done(s.ok() ? std::move(*result) : absl::StatusOr<v1::User>(s));
      });
}

void SubmitChangePassword(const store::Store& store, store::Committer* committer,
                          absl::string_view organisation_id, absl::string_view username,
                          absl::string_view old_password, absl::string_view new_password,
                          std::function<void(absl::StatusOr<v1::User>)> done) {
  absl::StatusOr<PasswordChange> change =
      PrepareChangePassword(store, organisation_id, username, old_password, new_password);
  if (!change.ok()) return done(change.status());
  auto result = std::make_shared<absl::StatusOr<v1::User>>(absl::UnknownError("not decided"));
  committer->Submit(
      [change = *std::move(change), result](store::Transaction& txn) {
        return ChangePassword(txn, change, txn.now(), result.get());
      },
      [result, done = std::move(done)](absl::Status s) {
        done(s.ok() ? std::move(*result) : absl::StatusOr<v1::User>(s));
      });
}

}  // namespace switchboard::gateway::web
