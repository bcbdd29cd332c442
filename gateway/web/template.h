// A small Mustache subset for the web view's pages (gateway/web/templates/):
// enough to fill HTML with the gateway's data, and no more.
//
//   {{name}}            the value `name`, HTML-escaped (& < > " ' become entities)
//   {{{name}}}          HTML the code itself built (TemplateValue::TrustedHtml, e.g. the
//                       attainment chart's SVG), written as is. Only for such values: a
//                       plain string there is an error, so text from a member can never
//                       reach the page unescaped, whatever a template says.
//   {{#name}}…{{/name}} a section: a list repeats it once per element (each a map whose
//                       names are looked up first); a map renders it once with its names;
//                       true or a non-empty string renders it once; a missing name, false,
//                       an empty string or an empty list renders nothing.
//   {{^name}}…{{/name}} inverted: renders exactly when the section would not.
//   {{! comment }}      nothing.
//
// Names are letters, digits, `_` and `-`; no dotted names, partials or delimiter
// changes. A name is looked up in the innermost section's map, then outwards to the
// data passed to Render. A section, inverted, closing or comment tag alone on its line
// takes the line with it (as in Mustache), so templates can be indented freely.
//
// Templates quote every attribute value with `"`: escaping covers both quotes, but an
// unquoted attribute could still be broken out of with a space.
//
// Errors are INVALID_ARGUMENT naming the template and line:
//   Parse: `client.html:12: section 'goals' is not closed`, unknown tags (`{{>x}}`,
//   `{{&x}}`, dotted names), an unclosed `{{`, a `{{/x}}` that closes nothing or
//   another section.
//   Render: `client.html:40: {{title}}: no value named 'title'`; a variable holding a
//   list, map or bool; `{{{x}}}` of anything but TrustedHtml; `{{x}}` of TrustedHtml
//   (use `{{{x}}}`); a list element that is not a map. Missing variables are errors
//   (not Mustache's empty string) so that a template and the code filling it cannot
//   drift apart silently.
//
// Thread-safety: a Template is immutable after Parse; Render may be called from any
// number of threads at once. TemplateValue is a plain value type.
#ifndef SWITCHBOARD_GATEWAY_WEB_TEMPLATE_H_
#define SWITCHBOARD_GATEWAY_WEB_TEMPLATE_H_

#include <concepts>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace switchboard::gateway::web {

// `text` with & < > " ' replaced by entities: safe in element content and in quoted
// attribute values.
std::string HtmlEscape(absl::string_view text);

// A value a template can show: text, HTML the code built, a flag, a list of maps or a
// map of names to values.
class TemplateValue {
 public:
  using List = std::vector<TemplateValue>;

  // Names to values, in the order they were set (a later Set of a name replaces the
  // value). Small: lookups are linear.
  class Map {
   public:
    Map() = default;
    Map& Set(absl::string_view name, TemplateValue value);
    // Null when `name` is not set.
    const TemplateValue* Find(absl::string_view name) const;
    bool empty() const { return entries_.empty(); }

   private:
    std::vector<std::pair<std::string, TemplateValue>> entries_;
  };

  // HTML built by the code (never text from a request or a member): shown by
  // `{{{name}}}` as is.
  struct Html {
    std::string html;
  };

  TemplateValue() : value_(false) {}
  TemplateValue(bool b) : value_(b) {}
  TemplateValue(std::string s) : value_(std::move(s)) {}
  TemplateValue(absl::string_view s) : value_(std::string(s)) {}
  TemplateValue(const char* s) : value_(std::string(s)) {}
  // Integers are shown as decimal text.
  template <typename T>
  requires(std::integral<T> && !std::same_as<T, bool>) TemplateValue(T n)
      : value_(absl::StrCat(n)) {}
  // Not a flag: a pointer would otherwise turn into one.
  template <typename T>
  TemplateValue(T*) = delete;
  TemplateValue(List list) : value_(std::move(list)) {}
  TemplateValue(Map map) : value_(std::move(map)) {}

  // Only for HTML the code assembled itself, from escaped parts.
  static TemplateValue TrustedHtml(std::string html) {
    return TemplateValue(Html{std::move(html)});
  }

  const std::variant<bool, std::string, Html, List, Map>& value() const { return value_; }

 private:
  explicit TemplateValue(Html html) : value_(std::move(html)) {}

  std::variant<bool, std::string, Html, List, Map> value_;
};

using TemplateMap = TemplateValue::Map;
using TemplateList = TemplateValue::List;

namespace internal {
struct TemplateNode;
}  // namespace internal

class Template {
 public:
  // Parses `text`; `name` (e.g. `client.html`) names the template in errors.
  static absl::StatusOr<Template> Parse(absl::string_view name, absl::string_view text);

  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;
  ~Template();

  // The template filled with `data`. Errors as described at the top of this file.
  absl::StatusOr<std::string> Render(const TemplateMap& data) const;

  const std::string& name() const { return name_; }

 private:
  Template(std::string name, std::vector<internal::TemplateNode> nodes);

  std::string name_;
  // Behind a pointer so that the node type stays out of this header.
  std::unique_ptr<std::vector<internal::TemplateNode>> nodes_;
};

}  // namespace switchboard::gateway::web

#endif  // SWITCHBOARD_GATEWAY_WEB_TEMPLATE_H_
