// The hubs' projections: the directory's hub versions, usages, visits and
// urgent reports, and the one read a monthly report needs. Everything is
// keyed by the producer's names or the feed's sequence, so applying an
// event again changes nothing.
#include <map>
#include <pqxx/result>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "common/base/status.h"
#include "common/pg/arrays.h"
#include "common/pg/transaction.h"
#include "common/types/api_types.h"
#include "common/types/enum_text.h"
#include "kosapo/cases/v1/events.pb.h"
#include "kosapo/referral/v1/events.pb.h"
#include "services/reporting/store/projection_store.h"
#include "services/reporting/store/unpack.h"

namespace kosapo::reporting {
namespace {

namespace cv1 = ::kosapo::cases::v1;
namespace rv1 = ::kosapo::referral::v1;

constexpr char kEndReasonPrefix[] = "HUB_USAGE_END_REASON_";
constexpr char kUrgentPrefix[] = "URGENT_CATEGORY_";

int64_t Micros(const google::protobuf::Timestamp& time) {
  return time.seconds() * 1000000 + time.nanos() / 1000;
}

absl::Status ApplySupport(pqxx::work& tx, const events::v1::Event& event) {
  rv1::SupportChanged changed;
  KOSAPO_RETURN_IF_ERROR(Unpack(event, &changed));
  const rv1::Support& support = changed.support();
  if (!support.has_hub() || support.hub().hub_code().empty()) {
    return absl::OkStatus();  // not a hub
  }
  std::vector<std::string> codes;
  std::vector<std::string> names;
  for (const rv1::ContractService& service :
       support.hub().contract_services()) {
    codes.push_back(service.code());
    names.push_back(service.display_name());
  }
  const google::protobuf::Timestamp& changed_at =
      support.has_update_time() ? support.update_time() : support.create_time();
  tx.exec_params0(
      "INSERT INTO hub_versions (seq, municipality, hub_code, display_name,"
      " daily_capacity, change_time, contract_codes, contract_names)"
      " VALUES ($1, $2, $3, $4, $5,"
      " to_timestamp($6::double precision / 1000000), $7::text[], $8::text[])"
      " ON CONFLICT (seq) DO NOTHING",
      event.sequence(), support.municipality_code(), support.hub().hub_code(),
      support.display_name(), support.hub().daily_capacity(),
      Micros(changed_at), pg::TextArray(codes), pg::TextArray(names));
  return absl::OkStatus();
}

// The usage's row, whichever of its events comes first.
void EnsureUsage(pqxx::work& tx, const std::string& usage,
                 const std::string& case_name, const std::string& municipality,
                 const std::string& hub_code) {
  tx.exec_params0(
      "INSERT INTO hub_usages (usage, case_name, municipality, hub_code)"
      " VALUES ($1, $2, $3, $4) ON CONFLICT (usage) DO NOTHING",
      usage, case_name, municipality, hub_code);
}

}  // namespace

absl::Status ProjectionStore::ApplyHub(pqxx::work& tx,
                                       const events::v1::Event& event) {
  const google::protobuf::Any& payload = event.payload();
  if (payload.Is<rv1::SupportChanged>()) {
    return ApplySupport(tx, event);
  }
  if (payload.Is<rv1::HubApplicationReceived>()) {
    rv1::HubApplicationReceived received;
    KOSAPO_RETURN_IF_ERROR(Unpack(event, &received));
    EnsureUsage(tx, received.usage(), received.case_(),
                received.municipality_code(), received.hub_code());
  } else if (payload.Is<rv1::HubUsageStarted>()) {
    rv1::HubUsageStarted started;
    KOSAPO_RETURN_IF_ERROR(Unpack(event, &started));
    EnsureUsage(tx, started.usage(), started.case_(),
                started.municipality_code(), started.hub_code());
    // Sent again with an earlier date when an earlier visit is recorded
    // late: the latest event holds.
    tx.exec_params0(
        "UPDATE hub_usages SET start_date = $2::date WHERE usage = $1",
        started.usage(), DateToSql(started.start_date()));
  } else if (payload.Is<rv1::HubUsageEnded>()) {
    rv1::HubUsageEnded ended;
    KOSAPO_RETURN_IF_ERROR(Unpack(event, &ended));
    EnsureUsage(tx, ended.usage(), ended.case_(), ended.municipality_code(),
                ended.hub_code());
    tx.exec_params0(
        "UPDATE hub_usages SET end_date = $2::date, end_reason = $3,"
        " was_started = $4 WHERE usage = $1",
        ended.usage(), DateToSql(ended.end_date()),
        TextOfEnum(ended.reason(), kEndReasonPrefix), ended.was_started());
  } else if (payload.Is<rv1::HubVisitRecorded>()) {
    rv1::HubVisitRecorded visit;
    KOSAPO_RETURN_IF_ERROR(Unpack(event, &visit));
    tx.exec_params0(
        "INSERT INTO hub_visits (visit, usage, municipality, hub_code,"
        " visit_date, services, over_capacity, problem_noted)"
        " VALUES ($1, $2, $3, $4, $5::date, $6::text[], $7, $8)"
        " ON CONFLICT (visit) DO NOTHING",
        visit.visit(), visit.usage(), visit.municipality_code(),
        visit.hub_code(), DateToSql(visit.visit_date()),
        pg::TextArray({visit.services_delivered().begin(),
                       visit.services_delivered().end()}),
        visit.over_capacity(), visit.problem_noted());
  }
  return absl::OkStatus();
}

absl::Status ProjectionStore::ApplyUrgent(pqxx::work& tx,
                                          const events::v1::Event& event) {
  if (!event.payload().Is<cv1::UrgentReportRaised>()) {
    return absl::OkStatus();
  }
  cv1::UrgentReportRaised raised;
  KOSAPO_RETURN_IF_ERROR(Unpack(event, &raised));
  tx.exec_params0(
      "INSERT INTO urgent_reports (report, case_name, municipality, category,"
      " raise_time) VALUES ($1, $2, $3, $4,"
      " to_timestamp($5::double precision / 1000000))"
      " ON CONFLICT (report) DO NOTHING",
      raised.report(), raised.case_(), raised.municipality_code(),
      TextOfEnum(raised.category(), kUrgentPrefix),
      Micros(raised.raise_time()));
  return absl::OkStatus();
}

absl::StatusOr<HubMonthFacts> ProjectionStore::HubMonth(
    const std::string& municipality, const std::string& hub_code,
    absl::CivilDay first, absl::CivilDay last, absl::Time raised_from,
    absl::Time raised_to) {
  return pg::InTransaction(
      pool_, "read hub month",
      [&](pqxx::work& tx) -> absl::StatusOr<HubMonthFacts> {
        // One snapshot for the four reads, so an event applied meanwhile
        // shows in all of them or in none.
        tx.exec0("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
        HubMonthFacts facts;
        std::map<int64_t, size_t> version_of_seq;
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT seq, display_name, daily_capacity,"
                 " (extract(epoch FROM change_time) * 1000000)::bigint"
                 " FROM hub_versions WHERE municipality = $1 AND hub_code = $2"
                 " ORDER BY seq",
                 municipality, hub_code)) {
          HubVersion version;
          version.display_name = row[1].as<std::string>();
          version.daily_capacity = row[2].as<int>();
          version.change_time = absl::FromUnixMicros(row[3].as<int64_t>());
          version_of_seq[row[0].as<int64_t>()] = facts.versions.size();
          facts.versions.push_back(std::move(version));
        }
        if (facts.versions.empty()) {
          return facts;
        }
        for (const pqxx::row& row :
             tx.exec_params("SELECT v.seq, c.code, c.name FROM hub_versions v,"
                            " unnest(v.contract_codes, v.contract_names)"
                            "   WITH ORDINALITY AS c(code, name, position)"
                            " WHERE v.municipality = $1 AND v.hub_code = $2"
                            " ORDER BY v.seq, c.position",
                            municipality, hub_code)) {
          facts.versions[version_of_seq.at(row[0].as<int64_t>())]
              .contract.emplace_back(row[1].as<std::string>(),
                                     row[2].as<std::string>());
        }
        const std::string from = DayToSql(first);
        const std::string to = DayToSql(last);
        // Service codes are letters, digits and "_" (the referral
        // service's contract), so a comma joins them safely.
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT v.visit, v.usage, coalesce(u.case_name, ''),"
                 " v.visit_date::text, array_to_string(v.services, ','),"
                 " v.over_capacity, v.problem_noted"
                 " FROM hub_visits v LEFT JOIN hub_usages u"
                 "   ON u.usage = v.usage"
                 " WHERE v.municipality = $1 AND v.hub_code = $2"
                 "   AND v.visit_date BETWEEN $3::date AND $4::date"
                 " ORDER BY v.visit_date, v.visit",
                 municipality, hub_code, from, to)) {
          HubVisitFact visit;
          visit.visit = row[0].as<std::string>();
          visit.usage = row[1].as<std::string>();
          visit.case_name = row[2].as<std::string>();
          visit.date = DayFromSql(row[3].as<std::string>());
          visit.services =
              absl::StrSplit(row[4].as<std::string>(), ',', absl::SkipEmpty());
          visit.over_capacity = row[5].as<bool>();
          visit.problem_noted = row[6].as<bool>();
          facts.visits.push_back(std::move(visit));
        }
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT usage, case_name, coalesce(start_date::text, ''),"
                 " coalesce(end_date::text, ''), end_reason, was_started"
                 " FROM hub_usages WHERE municipality = $1 AND hub_code = $2"
                 "   AND ((start_date <= $4::date"
                 "         AND (end_date IS NULL OR end_date >= $3::date))"
                 "        OR end_date BETWEEN $3::date AND $4::date)"
                 " ORDER BY usage",
                 municipality, hub_code, from, to)) {
          HubUsageFact usage;
          usage.usage = row[0].as<std::string>();
          usage.case_name = row[1].as<std::string>();
          if (const std::string start = row[2].as<std::string>();
              !start.empty()) {
            usage.start_date = DayFromSql(start);
          }
          if (const std::string end = row[3].as<std::string>(); !end.empty()) {
            usage.end_date = DayFromSql(end);
          }
          usage.end_reason = EnumOfText<rv1::HubUsageEndReason>(
              row[4].as<std::string>(), kEndReasonPrefix);
          usage.was_started = row[5].as<bool>();
          facts.usages.push_back(std::move(usage));
        }
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT r.report, r.case_name, r.category,"
                 " (extract(epoch FROM r.raise_time) * 1000000)::bigint"
                 " FROM urgent_reports r"
                 " WHERE r.municipality = $1"
                 "   AND r.raise_time >= to_timestamp($3::double precision"
                 "                                    / 1000000)"
                 "   AND r.raise_time < to_timestamp($4::double precision"
                 "                                   / 1000000)"
                 "   AND r.case_name IN (SELECT case_name FROM hub_usages"
                 "                        WHERE municipality = $1"
                 "                          AND hub_code = $2)"
                 " ORDER BY r.raise_time, r.report",
                 municipality, hub_code, absl::ToUnixMicros(raised_from),
                 absl::ToUnixMicros(raised_to))) {
          UrgentFact report;
          report.report = row[0].as<std::string>();
          report.case_name = row[1].as<std::string>();
          report.category = EnumOfText<cv1::UrgentCategory>(
              row[2].as<std::string>(), kUrgentPrefix);
          report.raise_time = absl::FromUnixMicros(row[3].as<int64_t>());
          facts.urgent.push_back(std::move(report));
        }
        return facts;
      },
      pg::TxOptions::ReadOnly());
}

}  // namespace kosapo::reporting
