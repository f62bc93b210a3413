// The directory of supports in PostgreSQL: organizations, their locations
// and supports (hubs among them), created, changed with a field mask and
// searched. Every change appends the whole entry to the outbox in the same
// transaction (directory entries are public information).
#ifndef KOSAPO_SERVICES_REFERRAL_STORE_DIRECTORY_STORE_H_
#define KOSAPO_SERVICES_REFERRAL_STORE_DIRECTORY_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/pg/pool.h"
#include "kosapo/referral/v1/referral.pb.h"
#include "services/referral/store/records.h"

namespace kosapo::referral {

// An error unless the caller may write the directory of a municipality;
// run on the entry's municipality once it is known, with what a NOT_FOUND
// would name (the entry, or the field naming it): entries have ids shared
// by every city, and another city's must answer as a missing one.
using MayWrite = std::function<absl::Status(absl::string_view municipality,
                                            absl::string_view record)>;

struct SupportFilter {
  std::string municipality;
  // Supports serving this area or the whole municipality (when set).
  std::string area_code;
  v1::SupportCategory category = v1::SUPPORT_CATEGORY_UNSPECIFIED;
  std::string hub_code;
  // Open at this local time (when set).
  std::optional<absl::CivilSecond> open_at;
  CreatedAfter after;
  int limit = 100;
};

class DirectoryStore {
 public:
  explicit DirectoryStore(pg::Pool& pool) : pool_(pool) {}

  // Creates are idempotent on the caller's request id; updates change the
  // fields of `mask` (validated paths), check the etag when one is given
  // and validate the whole entry after the change.
  absl::StatusOr<v1::Organization> CreateOrganization(
      const std::string& municipality, const v1::Organization& input,
      const Caller& caller);
  absl::StatusOr<v1::Organization> GetOrganization(int64_t id);
  absl::StatusOr<v1::Organization> UpdateOrganization(
      int64_t id, const v1::Organization& changes,
      const std::vector<std::string>& mask, const Caller& caller,
      const MayWrite& may_write);
  // Up to `limit` + 1 (the last only tells that another page follows),
  // oldest first, after `after`.
  absl::StatusOr<std::vector<v1::Organization>> ListOrganizations(
      const std::string& municipality, const CreatedAfter& after, int limit);

  absl::StatusOr<v1::Location> CreateLocation(const v1::Location& input,
                                              const Caller& caller,
                                              const MayWrite& may_write);
  absl::StatusOr<v1::Location> GetLocation(int64_t id);
  absl::StatusOr<v1::Location> UpdateLocation(
      int64_t id, const v1::Location& changes,
      const std::vector<std::string>& mask, const Caller& caller,
      const MayWrite& may_write);
  absl::StatusOr<std::vector<v1::Location>> ListLocations(
      int64_t organization_id);

  // A support's locations must be its organization's; a hub's code is
  // unique (ALREADY_EXISTS names the hub that has it).
  absl::StatusOr<v1::Support> CreateSupport(const v1::Support& input,
                                            const Caller& caller,
                                            const MayWrite& may_write);
  absl::StatusOr<v1::Support> GetSupport(int64_t id);
  absl::StatusOr<v1::Support> UpdateSupport(
      int64_t id, const v1::Support& changes,
      const std::vector<std::string>& mask, const Caller& caller,
      const MayWrite& may_write);
  // Up to filter.limit + 1 matches, oldest first.
  absl::StatusOr<std::vector<v1::Support>> SearchSupports(
      const SupportFilter& filter);

 private:
  pg::Pool& pool_;
};

}  // namespace kosapo::referral

#endif  // KOSAPO_SERVICES_REFERRAL_STORE_DIRECTORY_STORE_H_
