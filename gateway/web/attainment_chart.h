// A goal's attainment ratings over time as a small chart drawn on the server: an
// inline SVG the page embeds (no script; SVG presentation attributes only, which a
// Content-Security-Policy `style-src 'self'` allows, never `style="..."`). Pure;
// thread-safe.
#ifndef SWITCHBOARD_GATEWAY_WEB_ATTAINMENT_CHART_H_
#define SWITCHBOARD_GATEWAY_WEB_ATTAINMENT_CHART_H_

#include <cstdint>
#include <string>

#include "switchboard/v1/payloads.pb.h"

namespace switchboard::gateway::web {

// HTML for the ratings of `goal` (progress entries with an attainment) on a scale
// from `min` to `max`: a 240×60 `<svg role="img">` with one point per rating in
// time order, joined by a line, and a dashed baseline at 0 when the scale spans it
// (GAS, −2..+2). Its aria-label and <title> say the same in words, e.g.
// "Attainment over time: −2 on 8 Oct, −1 on 20 Oct, 0 on 17 Nov, +1 on 24 Nov" (with
// years when the ratings span more than one; ratings shown signed when `min` < 0).
// A rating outside [min, max] is drawn at the edge and named as it is. Without
// ratings: `<p class="chart-empty">No ratings yet</p>`. Every piece of text in it
// is HTML-escaped, so the result may be shown raw ({{{chart}}}).
std::string AttainmentSvg(const v1::CarePlanItem& goal, int32_t min, int32_t max);

}  // namespace switchboard::gateway::web

#endif  // SWITCHBOARD_GATEWAY_WEB_ATTAINMENT_CHART_H_
