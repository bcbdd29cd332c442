// The web view's templates and static files, compiled into the binary so that the
// gateway needs no asset directory at run time. The files live in
// gateway/web/templates/ and gateway/web/static/; at build time
// gateway/web/embed_assets.cmake writes each one into a generated .cc as a C++ raw
// string literal (gateway/web/web.cmake wires that into sb::gateway). Text files only.
//
// Names are paths under gateway/web/: `templates/client.html`, `static/app.css`.
// Only `static/` files are for browsers: serve `/static/NAME` with
// FindEmbeddedFile("static/" + NAME) and never look up a name taken from a request
// without that prefix (templates are not secret, but they are not pages either).
//
// Thread-safety: constant data; every function may be called from any thread.
#ifndef SWITCHBOARD_GATEWAY_WEB_EMBEDDED_ASSETS_H_
#define SWITCHBOARD_GATEWAY_WEB_EMBEDDED_ASSETS_H_

#include <optional>
#include <vector>

#include "absl/strings/string_view.h"

namespace switchboard::gateway::web {

struct EmbeddedFile {
  // Path under gateway/web/, e.g. `static/app.css`.
  absl::string_view name;
  // For the Content-Type header, e.g. `text/css; charset=utf-8`.
  absl::string_view content_type;
  // A strong HTTP entity tag for the content, quotes included, e.g.
  // `"3f2a9c0d1e2b4a5c"` (the first 16 hex digits of its SHA-256): use it for ETag
  // and If-None-Match.
  absl::string_view etag;
  absl::string_view content;
};

// The file named `name`; nullopt when there is none.
std::optional<EmbeddedFile> FindEmbeddedFile(absl::string_view name);

// The content of the file named `name`; nullopt when there is none.
std::optional<absl::string_view> EmbeddedAsset(absl::string_view name);

// Every embedded file, sorted by name (for tests and diagnostics).
std::vector<EmbeddedFile> EmbeddedFiles();

}  // namespace switchboard::gateway::web

#endif  // SWITCHBOARD_GATEWAY_WEB_EMBEDDED_ASSETS_H_
