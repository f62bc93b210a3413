// The reporting service's projections of the other services' feeds, and
// the counting queries the ward comparison runs on them. Apply* run inside
// the consumer's transaction (together with its checkpoint).
#ifndef KOSAPO_SERVICES_REPORTING_STORE_PROJECTION_STORE_H_
#define KOSAPO_SERVICES_REPORTING_STORE_PROJECTION_STORE_H_

#include <map>
#include <pqxx/transaction>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "common/events/consumer.h"
#include "common/pg/pool.h"
#include "kosapo/events/v1/events.pb.h"
#include "services/reporting/api/comparison.h"
#include "services/reporting/api/hub_report.h"

namespace kosapo::reporting {

class ProjectionStore {
 public:
  explicit ProjectionStore(pg::Pool& pool) : pool_(pool) {}

  // One event of each feed; events a report does not need are skipped.
  absl::Status ApplyScreening(pqxx::work& tx, const events::v1::Event& event);
  absl::Status ApplyCase(pqxx::work& tx, const events::v1::Event& event);
  absl::Status ApplyReferral(pqxx::work& tx, const events::v1::Event& event);

  // The municipality's areas in display order.
  absl::StatusOr<std::vector<AreaInfo>> Areas(const std::string& municipality);
  // Counts per area of the fiscal year's cohort as of `as_of`: cases opened
  // in the year on or before `as_of`, not withdrawn, with their approach
  // status, connection and outcome as of that day; pupils from the year's
  // enrollment. As of the year's end (31 March after it) they are read from
  // the year-end counts (migrations/0003_year_end_counts.sql), else summed
  // from the day counts (migrations/0005_day_counts.sql). An area may be
  // present with zero counts.
  absl::StatusOr<std::map<std::string, WardCounts>> Counts(
      const std::string& municipality, int fiscal_year, absl::CivilDay as_of);
  // The same counts, counted from the projections case by case: what the
  // year-end and day counts must equal (store/year_end_test.cc).
  absl::StatusOr<std::map<std::string, WardCounts>> ScanCounts(
      const std::string& municipality, int fiscal_year, absl::CivilDay as_of);
  // The city totals of every fiscal year before `fiscal_year` with cases or
  // enrollment, each as of its own year end, by year.
  absl::StatusOr<std::map<int, WardCounts>> EarlierYearTotals(
      const std::string& municipality, int fiscal_year);

  // How far each feed has been applied.
  absl::StatusOr<std::vector<events::CheckpointPosition>> FeedPositions() {
    return events::ReadCheckpoints(pool_);
  }

  // What the monthly report of the municipality's hub `hub_code` is built
  // from (api/hub_report.h), read in one snapshot: every version of the
  // hub (none: no such hub), the visits dated `first` to `last`, the usages
  // that ran or ended in those days, and the urgent reports raised in
  // [raised_from, raised_to) for cases with a usage of the hub.
  absl::StatusOr<HubMonthFacts> HubMonth(const std::string& municipality,
                                         const std::string& hub_code,
                                         absl::CivilDay first,
                                         absl::CivilDay last,
                                         absl::Time raised_from,
                                         absl::Time raised_to);

 private:
  // The hub events of the referral feed (store/hub_projection.cc).
  static absl::Status ApplyHub(pqxx::work& tx, const events::v1::Event& event);
  // Urgent reports of the case feed, for the hubs' reports.
  static absl::Status ApplyUrgent(pqxx::work& tx,
                                  const events::v1::Event& event);

  // Counts as of the year end, from the year-end counts.
  absl::StatusOr<std::map<std::string, WardCounts>> YearEndCounts(
      const std::string& municipality, int fiscal_year);
  // Counts as of `as_of`, from the day counts.
  absl::StatusOr<std::map<std::string, WardCounts>> DayCounts(
      const std::string& municipality, int fiscal_year, absl::CivilDay as_of);

  pg::Pool& pool_;
};

}  // namespace kosapo::reporting

#endif  // KOSAPO_SERVICES_REPORTING_STORE_PROJECTION_STORE_H_
