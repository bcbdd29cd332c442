// People (users.proto): the accounts of a member organisation that sign in to the
// web view, as transactions on the store, audited like registry_ops.h.
//
// Rights: a member manages its own organisation's people (its IT admin runs
// sbctl with the organisation's certificate); an admin (Caller.admin) any
// registered organisation's. Another member's organisation is NOT_FOUND `no
// organisation 'X'`, exactly as an unknown one. Every change is audited
// (REGISTRY_CHANGE) and so is every refusal; no password or hash is ever in an
// audit record or an error message.
//
// Password work (scrypt, ~0.1 s of CPU and 32 MiB each) never runs inside a
// transaction, which would stall the Committer's single writer and every
// publish behind it: it is done first, on a worker thread, by
// MakeOneTimePassword / CheckPassword / PrepareChangePassword, and the
// transaction functions take its result. Because a check may be overtaken by a
// change (a reset between the check and the transaction), the transaction
// compares the hash it was made against with the current one.
//
// Sign-in (for the web layer): every failure, whatever its reason (unknown
// organisation or person, suspended organisation, disabled or locked person,
// wrong password), is the same UNAUTHENTICATED kSignInRefused, and takes the
// same time (an unknown person is checked against a dummy hash); only the
// audit record (AUTHENTICATE, admin-only) says why. After 5 consecutive wrong
// passwords the person is locked for 30 s; each further wrong password once
// the lock has run out locks again for twice as long, up to 15 minutes.
// Attempts while locked are refused without being counted (even with the
// right password); a successful sign-in, a password change or a reset ends
// the count. A refused attempt is still a committed transaction (the
// transaction function returns OK with the refusal in its out-parameter), so
// the count survives a restart.
//
// Thread-safety: the transaction functions run on the Committer's writer
// thread; the others on any thread. None keeps state.
#ifndef SWITCHBOARD_GATEWAY_WEB_USER_OPS_H_
#define SWITCHBOARD_GATEWAY_WEB_USER_OPS_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gateway/identity/authenticator.h"
#include "gateway/store/committer.h"
#include "gateway/store/store.h"
#include "switchboard/v1/audit.pb.h"
#include "switchboard/v1/users.pb.h"

namespace switchboard::gateway::web {

// The message of every refused sign-in or password change (UNAUTHENTICATED).
inline constexpr char kSignInRefused[] = "wrong organisation, user name or password";

// The lockout policy.
inline constexpr uint32_t kFailuresBeforeLockout = 5;
inline constexpr absl::Duration kFirstLockout = absl::Seconds(30);
inline constexpr absl::Duration kMaxLockout = absl::Minutes(15);

// How long a person is locked after `failed_attempts` consecutive wrong
// passwords: zero below 5, then 30 s, 60 s, 120 s ... up to 15 minutes.
absl::Duration LockoutAfter(uint32_t failed_attempts);

// INVALID_ARGUMENT naming `field` unless `username` is 1..64 lower-case
// letters, digits, '.', '_', '-' and '@', starting with a letter or digit.
absl::Status CheckUsername(absl::string_view field, absl::string_view username);

// The organisation a request is about: `requested`, or the caller's own when
// empty.
std::string UserOrganisation(const identity::Caller& caller, const std::string& requested);

// ---- Management (Registry RPCs, sbctl user) ----

// A fresh one-time password and its hash.
struct NewPassword {
  std::string plain;
  std::string hash;
};
// Makes one (scrypt: off the writer thread). INTERNAL when OpenSSL fails.
absl::StatusOr<NewPassword> MakeOneTimePassword();

// Adds an ACTIVE person with `password` as a one-time password
// (must_change_password); `out` gets the person and the plain password.
// NOT_FOUND for an organisation the actor may not manage or that does not
// exist; INVALID_ARGUMENT for a bad username or display name; ALREADY_EXISTS
// when the username is taken (disabled people keep theirs); `password`'s own
// error when it failed. Nothing is written on any error but the refusal's
// audit record.
absl::Status AddUser(store::Transaction& txn, const identity::Caller& actor,
                     const v1::AddUserRequest& request, const absl::StatusOr<NewPassword>& password,
                     v1::AddUserResponse* out);

// Disables the person. NOT_FOUND as AddUser, or `no user 'U' in 'ORG'`;
// INVALID_ARGUMENT for a bad username. Disabling a disabled person is OK and
// changes nothing (audited all the same).
absl::Status DisableUser(store::Transaction& txn, const identity::Caller& actor,
                         const v1::DisableUserRequest& request, v1::User* out);

// Replaces the person's password with `password` (one-time: must change),
// clears the failure count and any lock, keeps the status. Errors as
// DisableUser, plus `password`'s own.
absl::Status ResetUserPassword(store::Transaction& txn, const identity::Caller& actor,
                               const v1::ResetUserPasswordRequest& request,
                               const absl::StatusOr<NewPassword>& password,
                               v1::ResetUserPasswordResponse* out);

// The organisation's people by username (a plain store read, not audited when
// allowed). NOT_FOUND as AddUser (the caller audits it, with
// ListUsersAudit()); DATA_LOSS for a record that does not parse.
absl::StatusOr<v1::ListUsersResponse> ListUsers(const store::Store& store,
                                                const identity::Caller& actor,
                                                const v1::ListUsersRequest& request);
// The audit record of a ListUsers call (AUTHORISE), for its refusal.
v1::AuditRecord ListUsersAudit(const identity::Caller& actor, const v1::ListUsersRequest& request);

// ---- Sign-in and password change (the web layer) ----

// A password checked against what was stored when the check was made.
struct PasswordCheck {
  std::string organisation_id;  // as typed, lower-cased
  std::string username;         // as typed, lower-cased
  std::string checked_hash;     // the stored hash checked against; empty when none
  bool password_ok = false;
};

// Reads the person and checks `password` against their hash (scrypt: off the
// writer thread and off reactors). Always runs exactly one scrypt
// verification, against a dummy hash when there is no such person, so the
// time taken does not tell whether a person exists. Errors only for a store
// that cannot be read (DATA_LOSS, ...); a wrong password is a check with
// password_ok false.
absl::StatusOr<PasswordCheck> CheckPassword(const store::Store& store,
                                            absl::string_view organisation_id,
                                            absl::string_view username, absl::string_view password);

// Decides the sign-in `check` was made for, as of `now` (pass txn.now()
// outside tests). Returns OK whenever the store could be read, so that the
// attempt is kept (failure count, lock, audit record AUTHENTICATE) even when
// refused; `*result` is then the person (ACTIVE; must_change_password says the
// person must choose a password before anything else) or UNAUTHENTICATED
// kSignInRefused for every kind of failure (see the banner), including a
// password changed since the check.
absl::Status SignIn(store::Transaction& txn, const PasswordCheck& check, absl::Time now,
                    absl::StatusOr<v1::User>* result);

// A password change, checked and hashed ahead of its transaction.
struct PasswordChange {
  PasswordCheck check;   // of the current password
  std::string new_hash;  // empty unless check.password_ok
};

// Checks `new_password` against the policy (CheckPasswordPolicy) and that it
// differs from `old_password`: INVALID_ARGUMENT naming `new_password`, before
// anything is read or counted. Then checks `old_password` as CheckPassword
// does and, when it is right, hashes the new one (off the writer thread).
absl::StatusOr<PasswordChange> PrepareChangePassword(const store::Store& store,
                                                     absl::string_view organisation_id,
                                                     absl::string_view username,
                                                     absl::string_view old_password,
                                                     absl::string_view new_password);

// Decides a password change as SignIn decides a sign-in (the same refusals,
// counted and locked the same way, the same UNAUTHENTICATED message); when
// accepted, stores the new hash, clears must_change_password and the failure
// count and sets password_changed_at (audited REGISTRY_CHANGE). Returns OK
// whenever the store could be read; `*result` is the person or the refusal.
absl::Status ChangePassword(store::Transaction& txn, const PasswordChange& change, absl::Time now,
                            absl::StatusOr<v1::User>* result);

// Both steps of a sign-in: CheckPassword on the calling thread (one that may
// spend ~0.1 s of CPU: a worker, never a reactor or the writer), then SignIn
// in a transaction at the committer's time. `done` runs once, on the
// committer's completion thread once the attempt is durable, with the person
// or the refusal (or the store's error).
void SubmitSignIn(const store::Store& store, store::Committer* committer,
                  absl::string_view organisation_id, absl::string_view username,
                  absl::string_view password, std::function<void(absl::StatusOr<v1::User>)> done);

// The same for a password change (PrepareChangePassword, then ChangePassword);
// INVALID_ARGUMENT from the policy reaches `done` on the calling thread.
void SubmitChangePassword(const store::Store& store, store::Committer* committer,
                          absl::string_view organisation_id, absl::string_view username,
                          absl::string_view old_password, absl::string_view new_password,
                          std::function<void(absl::StatusOr<v1::User>)> done);

}  // namespace switchboard::gateway::web

#endif  // SWITCHBOARD_GATEWAY_WEB_USER_OPS_H_
