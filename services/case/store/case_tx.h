// What every case store shares: the caller recorded with each write and
// audit row, a case loaded inside a transaction with what decides access to
// it, and the one path every read or write of a case goes through
// (WithCase): load, authorize, check the etag, act, audit, bump the
// revision.
#ifndef KOSAPO_SERVICES_CASE_STORE_CASE_TX_H_
#define KOSAPO_SERVICES_CASE_STORE_CASE_TX_H_

#include <cstdint>
#include <functional>
#include <pqxx/result>
#include <pqxx/transaction>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/crypto/field_cipher.h"
#include "common/pg/arrays.h"
#include "common/pg/pool.h"
#include "common/pg/transaction.h"
#include "common/server/caller.h"
#include "kosapo/cases/v1/cases.pb.h"
#include "services/case/domain/case_rules.h"

namespace kosapo::cases {

// Who acts, for records, audit rows and events.
using Caller = server::Caller;

// Decides the caller's access to a case from its scope: an error
// (PERMISSION_DENIED, or NOT_FOUND to hide that the case exists) or the
// access granted.
using Authorize = std::function<absl::StatusOr<Access>(const CaseScope&)>;

// A case as loaded in a transaction.
struct CaseRecord {
  int64_t id = 0;
  CaseScope scope;
  absl::CivilDay opened;
  int64_t revision = 0;
  v1::CaseState state = v1::CASE_STATE_UNSPECIFIED;
  // The whole case, household included: redact before answering.
  v1::Case proto;
  // The audit row of this call (LoadCaseAudited), else 0.
  int64_t audit_id = 0;
  // Its personal data was erased after the retention period.
  bool erased = false;
};

// The columns CaseFromRow reads, for SELECT lists ("c." prefixed).
extern const char kCaseColumns[];

// The household's sealed fields (crypto::SealFields paths) and their place.
inline constexpr const char* kHouseholdText[] = {
    "note",           "address",        "phone",
    "guardians.name", "guardians.kana", "guardians.phone"};
inline constexpr char kHouseholdPlace[] = "cases.cases.household";

// Builds the API form of a row of kCaseColumns; LoadScopes adds its
// assignees and hubs. The household is opened with `cipher` (throws
// pg::StatusError when it does not open), or left out when `household` is
// false (lists, which never show it).
CaseRecord CaseFromRow(const pqxx::row& row, const crypto::FieldCipher& cipher,
                       bool household = true);

// Loads cases/{id} (FOR UPDATE when `lock`), or NOT_FOUND.
absl::StatusOr<CaseRecord> LoadCase(pqxx::work& tx, int64_t id, bool lock,
                                    const crypto::FieldCipher& cipher);
// LoadCase, writing the case's audit row (`access` "read" or "write") in
// the same statement: the caller must roll back unless the call succeeds.
absl::StatusOr<CaseRecord> LoadCaseAudited(pqxx::work& tx, int64_t id,
                                           bool lock, const Caller& caller,
                                           absl::string_view access,
                                           const crypto::FieldCipher& cipher);
// Loads the assignees and hubs of several cases at once and fills them in.
void LoadScopes(pqxx::work& tx, std::vector<CaseRecord>& records);

// Removes what `access` may not see.
v1::Case Redacted(const CaseRecord& record, Access access);

// PostgreSQL array literals, for $n::text[] and $n::bigint[].
using pg::IdArray;
using pg::TextArray;

// One audit row per case.
void Audit(pqxx::work& tx, const std::vector<int64_t>& case_ids,
           const Caller& caller, absl::string_view access);

// ABORTED when `etag` is given and is not the case's current one.
absl::Status CheckEtag(const CaseRecord& record, absl::string_view etag);

// FAILED_PRECONDITION for a withdrawn case: nothing more is recorded on it.
absl::Status RequireWritable(const CaseRecord& record);

// FAILED_PRECONDITION for any write to a case whose personal data was
// erased: what is left is statistics, and stays as it is.
absl::Status ErasedError(const CaseRecord& record);

// Ends a write to the case: revision + 1, update time; returns the
// new etag.
void Touch(pqxx::work& tx, CaseRecord& record);

// Recomputes the case's current approach status and state/outcome columns
// from its histories, and reloads it.
absl::StatusOr<CaseRecord> Refresh(pqxx::work& tx, int64_t id,
                                   const crypto::FieldCipher& cipher);

// Runs `fn` on cases/{id} in one transaction: load (locked for a write)
// and audit, authorize, fn; the audit row stays only when all succeed. A
// write must call Touch itself when it changed the case (a replay of a
// request that already took effect changes nothing).
template <typename Result>
absl::StatusOr<Result> WithCase(
    pg::Pool& pool, const crypto::FieldCipher& cipher,
    absl::string_view operation, int64_t id, const Caller& caller,
    const Authorize& authorize, bool write,
    const std::function<absl::StatusOr<Result>(pqxx::work&, CaseRecord&,
                                               Access)>& fn) {
  return pg::InTransaction(
      pool, operation, [&](pqxx::work& tx) -> absl::StatusOr<Result> {
        absl::StatusOr<CaseRecord> record = LoadCaseAudited(
            tx, id, write, caller, write ? "write" : "read", cipher);
        if (!record.ok()) {
          return record.status();
        }
        absl::StatusOr<Access> access = authorize(record->scope);
        if (!access.ok()) {
          return access.status();
        }
        if (write && record->erased) {
          return ErasedError(*record);
        }
        return fn(tx, *record, *access);  // not OK: rolled back, audit too
      });
}

}  // namespace kosapo::cases

#endif  // KOSAPO_SERVICES_CASE_STORE_CASE_TX_H_
