// What a process holds, read from outside: resident memory and open file
// descriptors from /proc, and a role's connections from pg_stat_activity.
// For load tests that check nothing leaks.
#ifndef KOSAPO_TESTS_RESILIENCE_PROC_STATS_H_
#define KOSAPO_TESTS_RESILIENCE_PROC_STATS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace kosapo::resilience {

// VmRSS of `pid` in KiB.
absl::StatusOr<int64_t> ResidentKiB(pid_t pid);
// Entries of /proc/<pid>/fd.
absl::StatusOr<int> OpenFds(pid_t pid);
// Connections of `role` in pg_stat_activity, read through `admin_url`.
absl::StatusOr<int> PgConnections(const std::string& admin_url,
                                  const std::string& role);

}  // namespace kosapo::resilience

#endif  // KOSAPO_TESTS_RESILIENCE_PROC_STATS_H_
