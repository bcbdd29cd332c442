#include "gateway/registry/adapter_contract.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gateway/common/line_diff.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/message_differencer.h"
#include "rapidjson/document.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

namespace switchboard::gateway::registry {
namespace {

constexpr size_t kMaxDifferenceLines = 60;

std::string MediaType(absl::string_view content_type) {
  return absl::AsciiStrToLower(
      absl::StripAsciiWhitespace(content_type.substr(0, content_type.find(';'))));
}

bool IsJson(absl::string_view content_type) {
  const std::string media = MediaType(content_type);
  return absl::EndsWith(media, "/json") || absl::EndsWith(media, "+json");
}

bool IsHl7v2(absl::string_view content_type) {
  return absl::StrContains(MediaType(content_type), "hl7-v2");
}

std::string Hl7Lines(absl::string_view bytes) {
  return absl::StrReplaceAll(bytes, {{"\r\n", "\n"}, {"\r", "\n"}});
}

// Field-level differences of two messages, as MessageDifferencer reports them
// (`modified: case_note.domain: "family" -> "education"`).
std::vector<std::string> MessageDifferences(const v1::Message& expected,
                                            const v1::Message& actual) {
  std::string report;
  {
    google::protobuf::io::StringOutputStream stream(&report);
    google::protobuf::util::MessageDifferencer::StreamReporter reporter(&stream);
    google::protobuf::util::MessageDifferencer differencer;
    differencer.ReportDifferencesTo(&reporter);
    differencer.Compare(expected, actual);
  }  // The reporter writes on destruction.
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(report, '\n', absl::SkipEmpty())) {
    lines.push_back(absl::StrCat("message: ", line));
  }
  return lines;
}

std::string OrNone(absl::string_view text) {
  return text.empty() ? "(none)" : absl::StrCat("'", text, "'");
}

bool SameSample(const v1::ContractSample& a, const v1::ContractSample& b) {
  return a.name() == b.name() && a.content_type() == b.content_type() && a.input() == b.input() &&
         Differences(a, b).empty();
}

}  // namespace

bool HasExpectations(const v1::ContractSample& sample) {
  return sample.has_expected_message() || !sample.expected_output_content_type().empty() ||
         !sample.expected_output().empty() || !sample.expected_error().empty();
}

v1::ContractSample Replay(const adapters::Adapter& adapter, v1::ContractSample sample,
                          std::vector<std::string>* ignored) {
  sample.clear_expected_message();
  sample.clear_expected_output_content_type();
  sample.clear_expected_output();
  sample.clear_expected_error();
  absl::StatusOr<adapters::DecodeResult> decoded =
      adapter.DecodeWithReport(sample.content_type(), sample.input());
  if (!decoded.ok()) {
    sample.set_expected_error(absl::StrCat("decode: ", decoded.status().message()));
    return sample;
  }
  if (ignored != nullptr) *ignored = std::move(decoded->ignored);
  absl::StatusOr<adapters::PartnerPayload> encoded = adapter.Encode(decoded->message);
  *sample.mutable_expected_message() = std::move(decoded->message);
  if (!encoded.ok()) {
    sample.set_expected_error(absl::StrCat("encode: ", encoded.status().message()));
    return sample;
  }
  sample.set_expected_output_content_type(std::move(encoded->content_type));
  sample.set_expected_output(std::move(encoded->bytes));
  return sample;
}

std::string ReadableOutput(absl::string_view content_type, absl::string_view bytes) {
  if (IsHl7v2(content_type)) return Hl7Lines(bytes);
  if (IsJson(content_type)) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseFullPrecisionFlag>(bytes.data(), bytes.size());
    if (!doc.HasParseError()) {
      rapidjson::StringBuffer buffer;
      rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
      writer.SetIndent(' ', 2);
      doc.Accept(writer);
      return absl::StrCat(absl::string_view(buffer.GetString(), buffer.GetSize()), "\n");
    }
  }
  return std::string(bytes);
}

bool SameOutput(absl::string_view content_type, absl::string_view a, absl::string_view b) {
  if (a == b) return true;
  if (IsHl7v2(content_type)) return Hl7Lines(a) == Hl7Lines(b);
  if (IsJson(content_type)) {
    rapidjson::Document da;
    rapidjson::Document db;
    da.Parse<rapidjson::kParseFullPrecisionFlag>(a.data(), a.size());
    db.Parse<rapidjson::kParseFullPrecisionFlag>(b.data(), b.size());
    // RapidJSON compares objects by member name, in any order.
    return !da.HasParseError() && !db.HasParseError() && da == db;
  }
  return false;
}

std::vector<std::string> Differences(const v1::ContractSample& expected,
                                     const v1::ContractSample& actual) {
  std::vector<std::string> lines;
  if (expected.expected_error() != actual.expected_error()) {
    lines.push_back(absl::StrCat("error: ", OrNone(expected.expected_error()), " -> ",
                                 OrNone(actual.expected_error())));
  }
  if (expected.has_expected_message() != actual.has_expected_message()) {
    lines.push_back(expected.has_expected_message() ? "message: no longer decoded"
                                                    : "message: decoded now");
  } else if (expected.has_expected_message()) {
    for (std::string& line :
         MessageDifferences(expected.expected_message(), actual.expected_message())) {
      lines.push_back(std::move(line));
    }
  }
  if (expected.expected_output_content_type() != actual.expected_output_content_type()) {
    lines.push_back(
        absl::StrCat("output content type: ", OrNone(expected.expected_output_content_type()),
                     " -> ", OrNone(actual.expected_output_content_type())));
  }
  const std::string& type = actual.expected_output_content_type().empty()
                                ? expected.expected_output_content_type()
                                : actual.expected_output_content_type();
  if (!SameOutput(type, expected.expected_output(), actual.expected_output())) {
    lines.push_back("output:");
    for (const std::string& line : LineDiff(ReadableOutput(type, expected.expected_output()),
                                            ReadableOutput(type, actual.expected_output()))) {
      lines.push_back(absl::StrCat("  ", line));
    }
  }
  if (lines.size() > kMaxDifferenceLines) {
    const size_t more = lines.size() - kMaxDifferenceLines + 1;
    lines.resize(kMaxDifferenceLines - 1);
    lines.push_back(absl::StrCat("... and ", more, " more lines"));
  }
  return lines;
}

std::vector<v1::SampleChange> CheckContract(const adapters::Adapter& adapter,
                                            const v1::AdapterVersion* active,
                                            const v1::AdapterVersion& candidate,
                                            v1::AdapterVersion* accepted) {
  std::vector<v1::SampleChange> changes;
  if (accepted != nullptr) *accepted = candidate;
  auto check = [&](const v1::ContractSample& sample, uint32_t version, int own_index) {
    v1::ContractSample actual = Replay(adapter, sample);
    std::vector<std::string> differences = Differences(sample, actual);
    if (differences.empty()) return;
    v1::SampleChange change;
    change.set_sample(sample.name());
    change.set_of_version(version);
    for (std::string& line : differences) change.add_differences(std::move(line));
    changes.push_back(std::move(change));
    if (accepted != nullptr && own_index >= 0) {
      *accepted->mutable_samples(own_index) = std::move(actual);
    }
  };
  for (int i = 0; i < candidate.samples_size(); ++i) {
    check(candidate.samples(i), candidate.version(), i);
  }
  if (active != nullptr && active->version() != candidate.version()) {
    for (const v1::ContractSample& sample : active->samples()) {
      bool same = false;
      for (const v1::ContractSample& own : candidate.samples())
        same = same || SameSample(sample, own);
      if (!same) check(sample, active->version(), -1);
    }
  }
  return changes;
}

std::string DescribeChanges(const std::vector<v1::SampleChange>& changes, size_t max_bytes) {
  std::string text;
  size_t shown = 0;
  for (const v1::SampleChange& change : changes) {
    std::string one = absl::StrCat("sample ", change.sample(), " (v", change.of_version(), "):\n");
    for (const std::string& line : change.differences()) absl::StrAppend(&one, "  ", line, "\n");
    if (text.size() + one.size() > max_bytes && shown > 0) {
      absl::StrAppend(&text, "... and ", changes.size() - shown, " more changed samples\n");
      break;
    }
    absl::StrAppend(&text, one);
    ++shown;
  }
  return text;
}

}  // namespace switchboard::gateway::registry
