// SQL for screening templates (immutable versions) and rounds.
#ifndef KOSAPO_SERVICES_SCREENING_STORE_TEMPLATE_STORE_H_
#define KOSAPO_SERVICES_SCREENING_STORE_TEMPLATE_STORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/pg/pool.h"
#include "kosapo/screening/v1/screening.pb.h"
#include "services/screening/domain/template.h"
#include "services/screening/store/registry_store.h"

namespace kosapo::screening {

struct StoredTemplate {
  Template model;
  absl::Time create_time;
  // The code of the municipality that owns the key; empty for a shared
  // template (shipped with kosapo), which no one publishes versions of.
  std::string municipality;
};

class TemplateStore {
 public:
  explicit TemplateStore(pg::Pool& pool) : pool_(pool) {}

  // Stores `model` (already validated) as the key's next version, unless
  // the latest version has the same content: then returns that one. A new
  // key becomes `municipality`'s (FAILED_PRECONDITION when it is not
  // registered); PERMISSION_DENIED, with nothing stored, when the key
  // belongs to another municipality or is shared.
  absl::StatusOr<StoredTemplate> CreateVersion(Template model,
                                               absl::string_view municipality,
                                               const Actor& actor);
  // The shipped template: inserted if absent; FAILED_PRECONDITION if a
  // different text is stored under the same key and version.
  absl::Status EnsureShipped(const Template& model);
  // NOT_FOUND when there is no such version.
  absl::StatusOr<StoredTemplate> Get(absl::string_view key, int version);
  absl::StatusOr<std::vector<StoredTemplate>> ListLatest();

 private:
  pg::Pool& pool_;
};

class RoundStore {
 public:
  explicit RoundStore(pg::Pool& pool) : pool_(pool) {}

  // Creates the round, or returns the one created earlier with the same
  // request id. FAILED_PRECONDITION when the municipality or template does
  // not exist; PERMISSION_DENIED when the template is another
  // municipality's (a round uses its own municipality's or a shared one).
  absl::StatusOr<v1::Round> Create(absl::string_view municipality,
                                   const v1::Round& round,
                                   absl::string_view request_id,
                                   const Actor& actor);
  absl::StatusOr<v1::Round> Get(absl::string_view municipality, int64_t id);
  // fiscal_year 0 = all years.
  absl::StatusOr<std::vector<v1::Round>> List(absl::string_view municipality,
                                              int fiscal_year);
  absl::StatusOr<v1::Round> Close(absl::string_view municipality, int64_t id);

 private:
  pg::Pool& pool_;
};

}  // namespace kosapo::screening

#endif  // KOSAPO_SERVICES_SCREENING_STORE_TEMPLATE_STORE_H_
