// Status helpers shared by every layer: early-return macros in the style of
// Abseil's internal ones (Abseil 20220623 ships none publicly).
#ifndef KOSAPO_COMMON_BASE_STATUS_H_
#define KOSAPO_COMMON_BASE_STATUS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define KOSAPO_STATUS_CONCAT_INNER_(a, b) a##b
#define KOSAPO_STATUS_CONCAT_(a, b) KOSAPO_STATUS_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function if `expr` is not OK.
#define KOSAPO_RETURN_IF_ERROR(expr)              \
  do {                                            \
    const ::absl::Status kosapo_status_ = (expr); \
    if (!kosapo_status_.ok()) {                   \
      return kosapo_status_;                      \
    }                                             \
  } while (false)

// Evaluates `expr` (an absl::StatusOr<T>); on error returns its status,
// otherwise moves the value into `lhs` (which may be a declaration).
#define KOSAPO_ASSIGN_OR_RETURN(lhs, expr) \
  KOSAPO_ASSIGN_OR_RETURN_IMPL_(           \
      KOSAPO_STATUS_CONCAT_(kosapo_statusor_, __LINE__), lhs, expr)
#define KOSAPO_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) {                                    \
    return statusor.status();                              \
  }                                                        \
  lhs = std::move(statusor).value()

#endif  // KOSAPO_COMMON_BASE_STATUS_H_
