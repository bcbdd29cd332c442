// Contract samples: running an adapter version on its samples, and saying readably
// how two results of the same input differ (the canonical messages field by
// field, the partner outputs as a line diff). Activating a version runs
// CheckContract; `sbctl adapter apply` uses Differences to show what an edit
// changes.
//
// Pure apart from the adapter itself (a remote adapter calls out); thread-safe.
#ifndef SWITCHBOARD_GATEWAY_REGISTRY_ADAPTER_CONTRACT_H_
#define SWITCHBOARD_GATEWAY_REGISTRY_ADAPTER_CONTRACT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "adapters/adapter.h"
#include "switchboard/v1/adapter_versions.pb.h"

namespace switchboard::gateway::registry {

// True when any of the sample's expected_* fields is set.
bool HasExpectations(const v1::ContractSample& sample);

// `sample` with its expectations replaced by what `adapter` makes of its input:
// decode gives expected_message, encode of that message expected_output (and
// its content type); a failing step gives expected_error `decode: <error>` or
// `encode: <error>` and the later fields stay empty. `ignored` (optional)
// receives the elements decode did not map.
v1::ContractSample Replay(const adapters::Adapter& adapter, v1::ContractSample sample,
                          std::vector<std::string>* ignored = nullptr);

// How `actual`'s expectations differ from `expected`'s, one line each; empty when
// they are the same. Messages are compared field by field
// (`message: modified: case_note.domain: "family" -> "education"`); outputs of a
// JSON media type are compared as JSON (whitespace and member order do not
// count), others byte for byte, and a changed output is shown as `output:`
// followed by a line diff of ReadableOutput (lines `  - ...`, `  + ...`). At
// most 60 lines: the rest is counted on a last line.
std::vector<std::string> Differences(const v1::ContractSample& expected,
                                     const v1::ContractSample& actual);

// Partner output as text for people and diffs: HL7 v2 with one segment a line,
// JSON pretty-printed (2 spaces, members in their order), anything else as is.
std::string ReadableOutput(absl::string_view content_type, absl::string_view bytes);

// The same output for a recipient: JSON media types compared as JSON values,
// HL7 v2 with `\r`, `\n` and `\r\n` between segments alike, others byte for byte.
bool SameOutput(absl::string_view content_type, absl::string_view a, absl::string_view b);

// The contract check of activating `candidate` (whose adapter is `adapter`)
// while `active` is live (nullptr when none): the samples of both versions are
// replayed through `adapter` and compared with their expectations. A sample of
// `active` identical to one of `candidate` (name, input and expectations) is
// replayed once. Returns the samples whose results differ, candidate's first.
// When `accepted` is set it receives `candidate` with the new results as the
// expectations of its own changed samples (for an explicit acceptance).
std::vector<v1::SampleChange> CheckContract(const adapters::Adapter& adapter,
                                            const v1::AdapterVersion* active,
                                            const v1::AdapterVersion& candidate,
                                            v1::AdapterVersion* accepted = nullptr);

// The changes as text for an error message or a terminal: per sample a line
// `sample NAME (vN):` then its differences indented. At most `max_bytes`; the
// rest is counted on a last line.
std::string DescribeChanges(const std::vector<v1::SampleChange>& changes,
                            size_t max_bytes = 16 << 10);

}  // namespace switchboard::gateway::registry

#endif  // SWITCHBOARD_GATEWAY_REGISTRY_ADAPTER_CONTRACT_H_
