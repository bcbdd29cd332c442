// People's passwords: scrypt hashing (OpenSSL 3's EVP_KDF "SCRYPT", RFC 7914),
// verification, the password policy and one-time passwords.
//
// A stored hash is self-describing, `scrypt$N$r$p$SALT$KEY` (SALT and KEY in
// standard base64 without padding), so the work factors can be raised later:
// VerifyPassword reads them from the string, and old hashes keep verifying.
//
// Hashing and verifying cost about 0.1 s of CPU and 32 MiB each, on purpose:
// never call them on a gRPC reactor or on the Committer's writer thread (see
// user_ops.h, which does them before the transaction).
//
// Thread-safe (no shared state; OpenSSL's RNG is thread-safe).
#ifndef SWITCHBOARD_GATEWAY_WEB_PASSWORD_H_
#define SWITCHBOARD_GATEWAY_WEB_PASSWORD_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace switchboard::gateway::web {

// The work factors of new hashes (N = 2^15, r = 8, p = 1: ~32 MiB), with a
// 16-byte random salt and a 32-byte key.
struct ScryptParams {
  uint64_t n = uint64_t{1} << 15;
  uint32_t r = 8;
  uint32_t p = 1;
};

// Password length bounds, in characters (UTF-8 code points).
inline constexpr size_t kMinPasswordLength = 12;
inline constexpr size_t kMaxPasswordLength = 256;
// Length of OneTimePassword()'s result.
inline constexpr size_t kOneTimePasswordLength = 16;

// The stored form of `plain`, with a fresh salt. INTERNAL when OpenSSL fails
// (no randomness, out of memory); nothing else.
absl::StatusOr<std::string> HashPassword(absl::string_view plain,
                                         const ScryptParams& params = ScryptParams());

// True iff `plain` hashes to `stored` under the salt and work factors `stored`
// names. Compared in constant time. False (never a crash) for a string that is
// not a hash this file made, or whose work factors are out of bounds (N a power
// of two, r up to 32, p up to 16, and at most 256 MiB of memory, which bounds
// N; a salt of 16 to 64 bytes; a 32-byte key), so a tampered record cannot
// make a sign-in allocate without limit.
bool VerifyPassword(absl::string_view plain, absl::string_view stored);

// OK when `password` may be chosen by the person `username`: 12 to 256
// characters and not the user name (ignoring case). INVALID_ARGUMENT naming
// `new_password` otherwise.
absl::Status CheckPasswordPolicy(absl::string_view password, absl::string_view username);

// A random password of 16 characters from an alphabet without look-alikes
// (lower-case letters and digits less 0, 1, i, l and o): about 79 bits, long
// enough for CheckPasswordPolicy. INTERNAL when OpenSSL has no randomness.
absl::StatusOr<std::string> OneTimePassword();

}  // namespace switchboard::gateway::web

#endif  // SWITCHBOARD_GATEWAY_WEB_PASSWORD_H_
