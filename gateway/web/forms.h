// Reading what browsers send: application/x-www-form-urlencoded bodies and
// query strings, and one cookie from a Cookie header. Pure; thread-safe.
#ifndef SWITCHBOARD_GATEWAY_WEB_FORMS_H_
#define SWITCHBOARD_GATEWAY_WEB_FORMS_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace switchboard::gateway::web {

// name -> value (a name given twice keeps the first). INVALID_ARGUMENT for a
// bad %-escape or more than 64 fields.
using Form = std::map<std::string, std::string>;
absl::StatusOr<Form> ParseForm(absl::string_view body);

// The path of a request target (before '?') and its query as a Form.
absl::string_view PathOf(absl::string_view target);
absl::StatusOr<Form> QueryOf(absl::string_view target);

// The value of cookie `name` in a Cookie header, or nullopt.
std::optional<std::string> CookieValue(absl::string_view header, absl::string_view name);

// `text` %-encoded for a query string.
std::string UrlEncode(absl::string_view text);

// The field, or "" when absent.
std::string Field(const Form& form, const std::string& name);

}  // namespace switchboard::gateway::web

#endif  // SWITCHBOARD_GATEWAY_WEB_FORMS_H_
