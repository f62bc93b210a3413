#include "services/reporting/store/projection_store.h"

#include <pqxx/result>

#include "common/base/status.h"
#include "common/pg/transaction.h"
#include "common/types/api_types.h"
#include "kosapo/cases/v1/events.pb.h"
#include "kosapo/referral/v1/events.pb.h"
#include "kosapo/screening/v1/events.pb.h"
#include "services/reporting/store/unpack.h"

namespace kosapo::reporting {
namespace {

namespace cv1 = ::kosapo::cases::v1;
namespace rv1 = ::kosapo::referral::v1;
namespace sv1 = ::kosapo::screening::v1;

// The approach status as the case service stores it.
const char* StatusText(cv1::ApproachStatus status) {
  switch (status) {
    case cv1::APPROACH_STATUS_IN_PREPARATION:
      return "in_preparation";
    case cv1::APPROACH_STATUS_OUTREACH_DONE:
      return "outreach_done";
    case cv1::APPROACH_STATUS_NOT_POSSIBLE:
      return "not_possible";
    default:
      return "";
  }
}

const char* OutcomeText(cv1::Outcome outcome) {
  return outcome == cv1::OUTCOME_IMPROVED_RESOLVED ? "improved_resolved"
                                                   : "other_closure";
}

// Pupils enrolled in the year per area: the base of every rate, whether
// the case counts are scanned or read from the year-end totals.
void AddAreaPupils(pqxx::work& tx, const std::string& municipality,
                   int fiscal_year, std::map<std::string, WardCounts>& counts) {
  for (const pqxx::row& row :
       tx.exec_params("SELECT area_code, sum(pupils)::bigint FROM enrollment"
                      " WHERE municipality = $1 AND fiscal_year = $2"
                      " GROUP BY area_code",
                      municipality, fiscal_year)) {
    counts[row[0].as<std::string>()].pupils = row[1].as<int64_t>();
  }
}

// The case counts in columns 1 to 6 of `row`, in WardCounts' order; every
// query reading them selects them so.
void SetCaseCounts(const pqxx::row& row, WardCounts& c) {
  c.target = row[1].as<int64_t>();
  c.outreach_done = row[2].as<int64_t>();
  c.connected = row[3].as<int64_t>();
  c.preparing = row[4].as<int64_t>();
  c.unable = row[5].as<int64_t>();
  c.resolved = row[6].as<int64_t>();
}

}  // namespace

absl::Status ProjectionStore::ApplyScreening(pqxx::work& tx,
                                             const events::v1::Event& event) {
  const google::protobuf::Any& payload = event.payload();
  if (payload.Is<sv1::AreaChanged>()) {
    sv1::AreaChanged area;
    KOSAPO_RETURN_IF_ERROR(Unpack(event, &area));
    tx.exec_params0(
        "INSERT INTO areas (municipality, code, display_name, display_order,"
        " display_name_en)"
        " VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (municipality, code) DO UPDATE SET"
        " display_name = excluded.display_name,"
        " display_order = excluded.display_order,"
        " display_name_en = excluded.display_name_en",
        area.municipality_code(), area.area().code(),
        area.area().display_name(), area.area().display_order(),
        area.area().display_name_en());
  } else if (payload.Is<sv1::EnrollmentLoaded>()) {
    sv1::EnrollmentLoaded loaded;
    KOSAPO_RETURN_IF_ERROR(Unpack(event, &loaded));
    // A load replaces the year.
    tx.exec_params0(
        "DELETE FROM enrollment WHERE municipality = $1 AND fiscal_year = $2",
        loaded.municipality_code(), loaded.fiscal_year());
    for (const sv1::SchoolEnrollment& school : loaded.schools()) {
      tx.exec_params0(
          "INSERT INTO enrollment (municipality, fiscal_year, school_code,"
          " area_code, pupils) VALUES ($1, $2, $3, $4, $5)",
          loaded.municipality_code(), loaded.fiscal_year(),
          school.school_code(), school.area_code(), school.pupils());
    }
  }
  return absl::OkStatus();
}

absl::Status ProjectionStore::ApplyCase(pqxx::work& tx,
                                        const events::v1::Event& event) {
  KOSAPO_RETURN_IF_ERROR(ApplyUrgent(tx, event));
  const google::protobuf::Any& payload = event.payload();
  if (payload.Is<cv1::CaseOpened>()) {
    cv1::CaseOpened opened;
    KOSAPO_RETURN_IF_ERROR(Unpack(event, &opened));
    // Opened, or back after a withdrawal.
    tx.exec_params0(
        "INSERT INTO cases (name, municipality, area_code, fiscal_year,"
        " opened_date) VALUES ($1, $2, $3, $4, $5::date)"
        " ON CONFLICT (name) DO UPDATE SET withdrawn = false,"
        " area_code = excluded.area_code",
        opened.case_(), opened.municipality_code(), opened.area_code(),
        opened.fiscal_year(), DateToSql(opened.opened_date()));
  } else if (payload.Is<cv1::CaseWithdrawn>()) {
    cv1::CaseWithdrawn withdrawn;
    KOSAPO_RETURN_IF_ERROR(Unpack(event, &withdrawn));
    tx.exec_params0("UPDATE cases SET withdrawn = true WHERE name = $1",
                    withdrawn.case_());
  } else if (payload.Is<cv1::CaseDetailsChanged>()) {
    cv1::CaseDetailsChanged details;
    KOSAPO_RETURN_IF_ERROR(Unpack(event, &details));
    tx.exec_params0("UPDATE cases SET area_code = $2 WHERE name = $1",
                    details.case_(), details.area_code());
  } else if (payload.Is<cv1::ApproachStatusChanged>()) {
    cv1::ApproachStatusChanged approach;
    KOSAPO_RETURN_IF_ERROR(Unpack(event, &approach));
    tx.exec_params0(
        "INSERT INTO approach_changes (seq, case_name, status, effective_date)"
        " VALUES ($1, $2, $3, $4::date) ON CONFLICT (seq) DO NOTHING",
        event.sequence(), approach.case_(),
        std::string(StatusText(approach.status())),
        DateToSql(approach.effective_date()));
  } else if (payload.Is<cv1::OutcomeRecorded>()) {
    cv1::OutcomeRecorded outcome;
    KOSAPO_RETURN_IF_ERROR(Unpack(event, &outcome));
    tx.exec_params0(
        "INSERT INTO outcome_changes (seq, case_name, kind, effective_date)"
        " VALUES ($1, $2, $3, $4::date) ON CONFLICT (seq) DO NOTHING",
        event.sequence(), outcome.case_(),
        std::string(OutcomeText(outcome.outcome())),
        DateToSql(outcome.effective_date()));
  } else if (payload.Is<cv1::CaseReopened>()) {
    cv1::CaseReopened reopened;
    KOSAPO_RETURN_IF_ERROR(Unpack(event, &reopened));
    tx.exec_params0(
        "INSERT INTO outcome_changes (seq, case_name, kind, effective_date)"
        " VALUES ($1, $2, 'reopened', $3::date) ON CONFLICT (seq) DO NOTHING",
        event.sequence(), reopened.case_(),
        DateToSql(reopened.effective_date()));
  }
  return absl::OkStatus();
}

absl::Status ProjectionStore::ApplyReferral(pqxx::work& tx,
                                            const events::v1::Event& event) {
  KOSAPO_RETURN_IF_ERROR(ApplyHub(tx, event));
  const google::protobuf::Any& payload = event.payload();
  if (payload.Is<rv1::ReferralConnected>()) {
    rv1::ReferralConnected connected;
    KOSAPO_RETURN_IF_ERROR(Unpack(event, &connected));
    tx.exec_params0(
        "INSERT INTO connections (source, case_name, effective_date)"
        " VALUES ($1, $2, $3::date) ON CONFLICT (source) DO NOTHING",
        connected.referral(), connected.case_(),
        DateToSql(connected.effective_date()));
  } else if (payload.Is<rv1::ReferralRevoked>()) {
    // A revoked referral never counted: it was a mistake.
    rv1::ReferralRevoked revoked;
    KOSAPO_RETURN_IF_ERROR(Unpack(event, &revoked));
    tx.exec_params0("UPDATE connections SET revoked = true WHERE source = $1",
                    revoked.referral());
  } else if (payload.Is<rv1::HubUsageStarted>()) {
    rv1::HubUsageStarted started;
    KOSAPO_RETURN_IF_ERROR(Unpack(event, &started));
    // Sent again with an earlier date when an earlier visit is recorded
    // late: the latest event holds.
    tx.exec_params0(
        "INSERT INTO connections (source, case_name, effective_date)"
        " VALUES ($1, $2, $3::date) ON CONFLICT (source) DO UPDATE SET"
        " effective_date = excluded.effective_date",
        started.usage(), started.case_(), DateToSql(started.start_date()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AreaInfo>> ProjectionStore::Areas(
    const std::string& municipality) {
  return pg::InTransaction(
      pool_, "read areas",
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<AreaInfo>> {
        std::vector<AreaInfo> areas;
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT code, display_name, display_order, display_name_en"
                 "  FROM areas"
                 " WHERE municipality = $1 ORDER BY display_order, code",
                 municipality)) {
          areas.push_back({row[0].as<std::string>(), row[1].as<std::string>(),
                           row[2].as<int>(), row[3].as<std::string>()});
        }
        return areas;
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<std::map<std::string, WardCounts>> ProjectionStore::Counts(
    const std::string& municipality, int fiscal_year, absl::CivilDay as_of) {
  if (as_of == absl::CivilDay(fiscal_year + 1, 3, 31)) {
    return YearEndCounts(municipality, fiscal_year);
  }
  return DayCounts(municipality, fiscal_year, as_of);
}

absl::StatusOr<std::map<std::string, WardCounts>> ProjectionStore::ScanCounts(
    const std::string& municipality, int fiscal_year, absl::CivilDay as_of) {
  using Result = std::map<std::string, WardCounts>;
  return pg::InTransaction(
      pool_, "count ward table",
      [&](pqxx::work& tx) -> absl::StatusOr<Result> {
        Result counts;
        const std::string day = DayToSql(as_of);
        AddAreaPupils(tx, municipality, fiscal_year, counts);
        for (const pqxx::row& row : tx.exec_params(
                 // The year's cases are joined in each part rather than
                 // taken from one shared CTE, which PostgreSQL would
                 // materialize and join without statistics.
                 "WITH status AS ("
                 "  SELECT DISTINCT ON (a.case_name) a.case_name, a.status"
                 "    FROM approach_changes a JOIN cases c"
                 "      ON c.name = a.case_name"
                 "   WHERE c.municipality = $1 AND c.fiscal_year = $2"
                 "     AND a.effective_date <= $3::date"
                 "   ORDER BY a.case_name, a.effective_date DESC, a.seq DESC),"
                 " outcome AS ("
                 "  SELECT DISTINCT ON (o.case_name) o.case_name, o.kind"
                 "    FROM outcome_changes o JOIN cases c"
                 "      ON c.name = o.case_name"
                 "   WHERE c.municipality = $1 AND c.fiscal_year = $2"
                 "     AND o.effective_date <= $3::date"
                 "   ORDER BY o.case_name, o.effective_date DESC, o.seq DESC),"
                 " connected AS ("
                 "  SELECT DISTINCT k.case_name FROM connections k"
                 "    JOIN cases c ON c.name = k.case_name"
                 "   WHERE c.municipality = $1 AND c.fiscal_year = $2"
                 "     AND NOT k.revoked AND k.effective_date <= $3::date)"
                 " SELECT c.area_code, count(*),"
                 "  count(*) FILTER (WHERE s.status = 'outreach_done'),"
                 "  count(*) FILTER (WHERE s.status = 'outreach_done'"
                 "                     AND k.case_name IS NOT NULL),"
                 "  count(*) FILTER (WHERE s.status IS NULL"
                 "                      OR s.status = 'in_preparation'),"
                 "  count(*) FILTER (WHERE s.status = 'not_possible'),"
                 "  count(*) FILTER (WHERE o.kind = 'improved_resolved')"
                 "  FROM cases c"
                 "  LEFT JOIN status s ON s.case_name = c.name"
                 "  LEFT JOIN outcome o ON o.case_name = c.name"
                 "  LEFT JOIN connected k ON k.case_name = c.name"
                 " WHERE c.municipality = $1 AND c.fiscal_year = $2"
                 "   AND NOT c.withdrawn AND c.opened_date <= $3::date"
                 " GROUP BY c.area_code",
                 municipality, fiscal_year, day)) {
          WardCounts& c = counts[row[0].as<std::string>()];
          SetCaseCounts(row, c);
        }
        return counts;
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<std::map<std::string, WardCounts>>
ProjectionStore::YearEndCounts(const std::string& municipality,
                               int fiscal_year) {
  using Result = std::map<std::string, WardCounts>;
  return pg::InTransaction(
      pool_, "read year-end counts",
      [&](pqxx::work& tx) -> absl::StatusOr<Result> {
        Result counts;
        AddAreaPupils(tx, municipality, fiscal_year, counts);
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT area_code, target, outreach_done, connected,"
                 "       preparing, unable, resolved"
                 "  FROM year_end_counts"
                 " WHERE municipality = $1 AND fiscal_year = $2",
                 municipality, fiscal_year)) {
          WardCounts& c = counts[row[0].as<std::string>()];
          SetCaseCounts(row, c);
        }
        return counts;
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<std::map<std::string, WardCounts>> ProjectionStore::DayCounts(
    const std::string& municipality, int fiscal_year, absl::CivilDay as_of) {
  using Result = std::map<std::string, WardCounts>;
  return pg::InTransaction(
      pool_, "read day counts",
      [&](pqxx::work& tx) -> absl::StatusOr<Result> {
        Result counts;
        AddAreaPupils(tx, municipality, fiscal_year, counts);
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT area_code, sum(target)::bigint,"
                 "       sum(outreach_done)::bigint, sum(connected)::bigint,"
                 "       sum(preparing)::bigint, sum(unable)::bigint,"
                 "       sum(resolved)::bigint"
                 "  FROM day_counts"
                 " WHERE municipality = $1 AND fiscal_year = $2"
                 "   AND day <= $3::date"
                 " GROUP BY area_code",
                 municipality, fiscal_year, DayToSql(as_of))) {
          WardCounts& c = counts[row[0].as<std::string>()];
          SetCaseCounts(row, c);
        }
        return counts;
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<std::map<int, WardCounts>> ProjectionStore::EarlierYearTotals(
    const std::string& municipality, int fiscal_year) {
  using Result = std::map<int, WardCounts>;
  return pg::InTransaction(
      pool_, "read earlier years",
      [&](pqxx::work& tx) -> absl::StatusOr<Result> {
        Result totals;
        // Every case ever projected has its (zero or more) counts here, so
        // the years are the same as those with cases.
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT fiscal_year, sum(target)::bigint,"
                 "       sum(outreach_done)::bigint, sum(connected)::bigint,"
                 "       sum(preparing)::bigint, sum(unable)::bigint,"
                 "       sum(resolved)::bigint"
                 "  FROM year_end_counts"
                 " WHERE municipality = $1 AND fiscal_year < $2"
                 " GROUP BY fiscal_year",
                 municipality, fiscal_year)) {
          WardCounts& c = totals[row[0].as<int>()];
          SetCaseCounts(row, c);
        }
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT fiscal_year, sum(pupils)::bigint FROM enrollment"
                 " WHERE municipality = $1 AND fiscal_year < $2"
                 " GROUP BY fiscal_year",
                 municipality, fiscal_year)) {
          totals[row[0].as<int>()].pupils = row[1].as<int64_t>();
        }
        return totals;
      },
      pg::TxOptions::ReadOnly());
}

}  // namespace kosapo::reporting
