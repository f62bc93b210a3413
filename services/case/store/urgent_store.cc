#include "services/case/store/urgent_store.h"

#include <algorithm>
#include <pqxx/result>

#include "absl/strings/str_cat.h"
#include "common/base/proto_time.h"
#include "common/base/status.h"
#include "common/crypto/proto_fields.h"
#include "common/events/outbox.h"
#include "common/pg/errors.h"
#include "kosapo/cases/v1/events.pb.h"
#include "services/case/domain/enum_text.h"

namespace kosapo::cases {
namespace {

constexpr char kReportColumns[] =
    "id, case_id, area_code, category, description, raised_by,"
    " raised_by_role,"
    " (extract(epoch FROM raise_time) * 1000000)::bigint AS raise_us,"
    " (extract(epoch FROM due_time) * 1000000)::bigint AS due_us,"
    " routed_lead, routed_to,"
    " coalesce((extract(epoch FROM ack_time) * 1000000)::bigint, 0) AS ack_us,"
    " ack_by, ack_note";

std::string DescriptionContext(int64_t case_id) {
  return crypto::FieldContext("cases.urgent_reports.description",
                              CaseName(case_id));
}

std::string AckNoteContext(int64_t case_id) {
  return crypto::FieldContext("cases.urgent_reports.ack_note",
                              CaseName(case_id));
}

// Throws pg::StatusError when a sealed field does not open.
v1::UrgentReport ReportFromRow(const pqxx::row& row, absl::Time now,
                               const crypto::FieldCipher& cipher) {
  v1::UrgentReport report;
  const int64_t case_id = row["case_id"].as<int64_t>();
  report.set_name(ChildName(case_id, "urgentReports", row["id"].as<int64_t>()));
  report.set_case_(CaseName(case_id));
  report.set_area_code(row["area_code"].as<std::string>());
  report.set_category(
      EnumFromText<v1::UrgentCategory>(row["category"].as<std::string>()));
  report.set_description(pg::ValueOrThrow(cipher.Open(
      row["description"].as<std::string>(), DescriptionContext(case_id))));
  report.set_raised_by(row["raised_by"].as<std::string>());
  report.set_raised_by_role(row["raised_by_role"].as<std::string>());
  SetTimestampMicros(row["raise_us"].as<int64_t>(),
                     report.mutable_raise_time());
  const int64_t due_us = row["due_us"].as<int64_t>();
  SetTimestampMicros(due_us, report.mutable_due_time());
  report.set_routed_to_lead(
      EnumFromText<v1::Lead>(row["routed_lead"].as<std::string>()));
  report.set_routed_to(row["routed_to"].as<std::string>());
  const int64_t ack_us = row["ack_us"].as<int64_t>();
  if (ack_us != 0) {
    report.set_acknowledged(true);
    report.set_acknowledged_by(row["ack_by"].as<std::string>());
    report.set_acknowledge_note(pg::ValueOrThrow(cipher.Open(
        row["ack_note"].as<std::string>(), AckNoteContext(case_id))));
    SetTimestampMicros(ack_us, report.mutable_acknowledge_time());
    report.set_overdue(ack_us > due_us);
  } else {
    report.set_overdue(absl::ToUnixMicros(now) > due_us);
  }
  return report;
}

}  // namespace

absl::StatusOr<v1::UrgentReport> UrgentStore::Raise(
    int64_t case_id, const v1::RaiseUrgentReportRequest& request,
    absl::Time now, absl::Duration ack_within, const Caller& caller,
    const Authorize& may_raise) {
  return WithCase<v1::UrgentReport>(
      pool_, cipher_, "raise urgent report", case_id, caller, may_raise, true,
      [&](pqxx::work& tx, CaseRecord& record,
          Access) -> absl::StatusOr<v1::UrgentReport> {
        const pqxx::result replay = tx.exec_params(
            absl::StrCat("SELECT ", kReportColumns,
                         " FROM urgent_reports WHERE case_id = $1"
                         " AND request_id = $2"),
            case_id, request.request_id());
        if (!replay.empty()) {
          // Request ids are the clients', and two raisers on one case (its
          // school and its hub) may pick the same: the stored report goes
          // back only to whoever raised it, as the others may not read it.
          if (replay[0]["raised_by"].as<std::string>() != caller.subject) {
            return absl::AlreadyExistsError(
                "request_id: already used on this case by someone else; "
                "send a new request id");
          }
          return ReportFromRow(replay[0], now, cipher_);
        }
        KOSAPO_RETURN_IF_ERROR(RequireWritable(record));
        // Routed to the person in charge with the lead's role, else to the
        // lead's desk of the area.
        const v1::Lead lead = record.proto.lead();
        std::string routed_to;
        for (const v1::Assignee& assignee : record.proto.assignees()) {
          if (assignee.role() == LeadRole(lead)) {
            routed_to = assignee.subject();
            break;
          }
        }
        const v1::UrgentReport& in = request.report();
        KOSAPO_ASSIGN_OR_RETURN(
            const std::string description,
            cipher_.Seal(in.description(), DescriptionContext(case_id)));
        const pqxx::row row = tx.exec_params1(
            absl::StrCat(
                "INSERT INTO urgent_reports (case_id, municipality, area_code,"
                " category, description, raised_by, raised_by_role,"
                " raise_time, due_time, routed_lead, routed_to, request_id)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7,"
                " to_timestamp($8::double precision / 1000000),"
                " to_timestamp($9::double precision / 1000000),"
                " $10, $11, $12) RETURNING ",
                kReportColumns),
            case_id, record.scope.municipality, record.scope.area_code,
            ToText(in.category()), description, caller.subject, caller.role,
            absl::ToUnixMicros(now), absl::ToUnixMicros(now + ack_within),
            ToText(lead), routed_to, request.request_id());
        v1::UrgentReport stored = ReportFromRow(row, now, cipher_);
        v1::UrgentReportRaised event;
        event.set_report(stored.name());
        event.set_case_(stored.case_());
        event.set_municipality_code(record.scope.municipality);
        event.set_area_code(stored.area_code());
        event.set_category(stored.category());
        *event.mutable_raise_time() = stored.raise_time();
        *event.mutable_due_time() = stored.due_time();
        event.set_routed_to_lead(stored.routed_to_lead());
        event.set_routed_to(stored.routed_to());
        events::AppendEvent(tx, stored.name(), event, caller.trace_id);
        return stored;
      });
}

absl::StatusOr<v1::UrgentReport> UrgentStore::Acknowledge(
    int64_t case_id, int64_t report_id, const std::string& note, absl::Time now,
    const Caller& caller,
    const std::function<absl::Status(
        const CaseScope&, const v1::UrgentReport&)>& may_acknowledge) {
  const std::string name = ChildName(case_id, "urgentReports", report_id);
  return pg::InTransaction(
      pool_, "acknowledge urgent report",
      [&](pqxx::work& tx) -> absl::StatusOr<v1::UrgentReport> {
        const pqxx::result rows = tx.exec_params(
            absl::StrCat("SELECT ", kReportColumns,
                         " FROM urgent_reports WHERE id = $1 AND case_id = $2"
                         " FOR UPDATE"),
            report_id, case_id);
        if (rows.empty()) {
          return absl::NotFoundError(absl::StrCat(name, " not found"));
        }
        KOSAPO_ASSIGN_OR_RETURN(const CaseRecord record,
                                LoadCase(tx, case_id, false, cipher_));
        v1::UrgentReport report = ReportFromRow(rows[0], now, cipher_);
        const absl::Status allowed = may_acknowledge(record.scope, report);
        if (absl::IsNotFound(allowed)) {
          // Another municipality's report: as if it did not exist.
          return absl::NotFoundError(absl::StrCat(name, " not found"));
        }
        KOSAPO_RETURN_IF_ERROR(allowed);
        if (report.acknowledged()) {
          return report;
        }
        KOSAPO_ASSIGN_OR_RETURN(const std::string sealed_note,
                                cipher_.Seal(note, AckNoteContext(case_id)));
        const pqxx::row row = tx.exec_params1(
            absl::StrCat("UPDATE urgent_reports SET"
                         " ack_time = to_timestamp($2::double precision"
                         "                         / 1000000),"
                         " ack_by = $3, ack_note = $4 WHERE id = $1"
                         " RETURNING ",
                         kReportColumns),
            report_id, absl::ToUnixMicros(now), caller.subject, sealed_note);
        report = ReportFromRow(row, now, cipher_);
        Audit(tx, {case_id}, caller, "write");
        v1::UrgentReportAcknowledged event;
        event.set_report(report.name());
        event.set_case_(report.case_());
        event.set_municipality_code(record.scope.municipality);
        *event.mutable_acknowledge_time() = report.acknowledge_time();
        event.set_overdue(report.overdue());
        events::AppendEvent(tx, report.name(), event, caller.trace_id);
        return report;
      });
}

absl::StatusOr<std::vector<std::pair<int64_t, v1::UrgentReport>>>
UrgentStore::ListOpen(const UrgentFilter& filter, int audited,
                      const Caller& caller) {
  using Page = std::vector<std::pair<int64_t, v1::UrgentReport>>;
  return pg::InTransaction(
      pool_, "list urgent reports",
      [&](pqxx::work& tx) -> absl::StatusOr<Page> {
        // Two index-backed branches: the caller's areas, and what is routed
        // to the caller by name or by lead.
        std::string where =
            "municipality = $1 AND ack_time IS NULL"
            " AND (NOT $5 OR due_time < to_timestamp($6::double precision"
            "                                        / 1000000))"
            " AND (due_time, id) > (to_timestamp($7::double precision"
            "                                    / 1000000), $8)";
        std::string sql;
        if (filter.routed_to.empty()) {
          sql = absl::StrCat("SELECT ", kReportColumns,
                             " FROM urgent_reports WHERE ", where,
                             " AND area_code = ANY($2::text[])"
                             " AND $3::text = '' AND $4::text = ''");
        } else {
          sql = absl::StrCat(
              "SELECT ", kReportColumns, " FROM urgent_reports WHERE ", where,
              " AND (routed_to = $3 OR (routed_to = '' AND routed_lead = $4"
              "      AND area_code = ANY($2::text[])))");
        }
        sql += " ORDER BY due_time, id LIMIT $9";
        const int64_t after_due =
            filter.after_id == 0 ? 0 : filter.after_due_us;
        Page page;
        std::vector<int64_t> row_case_ids;
        for (const pqxx::row& row :
             tx.exec_params(sql, filter.municipality, TextArray(filter.areas),
                            filter.routed_to, filter.lead, filter.overdue_only,
                            absl::ToUnixMicros(filter.now), after_due,
                            filter.after_id, filter.limit)) {
          v1::UrgentReport report = ReportFromRow(row, filter.now, cipher_);
          row_case_ids.push_back(row["case_id"].as<int64_t>());
          page.emplace_back(row["due_us"].as<int64_t>(), std::move(report));
        }
        std::vector<int64_t> case_ids;
        for (int i = 0; i < static_cast<int>(page.size()) && i < audited; ++i) {
          const int64_t id = row_case_ids[i];
          if (std::find(case_ids.begin(), case_ids.end(), id) ==
              case_ids.end()) {
            case_ids.push_back(id);
          }
        }
        Audit(tx, case_ids, caller, "read");
        return page;
      });
}

}  // namespace kosapo::cases
