#include "services/case/store/work_store.h"

#include <google/protobuf/util/json_util.h>

#include <pqxx/result>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "common/base/proto_time.h"
#include "common/base/status.h"
#include "common/crypto/proto_fields.h"
#include "common/events/outbox.h"
#include "common/pg/errors.h"
#include "common/types/api_types.h"
#include "kosapo/cases/v1/events.pb.h"
#include "services/case/domain/enum_text.h"

namespace kosapo::cases {
namespace {

// The API's JSON form of the parts of a record kept in its body column.
std::string BodyJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

// The free text of each body, sealed field by field so that the rest of the
// JSON (dates, levels, attendee counts) keeps its shape.
constexpr const char* kConferenceText[] = {"assessment", "support_policy"};
constexpr const char* kAssessmentText[] = {"needs.note"};
constexpr const char* kPlanText[] = {"goals", "supports.description"};

// The body of `message` with its `text` fields sealed for case `case_id`.
absl::StatusOr<std::string> SealedBodyJson(google::protobuf::Message& message,
                                           absl::Span<const char* const> text,
                                           absl::string_view place,
                                           int64_t case_id,
                                           const crypto::FieldCipher& cipher) {
  KOSAPO_RETURN_IF_ERROR(
      crypto::SealFields(message, text, place, CaseName(case_id), cipher));
  return BodyJson(message);
}

// Throws pg::StatusError when a sealed field does not open.
template <typename Message>
Message FromBody(const std::string& json, absl::Span<const char* const> text,
                 absl::string_view place, int64_t case_id,
                 const crypto::FieldCipher& cipher) {
  Message message;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  // Written by BodyJson from a validated message: it parses.
  (void)google::protobuf::util::JsonStringToMessage(json, &message, options);
  const absl::Status opened =
      crypto::OpenFields(message, text, place, CaseName(case_id), cipher);
  if (!opened.ok()) {
    throw pg::StatusError(opened);
  }
  return message;
}

std::string SummaryContext(int64_t case_id) {
  return crypto::FieldContext("cases.contacts.summary", CaseName(case_id));
}

constexpr char kConferenceColumns[] =
    "id, case_id, kind, conference_date::text, body::text, recorded_by,"
    " (extract(epoch FROM create_time) * 1000000)::bigint";

v1::Conference ConferenceFromRow(const pqxx::row& row,
                                 const crypto::FieldCipher& cipher) {
  v1::Conference c = FromBody<v1::Conference>(
      row[4].as<std::string>(), kConferenceText, "cases.conferences.body",
      row[1].as<int64_t>(), cipher);
  c.set_name(
      ChildName(row[1].as<int64_t>(), "conferences", row[0].as<int64_t>()));
  c.set_kind(EnumFromText<v1::ConferenceKind>(row[2].as<std::string>()));
  *c.mutable_conference_date() = DateFromSql(row[3].as<std::string>());
  c.set_recorded_by(row[5].as<std::string>());
  SetTimestampMicros(row[6].as<int64_t>(), c.mutable_create_time());
  return c;
}

constexpr char kAssessmentColumns[] =
    "case_id, version, assessed_date::text, body::text, recorded_by,"
    " (extract(epoch FROM create_time) * 1000000)::bigint";

v1::Assessment AssessmentFromRow(const pqxx::row& row,
                                 const crypto::FieldCipher& cipher) {
  v1::Assessment a = FromBody<v1::Assessment>(
      row[3].as<std::string>(), kAssessmentText, "cases.assessments.body",
      row[0].as<int64_t>(), cipher);
  a.set_version(row[1].as<int>());
  a.set_name(ChildName(row[0].as<int64_t>(), "assessments", a.version()));
  *a.mutable_assessed_date() = DateFromSql(row[2].as<std::string>());
  a.set_recorded_by(row[4].as<std::string>());
  SetTimestampMicros(row[5].as<int64_t>(), a.mutable_create_time());
  return a;
}

constexpr char kPlanColumns[] =
    "case_id, version, plan_date::text, review_date::text, body::text,"
    " recorded_by, (extract(epoch FROM create_time) * 1000000)::bigint";

v1::SupportPlan PlanFromRow(const pqxx::row& row,
                            const crypto::FieldCipher& cipher) {
  v1::SupportPlan p = FromBody<v1::SupportPlan>(
      row[4].as<std::string>(), kPlanText, "cases.support_plans.body",
      row[0].as<int64_t>(), cipher);
  p.set_version(row[1].as<int>());
  p.set_name(ChildName(row[0].as<int64_t>(), "plans", p.version()));
  *p.mutable_plan_date() = DateFromSql(row[2].as<std::string>());
  *p.mutable_review_date() = DateFromSql(row[3].as<std::string>());
  p.set_recorded_by(row[5].as<std::string>());
  SetTimestampMicros(row[6].as<int64_t>(), p.mutable_create_time());
  return p;
}

constexpr char kContactColumns[] =
    "id, case_id, kind, contact_date::text, staff, summary,"
    " (extract(epoch FROM create_time) * 1000000)::bigint";

v1::Contact ContactFromRow(const pqxx::row& row,
                           const crypto::FieldCipher& cipher) {
  v1::Contact c;
  c.set_name(ChildName(row[1].as<int64_t>(), "contacts", row[0].as<int64_t>()));
  c.set_kind(EnumFromText<v1::ContactKind>(row[2].as<std::string>()));
  *c.mutable_contact_date() = DateFromSql(row[3].as<std::string>());
  c.set_staff(row[4].as<std::string>());
  c.set_summary(pg::ValueOrThrow(cipher.Open(
      row[5].as<std::string>(), SummaryContext(row[1].as<int64_t>()))));
  SetTimestampMicros(row[6].as<int64_t>(), c.mutable_create_time());
  return c;
}

// A record already stored under the request id, for a retry.
pqxx::result Replay(pqxx::work& tx, absl::string_view columns,
                    absl::string_view table, int64_t id,
                    const std::string& request_id) {
  return tx.exec_params(absl::StrCat("SELECT ", columns, " FROM ", table,
                                     " WHERE case_id = $1 AND request_id = $2"),
                        id, request_id);
}

// Checks shared by every new record: etag, a case not withdrawn.
absl::Status CheckWritable(const CaseRecord& record, absl::string_view etag) {
  KOSAPO_RETURN_IF_ERROR(CheckEtag(record, etag));
  return RequireWritable(record);
}

}  // namespace

absl::StatusOr<v1::Conference> WorkStore::RecordConference(
    int64_t id, const v1::RecordConferenceRequest& request,
    absl::CivilDay today, const Caller& caller, const Authorize& authorize) {
  return WithCase<v1::Conference>(
      pool_, cipher_, "record conference", id, caller, authorize, true,
      [&](pqxx::work& tx, CaseRecord& record,
          Access) -> absl::StatusOr<v1::Conference> {
        const pqxx::result replay = Replay(
            tx, kConferenceColumns, "conferences", id, request.request_id());
        if (!replay.empty()) {
          return ConferenceFromRow(replay[0], cipher_);
        }
        KOSAPO_RETURN_IF_ERROR(CheckWritable(record, request.etag()));
        const v1::Conference& in = request.conference();
        KOSAPO_ASSIGN_OR_RETURN(
            const absl::CivilDay date,
            EffectiveDate(in.conference_date(), "conference.conference_date",
                          today, record.opened));
        v1::Conference body;
        *body.mutable_attendees() = in.attendees();
        body.set_assessment(in.assessment());
        body.set_support_policy(in.support_policy());
        *body.mutable_persons_in_charge() = in.persons_in_charge();
        KOSAPO_ASSIGN_OR_RETURN(
            const std::string body_json,
            SealedBodyJson(body, kConferenceText, "cases.conferences.body", id,
                           cipher_));
        const pqxx::row row = tx.exec_params1(
            absl::StrCat("INSERT INTO conferences (case_id, kind,"
                         " conference_date, body, recorded_by, request_id)"
                         " VALUES ($1, $2, $3::date, $4::jsonb, $5, $6)"
                         " RETURNING ",
                         kConferenceColumns),
            id, ToText(in.kind()), DayToSql(date), body_json, caller.subject,
            request.request_id());
        // The meeting names who is in charge from now on.
        if (in.persons_in_charge_size() > 0) {
          tx.exec_params0("DELETE FROM case_assignees WHERE case_id = $1", id);
          for (const v1::Assignee& person : in.persons_in_charge()) {
            tx.exec_params0(
                "INSERT INTO case_assignees (case_id, subject, role)"
                " VALUES ($1, $2, $3)",
                id, person.subject(), person.role());
          }
        }
        Touch(tx, record);
        v1::Conference stored = ConferenceFromRow(row, cipher_);
        v1::ConferenceRecorded event;
        event.set_case_(CaseName(id));
        event.set_conference(stored.name());
        event.set_kind(stored.kind());
        *event.mutable_conference_date() = stored.conference_date();
        events::AppendEvent(tx, event.case_(), event, caller.trace_id);
        return stored;
      });
}

absl::StatusOr<std::vector<v1::Conference>> WorkStore::ListConferences(
    int64_t id, const Caller& caller, const Authorize& authorize) {
  using List = std::vector<v1::Conference>;
  return WithCase<List>(
      pool_, cipher_, "list conferences", id, caller, authorize, false,
      [&](pqxx::work& tx, CaseRecord&, Access) -> absl::StatusOr<List> {
        List list;
        for (const pqxx::row& row :
             tx.exec_params(absl::StrCat("SELECT ", kConferenceColumns,
                                         " FROM conferences WHERE case_id = $1"
                                         " ORDER BY conference_date,"
                                         " create_time, id"),
                            id)) {
          list.push_back(ConferenceFromRow(row, cipher_));
        }
        return list;
      });
}

absl::StatusOr<v1::Assessment> WorkStore::RecordAssessment(
    int64_t id, const v1::RecordAssessmentRequest& request,
    absl::CivilDay today, const Caller& caller, const Authorize& authorize) {
  return WithCase<v1::Assessment>(
      pool_, cipher_, "record assessment", id, caller, authorize, true,
      [&](pqxx::work& tx, CaseRecord& record,
          Access) -> absl::StatusOr<v1::Assessment> {
        const pqxx::result replay = Replay(
            tx, kAssessmentColumns, "assessments", id, request.request_id());
        if (!replay.empty()) {
          return AssessmentFromRow(replay[0], cipher_);
        }
        KOSAPO_RETURN_IF_ERROR(CheckWritable(record, request.etag()));
        const v1::Assessment& in = request.assessment();
        KOSAPO_ASSIGN_OR_RETURN(
            const absl::CivilDay date,
            EffectiveDate(in.assessed_date(), "assessment.assessed_date", today,
                          record.opened));
        v1::Assessment body;
        *body.mutable_needs() = in.needs();
        KOSAPO_ASSIGN_OR_RETURN(
            const std::string body_json,
            SealedBodyJson(body, kAssessmentText, "cases.assessments.body", id,
                           cipher_));
        const pqxx::row row = tx.exec_params1(
            absl::StrCat(
                "INSERT INTO assessments (case_id, version, assessed_date,"
                " body, recorded_by, request_id)"
                " VALUES ($1, (SELECT coalesce(max(version), 0) + 1"
                "               FROM assessments WHERE case_id = $1),"
                " $2::date, $3::jsonb, $4, $5) RETURNING ",
                kAssessmentColumns),
            id, DayToSql(date), body_json, caller.subject,
            request.request_id());
        Touch(tx, record);
        v1::Assessment stored = AssessmentFromRow(row, cipher_);
        v1::AssessmentRecorded event;
        event.set_case_(CaseName(id));
        event.set_version(stored.version());
        *event.mutable_assessed_date() = stored.assessed_date();
        events::AppendEvent(tx, event.case_(), event, caller.trace_id);
        return stored;
      });
}

absl::StatusOr<std::vector<v1::Assessment>> WorkStore::ListAssessments(
    int64_t id, const Caller& caller, const Authorize& authorize) {
  using List = std::vector<v1::Assessment>;
  return WithCase<List>(
      pool_, cipher_, "list assessments", id, caller, authorize, false,
      [&](pqxx::work& tx, CaseRecord&, Access) -> absl::StatusOr<List> {
        List list;
        for (const pqxx::row& row :
             tx.exec_params(absl::StrCat("SELECT ", kAssessmentColumns,
                                         " FROM assessments WHERE case_id = $1"
                                         " ORDER BY version DESC"),
                            id)) {
          list.push_back(AssessmentFromRow(row, cipher_));
        }
        return list;
      });
}

absl::StatusOr<v1::SupportPlan> WorkStore::RecordSupportPlan(
    int64_t id, const v1::RecordSupportPlanRequest& request,
    absl::CivilDay today, const Caller& caller, const Authorize& authorize) {
  return WithCase<v1::SupportPlan>(
      pool_, cipher_, "record support plan", id, caller, authorize, true,
      [&](pqxx::work& tx, CaseRecord& record,
          Access) -> absl::StatusOr<v1::SupportPlan> {
        const pqxx::result replay =
            Replay(tx, kPlanColumns, "support_plans", id, request.request_id());
        if (!replay.empty()) {
          return PlanFromRow(replay[0], cipher_);
        }
        KOSAPO_RETURN_IF_ERROR(CheckWritable(record, request.etag()));
        const v1::SupportPlan& in = request.plan();
        KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay date,
                                EffectiveDate(in.plan_date(), "plan.plan_date",
                                              today, record.opened));
        v1::SupportPlan body;
        *body.mutable_goals() = in.goals();
        *body.mutable_supports() = in.supports();
        body.set_child_wishes_heard(in.child_wishes_heard());
        body.set_guardian_wishes_heard(in.guardian_wishes_heard());
        KOSAPO_ASSIGN_OR_RETURN(
            const std::string body_json,
            SealedBodyJson(body, kPlanText, "cases.support_plans.body", id,
                           cipher_));
        const pqxx::row row = tx.exec_params1(
            absl::StrCat(
                "INSERT INTO support_plans (case_id, version, plan_date,"
                " review_date, body, recorded_by, request_id)"
                " VALUES ($1, (SELECT coalesce(max(version), 0) + 1"
                "               FROM support_plans WHERE case_id = $1),"
                " $2::date, $3::date, $4::jsonb, $5, $6) RETURNING ",
                kPlanColumns),
            id, DayToSql(date), DateToSql(in.review_date()), body_json,
            caller.subject, request.request_id());
        v1::SupportPlan stored = PlanFromRow(row, cipher_);
        tx.exec_params0(
            "UPDATE cases SET plan_version = $2, plan_review_date = $3::date"
            " WHERE id = $1",
            id, stored.version(), DateToSql(stored.review_date()));
        Touch(tx, record);
        v1::SupportPlanRecorded event;
        event.set_case_(CaseName(id));
        event.set_version(stored.version());
        *event.mutable_plan_date() = stored.plan_date();
        *event.mutable_review_date() = stored.review_date();
        events::AppendEvent(tx, event.case_(), event, caller.trace_id);
        return stored;
      });
}

absl::StatusOr<std::vector<v1::SupportPlan>> WorkStore::ListSupportPlans(
    int64_t id, const Caller& caller, const Authorize& authorize) {
  using List = std::vector<v1::SupportPlan>;
  return WithCase<List>(
      pool_, cipher_, "list support plans", id, caller, authorize, false,
      [&](pqxx::work& tx, CaseRecord&, Access) -> absl::StatusOr<List> {
        List list;
        for (const pqxx::row& row : tx.exec_params(
                 absl::StrCat("SELECT ", kPlanColumns,
                              " FROM support_plans WHERE case_id = $1"
                              " ORDER BY version DESC"),
                 id)) {
          list.push_back(PlanFromRow(row, cipher_));
        }
        return list;
      });
}

absl::StatusOr<std::vector<v1::OverdueReview>> WorkStore::ListOverdueReviews(
    const OverdueFilter& filter) {
  using List = std::vector<v1::OverdueReview>;
  return pg::InTransaction(
      pool_, "list overdue reviews",
      [&](pqxx::work& tx) -> absl::StatusOr<List> {
        std::string sql =
            "SELECT c.id, c.area_code, c.plan_version,"
            " c.plan_review_date::text, ($2::date - c.plan_review_date)"
            " FROM cases c";
        if (!filter.assigned_to.empty()) {
          sql +=
              " JOIN case_assignees a ON a.case_id = c.id AND a.subject = $3";
        }
        sql +=
            " WHERE c.municipality = $1 AND c.state = 'open'"
            "   AND c.plan_review_date < $2::date"
            "   AND ($5 = '' OR (c.plan_review_date, c.id) > ($5::date, $6))";
        // Every parameter appears in both forms, so each has a type.
        if (filter.assigned_to.empty()) {
          sql += " AND c.area_code = ANY($4::text[]) AND $3::text = ''";
        } else {
          sql += " AND $4::text[] IS NOT NULL";
        }
        sql += " ORDER BY c.plan_review_date, c.id LIMIT $7";
        List list;
        for (const pqxx::row& row : tx.exec_params(
                 sql, filter.municipality, DayToSql(filter.today),
                 filter.assigned_to, TextArray(filter.areas),
                 filter.after_review, filter.after_id, filter.limit)) {
          v1::OverdueReview review;
          const int64_t id = row[0].as<int64_t>();
          review.set_case_(CaseName(id));
          review.set_area_code(row[1].as<std::string>());
          review.set_plan(ChildName(id, "plans", row[2].as<int64_t>()));
          *review.mutable_review_date() = DateFromSql(row[3].as<std::string>());
          review.set_days_overdue(row[4].as<int>());
          list.push_back(std::move(review));
        }
        return list;
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<v1::Contact> WorkStore::RecordContact(
    int64_t id, const v1::RecordContactRequest& request, absl::CivilDay today,
    const Caller& caller, const Authorize& authorize) {
  return WithCase<v1::Contact>(
      pool_, cipher_, "record contact", id, caller, authorize, true,
      [&](pqxx::work& tx, CaseRecord& record,
          Access) -> absl::StatusOr<v1::Contact> {
        const pqxx::result replay =
            Replay(tx, kContactColumns, "contacts", id, request.request_id());
        if (!replay.empty()) {
          return ContactFromRow(replay[0], cipher_);
        }
        KOSAPO_RETURN_IF_ERROR(CheckWritable(record, ""));
        const v1::Contact& in = request.contact();
        KOSAPO_ASSIGN_OR_RETURN(
            const absl::CivilDay date,
            EffectiveDate(in.contact_date(), "contact.contact_date", today,
                          record.opened));
        KOSAPO_ASSIGN_OR_RETURN(const std::string summary,
                                cipher_.Seal(in.summary(), SummaryContext(id)));
        const pqxx::row row = tx.exec_params1(
            absl::StrCat("INSERT INTO contacts (case_id, kind, contact_date,"
                         " staff, summary, request_id)"
                         " VALUES ($1, $2, $3::date, $4, $5, $6) RETURNING ",
                         kContactColumns),
            id, ToText(in.kind()), DayToSql(date), caller.subject, summary,
            request.request_id());
        v1::Contact stored = ContactFromRow(row, cipher_);
        v1::ContactRecorded event;
        event.set_case_(CaseName(id));
        event.set_kind(stored.kind());
        *event.mutable_contact_date() = stored.contact_date();
        events::AppendEvent(tx, event.case_(), event, caller.trace_id);
        return stored;
      });
}

absl::StatusOr<std::vector<v1::Contact>> WorkStore::ListContacts(
    int64_t id, int64_t before_us, int64_t before_id, int limit,
    const Caller& caller, const Authorize& authorize) {
  using List = std::vector<v1::Contact>;
  return WithCase<List>(
      pool_, cipher_, "list contacts", id, caller, authorize, false,
      [&](pqxx::work& tx, CaseRecord&, Access) -> absl::StatusOr<List> {
        List list;
        for (const pqxx::row& row :
             tx.exec_params(absl::StrCat("SELECT ", kContactColumns,
                                         " FROM contacts WHERE case_id = $1"
                                         "   AND ($2::bigint = 0"
                                         "   OR (create_time, id) < ("
                                         "'epoch'::timestamptz + $4::bigint"
                                         " * interval '1 microsecond',"
                                         " $2::bigint))"
                                         " ORDER BY create_time DESC, id DESC"
                                         " LIMIT $3"),
                            id, before_id, limit, before_us)) {
          list.push_back(ContactFromRow(row, cipher_));
        }
        return list;
      });
}

}  // namespace kosapo::cases
