// Status propagation macros shared by every layer (Abseil 20220623 has none).
//
//   SB_RETURN_IF_ERROR(DoThing());
//   SB_ASSIGN_OR_RETURN(auto value, ComputeValue());
//
// Both evaluate their argument exactly once. Thread-safe (no state).
#ifndef SWITCHBOARD_COMMON_STATUS_MACROS_H_
#define SWITCHBOARD_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SB_RETURN_IF_ERROR(expr)                 \
  do {                                           \
    ::absl::Status sb_status_ = (expr);          \
    if (!sb_status_.ok()) return sb_status_;     \
  } while (false)

#define SB_STATUS_CONCAT_INNER_(a, b) a##b
#define SB_STATUS_CONCAT_(a, b) SB_STATUS_CONCAT_INNER_(a, b)

#define SB_ASSIGN_OR_RETURN(lhs, expr) \
  SB_ASSIGN_OR_RETURN_IMPL_(SB_STATUS_CONCAT_(sb_statusor_, __LINE__), lhs, expr)

#define SB_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                              \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // SWITCHBOARD_COMMON_STATUS_MACROS_H_
