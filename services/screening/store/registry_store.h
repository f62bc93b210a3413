// SQL for the registry: municipalities, areas, schools and enrollment. One
// short transaction per call; every change that other services must learn of
// is appended to the outbox in the same transaction, and only when something
// actually changed, so a repeated upsert is silent.
#ifndef KOSAPO_SERVICES_SCREENING_STORE_REGISTRY_STORE_H_
#define KOSAPO_SERVICES_SCREENING_STORE_REGISTRY_STORE_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/pg/pool.h"
#include "kosapo/screening/v1/screening.pb.h"

namespace kosapo::screening {

// Who asked, for the records and the events.
struct Actor {
  std::string subject;
  std::string trace_id;
};

struct EnrollmentResult {
  bool unchanged = false;
  int32_t schools = 0;
  int64_t pupils = 0;
};

class RegistryStore {
 public:
  explicit RegistryStore(pg::Pool& pool);

  absl::StatusOr<v1::Municipality> UpsertMunicipality(
      const v1::Municipality& municipality);
  // NOT_FOUND when unknown.
  absl::StatusOr<v1::Municipality> GetMunicipality(absl::string_view code);

  // FAILED_PRECONDITION when the municipality is unknown or another area
  // holds the display order.
  absl::StatusOr<v1::Area> UpsertArea(absl::string_view municipality,
                                      const v1::Area& area, const Actor& actor);
  absl::StatusOr<std::vector<v1::Area>> ListAreas(
      absl::string_view municipality);

  // FAILED_PRECONDITION when the area is unknown.
  absl::StatusOr<v1::School> UpsertSchool(absl::string_view municipality,
                                          const v1::School& school,
                                          const Actor& actor);
  // Schools after `after_code` in (area display order, code) order.
  struct SchoolPage {
    std::vector<v1::School> schools;
    bool more = false;
  };
  absl::StatusOr<SchoolPage> ListSchools(absl::string_view municipality,
                                         absl::string_view area_code,
                                         absl::string_view after_code,
                                         int limit);
  // Code -> kind of every school of the municipality.
  absl::StatusOr<std::map<std::string, v1::SchoolKind>> SchoolKinds(
      absl::string_view municipality);

  // Replaces the year's counts with `rows` (already validated) unless they
  // are equal to the stored ones.
  absl::StatusOr<EnrollmentResult> ReplaceEnrollment(
      absl::string_view municipality, int fiscal_year,
      const std::vector<v1::EnrollmentRow>& rows, const Actor& actor);
  absl::StatusOr<v1::Enrollment> GetEnrollment(absl::string_view municipality,
                                               int fiscal_year);

 private:
  pg::Pool& pool_;
};

// Resource names, "municipalities/27100/areas/27127".
std::string MunicipalityName(absl::string_view code);
std::string AreaName(absl::string_view municipality, absl::string_view code);
std::string SchoolName(absl::string_view municipality, absl::string_view code);

// The database form of a SchoolKind ("elementary", ...), and back.
absl::string_view SchoolKindToDb(v1::SchoolKind kind);
std::optional<v1::SchoolKind> SchoolKindFromDb(absl::string_view text);

}  // namespace kosapo::screening

#endif  // KOSAPO_SERVICES_SCREENING_STORE_REGISTRY_STORE_H_
