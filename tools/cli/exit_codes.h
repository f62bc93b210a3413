// The exit codes of `kosapo`, a promise to scripts (README "The kosapo
// command-line client" lists them too): they never change meaning.
#ifndef KOSAPO_TOOLS_CLI_EXIT_CODES_H_
#define KOSAPO_TOOLS_CLI_EXIT_CODES_H_

#include "absl/status/status.h"

namespace kosapo::cli {

// Success.
inline constexpr int kExitOk = 0;
// Input rejected, wholly or in part: an import's lines the service refused
// (each is listed), or a file the service could not take.
inline constexpr int kExitRejected = 1;
// Usage: an unknown command or flag, a bad or missing value, an unreadable
// file, or a request the service called invalid.
inline constexpr int kExitUsage = 2;
// Unavailable: a service unreachable, not SERVING, or not answering within
// the deadline. Trying again later may work.
inline constexpr int kExitUnavailable = 3;
// Not authenticated or not permitted: no token, an expired or foreign one,
// or a role or scope that does not allow the call.
inline constexpr int kExitAuth = 4;
// Not found: the case, referral, round or municipality named does not exist
// (or is outside the caller's scope).
inline constexpr int kExitNotFound = 5;
// Not available yet: a report format or command this version of the
// services does not offer.
inline constexpr int kExitNotAvailable = 6;
// Any other failure; the message says what happened.
inline constexpr int kExitFailure = 7;

// The exit code for a failed command's status (never kExitOk or
// kExitRejected, which commands return themselves).
inline int ExitCodeOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return kExitUsage;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return kExitUnavailable;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return kExitAuth;
    case absl::StatusCode::kNotFound:
      return kExitNotFound;
    case absl::StatusCode::kUnimplemented:
      return kExitNotAvailable;
    default:
      return kExitFailure;
  }
}

}  // namespace kosapo::cli

#endif  // KOSAPO_TOOLS_CLI_EXIT_CODES_H_
