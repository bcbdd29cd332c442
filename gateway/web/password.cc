#include "gateway/web/password.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <optional>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace switchboard::gateway::web {
namespace {

constexpr absl::string_view kScheme = "scrypt";
constexpr size_t kSaltBytes = 16;
constexpr size_t kKeyBytes = 32;

// Bounds on what a stored string may ask for (VerifyPassword's contract).
constexpr uint64_t kMaxMemory = uint64_t{256} << 20;
constexpr uint32_t kMaxR = 32;
constexpr uint32_t kMaxP = 16;

// The memory OpenSSL's scrypt checks against maxmem_bytes: the B blocks
// (128·r·p) and V (128·r·(N+2)), so setting exactly this never refuses valid
// parameters. Callers bound r and p first, so this cannot overflow for N < 2^40.
uint64_t ScryptMemory(const ScryptParams& params) {
  return uint64_t{128} * params.r * (params.n + 2 + params.p);
}

bool ParamsInBounds(const ScryptParams& params) {
  const bool power_of_two = params.n >= 2 && (params.n & (params.n - 1)) == 0;
  return power_of_two && params.n < (uint64_t{1} << 40) && params.r >= 1 && params.r <= kMaxR &&
         params.p >= 1 && params.p <= kMaxP && ScryptMemory(params) <= kMaxMemory;
}

// The scrypt algorithm, fetched once (an EVP_KDF may be shared by threads).
EVP_KDF* Scrypt() {
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_SCRYPT, nullptr);
  return kdf;
}

// scrypt(plain, salt) into `key` (its size is the key length). False when
// OpenSSL fails.
bool Derive(absl::string_view plain, absl::string_view salt, const ScryptParams& params,
            std::string* key) {
  EVP_KDF* kdf = Scrypt();
  if (kdf == nullptr) return false;
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  if (ctx == nullptr) return false;
  // OpenSSL takes non-const pointers but only reads them; an empty password
  // still needs a valid pointer.
  char empty = '\0';
  uint64_t n = params.n;
  uint32_t r = params.r;
  uint32_t p = params.p;
  uint64_t maxmem = ScryptMemory(params);
  OSSL_PARAM ossl[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
                                        plain.empty() ? &empty : const_cast<char*>(plain.data()),
                                        plain.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()),
                                        salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end(),
  };
  const bool ok =
      EVP_KDF_derive(ctx, reinterpret_cast<unsigned char*>(key->data()), key->size(), ossl) == 1;
  EVP_KDF_CTX_free(ctx);
  return ok;
}

std::string Base64(absl::string_view bytes) {
  std::string out = absl::Base64Escape(bytes);
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

// The bytes of Base64(bytes) (canonical: no padding, no stray trailing bits,
// so one hash has one spelling); nullopt for anything else.
std::optional<std::string> FromBase64(absl::string_view text) {
  if (text.empty() || absl::StrContains(text, "=")) return std::nullopt;
  std::string padded(text);
  while (padded.size() % 4 != 0) padded.push_back('=');
  std::string out;
  if (!absl::Base64Unescape(padded, &out) || Base64(out) != text) return std::nullopt;
  return out;
}

// UTF-8 code points (bytes that do not continue a sequence).
size_t CodePoints(absl::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

}  // namespace

absl::StatusOr<std::string> HashPassword(absl::string_view plain, const ScryptParams& params) {
  if (!ParamsInBounds(params)) {
    return absl::InternalError("password hashing: scrypt parameters out of bounds");
  }
  std::string salt(kSaltBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) !=
      1) {
    return absl::InternalError("password hashing: no randomness for the salt");
  }
  std::string key(kKeyBytes, '\0');
  if (!Derive(plain, salt, params, &key)) {
    return absl::InternalError("password hashing: scrypt failed");
  }
  return absl::StrCat(kScheme, "$", params.n, "$", params.r, "$", params.p, "$", Base64(salt), "$",
                      Base64(key));
}

bool VerifyPassword(absl::string_view plain, absl::string_view stored) {
  const std::vector<absl::string_view> parts = absl::StrSplit(stored, '$');
  if (parts.size() != 6 || parts[0] != kScheme) return false;
  ScryptParams params;
  if (!absl::SimpleAtoi(parts[1], &params.n) || !absl::SimpleAtoi(parts[2], &params.r) ||
      !absl::SimpleAtoi(parts[3], &params.p) || !ParamsInBounds(params)) {
    return false;
  }
  const std::optional<std::string> salt = FromBase64(parts[4]);
  const std::optional<std::string> expected = FromBase64(parts[5]);
  // The key is exactly as long as HashPassword makes it: scrypt's output for a
  // shorter length is a prefix of the longer one, so a truncated key would
  // otherwise still verify.
  if (!salt.has_value() || !expected.has_value() || salt->size() < kSaltBytes ||
      salt->size() > 64 || expected->size() != kKeyBytes) {
    return false;
  }
  std::string key(expected->size(), '\0');
  if (!Derive(plain, *salt, params, &key)) return false;
  return CRYPTO_memcmp(key.data(), expected->data(), key.size()) == 0;
}

absl::Status CheckPasswordPolicy(absl::string_view password, absl::string_view username) {
  const size_t length = CodePoints(password);
  if (length < kMinPasswordLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("new_password: at least ", kMinPasswordLength, " characters are required"));
  }
  if (length > kMaxPasswordLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("new_password: at most ", kMaxPasswordLength, " characters are allowed"));
  }
  if (!username.empty() && absl::EqualsIgnoreCase(password, username)) {
    return absl::InvalidArgumentError("new_password: must not be the user name");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> OneTimePassword() {
  static constexpr absl::string_view kAlphabet = "23456789abcdefghjkmnpqrstuvwxyz";
  // Bytes at or above the largest multiple of the alphabet's size are drawn
  // again, so that every character is equally likely.
  constexpr unsigned kLimit = 256 / kAlphabet.size() * kAlphabet.size();
  std::string out;
  unsigned char buffer[64];
  while (out.size() < kOneTimePasswordLength) {
    if (RAND_bytes(buffer, sizeof(buffer)) != 1) {
      return absl::InternalError("one-time password: no randomness");
    }
    for (unsigned char b : buffer) {
      if (b < kLimit && out.size() < kOneTimePasswordLength) {
        out.push_back(kAlphabet[b % kAlphabet.size()]);
      }
    }
  }
  return out;
}

}  // namespace switchboard::gateway::web
