// The entries of a FHIR message Bundle being decoded: each entry's resource
// opened on demand with its path (`Bundle.entry[2].resource(Goal)`), references
// resolved against entry fullUrls or `Type/id`, and the entries nobody opened
// reported as ignored. Thread-safety: belongs to one Decode call.
#ifndef SWITCHBOARD_ADAPTERS_FHIR_FHIR_BUNDLE_READER_H_
#define SWITCHBOARD_ADAPTERS_FHIR_FHIR_BUNDLE_READER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapters/fhir/fhir_json.h"
#include "rapidjson/document.h"

namespace switchboard::adapters::fhir::internal {

// One Bundle entry; its resource is read through BundleReader::Open.
struct Entry {
  std::string full_url;
  std::string type;
  std::string id;
  const rapidjson::Value* resource = nullptr;
  std::string path;  // Bundle.entry[i].resource(Type)
  bool used = false;
};

class BundleReader {
 public:
  explicit BundleReader(std::vector<std::string>* ignored) : ignored_(ignored) {}

  // Indexes `Bundle.entry`. INVALID_ARGUMENT when it is missing or empty, an
  // entry has no resource or resourceType, or the first is not a MessageHeader.
  absl::Status Index(JsonObject& bundle);

  std::vector<Entry>& entries() { return entries_; }
  std::vector<std::string>* ignored() const { return ignored_; }

  // The entry's resource, marked used; resourceType and id count as read.
  JsonObject Open(Entry& entry);

  // The entry `reference.reference` names (fullUrl, or Type/id); Finishes
  // `reference`. INVALID_ARGUMENT `<path>.reference: required` or `... does not
  // resolve to an entry of the Bundle`.
  absl::StatusOr<Entry*> Resolve(JsonObject& reference);
  // Resolve of the Reference `parent.<member>`, which must exist and, unless
  // `want_type` is empty, name a resource of that type.
  absl::StatusOr<Entry*> ResolveMember(JsonObject& parent, absl::string_view member,
                                       absl::string_view want_type);

  // Adds the paths of the entries never opened to `ignored`. Call once, at the end.
  void Finish();

 private:
  std::vector<std::string>* ignored_;
  std::vector<Entry> entries_;
};

}  // namespace switchboard::adapters::fhir::internal

#endif  // SWITCHBOARD_ADAPTERS_FHIR_FHIR_BUNDLE_READER_H_
