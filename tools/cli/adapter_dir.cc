#include "tools/cli/adapter_dir.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "gateway/common/line_diff.h"
#include "gateway/config/config_loader.h"
#include "gateway/registry/adapter_contract.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/timestamp.pb.h"
#include "switchboard/common/status_macros.h"
#include "switchboard/common/text_proto.h"

namespace switchboard::tools::sbctl {
namespace {

namespace fs = std::filesystem;
using gateway::LineDiff;
using gateway::registry::Differences;
using gateway::registry::HasExpectations;
using gateway::registry::ReadableOutput;

struct TypeExtension {
  const char* extension;
  const char* content_type;
};
// Longest extension first: `x.fhir.json` is FHIR, not plain JSON.
constexpr TypeExtension kTypes[] = {
    {"fhir.json", "application/fhir+json"},
    {"json", "application/json"},
    {"hl7", "application/hl7-v2"},
    {"xml", "application/xml"},
    {"txt", "text/plain"},
};
constexpr char kOther[] = "bin";
constexpr char kOtherType[] = "application/octet-stream";
constexpr char kExpected[] = "expected.";
constexpr char kExpectedMessage[] = "expected.textproto";
constexpr char kExpectedError[] = "expected.error";

constexpr char kSourceHeader[] =
    "# proto-file: switchboard/v1/adapter_versions.proto\n"
    "# proto-message: switchboard.v1.AdapterSource\n"
    "# An adapter version: its note and config; its contract samples are in samples/.\n"
    "# `sbctl adapter apply DIR` shows what an edit changes (docs/adapters.md).\n";
constexpr char kMessageHeader[] =
    "# proto-file: switchboard/v1/message.proto\n"
    "# proto-message: switchboard.v1.Message\n";

std::string ExtensionOf(absl::string_view content_type) {
  for (const TypeExtension& t : kTypes) {
    if (content_type == t.content_type) return t.extension;
  }
  return kOther;
}

// HL7 v2 segments end with \r, which most editors and diffs show as one line.
std::string SegmentsAsLines(absl::string_view er7) {
  return absl::StrReplaceAll(er7, {{"\r\n", "\n"}, {"\r", "\n"}});
}
std::string LinesAsSegments(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"\r\n", "\r"}, {"\n", "\r"}});
}

// A Timestamp as protobuf writes it, plus the time it stands for as a comment
// (`seconds: 1795534200  # 2026-11-24T15:30:00+00:00`), for people reading it.
class TimestampPrinter final : public google::protobuf::TextFormat::MessagePrinter {
 public:
  void Print(const google::protobuf::Message& message, bool single_line_mode,
             google::protobuf::TextFormat::BaseTextGenerator* out) const override {
    const google::protobuf::Reflection* reflection = message.GetReflection();
    const google::protobuf::Descriptor* descriptor = message.GetDescriptor();
    const int64_t seconds = reflection->GetInt64(message, descriptor->FindFieldByName("seconds"));
    const int32_t nanos = reflection->GetInt32(message, descriptor->FindFieldByName("nanos"));
    const absl::string_view end = single_line_mode ? " " : "\n";
    if (seconds != 0) {
      const std::string when = absl::FormatTime(
          absl::RFC3339_full, absl::FromUnixSeconds(seconds) + absl::Nanoseconds(nanos),
          absl::UTCTimeZone());
      out->PrintString(single_line_mode ? absl::StrCat("seconds: ", seconds, end)
                                        : absl::StrCat("seconds: ", seconds, "  # ", when, end));
    }
    if (nanos != 0) out->PrintString(absl::StrCat("nanos: ", nanos, end));
  }
};

absl::Status BadFile(absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

absl::Status CheckName(absl::string_view path, absl::string_view name) {
  bool ok = !name.empty() && name.size() <= 64 &&
            (absl::ascii_islower(name[0]) || absl::ascii_isdigit(name[0]));
  for (char c : name) {
    ok = ok && (absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' || c == '_');
  }
  if (ok) return absl::OkStatus();
  return BadFile(
      path, absl::StrCat("'", name, "' is not a sample name (a-z, 0-9, '-', '_'; at most 64)"));
}

std::vector<std::string> Indented(const std::vector<std::string>& lines, absl::string_view indent) {
  std::vector<std::string> out;
  for (const std::string& line : lines) out.push_back(absl::StrCat(indent, line));
  return out;
}

void Append(std::vector<std::string>* out, const std::vector<std::string>& more) {
  out->insert(out->end(), more.begin(), more.end());
}

}  // namespace

std::string PrintProtoText(const google::protobuf::Message& message) {
  google::protobuf::TextFormat::Printer printer;
  printer.SetExpandAny(true);
  // The printer owns it.
  printer.RegisterMessagePrinter(google::protobuf::Timestamp::descriptor(), new TimestampPrinter());
  std::string out;
  printer.PrintToString(message, &out);
  return out;
}

std::string ContentTypeOfExtension(absl::string_view extension) {
  for (const TypeExtension& t : kTypes) {
    if (extension == t.extension) return t.content_type;
  }
  return "";
}

AdapterFiles RenderAdapterFiles(const v1::AdapterVersion& version) {
  AdapterFiles files;
  v1::AdapterSource source;
  source.set_note(version.note());
  *source.mutable_config() = version.config();
  const std::string dir = absl::StrCat(kSamplesDir, "/");
  for (const v1::ContractSample& sample : version.samples()) {
    const std::string in_ext = ExtensionOf(sample.content_type());
    const std::string input = absl::StrCat(sample.name(), ".", in_ext);
    if (in_ext == kOther) (*source.mutable_content_types())[input] = sample.content_type();
    files[dir + input] = in_ext == "hl7" ? SegmentsAsLines(sample.input()) : sample.input();
    if (sample.has_expected_message()) {
      files[absl::StrCat(dir, sample.name(), ".", kExpectedMessage)] =
          absl::StrCat(kMessageHeader, PrintProtoText(sample.expected_message()));
    }
    if (!sample.expected_output_content_type().empty()) {
      const std::string& type = sample.expected_output_content_type();
      const std::string out_ext = ExtensionOf(type);
      const std::string output = absl::StrCat(sample.name(), ".", kExpected, out_ext);
      if (out_ext == kOther) (*source.mutable_content_types())[output] = type;
      files[dir + output] = out_ext == kOther ? sample.expected_output()
                                              : ReadableOutput(type, sample.expected_output());
    }
    if (!sample.expected_error().empty()) {
      files[absl::StrCat(dir, sample.name(), ".", kExpectedError)] =
          absl::StrCat(sample.expected_error(), "\n");
    }
  }
  files[kAdapterFile] = absl::StrCat(kSourceHeader, PrintProtoText(source));
  return files;
}

absl::StatusOr<v1::AdapterVersion> ParseAdapterFiles(const AdapterFiles& files) {
  auto source_file = files.find(kAdapterFile);
  if (source_file == files.end()) return BadFile(kAdapterFile, "missing");
  v1::AdapterSource source;
  SB_RETURN_IF_ERROR(ParseTextProto(source_file->second, kAdapterFile, &source));
  auto type_of = [&](const std::string& file, absl::string_view ext) -> std::string {
    if (auto it = source.content_types().find(file); it != source.content_types().end()) {
      return it->second;
    }
    if (ext == kOther) return kOtherType;
    return ContentTypeOfExtension(ext);
  };

  std::map<std::string, v1::ContractSample> samples;
  std::set<std::string> with_input;
  const std::string dir = absl::StrCat(kSamplesDir, "/");
  for (const auto& [path, bytes] : files) {
    if (path == kAdapterFile) continue;
    if (!absl::StartsWith(path, dir)) return BadFile(path, "not part of an adapter directory");
    const std::string file = path.substr(dir.size());
    const size_t dot = file.find('.');
    if (dot == std::string::npos || dot + 1 == file.size()) {
      return BadFile(path,
                     "not NAME.EXT, NAME.expected.textproto, NAME.expected.EXT or "
                     "NAME.expected.error");
    }
    const std::string name = file.substr(0, dot);
    const std::string rest = file.substr(dot + 1);
    SB_RETURN_IF_ERROR(CheckName(path, name));
    v1::ContractSample& sample = samples[name];
    sample.set_name(name);
    if (rest == kExpectedMessage) {
      SB_RETURN_IF_ERROR(ParseTextProto(bytes, path, sample.mutable_expected_message()));
      continue;
    }
    if (rest == kExpectedError) {
      sample.set_expected_error(std::string(absl::StripSuffix(bytes, "\n")));
      continue;
    }
    const bool expected = absl::StartsWith(rest, kExpected);
    const std::string ext = expected ? rest.substr(strlen(kExpected)) : rest;
    const std::string type = type_of(file, ext);
    if (type.empty()) {
      return BadFile(path, absl::StrCat("unknown extension '.", ext,
                                        "'; name its media type in adapter.textproto "
                                        "(content_types)"));
    }
    const std::string content = ext == "hl7" ? LinesAsSegments(bytes) : bytes;
    if (expected) {
      if (!sample.expected_output_content_type().empty()) {
        return BadFile(path, absl::StrCat("sample '", name, "' has another expected output"));
      }
      sample.set_expected_output_content_type(type);
      sample.set_expected_output(content);
    } else {
      if (!with_input.insert(name).second) {
        return BadFile(path, absl::StrCat("sample '", name, "' has another input"));
      }
      sample.set_content_type(type);
      sample.set_input(content);
    }
  }
  v1::AdapterVersion version;
  version.set_note(source.note());
  *version.mutable_config() = source.config();
  for (auto& [name, sample] : samples) {
    if (!with_input.contains(name)) {
      return BadFile(absl::StrCat(dir, name, ".*"), "expected outputs without an input");
    }
    *version.add_samples() = std::move(sample);
  }
  return version;
}

absl::StatusOr<AdapterFiles> ReadAdapterDir(const std::string& dir) {
  const fs::path root(dir);
  AdapterFiles files;
  const fs::path source = root / kAdapterFile;
  if (!fs::exists(source)) {
    return absl::NotFoundError(absl::StrCat(source.string(), ": missing"));
  }
  SB_ASSIGN_OR_RETURN(files[kAdapterFile], gateway::config::ReadFile(source.string(), "input"));
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root / kSamplesDir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || absl::StartsWith(name, ".")) continue;
    SB_ASSIGN_OR_RETURN(files[absl::StrCat(kSamplesDir, "/", name)],
                        gateway::config::ReadFile(entry.path().string(), "input"));
  }
  return files;
}

absl::Status WriteAdapterDir(const std::string& dir, const AdapterFiles& files) {
  const fs::path root(dir);
  std::error_code ec;
  fs::create_directories(root / kSamplesDir, ec);
  if (ec) return absl::UnavailableError(absl::StrCat(dir, ": ", ec.message()));
  for (const auto& entry : fs::directory_iterator(root / kSamplesDir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || absl::StartsWith(name, ".")) continue;
    if (files.contains(absl::StrCat(kSamplesDir, "/", name))) continue;
    if (!fs::remove(entry.path(), ec) || ec) {
      return absl::UnavailableError(absl::StrCat(entry.path().string(), ": cannot remove"));
    }
  }
  for (const auto& [relative, bytes] : files) {
    const fs::path path = root / relative;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
    out.close();
    if (!out) return absl::UnavailableError(absl::StrCat(path.string(), ": cannot write"));
  }
  return absl::OkStatus();
}

std::vector<std::string> DescribeSourceChanges(const v1::AdapterVersion* current,
                                               const v1::AdapterVersion& candidate) {
  std::vector<std::string> lines;
  const v1::AdapterVersion none;
  const v1::AdapterVersion& before = current == nullptr ? none : *current;
  // The fixed header comment is left out: it never changes.
  const std::string before_source(
      absl::StripPrefix(RenderAdapterFiles(before)[kAdapterFile], kSourceHeader));
  const std::string after_source(
      absl::StripPrefix(RenderAdapterFiles(candidate)[kAdapterFile], kSourceHeader));
  if (std::vector<std::string> diff = LineDiff(before_source, after_source); !diff.empty()) {
    lines.push_back(absl::StrCat(kAdapterFile, ":"));
    Append(&lines, Indented(diff, "  "));
  }
  std::map<std::string, const v1::ContractSample*> old_samples;
  std::map<std::string, const v1::ContractSample*> new_samples;
  for (const auto& s : before.samples()) old_samples[s.name()] = &s;
  for (const auto& s : candidate.samples()) new_samples[s.name()] = &s;
  for (const auto& [name, sample] : old_samples) {
    if (!new_samples.contains(name)) lines.push_back(absl::StrCat("- sample ", name, " (removed)"));
  }
  for (const auto& [name, sample] : new_samples) {
    auto old = old_samples.find(name);
    if (old == old_samples.end()) {
      lines.push_back(absl::StrCat("+ sample ", name, " (new, ", sample->content_type(),
                                   HasExpectations(*sample) ? ", with expected outputs)"
                                                            : "; the gateway runs it for its "
                                                              "expected outputs)"));
      continue;
    }
    const v1::ContractSample& was = *old->second;
    if (was.content_type() != sample->content_type()) {
      lines.push_back(absl::StrCat("~ sample ", name, ": content type '", was.content_type(),
                                   "' -> '", sample->content_type(), "'"));
    }
    if (was.input() != sample->input()) {
      lines.push_back(absl::StrCat("~ sample ", name, ": input changed"));
      Append(&lines, Indented(LineDiff(ReadableOutput(was.content_type(), was.input()),
                                       ReadableOutput(sample->content_type(), sample->input())),
                              "    "));
    }
    if (HasExpectations(*sample)) {
      if (std::vector<std::string> diff = Differences(was, *sample); !diff.empty()) {
        lines.push_back(absl::StrCat("~ sample ", name, ": expected outputs changed"));
        Append(&lines, Indented(diff, "    "));
      }
    }
  }
  return lines;
}

}  // namespace switchboard::tools::sbctl
