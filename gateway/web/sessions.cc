#include "gateway/web/sessions.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "openssl/crypto.h"
#include "openssl/rand.h"

namespace switchboard::gateway::web {

std::string RandomToken(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(raw.size())) != 1) {
    // OpenSSL's generator failing is not something to carry on from.
    abort();
  }
  return absl::WebSafeBase64Escape(raw);
}

bool SameToken(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() && !a.empty() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Session SessionStore::Create(const std::string& organisation_id, const std::string& username,
                             const std::string& display_name, bool must_change_password,
                             absl::Time now) {
  Session s;
  s.id = RandomToken();
  s.organisation_id = organisation_id;
  s.username = username;
  s.display_name = display_name;
  s.csrf = RandomToken();
  s.created = now;
  s.last_seen = now;
  s.must_change_password = must_change_password;
  absl::MutexLock lock(&mu_);
  if (sessions_.size() >= limits_.max_sessions) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.last_seen < oldest->second.last_seen) oldest = it;
    }
    sessions_.erase(oldest);
  }
  sessions_[s.id] = s;
  return s;
}

std::optional<Session> SessionStore::Find(absl::string_view id, absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(id);
  // The map lookup is by hash; the id is then compared in constant time.
  if (it == sessions_.end() || !SameToken(it->first, id)) return std::nullopt;
  Session& s = it->second;
  if (now - s.last_seen > limits_.idle || now - s.created > limits_.absolute) {
    sessions_.erase(it);
    return std::nullopt;
  }
  s.last_seen = now;
  return s;
}

void SessionStore::Remove(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  sessions_.erase(id);
}

void SessionStore::PasswordChanged(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(id);
  if (it != sessions_.end()) it->second.must_change_password = false;
}

void SessionStore::SetFlash(absl::string_view id, int kind, std::string text) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  it->second.flash_kind = kind;
  it->second.flash_text = std::move(text);
}

std::pair<int, std::string> SessionStore::TakeFlash(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return {0, ""};
  std::pair<int, std::string> out{it->second.flash_kind, std::move(it->second.flash_text)};
  it->second.flash_kind = 0;
  it->second.flash_text.clear();
  return out;
}

void SessionStore::RemovePerson(const std::string& organisation_id, const std::string& username) {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> gone;
  for (const auto& [id, s] : sessions_) {
    if (s.organisation_id == organisation_id && s.username == username) gone.push_back(id);
  }
  for (const std::string& id : gone) sessions_.erase(id);
}

}  // namespace switchboard::gateway::web
