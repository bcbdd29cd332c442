// Conversions between absl::Time and google.protobuf.Timestamp, and period tests.
// Thread-safe (pure functions).
#ifndef SWITCHBOARD_COMMON_TIME_UTIL_H_
#define SWITCHBOARD_COMMON_TIME_UTIL_H_

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "switchboard/v1/common.pb.h"

namespace switchboard {

inline google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t nanos = absl::ToUnixNanos(t);
  int64_t seconds = nanos / 1000000000;
  int64_t rem = nanos % 1000000000;
  if (rem < 0) {
    rem += 1000000000;
    --seconds;
  }
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(rem));
  return ts;
}

inline absl::Time FromProtoTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// True when `t` lies in [period.start, period.end); an unset bound is open.
inline bool PeriodContains(const v1::Period& period, absl::Time t) {
  if (period.has_start() && t < FromProtoTime(period.start())) return false;
  if (period.has_end() && t >= FromProtoTime(period.end())) return false;
  return true;
}

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_TIME_UTIL_H_
