// Signed-in people of the web view: sessions held in memory (a restart signs
// everyone out), each with a CSRF token, an idle and an absolute timeout, and
// ids that are 256-bit random values compared in constant time.
//
// Thread-safe.
#ifndef SWITCHBOARD_GATEWAY_WEB_SESSIONS_H_
#define SWITCHBOARD_GATEWAY_WEB_SESSIONS_H_

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace switchboard::gateway::web {

struct Session {
  std::string id;
  std::string organisation_id;
  std::string username;
  std::string display_name;
  // Sent in every form (hidden field `csrf`); a POST without it is refused.
  std::string csrf;
  absl::Time created;
  absl::Time last_seen;
  // Until the one-time password is changed, every page sends to the change form.
  bool must_change_password = false;
  // A message for the next page (after a redirect), kept server-side so that
  // no text travels in a URL: its kind (the web app's) and text.
  int flash_kind = 0;
  std::string flash_text;
};

struct SessionLimits {
  absl::Duration idle = absl::Minutes(30);
  absl::Duration absolute = absl::Hours(12);
  // Beyond this the oldest session is dropped.
  size_t max_sessions = 10000;
};

// `bytes` random bytes (OpenSSL RAND_bytes) as unpadded base64url.
std::string RandomToken(size_t bytes = 32);
// Constant-time equality of two tokens.
bool SameToken(absl::string_view a, absl::string_view b);

class SessionStore {
 public:
  explicit SessionStore(SessionLimits limits = {}) : limits_(limits) {}

  Session Create(const std::string& organisation_id, const std::string& username,
                 const std::string& display_name, bool must_change_password, absl::Time now);
  // The session `id` at `now` (its last_seen moved to now), or nullopt when
  // unknown, idle too long or too old (then it is removed).
  std::optional<Session> Find(absl::string_view id, absl::Time now);
  void Remove(absl::string_view id);
  void PasswordChanged(absl::string_view id);
  // Keeps a message for the session's next page; TakeFlash hands it over once.
  void SetFlash(absl::string_view id, int kind, std::string text);
  std::pair<int, std::string> TakeFlash(absl::string_view id);
  // Ends every session of one person (disabled, password reset).
  void RemovePerson(const std::string& organisation_id, const std::string& username);

  const SessionLimits& limits() const { return limits_; }

 private:
  const SessionLimits limits_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Session> sessions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace switchboard::gateway::web

#endif  // SWITCHBOARD_GATEWAY_WEB_SESSIONS_H_
