// Puts a sample city through the services' public gRPC APIs, as a city's
// systems and staff would: the registry and enrollment into screening;
// every fiscal year's round (a past-record round for a year that has
// ended), its sheets and meeting-I decisions, and then the cases the case
// service opened from the extractions; cases opened by staff, if any; their
// outreach, conferences, assessments, contacts and outcomes into case; the
// directory, the referrals that connected and the hub usage from application to
// visits into referral; and urgent reports from the hubs. Every write carries a
// request id derived from the city, so loading the same city again changes
// nothing (a retry never duplicates, and a second run of the suite reuses its
// database).
#ifndef KOSAPO_TOOLS_SAMPLE_LOADER_H_
#define KOSAPO_TOOLS_SAMPLE_LOADER_H_

#include <grpcpp/channel.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/auth/principal.h"
#include "tools/sample/generator.h"

namespace kosapo::sample {

struct LoadTargets {
  std::shared_ptr<grpc::Channel> screening;
  std::shared_ptr<grpc::Channel> cases;
  // Needed when the city has connected cases.
  std::shared_ptr<grpc::Channel> referral;
  // Signs a bearer token for a principal (development keys or tests).
  std::function<std::string(const auth::Principal&)> sign;
  // Parallel callers for the case-level writes.
  int concurrency = 4;
  // How long to wait for the case service to open the cases of the
  // city's extractions from the screening feed.
  absl::Duration case_feed_timeout = absl::Minutes(5);
  // Today in the city (Asia/Tokyo), which decides the fiscal years that
  // have ended and go into past-record rounds; unset: the real today.
  std::optional<absl::CivilDay> today;
};

// What has been loaded so far, for a progress display; updated as the load
// goes (read from another thread).
struct LoadProgress {
  std::atomic<int64_t> schools{0};
  std::atomic<int64_t> pupils{0};
  // Screening sheets taken in (or found in a round that no longer takes
  // them).
  std::atomic<int64_t> sheets{0};
  // Directory supports (systems, agencies, local resources, hubs).
  std::atomic<int64_t> supports{0};
  std::atomic<int64_t> cases{0};
  std::atomic<int64_t> referrals{0};
  std::atomic<int64_t> hub_usages{0};
  std::atomic<int64_t> visits{0};
  std::atomic<int64_t> urgent_reports{0};
  int64_t cases_total = 0;
  int64_t referrals_total = 0;
};

// What a full load of `city` amounts to, in the units of LoadProgress.
struct LoadTotals {
  int64_t schools = 0;
  int64_t pupils = 0;
  int64_t sheets = 0;
  int64_t supports = 0;
  int64_t cases = 0;
  int64_t referrals = 0;
  int64_t hub_usages = 0;
  int64_t visits = 0;
  int64_t urgent_reports = 0;
};
LoadTotals TotalsOf(const SampleCity& city);

// Loads `city`. The first failing call stops the load with its status and
// what was being loaded.
absl::Status LoadCity(const SampleCity& city, const LoadTargets& targets,
                      LoadProgress* progress);

}  // namespace kosapo::sample

#endif  // KOSAPO_TOOLS_SAMPLE_LOADER_H_
