// The text form of an adapter version that a member's IT team keeps in its own
// git (`sbctl adapter export DIR` writes it, `apply` and `register` read it):
//
//   DIR/<org>/adapter.textproto                   switchboard.v1.AdapterSource: the
//                                                 note and the typed config
//   DIR/<org>/samples/<name>.<ext>                a contract sample's input
//   DIR/<org>/samples/<name>.expected.textproto   the canonical message it decodes to
//   DIR/<org>/samples/<name>.expected.<ext>       the output a recipient gets
//   DIR/<org>/samples/<name>.expected.error       or the error (decode: / encode: ...)
//
// The extension says the media type (`.json`, `.fhir.json`, `.hl7`, `.xml`,
// `.txt`; anything else `.bin`, its type listed in adapter.textproto). For diffs
// that read well, HL7 v2 is written one segment a line (`\r` back on reading) and
// JSON outputs pretty-printed (the gateway compares JSON outputs as JSON).
// A sample without any `.expected.` file gets its expectations from the gateway,
// which runs the version on it when it is registered.
//
// Reading what was written gives the same version content, so `export` then
// `apply` shows no changes. Pure apart from the file system; thread-compatible.
#ifndef SWITCHBOARD_TOOLS_CLI_ADAPTER_DIR_H_
#define SWITCHBOARD_TOOLS_CLI_ADAPTER_DIR_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "switchboard/v1/adapter_versions.pb.h"

namespace switchboard::tools::sbctl {

// Relative path (`adapter.textproto`, `samples/x.json`) -> contents.
using AdapterFiles = std::map<std::string, std::string>;

inline constexpr char kAdapterFile[] = "adapter.textproto";
inline constexpr char kSamplesDir[] = "samples";

// The files of `version` (its note, config and samples).
AdapterFiles RenderAdapterFiles(const v1::AdapterVersion& version);

// The version content (note, config, samples) the files describe; the
// organisation, number and creation fields are left unset. INVALID_ARGUMENT
// naming the file: adapter.textproto missing or not parsing (with line and
// column), a file under samples/ that is not NAME.EXT / NAME.expected.*, a bad
// sample name, expectations without an input, two inputs for one name.
absl::StatusOr<v1::AdapterVersion> ParseAdapterFiles(const AdapterFiles& files);

// adapter.textproto and every file directly under samples/ (names starting with
// `.` are skipped). NOT_FOUND when `dir` has no adapter.textproto.
absl::StatusOr<AdapterFiles> ReadAdapterDir(const std::string& dir);

// Writes `files` under `dir` (created if needed) and removes the other files
// directly under `dir`/samples, so that the directory holds exactly them.
// UNAVAILABLE naming the path when a file cannot be written or removed.
absl::Status WriteAdapterDir(const std::string& dir, const AdapterFiles& files);

// What `candidate` (read from a directory) changes against `current` (nullptr:
// no version), readably: a line diff of adapter.textproto, then samples added
// (`+ sample NAME`), removed (`- sample NAME`) and changed (`~ sample NAME: ...`
// with the input's line diff or the expectations' differences; a candidate
// sample without expectations is compared by input only). Empty when the same.
std::vector<std::string> DescribeSourceChanges(const v1::AdapterVersion* current,
                                               const v1::AdapterVersion& candidate);

// `message` in the text format, Any expanded, each Timestamp followed by the
// time it stands for as a comment.
std::string PrintProtoText(const google::protobuf::Message& message);

// The media type a sample file extension stands for (`json`, `fhir.json`, ...);
// "" when unknown.
std::string ContentTypeOfExtension(absl::string_view extension);

}  // namespace switchboard::tools::sbctl

#endif  // SWITCHBOARD_TOOLS_CLI_ADAPTER_DIR_H_
