#include "gateway/web/template.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/web/embedded_assets.h"
#include "gateway/web/pages.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"

namespace switchboard::gateway::web {
namespace {

using ::switchboard::testing::IsOk;
using ::switchboard::testing::IsOkAndHolds;
using ::switchboard::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::StartsWith;

absl::StatusOr<std::string> RenderText(absl::string_view text, const TemplateMap& data) {
  absl::StatusOr<Template> t = Template::Parse("t.html", text);
  if (!t.ok()) return t.status();
  return t->Render(data);
}

TemplateMap Item(absl::string_view name) {
  TemplateMap m;
  m.Set("name", name);
  return m;
}

TEST(HtmlEscapeTest, EscapesTheFiveCharacters) {
  EXPECT_EQ(HtmlEscape(R"(<a href="x">Tom & Jerry's</a>)"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
  EXPECT_EQ(HtmlEscape("plain text, ünïcode"), "plain text, ünïcode");
}

TEST(TemplateTest, VariablesAreEscaped) {
  TemplateMap data;
  data.Set("x", "<script>alert('1')</script> & \"q\"");
  EXPECT_THAT(RenderText("<p title=\"{{x}}\">{{ x }}</p>", data),
              IsOkAndHolds(Eq("<p title=\"&lt;script&gt;alert(&#39;1&#39;)&lt;/script&gt; &amp; "
                              "&quot;q&quot;\">&lt;script&gt;alert(&#39;1&#39;)&lt;/script&gt; "
                              "&amp; &quot;q&quot;</p>")));
}

TEST(TemplateTest, IntegersAreText) {
  TemplateMap data;
  data.Set("n", 42).Set("big", int64_t{-9000000000});
  EXPECT_THAT(RenderText("{{n}} {{big}}", data), IsOkAndHolds(Eq("42 -9000000000")));
}

TEST(TemplateTest, TripleBracesShowOnlyTrustedHtml) {
  TemplateMap data;
  data.Set("svg", TemplateValue::TrustedHtml("<svg role=\"img\"></svg>"))
      .Set("text", "<b>not trusted</b>");
  EXPECT_THAT(RenderText("{{{svg}}}", data), IsOkAndHolds(Eq("<svg role=\"img\"></svg>")));
  EXPECT_THAT(RenderText("a\n{{{text}}}", data),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("t.html:2: {{{text}}}"), HasSubstr("TrustedHtml"))));
  EXPECT_THAT(RenderText("{{svg}}", data),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("triple braces")));
}

TEST(TemplateTest, ListSectionRepeatsWithInnerNamesFirst) {
  TemplateMap data;
  data.Set("name", "outer").Set("sep", ";").Set("items", TemplateList{Item("a"), Item("<b>")});
  EXPECT_THAT(RenderText("{{#items}}{{name}}{{sep}}{{/items}}{{name}}", data),
              IsOkAndHolds(Eq("a;&lt;b&gt;;outer")));
}

TEST(TemplateTest, SectionTruthiness) {
  TemplateMap data;
  data.Set("yes", true)
      .Set("no", false)
      .Set("empty", TemplateList{})
      .Set("text", "t")
      .Set("blank", "")
      .Set("map", Item("in map"));
  EXPECT_THAT(RenderText("{{#yes}}Y{{/yes}}{{#no}}N{{/no}}{{#empty}}E{{/empty}}"
                         "{{#missing}}M{{/missing}}{{#text}}T{{/text}}{{#blank}}B{{/blank}}"
                         "{{#map}}[{{name}}]{{/map}}",
                         data),
              IsOkAndHolds(Eq("YT[in map]")));
  EXPECT_THAT(RenderText("{{^yes}}Y{{/yes}}{{^no}}N{{/no}}{{^empty}}E{{/empty}}"
                         "{{^missing}}M{{/missing}}{{^text}}T{{/text}}{{^blank}}B{{/blank}}"
                         "{{^map}}P{{/map}}",
                         data),
              IsOkAndHolds(Eq("NEMB")));
}

TEST(TemplateTest, NestedSections) {
  TemplateMap inner_a = Item("a");
  inner_a.Set("subs", TemplateList{Item("a1"), Item("a2")});
  TemplateMap inner_b = Item("b");
  inner_b.Set("subs", TemplateList{});
  TemplateMap data;
  data.Set("groups", TemplateList{inner_a, inner_b});
  EXPECT_THAT(
      RenderText(
          "{{#groups}}{{name}}:{{#subs}}{{name}},{{/subs}}{{^subs}}none{{/subs}} {{/groups}}",
          data),
      IsOkAndHolds(Eq("a:a1,a2, b:none ")));
}

TEST(TemplateTest, StandaloneTagLinesVanish) {
  TemplateMap data;
  data.Set("items", TemplateList{Item("a"), Item("b")}).Set("none", false);
  const std::string text =
      "<ul>\n"
      "  {{! a comment\n"
      "      on two lines }}\n"
      "  {{#items}}\n"
      "  <li>{{name}}</li>\n"
      "  {{/items}}\n"
      "  {{#none}}\n"
      "  <li>never</li>\n"
      "  {{/none}}\n"
      "</ul>\n";
  EXPECT_THAT(RenderText(text, data),
              IsOkAndHolds(Eq("<ul>\n  <li>a</li>\n  <li>b</li>\n</ul>\n")));
  // Inline tags keep their surroundings.
  EXPECT_THAT(RenderText("<p>{{#items}} {{name}} {{/items}}</p>\n", data),
              IsOkAndHolds(Eq("<p> a  b </p>\n")));
}

TEST(TemplateTest, ParseErrorsNameTemplateAndLine) {
  struct Case {
    std::string text;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"a\n{{#open}}\nb\n", "t.html:2: section 'open' is not closed"},
      {"a\n\n{{>partial}}", "t.html:3: unknown tag '{{>partial}}'"},
      {"{{&raw}}", "t.html:1: unknown tag '{{&raw}}'"},
      {"{{a.b}}", "t.html:1: unknown tag '{{a.b}}'"},
      {"{{}}", "t.html:1: unknown tag '{{}}'"},
      {"{{=<% %>=}}", "t.html:1: unknown tag"},
      {"x\ny {{name", "t.html:2: unclosed tag '{{name'"},
      {"{{#a}}{{/b}}{{/a}}", "t.html:1: '{{/b}}' closes nothing: the open section is 'a' (line 1)"},
      {"\n\n{{/a}}", "t.html:3: '{{/a}}' closes no open section"},
      {"{{! a\ncomment }}\n{{#x}}", "t.html:3: section 'x' is not closed"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_THAT(Template::Parse("t.html", c.text).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.error)));
  }
}

TEST(TemplateTest, RenderErrorsNameTemplateLineAndValue) {
  TemplateMap data;
  data.Set("list", TemplateList{Item("a")}).Set("flag", true).Set("bad", TemplateList{"text"});
  EXPECT_THAT(RenderText("ok\n\n{{title}}", data),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("t.html:3: {{title}}: no value named 'title'")));
  EXPECT_THAT(RenderText("{{list}}", data),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("use it as a section")));
  EXPECT_THAT(RenderText("{{flag}}", data),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("t.html:1: {{flag}}")));
  EXPECT_THAT(RenderText("{{#bad}}x{{/bad}}", data),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a map")));
  // Names missing inside a section that does not render are not looked up.
  EXPECT_THAT(RenderText("{{#flag}}{{^flag}}{{nothing}}{{/flag}}{{/flag}}", data),
              IsOkAndHolds(Eq("")));
}

TEST(TemplateTest, MapSetReplaces) {
  TemplateMap m;
  m.Set("a", "1").Set("a", "2");
  EXPECT_THAT(RenderText("{{a}}", m), IsOkAndHolds(Eq("2")));
  EXPECT_EQ(m.Find("b"), nullptr);
}

// --- The embedded templates and static files ---------------------------------

std::string ReadSource(const std::string& relative) {
  const char* dir = std::getenv("SB_SOURCE_DIR");
  std::ifstream in(absl::StrCat(dir == nullptr ? "." : dir, "/", relative), std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(EmbeddedAssetsTest, EveryTemplateParses) { EXPECT_THAT(LoadPageTemplates(), IsOk()); }

TEST(EmbeddedAssetsTest, FilesAreEmbeddedByteForByte) {
  const std::vector<EmbeddedFile> files = EmbeddedFiles();
  ASSERT_GE(files.size(), 8u);
  for (const EmbeddedFile& f : files) {
    SCOPED_TRACE(f.name);
    EXPECT_EQ(f.content, ReadSource(absl::StrCat("gateway/web/", f.name)));
    EXPECT_EQ(f.etag.size(), 18u);
    EXPECT_TRUE(absl::StartsWith(f.etag, "\"") && absl::EndsWith(f.etag, "\""));
  }
  for (size_t i = 1; i < files.size(); ++i) EXPECT_LT(files[i - 1].name, files[i].name);
}

TEST(EmbeddedAssetsTest, LookupByName) {
  std::optional<EmbeddedFile> css = FindEmbeddedFile("static/app.css");
  ASSERT_TRUE(css.has_value());
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
  std::optional<EmbeddedFile> js = FindEmbeddedFile("static/app.js");
  ASSERT_TRUE(js.has_value());
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  ASSERT_TRUE(EmbeddedAsset("templates/layout.html").has_value());
  EXPECT_THAT(std::string(*EmbeddedAsset("templates/layout.html")),
              HasSubstr("<html lang=\"en\">"));
  EXPECT_FALSE(EmbeddedAsset("static/missing.css").has_value());
  EXPECT_FALSE(EmbeddedAsset("app.css").has_value());
  EXPECT_FALSE(EmbeddedAsset("static/../templates/layout.html").has_value());
}

}  // namespace
}  // namespace switchboard::gateway::web
