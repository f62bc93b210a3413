// Reading the referral service's audit trail of a case.
#include "services/referral/store/audit_store.h"

#include <pqxx/result>
#include <set>

#include "common/base/proto_time.h"
#include "common/pg/transaction.h"
#include "services/referral/domain/fields.h"

namespace kosapo::referral {

absl::StatusOr<std::vector<TrailEntry>> AuditStore::Trail(
    const TrailQuery& query, const Caller& caller) {
  return pg::InTransaction(
      pool_, "list referral audit",
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<TrailEntry>> {
        std::vector<TrailEntry> page;
        std::set<std::string> shown;
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT a.id, (extract(epoch FROM a.access_time) * 1000000)"
                 "::bigint, a.resource, a.subject, a.role, a.method,"
                 " a.access, a.request_id, a.purpose"
                 " FROM access_audit a"
                 " WHERE a.resource IN ("
                 "   SELECT $5 || '/' || id FROM referrals"
                 "    WHERE municipality = $1 AND case_name = $2"
                 "   UNION ALL"
                 "   SELECT $6 || '/' || id FROM hub_usages"
                 "    WHERE municipality = $1 AND case_name = $2)"
                 "   AND ($3::bigint = 0 OR a.id < $3::bigint)"
                 " ORDER BY a.id DESC LIMIT $4 + 1",
                 query.municipality, query.case_name, query.before_id,
                 query.limit, std::string(kReferrals),
                 std::string(kHubUsages))) {
          v1::ReferralAuditEntry entry;
          entry.set_resource(row[2].as<std::string>());
          SetTimestampMicros(row[1].as<int64_t>(), entry.mutable_time());
          entry.set_subject(row[3].as<std::string>());
          entry.set_role(row[4].as<std::string>());
          entry.set_method(row[5].as<std::string>());
          entry.set_access(row[6].as<std::string>());
          entry.set_request_id(row[7].as<std::string>());
          entry.set_purpose(row[8].as<std::string>());
          if (static_cast<int>(page.size()) < query.limit) {
            shown.insert(entry.resource());
          }
          page.emplace_back(row[0].as<int64_t>(), std::move(entry));
        }
        Audit(tx, std::vector<std::string>(shown.begin(), shown.end()), caller,
              "read");
        return page;
      });
}

}  // namespace kosapo::referral
