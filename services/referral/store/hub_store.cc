// The hub usages' SQL: steps as JSON bodies, plans, visits, enrollments.
#include "services/referral/store/hub_store.h"

#include <map>
#include <optional>
#include <pqxx/result>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/base/proto_time.h"
#include "common/base/status.h"
#include "common/crypto/proto_fields.h"
#include "common/events/outbox.h"
#include "common/pg/transaction.h"
#include "common/types/api_types.h"
#include "kosapo/referral/v1/events.pb.h"
#include "services/referral/domain/enum_text.h"
#include "services/referral/domain/fields.h"
#include "services/referral/domain/hub_rules.h"
#include "services/referral/domain/schedule.h"

namespace kosapo::referral {
namespace {

// A usage as loaded in a transaction.
struct UsageRecord {
  int64_t id = 0;
  int64_t revision = 0;
  v1::HubUsage proto;
};

constexpr char kUsageFrom[] =
    " FROM hub_usages u LEFT JOIN hub_enrollments e"
    " ON e.case_name = u.case_name AND e.hub_code = u.hub_code";

constexpr char kUsageColumns[] =
    "u.id, u.municipality, u.hub_code, u.support_id, u.case_name,"
    " u.area_code, u.state, u.application::text AS application,"
    " coalesce(u.assessment::text, '') AS assessment,"
    " coalesce(u.decision::text, '') AS decision,"
    " coalesce(u.interview::text, '') AS interview,"
    " coalesce(u.end_record::text, '') AS end_record,"
    " coalesce(u.started_date::text, '') AS started_date, u.revision,"
    " coalesce(e.synced, true) AS enrollment_synced,"
    " (extract(epoch FROM u.create_time) * 1000000)::bigint AS create_us,"
    " (extract(epoch FROM u.update_time) * 1000000)::bigint AS update_us";

// The free text of each recorded step and plan, sealed for the usage's
// case ("cases/12"), which is known before the usage has an id.
constexpr const char* kApplicationText[] = {"applicant_detail", "reason"};
constexpr const char* kAssessmentText[] = {"summary"};
constexpr const char* kDecisionText[] = {"reason"};
constexpr const char* kInterviewText[] = {"notes", "troubles_beyond_hub"};
constexpr const char* kEndText[] = {"note"};
constexpr const char* kPlanText[] = {"goals", "child_wishes",
                                     "guardian_wishes"};
constexpr const char* kReviewText[] = {"advice"};

std::string Place(absl::string_view column) {
  return absl::StrCat("referral.", column);
}

// Parses the step recorded in `column` into `out`; a step not yet
// recorded (an empty column) leaves the field unset. Throws
// pg::StatusError when its text does not open.
template <typename Step>
void StepFromColumn(const pqxx::row& row, const char* column,
                    absl::Span<const char* const> text,
                    Step* (v1::HubUsage::*mutable_step)(),
                    const crypto::FieldCipher& cipher, v1::HubUsage* usage) {
  const std::string json = row[column].as<std::string>();
  if (!json.empty()) {
    FromSealedBody(json, text, Place(absl::StrCat("hub_usages.", column)),
                   usage->case_(), cipher, (usage->*mutable_step)());
  }
}

UsageRecord UsageFromRow(const pqxx::row& row,
                         const crypto::FieldCipher& cipher) {
  UsageRecord record;
  record.id = row["id"].as<int64_t>();
  record.revision = row["revision"].as<int64_t>();
  v1::HubUsage& u = record.proto;
  u.set_name(ResourceName(kHubUsages, record.id));
  u.set_municipality_code(row["municipality"].as<std::string>());
  u.set_hub_code(row["hub_code"].as<std::string>());
  u.set_support(ResourceName(kSupports, row["support_id"].as<int64_t>()));
  u.set_case_(row["case_name"].as<std::string>());
  u.set_area_code(row["area_code"].as<std::string>());
  u.set_state(EnumFromText<v1::HubUsageState>(row["state"].as<std::string>()));
  StepFromColumn(row, "application", kApplicationText,
                 &v1::HubUsage::mutable_application, cipher, &u);
  StepFromColumn(row, "assessment", kAssessmentText,
                 &v1::HubUsage::mutable_assessment, cipher, &u);
  StepFromColumn(row, "decision", kDecisionText,
                 &v1::HubUsage::mutable_decision, cipher, &u);
  StepFromColumn(row, "interview", kInterviewText,
                 &v1::HubUsage::mutable_interview, cipher, &u);
  StepFromColumn(row, "end_record", kEndText, &v1::HubUsage::mutable_end,
                 cipher, &u);
  const std::string started = row["started_date"].as<std::string>();
  if (!started.empty()) {
    *u.mutable_started_date() = DateFromSql(started);
  }
  u.set_enrollment_synced(row["enrollment_synced"].as<bool>());
  u.set_etag(absl::StrCat(record.revision));
  SetTimestampMicros(row["create_us"].as<int64_t>(), u.mutable_create_time());
  SetTimestampMicros(row["update_us"].as<int64_t>(), u.mutable_update_time());
  return record;
}

// Fills in the plans of each record, newest version first.
void LoadPlans(pqxx::work& tx, std::vector<UsageRecord>& records,
               const crypto::FieldCipher& cipher) {
  if (records.empty()) {
    return;
  }
  std::map<int64_t, UsageRecord*> by_id;
  for (UsageRecord& record : records) {
    by_id[record.id] = &record;
  }
  const std::string ids =
      absl::StrCat("{",
                   absl::StrJoin(by_id, ",",
                                 [](std::string* out, const auto& entry) {
                                   absl::StrAppend(out, entry.first);
                                 }),
                   "}");
  for (const pqxx::row& row :
       tx.exec_params("SELECT usage_id, body::text, coalesce(review::text, '')"
                      " FROM hub_plans WHERE usage_id = ANY($1::bigint[])"
                      " ORDER BY usage_id, version DESC",
                      ids)) {
    v1::HubUsage& usage = by_id.at(row[0].as<int64_t>())->proto;
    v1::HubSupportPlan* plan = usage.add_plans();
    FromSealedBody(row[1].as<std::string>(), kPlanText, Place("hub_plans.body"),
                   usage.case_(), cipher, plan);
    const std::string review = row[2].as<std::string>();
    if (!review.empty()) {
      FromSealedBody(review, kReviewText, Place("hub_plans.review"),
                     usage.case_(), cipher, plan->mutable_review());
    }
  }
}

absl::StatusOr<UsageRecord> Load(pqxx::work& tx, int64_t id, bool lock,
                                 const crypto::FieldCipher& cipher) {
  const pqxx::result rows = tx.exec_params(
      absl::StrCat("SELECT ", kUsageColumns, kUsageFrom, " WHERE u.id = $1",
                   lock ? " FOR UPDATE OF u" : ""),
      id);
  if (rows.empty()) {
    return absl::NotFoundError(
        absl::StrCat(ResourceName(kHubUsages, id), " not found"));
  }
  std::vector<UsageRecord> records = {UsageFromRow(rows[0], cipher)};
  LoadPlans(tx, records, cipher);
  return std::move(records.front());
}

// The hub (a support) by name, for its opening hours, contract services
// and organization.
v1::Support LoadHub(pqxx::work& tx, const std::string& support_name) {
  v1::Support hub;
  const int64_t id = *ParseResourceName(support_name, kSupports, "");
  const pqxx::row row = tx.exec_params1(
      "SELECT body::text, organization_id FROM supports WHERE id = $1", id);
  FromBody(row[0].as<std::string>(), &hub);
  hub.set_name(support_name);
  hub.set_organization(ResourceName(kOrganizations, row[1].as<int64_t>()));
  return hub;
}

// Records what the case service should show for the child at the hub; a
// change leaves the pair to be synced.
void SetEnrollment(pqxx::work& tx, const v1::HubUsage& usage, bool enrolled) {
  tx.exec_params0(
      "INSERT INTO hub_enrollments (case_name, hub_code, enrolled)"
      " VALUES ($1, $2, $3)"
      " ON CONFLICT (case_name, hub_code) DO UPDATE SET"
      "   enrolled = EXCLUDED.enrolled,"
      "   synced = hub_enrollments.synced"
      "            AND hub_enrollments.enrolled = EXCLUDED.enrolled,"
      "   attempts = 0, last_error = '', update_time = now()",
      usage.case_(), usage.hub_code(), enrolled);
}

// Runs a step on hubUsages/{id} in one transaction: load and lock it,
// check the caller, answer a retried request with the usage as it is, check
// the etag, act, count the revision, audit.
absl::StatusOr<v1::HubUsage> WithUsage(
    pg::Pool& pool, const crypto::FieldCipher& cipher,
    absl::string_view operation, int64_t id, const std::string& request_id,
    const std::string& etag, const Caller& caller, const UsageCheck& may_write,
    const std::function<absl::Status(pqxx::work&, const v1::HubUsage&)>& fn) {
  return pg::InTransaction(
      pool, operation, [&](pqxx::work& tx) -> absl::StatusOr<v1::HubUsage> {
        KOSAPO_ASSIGN_OR_RETURN(const UsageRecord record,
                                Load(tx, id, true, cipher));
        KOSAPO_RETURN_IF_ERROR(may_write(record.proto));
        KOSAPO_ASSIGN_OR_RETURN(
            const bool first,
            FirstWrite(tx, record.proto.name(), request_id, caller.method));
        if (!first) {
          return record.proto;
        }
        KOSAPO_RETURN_IF_ERROR(
            CheckEtag(record.proto.name(), record.revision, etag));
        tx.exec_params0(
            "UPDATE hub_usages SET revision = revision + 1,"
            " update_time = now() WHERE id = $1",
            id);
        Audit(tx, {record.proto.name()}, caller, "write");
        // Last: its event holds the feed's sequence lock until commit.
        KOSAPO_RETURN_IF_ERROR(fn(tx, record.proto));
        KOSAPO_ASSIGN_OR_RETURN(const UsageRecord updated,
                                Load(tx, id, false, cipher));
        return updated.proto;
      });
}

constexpr char kVisitColumns[] =
    "id, usage_id, hub_code, visit_date::text AS visit_date, arrival_minute,"
    " departure_minute, array_to_string(services, ',') AS services,"
    " over_capacity, over_capacity_reason, problem_noted, problem_note,"
    " recorded_by,"
    " (extract(epoch FROM record_time) * 1000000)::bigint AS record_us";

std::string ProblemNoteOwner(int64_t usage_id) {
  return ResourceName(kHubUsages, usage_id);
}

// Throws pg::StatusError when the problem note does not open.
v1::HubVisit VisitFromRow(const pqxx::row& row,
                          const crypto::FieldCipher& cipher) {
  v1::HubVisit visit;
  const int64_t usage_id = row["usage_id"].as<int64_t>();
  visit.set_name(VisitName(usage_id, row["id"].as<int64_t>()));
  visit.set_usage(ResourceName(kHubUsages, usage_id));
  visit.set_hub_code(row["hub_code"].as<std::string>());
  *visit.mutable_visit_date() =
      DateFromSql(row["visit_date"].as<std::string>());
  visit.set_arrival_time(FormatClock(row["arrival_minute"].as<int>()));
  visit.set_departure_time(FormatClock(row["departure_minute"].as<int>()));
  // Contract service codes hold no commas (see directory_rules).
  for (absl::string_view code : absl::StrSplit(
           row["services"].as<std::string>(), ',', absl::SkipEmpty())) {
    visit.add_services_delivered(std::string(code));
  }
  visit.set_over_capacity(row["over_capacity"].as<bool>());
  visit.set_over_capacity_reason(row["over_capacity_reason"].as<std::string>());
  visit.set_problem_noted(row["problem_noted"].as<bool>());
  visit.set_problem_note(OpenOrThrow(
      cipher, row["problem_note"].as<std::string>(),
      Place("hub_visits.problem_note"), ProblemNoteOwner(usage_id)));
  visit.set_recorded_by(row["recorded_by"].as<std::string>());
  SetTimestampMicros(row["record_us"].as<int64_t>(),
                     visit.mutable_record_time());
  return visit;
}

v1::HubUsageStarted StartedEvent(const v1::HubUsage& usage,
                                 const std::string& organization,
                                 absl::CivilDay start, int64_t record_us) {
  v1::HubUsageStarted event;
  event.set_usage(usage.name());
  event.set_case_(usage.case_());
  event.set_municipality_code(usage.municipality_code());
  event.set_area_code(usage.area_code());
  event.set_hub_code(usage.hub_code());
  event.set_support(usage.support());
  event.set_organization(organization);
  event.set_category(v1::SUPPORT_CATEGORY_DROP_IN_HUB);
  *event.mutable_start_date() = DateToProto(start);
  SetTimestampMicros(record_us, event.mutable_record_time());
  return event;
}

}  // namespace

absl::StatusOr<v1::HubUsage> HubStore::CreateApplication(
    const std::string& municipality, const v1::HubUsage& input,
    const std::string& area_code, const Caller& caller) {
  return pg::InTransaction(
      pool_, "create hub application",
      [&](pqxx::work& tx) -> absl::StatusOr<v1::HubUsage> {
        const pqxx::result replay = tx.exec_params(
            "SELECT id FROM hub_usages WHERE municipality = $1"
            " AND create_request_id = $2",
            municipality, caller.request_id);
        if (!replay.empty()) {
          KOSAPO_ASSIGN_OR_RETURN(
              const UsageRecord record,
              Load(tx, replay[0][0].as<int64_t>(), false, cipher_));
          return record.proto;
        }
        const pqxx::result hub = tx.exec_params(
            "SELECT id FROM supports WHERE hub_code = $1 AND municipality = $2",
            input.hub_code(), municipality);
        if (hub.empty()) {
          return NoSuchHub("usage.hub_code", input.hub_code());
        }
        const pqxx::result open = tx.exec_params(
            "SELECT id, state FROM hub_usages WHERE case_name = $1"
            " AND hub_code = $2 AND state NOT IN ('rejected', 'ended')",
            input.case_(), input.hub_code());
        if (!open.empty()) {
          return absl::AlreadyExistsError(
              absl::StrCat(ResourceName(kHubUsages, open[0][0].as<int64_t>()),
                           " of ", input.case_(), " at hub ", input.hub_code(),
                           " is ", open[0][1].as<std::string>()));
        }
        v1::HubApplication application = input.application();
        application.set_recorded_by(caller.subject);
        SetTimestampMicros(NowMicros(tx), application.mutable_record_time());
        KOSAPO_ASSIGN_OR_RETURN(const std::string application_body,
                                SealedBody(application, kApplicationText,
                                           Place("hub_usages.application"),
                                           input.case_(), cipher_));
        const int64_t id =
            tx.exec_params1(
                  "INSERT INTO hub_usages (municipality, hub_code, support_id,"
                  " case_name, area_code, state, application,"
                  " create_request_id)"
                  " VALUES ($1, $2, $3, $4, $5, 'applied', $6::jsonb, $7)"
                  " RETURNING id",
                  municipality, input.hub_code(), hub[0][0].as<int64_t>(),
                  input.case_(), area_code, application_body,
                  caller.request_id)[0]
                .as<int64_t>();
        KOSAPO_ASSIGN_OR_RETURN(const UsageRecord record,
                                Load(tx, id, false, cipher_));
        Audit(tx, {record.proto.name()}, caller, "write");
        const v1::HubUsage& u = record.proto;
        v1::HubApplicationReceived event;
        event.set_usage(u.name());
        event.set_case_(u.case_());
        event.set_municipality_code(u.municipality_code());
        event.set_area_code(u.area_code());
        event.set_hub_code(u.hub_code());
        event.set_applicant(application.applicant());
        *event.mutable_application_date() = application.application_date();
        events::AppendEvent(tx, u.name(), event, caller.trace_id);
        return u;
      });
}

absl::StatusOr<UsageScope> HubStore::ScopeOf(int64_t id) {
  return pg::InTransaction(
      pool_, "read hub usage scope",
      [&](pqxx::work& tx) -> absl::StatusOr<UsageScope> {
        const pqxx::result rows = tx.exec_params(
            "SELECT municipality, case_name, hub_code FROM hub_usages"
            " WHERE id = $1",
            id);
        if (rows.empty()) {
          return absl::NotFoundError(
              absl::StrCat(ResourceName(kHubUsages, id), " not found"));
        }
        return UsageScope{rows[0][0].as<std::string>(),
                          rows[0][1].as<std::string>(),
                          rows[0][2].as<std::string>()};
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<std::string> HubStore::HubMunicipality(
    const std::string& hub_code) {
  return pg::InTransaction(
      pool_, "read hub",
      [&](pqxx::work& tx) -> absl::StatusOr<std::string> {
        const pqxx::result rows = tx.exec_params(
            "SELECT municipality FROM supports WHERE hub_code = $1", hub_code);
        if (rows.empty()) {
          return NoSuchHub("hub_code", hub_code);
        }
        return rows[0][0].as<std::string>();
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<v1::HubUsage> HubStore::Get(int64_t id, const Caller& caller,
                                           const UsageCheck& may_read) {
  return pg::InTransaction(pool_, "get hub usage",
                           [&](pqxx::work& tx) -> absl::StatusOr<v1::HubUsage> {
                             KOSAPO_ASSIGN_OR_RETURN(
                                 const UsageRecord record,
                                 Load(tx, id, false, cipher_));
                             KOSAPO_RETURN_IF_ERROR(may_read(record.proto));
                             Audit(tx, {record.proto.name()}, caller, "read");
                             return record.proto;
                           });
}

absl::StatusOr<v1::HubUsage> HubStore::RecordAssessment(
    int64_t id, const v1::RecordHubAssessmentRequest& request,
    const std::string& lead_role, absl::CivilDay today, const Caller& caller,
    const UsageCheck& may_write) {
  return WithUsage(
      pool_, cipher_, "record hub assessment", id, request.request_id(),
      request.etag(), caller, may_write,
      [&](pqxx::work& tx, const v1::HubUsage& usage) -> absl::Status {
        KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay hearing,
                                CheckAssessment(usage, request.assessment(),
                                                lead_role, caller.role, today));
        v1::HubAssessment assessment = request.assessment();
        assessment.set_led_by_role(lead_role);
        assessment.set_led_by(caller.subject);
        SetTimestampMicros(NowMicros(tx), assessment.mutable_record_time());
        KOSAPO_ASSIGN_OR_RETURN(
            const std::string assessment_body,
            SealedBody(assessment, kAssessmentText,
                       Place("hub_usages.assessment"), usage.case_(), cipher_));
        tx.exec_params0(
            "UPDATE hub_usages SET state = 'assessed',"
            " assessment = $2::jsonb WHERE id = $1",
            id, assessment_body);
        v1::HubAssessmentRecorded event;
        event.set_usage(usage.name());
        event.set_case_(usage.case_());
        event.set_hub_code(usage.hub_code());
        *event.mutable_hearing_date() = DateToProto(hearing);
        event.set_led_by_role(lead_role);
        events::AppendEvent(tx, usage.name(), event, caller.trace_id);
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::HubUsage> HubStore::Decide(
    int64_t id, const v1::DecideHubUsageRequest& request, absl::CivilDay today,
    const Caller& caller, const UsageCheck& may_write) {
  return WithUsage(
      pool_, cipher_, "decide hub usage", id, request.request_id(),
      request.etag(), caller, may_write,
      [&](pqxx::work& tx, const v1::HubUsage& usage) -> absl::Status {
        KOSAPO_RETURN_IF_ERROR(CheckDecision(usage, request.decision(), today));
        v1::HubDecision decision = request.decision();
        decision.set_decided_by(caller.subject);
        SetTimestampMicros(NowMicros(tx), decision.mutable_record_time());
        const bool approved = decision.approved();
        KOSAPO_ASSIGN_OR_RETURN(
            const std::string decision_body,
            SealedBody(decision, kDecisionText, Place("hub_usages.decision"),
                       usage.case_(), cipher_));
        tx.exec_params0(
            "UPDATE hub_usages SET state = $2, decision = $3::jsonb"
            " WHERE id = $1",
            id, approved ? "approved" : "rejected", decision_body);
        if (approved) {
          SetEnrollment(tx, usage, true);
        }
        v1::HubUsageDecided event;
        event.set_usage(usage.name());
        event.set_case_(usage.case_());
        event.set_hub_code(usage.hub_code());
        event.set_approved(approved);
        *event.mutable_decision_date() = decision.decision_date();
        if (approved) {
          *event.mutable_start_date() = decision.start_date();
        }
        events::AppendEvent(tx, usage.name(), event, caller.trace_id);
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::HubUsage> HubStore::RecordInterview(
    int64_t id, const v1::RecordPreUseInterviewRequest& request,
    absl::CivilDay today, const Caller& caller, const UsageCheck& may_write) {
  return WithUsage(
      pool_, cipher_, "record pre-use interview", id, request.request_id(),
      request.etag(), caller, may_write,
      [&](pqxx::work& tx, const v1::HubUsage& usage) -> absl::Status {
        KOSAPO_RETURN_IF_ERROR(
            CheckInterview(usage, request.interview(), today));
        v1::PreUseInterview interview = request.interview();
        interview.set_interviewed_by(caller.subject);
        SetTimestampMicros(NowMicros(tx), interview.mutable_record_time());
        KOSAPO_ASSIGN_OR_RETURN(
            const std::string interview_body,
            SealedBody(interview, kInterviewText, Place("hub_usages.interview"),
                       usage.case_(), cipher_));
        tx.exec_params0(
            "UPDATE hub_usages SET interview = $2::jsonb WHERE id = $1", id,
            interview_body);
        v1::HubInterviewRecorded event;
        event.set_usage(usage.name());
        event.set_hub_code(usage.hub_code());
        *event.mutable_interview_date() = interview.interview_date();
        events::AppendEvent(tx, usage.name(), event, caller.trace_id);
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::HubUsage> HubStore::RecordPlan(
    int64_t id, const v1::RecordHubSupportPlanRequest& request,
    absl::CivilDay today, const Caller& caller, const UsageCheck& may_write) {
  return WithUsage(
      pool_, cipher_, "record hub support plan", id, request.request_id(),
      request.etag(), caller, may_write,
      [&](pqxx::work& tx, const v1::HubUsage& usage) -> absl::Status {
        KOSAPO_RETURN_IF_ERROR(CheckPlan(usage, request.plan(), today));
        v1::HubSupportPlan plan = request.plan();
        plan.clear_review();
        plan.set_version(usage.plans_size() + 1);
        plan.set_recorded_by(caller.subject);
        SetTimestampMicros(NowMicros(tx), plan.mutable_record_time());
        KOSAPO_ASSIGN_OR_RETURN(
            const std::string plan_body,
            SealedBody(plan, kPlanText, Place("hub_plans.body"), usage.case_(),
                       cipher_));
        tx.exec_params0(
            "INSERT INTO hub_plans (usage_id, version, plan_date, body)"
            " VALUES ($1, $2, $3::date, $4::jsonb)",
            id, plan.version(), DateToSql(plan.plan_date()), plan_body);
        v1::HubSupportPlanRecorded event;
        event.set_usage(usage.name());
        event.set_hub_code(usage.hub_code());
        event.set_version(plan.version());
        *event.mutable_plan_date() = plan.plan_date();
        event.set_child_wishes_heard(!plan.child_wishes().empty());
        event.set_guardian_wishes_heard(!plan.guardian_wishes().empty());
        events::AppendEvent(tx, usage.name(), event, caller.trace_id);
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::HubUsage> HubStore::ReviewPlan(
    int64_t id, const v1::ReviewHubSupportPlanRequest& request,
    absl::CivilDay today, const Caller& caller, const UsageCheck& may_write) {
  return WithUsage(
      pool_, cipher_, "review hub support plan", id, request.request_id(), "",
      caller, may_write,
      [&](pqxx::work& tx, const v1::HubUsage& usage) -> absl::Status {
        KOSAPO_RETURN_IF_ERROR(
            CheckPlanReview(usage, request.version(), request.review(), today));
        v1::HubPlanReview review = request.review();
        review.set_reviewed_by(caller.subject);
        SetTimestampMicros(NowMicros(tx), review.mutable_record_time());
        KOSAPO_ASSIGN_OR_RETURN(
            const std::string review_body,
            SealedBody(review, kReviewText, Place("hub_plans.review"),
                       usage.case_(), cipher_));
        tx.exec_params0(
            "UPDATE hub_plans SET review = $3::jsonb"
            " WHERE usage_id = $1 AND version = $2",
            id, request.version(), review_body);
        v1::HubSupportPlanReviewed event;
        event.set_usage(usage.name());
        event.set_hub_code(usage.hub_code());
        event.set_version(request.version());
        *event.mutable_review_date() = review.review_date();
        events::AppendEvent(tx, usage.name(), event, caller.trace_id);
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::HubVisit> HubStore::RecordVisit(
    int64_t id, const v1::RecordHubVisitRequest& request, absl::CivilDay today,
    const Caller& caller, const UsageCheck& may_write) {
  return pg::InTransaction(
      pool_, "record hub visit",
      [&](pqxx::work& tx) -> absl::StatusOr<v1::HubVisit> {
        KOSAPO_ASSIGN_OR_RETURN(const UsageRecord record,
                                Load(tx, id, true, cipher_));
        const v1::HubUsage& usage = record.proto;
        KOSAPO_RETURN_IF_ERROR(may_write(usage));
        const pqxx::result replay =
            tx.exec_params(absl::StrCat("SELECT ", kVisitColumns,
                                        " FROM hub_visits WHERE usage_id = $1"
                                        " AND request_id = $2"),
                           id, request.request_id());
        if (!replay.empty()) {
          return VisitFromRow(replay[0], cipher_);
        }
        const v1::Support hub = LoadHub(tx, usage.support());
        const v1::HubVisit& visit = request.visit();
        KOSAPO_ASSIGN_OR_RETURN(const VisitTimes times,
                                CheckVisit(usage, hub, visit, today));
        const std::string day = DayToSql(times.day);
        // One count per hub and day at a time, so two operators recording
        // at once cannot both take the last place.
        tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))",
                       absl::StrCat("hub-day:", usage.hub_code(), ":", day));
        const pqxx::result same_day = tx.exec_params(
            "SELECT id FROM hub_visits WHERE usage_id = $1"
            " AND visit_date = $2::date",
            id, day);
        if (!same_day.empty()) {
          return absl::AlreadyExistsError(absl::StrCat(
              "visit.visit_date: ", usage.name(), " already has a visit on ",
              day, " (", VisitName(id, same_day[0][0].as<int64_t>()), ")"));
        }
        const int others =
            tx.exec_params1(
                  "SELECT count(DISTINCT usage_id) FROM hub_visits"
                  " WHERE hub_code = $1 AND visit_date = $2::date"
                  "   AND usage_id <> $3",
                  usage.hub_code(), day, id)[0]
                .as<int>();
        KOSAPO_ASSIGN_OR_RETURN(
            const bool over_capacity,
            CheckCapacity(times.day, others, hub.hub().daily_capacity(),
                          visit.over_capacity_reason()));
        KOSAPO_ASSIGN_OR_RETURN(
            const std::string problem_note,
            cipher_.Seal(visit.problem_note(),
                         crypto::FieldContext(Place("hub_visits.problem_note"),
                                              ProblemNoteOwner(id))));
        const pqxx::row row = tx.exec_params1(
            absl::StrCat(
                "INSERT INTO hub_visits (usage_id, hub_code, visit_date,"
                " arrival_minute, departure_minute, services, over_capacity,"
                " over_capacity_reason, problem_noted, problem_note,"
                " recorded_by, request_id)"
                " VALUES ($1, $2, $3::date, $4, $5, $6::text[], $7, $8, $9,"
                " $10, $11, $12) RETURNING ",
                kVisitColumns),
            id, usage.hub_code(), day, times.arrival, times.departure,
            TextArray({visit.services_delivered().begin(),
                       visit.services_delivered().end()}),
            over_capacity, visit.over_capacity_reason(), visit.problem_noted(),
            problem_note, caller.subject, request.request_id());
        const v1::HubVisit recorded = VisitFromRow(row, cipher_);
        // The first visit starts the usage; an earlier one recorded late
        // moves the start back.
        const bool first = usage.state() == v1::HUB_USAGE_STATE_APPROVED;
        const bool earlier =
            usage.has_started_date() &&
            times.day < absl::CivilDay(usage.started_date().year(),
                                       usage.started_date().month(),
                                       usage.started_date().day());
        if (first || earlier) {
          tx.exec_params0(
              "UPDATE hub_usages SET state = 'in_use', started_date = $2::date"
              " WHERE id = $1",
              id, day);
        }
        tx.exec_params0(
            "UPDATE hub_usages SET revision = revision + 1,"
            " update_time = now() WHERE id = $1",
            id);
        Audit(tx, {usage.name()}, caller, "write");
        // The events last: they hold the feed's sequence lock until commit.
        if (first || earlier) {
          events::AppendEvent(tx, usage.name(),
                              StartedEvent(usage, hub.organization(), times.day,
                                           row["record_us"].as<int64_t>()),
                              caller.trace_id);
        }
        v1::HubVisitRecorded event;
        event.set_visit(recorded.name());
        event.set_usage(usage.name());
        event.set_municipality_code(usage.municipality_code());
        event.set_hub_code(usage.hub_code());
        *event.mutable_visit_date() = recorded.visit_date();
        *event.mutable_services_delivered() = recorded.services_delivered();
        event.set_over_capacity(over_capacity);
        event.set_problem_noted(recorded.problem_noted());
        events::AppendEvent(tx, recorded.name(), event, caller.trace_id);
        return recorded;
      });
}

absl::StatusOr<v1::HubUsage> HubStore::End(
    int64_t id, const v1::EndHubUsageRequest& request, absl::CivilDay today,
    const Caller& caller, const UsageCheck& may_write) {
  return WithUsage(
      pool_, cipher_, "end hub usage", id, request.request_id(), request.etag(),
      caller, may_write,
      [&](pqxx::work& tx, const v1::HubUsage& usage) -> absl::Status {
        const std::string last = tx.exec_params1(
                                       "SELECT coalesce(max(visit_date)::text,"
                                       " '') FROM hub_visits"
                                       " WHERE usage_id = $1",
                                       id)[0]
                                     .as<std::string>();
        std::optional<absl::CivilDay> last_visit;
        if (!last.empty()) {
          last_visit = DayFromSql(last);
        }
        KOSAPO_RETURN_IF_ERROR(
            CheckEnd(usage, request.end(), last_visit, today));
        v1::HubUsageEnd end = request.end();
        end.set_ended_by(caller.subject);
        SetTimestampMicros(NowMicros(tx), end.mutable_record_time());
        KOSAPO_ASSIGN_OR_RETURN(
            const std::string end_body,
            SealedBody(end, kEndText, Place("hub_usages.end_record"),
                       usage.case_(), cipher_));
        tx.exec_params0(
            "UPDATE hub_usages SET state = 'ended', end_record = $2::jsonb"
            " WHERE id = $1",
            id, end_body);
        SetEnrollment(tx, usage, false);
        v1::HubUsageEnded event;
        event.set_usage(usage.name());
        event.set_case_(usage.case_());
        event.set_municipality_code(usage.municipality_code());
        event.set_hub_code(usage.hub_code());
        *event.mutable_end_date() = end.end_date();
        event.set_reason(end.reason());
        event.set_was_started(usage.state() == v1::HUB_USAGE_STATE_IN_USE);
        events::AppendEvent(tx, usage.name(), event, caller.trace_id);
        return absl::OkStatus();
      });
}

absl::StatusOr<std::vector<v1::HubUsage>> HubStore::List(
    const UsageFilter& filter, const Caller& caller) {
  return pg::InTransaction(
      pool_, "list hub usages",
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<v1::HubUsage>> {
        std::vector<UsageRecord> records;
        for (const pqxx::row& row : tx.exec_params(
                 absl::StrCat("SELECT ", kUsageColumns, kUsageFrom,
                              " WHERE u.municipality = $1 AND ",
                              CreatedAfterSql("u.", 7, 2),
                              "   AND ($3 = '' OR u.hub_code = $3)"
                              "   AND ($4 = '' OR u.case_name = $4)"
                              "   AND ($5 = '' OR u.state = $5)"
                              " ORDER BY u.create_time, u.id LIMIT $6 + 1"),
                 filter.municipality, filter.after.id, filter.hub_code,
                 filter.case_name, ToText(filter.state), filter.limit,
                 filter.after.create_us)) {
          records.push_back(UsageFromRow(row, cipher_));
        }
        LoadPlans(tx, records, cipher_);
        std::vector<v1::HubUsage> out;
        std::vector<std::string> shown;
        for (UsageRecord& record : records) {
          if (static_cast<int>(shown.size()) < filter.limit) {
            shown.push_back(record.proto.name());
          }
          out.push_back(std::move(record.proto));
        }
        Audit(tx, shown, caller, "read");
        return out;
      });
}

absl::StatusOr<std::vector<v1::HubVisit>> HubStore::ListVisits(
    const std::string& hub_code, absl::CivilDay from, absl::CivilDay to,
    const Caller& caller) {
  return pg::InTransaction(
      pool_, "list hub visits",
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<v1::HubVisit>> {
        std::vector<v1::HubVisit> out;
        std::set<std::string> usages;
        for (const pqxx::row& row : tx.exec_params(
                 absl::StrCat("SELECT ", kVisitColumns,
                              " FROM hub_visits WHERE hub_code = $1"
                              "   AND visit_date BETWEEN $2::date AND $3::date"
                              " ORDER BY visit_date, arrival_minute, id"),
                 hub_code, DayToSql(from), DayToSql(to))) {
          out.push_back(VisitFromRow(row, cipher_));
          usages.insert(out.back().usage());
        }
        Audit(tx, std::vector<std::string>(usages.begin(), usages.end()),
              caller, "read");
        return out;
      });
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
HubStore::PendingEnrollments(int limit) {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  return pg::InTransaction(
      pool_, "list pending enrollments",
      [&](pqxx::work& tx) -> absl::StatusOr<Pairs> {
        Pairs out;
        for (const pqxx::row& row :
             tx.exec_params("SELECT case_name, hub_code FROM hub_enrollments"
                            " WHERE NOT synced ORDER BY update_time LIMIT $1",
                            limit)) {
          out.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
        }
        return out;
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<bool> HubStore::SyncEnrollment(
    const std::string& case_name, const std::string& hub_code,
    const std::function<absl::Status(bool enrolled)>& send) {
  return pg::InTransaction(
      pool_, "sync hub enrollment",
      [&](pqxx::work& tx) -> absl::StatusOr<bool> {
        const pqxx::result pending = tx.exec_params(
            "SELECT enrolled FROM hub_enrollments WHERE case_name = $1"
            " AND hub_code = $2 AND NOT synced FOR UPDATE SKIP LOCKED",
            case_name, hub_code);
        if (pending.empty()) {
          // In sync, or being sent by someone else right now.
          const pqxx::result synced = tx.exec_params(
              "SELECT synced FROM hub_enrollments WHERE case_name = $1"
              " AND hub_code = $2",
              case_name, hub_code);
          return synced.empty() || synced[0][0].as<bool>();
        }
        const absl::Status sent = send(pending[0][0].as<bool>());
        if (sent.ok()) {
          tx.exec_params0(
              "UPDATE hub_enrollments SET synced = true, last_error = '',"
              " update_time = now() WHERE case_name = $1 AND hub_code = $2",
              case_name, hub_code);
          return true;
        }
        tx.exec_params0(
            "UPDATE hub_enrollments SET attempts = attempts + 1,"
            " last_error = $3, update_time = now()"
            " WHERE case_name = $1 AND hub_code = $2",
            case_name, hub_code, absl::StatusCodeToString(sent.code()));
        return false;
      });
}

}  // namespace kosapo::referral
