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
  // enrollment.
  absl::StatusOr<std::map<std::string, WardCounts>> Counts(
      const std::string& municipality, int fiscal_year, absl::CivilDay as_of);
  // Earlier fiscal years with cases or enrollment, oldest first.
  absl::StatusOr<std::vector<int>> EarlierYears(const std::string& municipality,
                                                int fiscal_year);

  // How far each feed has been applied.
  absl::StatusOr<std::vector<events::CheckpointPosition>> FeedPositions() {
    return events::ReadCheckpoints(pool_);
  }

 private:
  pg::Pool& pool_;
};

}  // namespace kosapo::reporting

#endif  // KOSAPO_SERVICES_REPORTING_STORE_PROJECTION_STORE_H_
