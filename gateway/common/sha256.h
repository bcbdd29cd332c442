// SHA-256 (OpenSSL EVP) over one or more byte strings, concatenated. Thread-safe.
#ifndef SWITCHBOARD_GATEWAY_COMMON_SHA256_H_
#define SWITCHBOARD_GATEWAY_COMMON_SHA256_H_

#include <initializer_list>
#include <string>

#include "absl/strings/string_view.h"

namespace switchboard::gateway {

// The 32-byte digest of the concatenation of `parts`.
std::string Sha256(std::initializer_list<absl::string_view> parts);

}  // namespace switchboard::gateway

#endif  // SWITCHBOARD_GATEWAY_COMMON_SHA256_H_
