#include "tools/perf/report.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace switchboard::tools::perf {
namespace {

// 15523.4 -> "15,523"
std::string Count(double v) {
  const std::string digits = absl::StrFormat("%.0f", std::max(v, 0.0));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

// "1 writer", "16 writers"
std::string Counted(int n, absl::string_view noun) {
  return absl::StrCat(n, " ", noun, n == 1 ? "" : "s");
}

std::string Ms(double ms) { return absl::StrFormat("%.2f ms", ms); }

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", static_cast<int>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  return out + "\"";
}

std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  return absl::StrFormat("%.6g", v);
}

std::string PhaseJson(const std::optional<PhaseResult>& p) {
  if (!p.has_value()) return "null";
  return absl::StrCat(
      "{\"seconds\":", JsonNumber(p->seconds), ",\"rate_cap\":", JsonNumber(p->rate_cap),
      ",\"publishes\":", p->publishes, ",\"deliveries\":", p->deliveries,
      ",\"messages_delivered\":", p->messages_delivered,
      ",\"publishes_per_s\":", JsonNumber(p->publishes_per_s),
      ",\"deliveries_per_s\":", JsonNumber(p->deliveries_per_s),
      ",\"messages_delivered_per_s\":", JsonNumber(p->messages_delivered_per_s),
      ",\"latency_p50_ms\":", JsonNumber(p->latency_p50_ms),
      ",\"latency_p99_ms\":", JsonNumber(p->latency_p99_ms),
      ",\"latency_max_ms\":", JsonNumber(p->latency_max_ms),
      ",\"receipt_p50_ms\":", JsonNumber(p->receipt_p50_ms),
      ",\"receipt_p99_ms\":", JsonNumber(p->receipt_p99_ms),
      ",\"backlog_at_end\":", p->backlog_at_end,
      ",\"drain_seconds\":", JsonNumber(p->drain_seconds), ",\"undelivered\":", p->undelivered,
      ",\"duplicates\":", p->duplicates, ",\"unknown\":", p->unknown,
      ",\"gateway_cores\":", JsonNumber(p->gateway_cores),
      ",\"loadgen_cores\":", JsonNumber(p->loadgen_cores),
      ",\"other_cores\":", JsonNumber(p->other_cores), "}");
}

std::string RateJson(const std::optional<RateResult>& r) {
  if (!r.has_value()) return "null";
  return absl::StrCat("{\"seconds\":", JsonNumber(r->seconds), ",\"operations\":", r->operations,
                      ",\"per_s\":", JsonNumber(r->per_second),
                      ",\"p50_ms\":", JsonNumber(r->p50_ms), ",\"p99_ms\":", JsonNumber(r->p99_ms),
                      ",\"loadgen_cores\":", JsonNumber(r->loadgen_cores),
                      ",\"other_cores\":", JsonNumber(r->other_cores), "}");
}

std::string Ratio(double rate, const std::optional<RateResult>& rocksdb) {
  if (!rocksdb.has_value() || rocksdb->per_second <= 0) return "n/a";
  return absl::StrFormat("%.2f", rate / rocksdb->per_second);
}

std::string GatewayRow(const std::string& what, const PhaseResult& p, int fanout,
                       const std::optional<RateResult>& rocksdb) {
  return absl::StrCat("| ", what, " | ", Count(p.messages_delivered_per_s), " msgs/s delivered",
                      fanout == 1 ? "" : absl::StrCat(" to all ", fanout), " (",
                      Count(p.publishes_per_s), " publishes/s, ", Count(p.deliveries_per_s),
                      " deliveries/s) | ", Ms(p.latency_p50_ms), " | ", Ms(p.latency_p99_ms), " | ",
                      Ratio(p.messages_delivered_per_s, rocksdb), " | ",
                      absl::StrFormat("gateway %.2f + loadgen %.2f / %.2f", p.gateway_cores,
                                      p.loadgen_cores, p.other_cores),
                      " |\n");
}

std::string CpuCell(const RateResult& r) {
  return absl::StrFormat("%.2f / %.2f", r.loadgen_cores, r.other_cores);
}

// Other work on the machine above this takes cores the measurement needed.
constexpr double kBusyMachineCores = 0.25;

std::string PhaseDetails(const std::string& name, const PhaseResult& p) {
  return absl::StrCat("- ", name, ": Publish→receipt p50 ", Ms(p.receipt_p50_ms), ", p99 ",
                      Ms(p.receipt_p99_ms), "; publish→delivery max ", Ms(p.latency_max_ms), "; ",
                      p.backlog_at_end, " deliveries unread when the window closed, all read ",
                      absl::StrFormat("%.2f", p.drain_seconds), " s after the publishers stopped",
                      p.undelivered > 0 ? absl::StrCat(" (", p.undelivered, " NEVER ARRIVED)") : "",
                      "; ", p.duplicates, " duplicate and ", p.unknown, " unexpected deliveries\n");
}

}  // namespace

std::optional<double> RocksDbRatio(const RunReport& r) {
  if (!r.peak.has_value() || !r.rocksdb.has_value() || r.rocksdb->per_second <= 0) {
    return std::nullopt;
  }
  return r.peak->messages_delivered_per_s / r.rocksdb->per_second;
}

std::string MarkdownReport(const RunReport& r) {
  std::string out = absl::StrCat(
      "### loadgen: ", Counted(r.publishers, "publisher"),
      r.members == r.publishers ? std::string("") : absl::StrCat(" from ", Counted(r.members, "member")),
      ", ", r.size, "-byte messages, fan-out ",
      r.fanout, ", ", absl::StrFormat("%g", r.seconds), " s measured after ",
      absl::StrFormat("%g", r.warmup_seconds), " s warm-up\n\n", "Host: ", r.host, "; ",
      r.started_at,
      ". Gateway: the real `switchboard` binary over mutual TLS, WAL synced before each receipt, "
      "one pull subscriber per recipient acknowledging every delivery (window ",
      r.window, ").\n\n",
      "| what | rate | p50 | p99 | ratio to synced RocksDB | CPU cores: measured / other processes "
      "|\n",
      "|---|---|---:|---:|---:|---|\n");
  if (r.peak.has_value()) {
    const std::string what = r.peak->rate_cap > 0
                                 ? absl::StrCat("Switchboard publish → deliver, capped at ",
                                                Count(r.peak->rate_cap), " publishes/s")
                                 : "Switchboard publish → deliver (peak)";
    absl::StrAppend(&out, GatewayRow(what, *r.peak, r.fanout, r.rocksdb));
  }
  if (r.half.has_value()) {
    absl::StrAppend(&out, GatewayRow(absl::StrCat("Switchboard at half of peak (",
                                                  Count(r.half->rate_cap), " publishes/s offered)"),
                                     *r.half, r.fanout, r.rocksdb));
  }
  if (r.rocksdb.has_value()) {
    absl::StrAppend(&out, "| bare RocksDB synced WriteBatch (", Counted(r.publishers, "writer"),
                    ", ", r.fanout + 1, " × ", r.size, " B) | ", Count(r.rocksdb->per_second),
                    " batches/s | ", Ms(r.rocksdb->p50_ms), " | ", Ms(r.rocksdb->p99_ms),
                    " | 1.00 | ", CpuCell(*r.rocksdb), " |\n");
  }
  if (r.echo.has_value()) {
    absl::StrAppend(&out, "| bare gRPC TLS unary echo (", Counted(r.publishers, "caller"),
                    r.members == r.publishers
                        ? std::string(", each on its own connection, ")
                        : absl::StrCat(" on ", Counted(r.members, "connection"), ", "),
                    r.size, " B) | ", Count(r.echo->per_second),
                    " calls/s | ", Ms(r.echo->p50_ms), " | ", Ms(r.echo->p99_ms), " | ",
                    Ratio(r.echo->per_second, r.rocksdb), " | ", CpuCell(*r.echo), " |\n");
  }
  if (!r.peak.has_value() && !r.rocksdb.has_value() && !r.echo.has_value()) {
    absl::StrAppend(&out, "| (no figures: a step failed, see PROBLEM below) | | | | | |\n");
  }
  absl::StrAppend(&out, "\n");
  if (std::optional<double> ratio = RocksDbRatio(r)) {
    absl::StrAppend(
        &out, absl::StrFormat(
                  "publish→deliver throughput / bare synced RocksDB = %.2f (target ≥ %.1f): %s\n",
                  *ratio, kRatioTarget, *ratio >= kRatioTarget ? "met" : "NOT met"));
  }
  if (r.half.has_value()) {
    absl::StrAppend(
        &out,
        absl::StrFormat("publish→delivery p99 at half of peak = %.2f ms (target < %.0f ms): %s\n",
                        r.half->latency_p99_ms, kHalfPeakP99TargetMs,
                        r.half->latency_p99_ms < kHalfPeakP99TargetMs ? "met" : "NOT met"));
  }
  double busiest = 0;
  if (r.peak.has_value()) busiest = std::max(busiest, r.peak->other_cores);
  if (r.half.has_value()) busiest = std::max(busiest, r.half->other_cores);
  if (r.rocksdb.has_value()) busiest = std::max(busiest, r.rocksdb->other_cores);
  if (r.echo.has_value()) busiest = std::max(busiest, r.echo->other_cores);
  if (busiest > kBusyMachineCores) {
    absl::StrAppend(
        &out, absl::StrFormat(
                  "WARNING: other processes used up to %.2f of the %s during the run "
                  "(last column): the rows competed for CPU unevenly; rerun on a quiet machine "
                  "before comparing\n",
                  busiest, r.host));
  }
  absl::StrAppend(&out, "\n");
  if (r.peak.has_value()) absl::StrAppend(&out, PhaseDetails("peak", *r.peak));
  if (r.half.has_value()) absl::StrAppend(&out, PhaseDetails("half of peak", *r.half));

  absl::StrAppend(
      &out,
      "- CPU cores are averages over the measured window from /proc: the gateway process, "
      "loadgen itself (publishers and subscribers; both ends of a baseline), and everything "
      "else on the machine (other processes, kernel threads)\n");
  absl::StrAppend(
      &out,
      "- rates count the measured window only: publishes = receipts returned, deliveries = "
      "deliveries read and acknowledged, msgs/s = messages read by all recipients; latency = "
      "Publish call start → delivery read by the subscriber\n");
  for (const std::string& p : r.problems) absl::StrAppend(&out, "- PROBLEM: ", p, "\n");
  absl::StrAppend(&out, "\nCommand: `", r.command, "`\n");
  return out;
}

std::string JsonReport(const RunReport& r) {
  std::vector<std::string> problems;
  for (const std::string& p : r.problems) problems.push_back(JsonString(p));
  const std::optional<double> ratio = RocksDbRatio(r);
  return absl::StrCat(
      "{\"loadgen\":1,\"command\":", JsonString(r.command), ",\"host\":", JsonString(r.host),
      ",\"started_at\":", JsonString(r.started_at), ",\"publishers\":", r.publishers, ",\"members\":", r.members,
      ",\"size\":", r.size, ",\"fanout\":", r.fanout, ",\"seconds\":", JsonNumber(r.seconds),
      ",\"warmup_seconds\":", JsonNumber(r.warmup_seconds), ",\"window\":", r.window,
      ",\"peak\":", PhaseJson(r.peak), ",\"half\":", PhaseJson(r.half),
      ",\"rocksdb\":", RateJson(r.rocksdb), ",\"echo\":", RateJson(r.echo),
      ",\"ratio_to_rocksdb\":", ratio.has_value() ? JsonNumber(*ratio) : "null",
      ",\"ratio_target\":", JsonNumber(kRatioTarget),
      ",\"half_p99_target_ms\":", JsonNumber(kHalfPeakP99TargetMs),
      ",\"ok\":", r.problems.empty() ? "true" : "false", ",\"problems\":[",
      absl::StrJoin(problems, ","), "]}");
}

}  // namespace switchboard::tools::perf
