#include "gateway/web/attainment_chart.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gateway/web/page_text.h"
#include "gateway/web/template.h"
#include "switchboard/common/time_util.h"

namespace switchboard::gateway::web {
namespace {

// Geometry of the chart, in SVG user units (= CSS pixels at the natural size).
constexpr double kWidth = 240;
constexpr double kHeight = 60;
constexpr double kLeft = 24;  // room for the scale's labels
constexpr double kRight = 8;
constexpr double kTop = 8;
constexpr double kBottom = 8;

// Colours chosen for contrast on white: the line and points ≥ 7:1 (WCAG 1.4.11 asks
// 3:1 for graphics), the labels ≥ 4.5:1.
constexpr char kInk[] = "#1d4f91";
constexpr char kGrey[] = "#505a5f";

struct Point {
  absl::Time at;
  bool dated;
  int32_t value;
};

std::string Num(double v) { return absl::StrFormat("%.1f", v); }

}  // namespace

std::string AttainmentSvg(const v1::CarePlanItem& goal, int32_t min, int32_t max) {
  std::vector<Point> points;
  for (const v1::ProgressEntry& e : goal.progress()) {
    if (!e.has_attainment()) continue;
    points.push_back({FromProtoTime(e.at()), IsSet(e.at()), e.attainment()});
  }
  if (points.empty()) return "<p class=\"chart-empty\">No ratings yet</p>";
  std::stable_sort(points.begin(), points.end(),
                   [](const Point& a, const Point& b) { return a.at < b.at; });
  if (max <= min) max = min + 1;
  const bool signed_scale = min < 0;

  // Years are named when the dated ratings are not all of one year.
  bool several_years = false;
  for (const Point& p : points) {
    if (p.dated && points.front().dated &&
        absl::ToCivilYear(p.at, absl::UTCTimeZone()) !=
            absl::ToCivilYear(points.front().at, absl::UTCTimeZone())) {
      several_years = true;
    }
  }
  std::vector<std::string> words;
  for (const Point& p : points) {
    words.push_back(
        absl::StrCat(RatingText(p.value, signed_scale), " ",
                     p.dated ? absl::StrCat("on ", DayText(p.at, several_years)) : "undated"));
  }
  const std::string label =
      HtmlEscape(absl::StrCat("Attainment over time: ", absl::StrJoin(words, ", ")));

  const double plot_w = kWidth - kLeft - kRight;
  const double plot_h = kHeight - kTop - kBottom;
  auto y_of = [&](int32_t v) {
    const int32_t clamped = std::clamp(v, min, max);
    return kTop + plot_h * static_cast<double>(max - clamped) / static_cast<double>(max - min);
  };
  // Spaced by time (a long gap shows as one), or evenly when all share one time.
  const absl::Duration span = points.back().at - points.front().at;
  auto x_of = [&](size_t i) {
    if (points.size() == 1) return kLeft + plot_w / 2;
    if (span <= absl::ZeroDuration()) {
      return kLeft + plot_w * static_cast<double>(i) / static_cast<double>(points.size() - 1);
    }
    return kLeft + plot_w * absl::FDivDuration(points[i].at - points.front().at, span);
  };

  std::string svg = absl::StrCat(
      "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"", label,
      "\" viewBox=\"0 0 ", kWidth, " ", kHeight, "\" width=\"", kWidth, "\" height=\"", kHeight,
      "\"><title>", label, "</title>");
  // The scale's ends, and the baseline at 0 when the scale spans it.
  for (int32_t v : {max, min}) {
    absl::StrAppend(&svg, "<text x=\"2\" y=\"", Num(y_of(v) + 3), "\" font-size=\"9\" fill=\"",
                    kGrey, "\">", HtmlEscape(RatingText(v, signed_scale)), "</text>");
  }
  if (min < 0 && max > 0) {
    absl::StrAppend(&svg, "<line x1=\"", Num(kLeft), "\" y1=\"", Num(y_of(0)), "\" x2=\"",
                    Num(kWidth - kRight), "\" y2=\"", Num(y_of(0)), "\" stroke=\"", kGrey,
                    "\" stroke-width=\"1\" stroke-dasharray=\"4 3\"/>");
  }
  if (points.size() > 1) {
    std::vector<std::string> coords;
    for (size_t i = 0; i < points.size(); ++i) {
      coords.push_back(absl::StrCat(Num(x_of(i)), ",", Num(y_of(points[i].value))));
    }
    absl::StrAppend(&svg, "<polyline points=\"", absl::StrJoin(coords, " "),
                    "\" fill=\"none\" stroke=\"", kInk, "\" stroke-width=\"2\"/>");
  }
  for (size_t i = 0; i < points.size(); ++i) {
    absl::StrAppend(&svg, "<circle cx=\"", Num(x_of(i)), "\" cy=\"", Num(y_of(points[i].value)),
                    "\" r=\"3.5\" fill=\"", kInk, "\"/>");
  }
  absl::StrAppend(&svg, "</svg>");
  return svg;
}

}  // namespace switchboard::gateway::web
