// Internal to gateway/web: what every page shares (the parsed templates and the
// layout around a page's content). Thread-safe.
#ifndef SWITCHBOARD_GATEWAY_WEB_PAGE_LAYOUT_H_
#define SWITCHBOARD_GATEWAY_WEB_PAGE_LAYOUT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/web/pages.h"
#include "gateway/web/template.h"

namespace switchboard::gateway::web::internal {

// Renders templates/`name` with `content`, then templates/layout.html around it with
// `title`, the header for `viewer` (none when null) and `flash`. INTERNAL when a
// template is missing, broken or does not fit its data.
absl::StatusOr<std::string> RenderPage(absl::string_view name, absl::string_view title,
                                       const Viewer* viewer, const Flash& flash,
                                       const TemplateMap& content);

// The fields of a <select>: one option per (value, label), the one whose value is
// `selected` marked so.
struct Option {
  std::string value;
  std::string label;
};
TemplateList Options(const std::vector<Option>& options, absl::string_view selected);

}  // namespace switchboard::gateway::web::internal

#endif  // SWITCHBOARD_GATEWAY_WEB_PAGE_LAYOUT_H_
