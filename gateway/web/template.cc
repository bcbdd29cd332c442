#include "gateway/web/template.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "switchboard/common/status_macros.h"

namespace switchboard::gateway::web {

namespace internal {

struct TemplateNode {
  enum class Kind { kText, kVariable, kRaw, kSection, kInverted };
  Kind kind = Kind::kText;
  // Text for kText, else the name.
  std::string text;
  // Line of the tag in the template, for errors.
  int line = 0;
  // Contents of a section.
  std::vector<TemplateNode> children;
};

}  // namespace internal

using internal::TemplateNode;

std::string HtmlEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

TemplateValue::Map& TemplateValue::Map::Set(absl::string_view name, TemplateValue value) {
  for (auto& [key, existing] : entries_) {
    if (key == name) {
      existing = std::move(value);
      return *this;
    }
  }
  entries_.emplace_back(std::string(name), std::move(value));
  return *this;
}

const TemplateValue* TemplateValue::Map::Find(absl::string_view name) const {
  for (const auto& [key, value] : entries_) {
    if (key == name) {
      return &value;
    }
  }
  return nullptr;
}

namespace {

bool IsNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

bool IsValidName(absl::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), IsNameChar);
}

int CountLines(absl::string_view text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

// Turns template text into a tree of nodes, one tag at a time.
class Parser {
 public:
  Parser(absl::string_view name, absl::string_view text) : name_(name), text_(text) {}

  absl::StatusOr<std::vector<TemplateNode>> Parse() {
    // Open sections, innermost last; the bottom entry is the template itself.
    std::vector<TemplateNode> stack(1);
    size_t pos = 0;
    while (pos < text_.size()) {
      const size_t open = text_.find("{{", pos);
      if (open == absl::string_view::npos) {
        AppendText(stack.back(), text_.substr(pos));
        break;
      }
      AppendText(stack.back(), text_.substr(pos, open - pos));
      const int line = line_;
      const bool triple = text_.substr(open, 3) == "{{{";
      const absl::string_view closer = triple ? "}}}" : "}}";
      const size_t inner_start = open + (triple ? 3 : 2);
      const size_t close = text_.find(closer, inner_start);
      if (close == absl::string_view::npos) {
        return Error(line, absl::StrCat("unclosed tag '", Excerpt(text_.substr(open)), "'"));
      }
      const absl::string_view tag = text_.substr(open, close + closer.size() - open);
      const absl::string_view inner =
          absl::StripAsciiWhitespace(text_.substr(inner_start, close - inner_start));
      line_ += CountLines(tag);
      pos = close + closer.size();

      if (triple) {
        if (!IsValidName(inner)) return UnknownTag(line, tag);
        stack.back().children.push_back({TemplateNode::Kind::kRaw, std::string(inner), line, {}});
        continue;
      }
      const char sigil = inner.empty() ? '\0' : inner.front();
      if (sigil == '!') {
        pos = TakeStandaloneLine(stack.back(), open, pos);
        continue;
      }
      if (sigil == '#' || sigil == '^' || sigil == '/') {
        const absl::string_view name = absl::StripAsciiWhitespace(inner.substr(1));
        if (!IsValidName(name)) return UnknownTag(line, tag);
        pos = TakeStandaloneLine(stack.back(), open, pos);
        if (sigil == '/') {
          if (stack.size() == 1) {
            return Error(line, absl::StrCat("'", tag, "' closes no open section"));
          }
          if (stack.back().text != name) {
            return Error(line, absl::StrCat("'", tag, "' closes nothing: the open section is '",
                                            stack.back().text, "' (line ", stack.back().line, ")"));
          }
          TemplateNode done = std::move(stack.back());
          stack.pop_back();
          stack.back().children.push_back(std::move(done));
          continue;
        }
        stack.push_back(
            {sigil == '#' ? TemplateNode::Kind::kSection : TemplateNode::Kind::kInverted,
             std::string(name),
             line,
             {}});
        continue;
      }
      if (!IsValidName(inner)) return UnknownTag(line, tag);
      stack.back().children.push_back(
          {TemplateNode::Kind::kVariable, std::string(inner), line, {}});
    }
    if (stack.size() > 1) {
      return Error(stack.back().line,
                   absl::StrCat("section '", stack.back().text, "' is not closed"));
    }
    return std::move(stack.front().children);
  }

 private:
  void AppendText(TemplateNode& parent, absl::string_view text) {
    if (text.empty()) return;
    line_ += CountLines(text);
    if (!parent.children.empty() && parent.children.back().kind == TemplateNode::Kind::kText) {
      parent.children.back().text.append(text.data(), text.size());
      return;
    }
    parent.children.push_back({TemplateNode::Kind::kText, std::string(text), 0, {}});
  }

  // For a tag that spans [open, pos): when only spaces or tabs stand between it and
  // its line's start and end, drops them and the line's end from the output (they
  // were appended to the last text node of `parent`). Returns where parsing goes on.
  size_t TakeStandaloneLine(TemplateNode& parent, size_t open, size_t pos) {
    auto blank = [](char c) { return c == ' ' || c == '\t'; };
    size_t line_start = open;
    while (line_start > 0 && blank(text_[line_start - 1])) --line_start;
    if (line_start > 0 && text_[line_start - 1] != '\n') return pos;
    size_t end = pos;
    while (end < text_.size() && blank(text_[end])) ++end;
    size_t after = end;
    if (end < text_.size() && text_[end] == '\n') {
      after = end + 1;
    } else if (text_.substr(end, 2) == "\r\n") {
      after = end + 2;
    } else if (end != text_.size()) {
      return pos;
    }
    const size_t indent = open - line_start;
    if (indent > 0) {
      std::string& before = parent.children.back().text;  // holds the indent
      before.resize(before.size() - indent);
      if (before.empty()) parent.children.pop_back();
    }
    if (after > end) ++line_;
    return after;
  }

  absl::Status Error(int line, absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(name_, ":", line, ": ", what));
  }

  absl::Status UnknownTag(int line, absl::string_view tag) const {
    return Error(line, absl::StrCat("unknown tag '", Excerpt(tag), "'"));
  }

  static std::string Excerpt(absl::string_view text) {
    const size_t nl = text.find('\n');
    text = text.substr(0, std::min<size_t>(nl, 40));
    return std::string(text);
  }

  const absl::string_view name_;
  const absl::string_view text_;
  int line_ = 1;
};

// Renders nodes against a stack of maps (innermost last).
class Renderer {
 public:
  explicit Renderer(absl::string_view name) : name_(name) {}

  absl::Status Render(const std::vector<TemplateNode>& nodes,
                      std::vector<const TemplateMap*>& scopes, std::string* out) const {
    for (const TemplateNode& node : nodes) {
      switch (node.kind) {
        case TemplateNode::Kind::kText:
          out->append(node.text);
          break;
        case TemplateNode::Kind::kVariable:
        case TemplateNode::Kind::kRaw: {
          SB_RETURN_IF_ERROR(RenderVariable(node, scopes, out));
          break;
        }
        case TemplateNode::Kind::kSection:
        case TemplateNode::Kind::kInverted: {
          SB_RETURN_IF_ERROR(RenderSection(node, scopes, out));
          break;
        }
      }
    }
    return absl::OkStatus();
  }

 private:
  static const TemplateValue* Lookup(absl::string_view name,
                                     const std::vector<const TemplateMap*>& scopes) {
    for (auto it = scopes.rbegin(); it != scopes.rend(); ++it) {
      if (const TemplateValue* v = (*it)->Find(name); v != nullptr) return v;
    }
    return nullptr;
  }

  absl::Status Error(const TemplateNode& node, absl::string_view what) const {
    const bool raw = node.kind == TemplateNode::Kind::kRaw;
    return absl::InvalidArgumentError(absl::StrCat(name_, ":", node.line, ": ", raw ? "{{{" : "{{",
                                                   node.text, raw ? "}}}" : "}}", ": ", what));
  }

  absl::Status RenderVariable(const TemplateNode& node,
                              const std::vector<const TemplateMap*>& scopes,
                              std::string* out) const {
    const TemplateValue* value = Lookup(node.text, scopes);
    if (value == nullptr) return Error(node, absl::StrCat("no value named '", node.text, "'"));
    const auto& v = value->value();
    if (node.kind == TemplateNode::Kind::kRaw) {
      if (const auto* html = std::get_if<TemplateValue::Html>(&v)) {
        out->append(html->html);
        return absl::OkStatus();
      }
      return Error(node,
                   "triple braces show only HTML built by the code (TemplateValue::TrustedHtml)");
    }
    if (const auto* s = std::get_if<std::string>(&v)) {
      out->append(HtmlEscape(*s));
      return absl::OkStatus();
    }
    if (std::holds_alternative<TemplateValue::Html>(v)) {
      return Error(node, "holds HTML built by the code: show it with triple braces");
    }
    return Error(node, "is a flag, list or map, not text: use it as a section");
  }

  absl::Status RenderSection(const TemplateNode& node, std::vector<const TemplateMap*>& scopes,
                             std::string* out) const {
    const TemplateValue* value = Lookup(node.text, scopes);
    const bool inverted = node.kind == TemplateNode::Kind::kInverted;
    if (value == nullptr) {
      return inverted ? Render(node.children, scopes, out) : absl::OkStatus();
    }
    const auto& v = value->value();
    if (const auto* list = std::get_if<TemplateValue::List>(&v)) {
      if (inverted) return list->empty() ? Render(node.children, scopes, out) : absl::OkStatus();
      for (const TemplateValue& element : *list) {
        const auto* map = std::get_if<TemplateValue::Map>(&element.value());
        if (map == nullptr) {
          return absl::InvalidArgumentError(absl::StrCat(name_, ":", node.line, ": {{#", node.text,
                                                         "}}: a list element is not a map"));
        }
        scopes.push_back(map);
        absl::Status s = Render(node.children, scopes, out);
        scopes.pop_back();
        SB_RETURN_IF_ERROR(s);
      }
      return absl::OkStatus();
    }
    if (const auto* map = std::get_if<TemplateValue::Map>(&v)) {
      if (inverted) return absl::OkStatus();
      scopes.push_back(map);
      absl::Status s = Render(node.children, scopes, out);
      scopes.pop_back();
      return s;
    }
    bool truthy = false;
    if (const auto* b = std::get_if<bool>(&v)) truthy = *b;
    if (const auto* s = std::get_if<std::string>(&v)) truthy = !s->empty();
    if (const auto* h = std::get_if<TemplateValue::Html>(&v)) truthy = !h->html.empty();
    if (truthy != inverted) return Render(node.children, scopes, out);
    return absl::OkStatus();
  }

  const absl::string_view name_;
};

}  // namespace

Template::Template(std::string name, std::vector<TemplateNode> nodes)
    : name_(std::move(name)),
      nodes_(std::make_unique<std::vector<TemplateNode>>(std::move(nodes))) {}

Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;
Template::~Template() = default;

absl::StatusOr<Template> Template::Parse(absl::string_view name, absl::string_view text) {
  SB_ASSIGN_OR_RETURN(std::vector<TemplateNode> nodes, Parser(name, text).Parse());
  return Template(std::string(name), std::move(nodes));
}

absl::StatusOr<std::string> Template::Render(const TemplateMap& data) const {
  std::string out;
  std::vector<const TemplateMap*> scopes = {&data};
  SB_RETURN_IF_ERROR(Renderer(name_).Render(*nodes_, scopes, &out));
  return out;
}

}  // namespace switchboard::gateway::web
