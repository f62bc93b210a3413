// Free text about children is encrypted at rest: the case service through
// real gRPC against a real PostgreSQL, with keys from files. What is written
// reads back equal through the API, the database holds none of it in
// plaintext (every row of every table of the schema, as a dump would show
// it), a value moved to another case does not open, keys rotate across a
// restart, and legacy plaintext rows still read.
#include <grpcpp/client_context.h>

#include <filesystem>
#include <memory>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/crypto/field_cipher.h"
#include "common/service/in_process.h"
#include "common/testing/pg_cluster.h"
#include "common/testing/status_matchers.h"
#include "common/testing/stdout_capture.h"
#include "common/types/api_types.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kosapo/cases/v1/cases.grpc.pb.h"
#include "services/case/case_server.h"

namespace kosapo::cases {
namespace {

using ::kosapo::testing::SharedPgCluster;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kCity[] = "27100";

// The texts written, each distinct so a leak names its field.
constexpr char kSummary[] = "家庭訪問。母親は夜勤で、本人は夕食を一人でとる。";
constexpr char kUrgent[] = "腕に新しいあざ。本人は父に叩かれたと話した。";
constexpr char kAckNote[] = "児童相談所へ連絡済み、明朝訪問。";
constexpr char kApproachNote[] = "祖母宅で本人と初めて話せた。";
constexpr char kAssessmentText[] = "ヤングケアラーの疑い。弟の世話で欠席。";
constexpr char kNeedNote[] = "母親の通院に本人が付き添っている。";
constexpr char kGoal[] = "週三日は登校できるようにする。";
constexpr char kOutcomeNote[] = "転居先の自治体へ引き継いだ。";
constexpr char kAfterRotation[] = "ローテーション後の記録。";
constexpr char kGuardian[] = "秘密 花子";
constexpr char kAddress[] = "大阪市北区天神橋9-9-9";
constexpr char kHouseholdNote[] = "父親は別居中、接近禁止命令あり。";

class FieldEncryptionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tokens = testing::TestTokens::Create();
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = tokens->release();
    keys_dir_ = new std::string(SharedPgCluster().data_dir() + "-field-keys");
    ASSERT_OK(crypto::WriteRandomKeyFile(*keys_dir_, "a"));
  }

  static void TearDownTestSuite() {
    delete service_;
    delete tokens_;
    std::filesystem::remove_all(*keys_dir_);
    delete keys_dir_;
  }

  // (Re)starts the service with `active` as the active key.
  static absl::Status Restart(const std::string& active) {
    delete service_;
    service_ = nullptr;
    auto service = testing::InProcessService::Start(
        Definition(), SharedPgCluster(), *tokens_, SharedPgCluster().data_dir(),
        {{"KOSAPO_FOLLOW_SCREENING", "false"},
         {"KOSAPO_FIELD_KEYS_DIR", *keys_dir_},
         {"KOSAPO_FIELD_KEY_ID", active}});
    if (!service.ok()) {
      return service.status();
    }
    service_ = service->release();
    return absl::OkStatus();
  }

  static std::unique_ptr<grpc::ClientContext> Kita() {
    auth::Principal principal;
    principal.subject = "user:kita-officer";
    principal.role = auth::Role::kWardOfficer;
    principal.municipality = kCity;
    principal.areas = {"27127"};
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", "Bearer " + tokens_->Sign(principal));
    return context;
  }

  static std::unique_ptr<v1::CaseService::Stub> Stub() {
    return v1::CaseService::NewStub(service_->channel());
  }

  static kosapo::type::Date DaysAgo(int days) {
    return DateToProto(*DayIn(absl::Now(), "Asia/Tokyo") - days);
  }

  static v1::Case NewCase(const std::string& kana, const std::string& id) {
    v1::CreateCaseRequest request;
    request.set_parent(absl::StrCat("municipalities/", kCity));
    request.set_request_id(id);
    v1::Case* c = request.mutable_case_();
    c->set_area_code("27127");
    c->set_source(v1::CASE_SOURCE_SCHOOL);
    *c->mutable_opened_date() = DaysAgo(30);
    c->mutable_child()->set_name("北 一郎");
    c->mutable_child()->set_kana(kana);
    c->mutable_child()->mutable_birth_date()->set_year(2014);
    c->mutable_child()->mutable_birth_date()->set_month(4);
    c->mutable_child()->mutable_birth_date()->set_day(2);
    v1::Guardian* guardian = c->mutable_household()->add_guardians();
    guardian->set_name(kGuardian);
    guardian->set_relationship("mother");
    c->mutable_household()->set_address(kAddress);
    c->mutable_household()->set_note(kHouseholdNote);
    v1::Case created;
    const grpc::Status status =
        Stub()->CreateCase(Kita().get(), request, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created;
  }

  static grpc::Status RecordContact(const v1::Case& c, const std::string& id,
                                    const std::string& summary) {
    v1::RecordContactRequest request;
    request.set_parent(c.name());
    request.set_request_id(id);
    request.mutable_contact()->set_kind(v1::CONTACT_KIND_HOME_VISIT);
    *request.mutable_contact()->mutable_contact_date() = DaysAgo(1);
    request.mutable_contact()->set_summary(summary);
    v1::Contact contact;
    return Stub()->RecordContact(Kita().get(), request, &contact);
  }

  static grpc::Status ListContacts(const v1::Case& c,
                                   v1::ListContactsResponse* out) {
    v1::ListContactsRequest request;
    request.set_parent(c.name());
    return Stub()->ListContacts(Kita().get(), request, out);
  }

  // Every row of every table of the case schema, as JSON text: what a dump
  // of the database holds.
  static std::string DumpSchema() {
    pqxx::connection connection(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(connection);
    const std::string schema = SharedPgCluster().Schema("case");
    std::string dump;
    int tables = 0;
    for (const pqxx::row& table : tx.exec_params(
             "SELECT table_name FROM information_schema.tables"
             " WHERE table_schema = $1 AND table_type = 'BASE TABLE'",
             schema)) {
      ++tables;
      const std::string name = table[0].as<std::string>();
      for (const pqxx::row& row : tx.exec(absl::StrCat(
               "SELECT row_to_json(t)::text FROM ", tx.quote_name(schema), ".",
               tx.quote_name(name), " t"))) {
        absl::StrAppend(&dump, name, ": ", row[0].as<std::string>(), "\n");
      }
    }
    EXPECT_GT(tables, 8);
    return dump;
  }

  static std::string Sql(const std::string& sql) {
    pqxx::connection connection(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(connection);
    tx.exec0(absl::StrCat("SET search_path TO ",
                          tx.quote_name(SharedPgCluster().Schema("case"))));
    const pqxx::result rows = tx.exec(sql);
    return rows.empty() || rows[0][0].is_null() ? ""
                                                : rows[0][0].as<std::string>();
  }

  static testing::TestTokens* tokens_;
  static std::string* keys_dir_;
  static testing::InProcessService* service_;
};

testing::TestTokens* FieldEncryptionTest::tokens_ = nullptr;
std::string* FieldEncryptionTest::keys_dir_ = nullptr;
testing::InProcessService* FieldEncryptionTest::service_ = nullptr;

// One test: the steps build on each other (write, dump, swap, rotate).
TEST_F(FieldEncryptionTest, FreeTextIsEncryptedAtRestAndReadsBack) {
  ASSERT_OK(Restart("a"));
  const v1::Case c = NewCase("ひみつ", "fe-case-1");
  const v1::Case other = NewCase("べつじん", "fe-case-2");

  // Write every kind of free text the service encrypts.
  ASSERT_TRUE(RecordContact(c, "fe-contact", kSummary).ok());
  v1::RaiseUrgentReportRequest raise;
  raise.set_parent(c.name());
  raise.set_request_id("fe-urgent");
  raise.mutable_report()->set_category(v1::URGENT_CATEGORY_SIGNS_OF_ABUSE);
  raise.mutable_report()->set_description(kUrgent);
  v1::UrgentReport raised;
  ASSERT_TRUE(Stub()->RaiseUrgentReport(Kita().get(), raise, &raised).ok());
  EXPECT_EQ(raised.description(), kUrgent);
  v1::AcknowledgeUrgentReportRequest ack;
  ack.set_name(raised.name());
  ack.set_note(kAckNote);
  v1::UrgentReport acknowledged;
  ASSERT_TRUE(
      Stub()->AcknowledgeUrgentReport(Kita().get(), ack, &acknowledged).ok());
  EXPECT_EQ(acknowledged.description(), kUrgent);
  EXPECT_EQ(acknowledged.acknowledge_note(), kAckNote);
  v1::ChangeApproachStatusRequest approach;
  approach.set_name(c.name());
  approach.set_status(v1::APPROACH_STATUS_OUTREACH_DONE);
  *approach.mutable_effective_date() = DaysAgo(2);
  approach.set_note(kApproachNote);
  approach.set_request_id("fe-approach");
  v1::Case changed;
  ASSERT_TRUE(
      Stub()->ChangeApproachStatus(Kita().get(), approach, &changed).ok());
  v1::RecordConferenceRequest conference;
  conference.set_parent(c.name());
  conference.set_request_id("fe-conference");
  conference.mutable_conference()->set_kind(
      v1::CONFERENCE_KIND_INDIVIDUAL_CASE_CONFERENCE);
  *conference.mutable_conference()->mutable_conference_date() = DaysAgo(2);
  auto* attendee = conference.mutable_conference()->add_attendees();
  attendee->set_role("ssw");
  attendee->set_count(1);
  conference.mutable_conference()->set_assessment(kAssessmentText);
  v1::Conference recorded_conference;
  ASSERT_TRUE(
      Stub()
          ->RecordConference(Kita().get(), conference, &recorded_conference)
          .ok());
  EXPECT_EQ(recorded_conference.assessment(), kAssessmentText);
  v1::RecordAssessmentRequest assessment;
  assessment.set_parent(c.name());
  assessment.set_request_id("fe-assessment");
  *assessment.mutable_assessment()->mutable_assessed_date() = DaysAgo(2);
  auto* need = assessment.mutable_assessment()->add_needs();
  need->set_domain(v1::NEED_DOMAIN_CAREGIVING);
  need->set_level(v1::NEED_LEVEL_HIGH);
  need->set_note(kNeedNote);
  v1::Assessment recorded_assessment;
  ASSERT_TRUE(
      Stub()
          ->RecordAssessment(Kita().get(), assessment, &recorded_assessment)
          .ok());
  v1::RecordSupportPlanRequest plan;
  plan.set_parent(c.name());
  plan.set_request_id("fe-plan");
  *plan.mutable_plan()->mutable_plan_date() = DaysAgo(1);
  *plan.mutable_plan()->mutable_review_date() = DaysAgo(-30);
  plan.mutable_plan()->add_goals(kGoal);
  v1::SupportPlan recorded_plan;
  ASSERT_TRUE(
      Stub()->RecordSupportPlan(Kita().get(), plan, &recorded_plan).ok());
  v1::RecordOutcomeRequest outcome;
  outcome.set_name(c.name());
  outcome.set_outcome(v1::OUTCOME_MOVED_AWAY);
  *outcome.mutable_effective_date() = DaysAgo(0);
  outcome.set_note(kOutcomeNote);
  outcome.set_request_id("fe-outcome");
  v1::Case closed;
  ASSERT_TRUE(Stub()->RecordOutcome(Kita().get(), outcome, &closed).ok());

  // Each reads back equal through the API.
  auto reads_back = [&](const std::string& when) {
    SCOPED_TRACE(when);
    v1::GetCaseRequest get;
    get.set_name(c.name());
    v1::Case read;
    ASSERT_TRUE(Stub()->GetCase(Kita().get(), get, &read).ok());
    EXPECT_EQ(read.household().guardians(0).name(), kGuardian);
    EXPECT_EQ(read.household().guardians(0).relationship(), "mother");
    EXPECT_EQ(read.household().address(), kAddress);
    EXPECT_EQ(read.household().note(), kHouseholdNote);
    v1::ListContactsResponse contacts;
    ASSERT_TRUE(ListContacts(c, &contacts).ok());
    ASSERT_EQ(contacts.contacts_size(), 1);
    EXPECT_EQ(contacts.contacts(0).summary(), kSummary);
    v1::GetApproachHistoryRequest history_request;
    history_request.set_name(c.name());
    v1::ApproachHistory history;
    ASSERT_TRUE(
        Stub()
            ->GetApproachHistory(Kita().get(), history_request, &history)
            .ok());
    ASSERT_EQ(history.changes_size(), 2);
    EXPECT_EQ(history.changes(1).note(), kApproachNote);
    v1::ListConferencesRequest conferences_request;
    conferences_request.set_parent(c.name());
    v1::ListConferencesResponse conferences;
    ASSERT_TRUE(
        Stub()
            ->ListConferences(Kita().get(), conferences_request, &conferences)
            .ok());
    ASSERT_EQ(conferences.conferences_size(), 1);
    EXPECT_EQ(conferences.conferences(0).assessment(), kAssessmentText);
    EXPECT_EQ(conferences.conferences(0).attendees(0).role(), "ssw");
    v1::ListAssessmentsRequest assessments_request;
    assessments_request.set_parent(c.name());
    v1::ListAssessmentsResponse assessments;
    ASSERT_TRUE(
        Stub()
            ->ListAssessments(Kita().get(), assessments_request, &assessments)
            .ok());
    ASSERT_EQ(assessments.assessments_size(), 1);
    EXPECT_EQ(assessments.assessments(0).needs(0).note(), kNeedNote);
    EXPECT_EQ(assessments.assessments(0).needs(0).level(), v1::NEED_LEVEL_HIGH);
    v1::ListSupportPlansRequest plans_request;
    plans_request.set_parent(c.name());
    v1::ListSupportPlansResponse plans;
    ASSERT_TRUE(
        Stub()->ListSupportPlans(Kita().get(), plans_request, &plans).ok());
    ASSERT_EQ(plans.plans_size(), 1);
    EXPECT_EQ(plans.plans(0).goals(0), kGoal);
    // Acknowledging again answers with the stored report.
    v1::UrgentReport again;
    ASSERT_TRUE(
        Stub()->AcknowledgeUrgentReport(Kita().get(), ack, &again).ok());
    EXPECT_EQ(again.description(), kUrgent);
    EXPECT_EQ(again.acknowledge_note(), kAckNote);
  };
  reads_back("as written");

  // The database holds none of it in plaintext.
  const std::string dump = DumpSchema();
  for (const char* text :
       {kSummary, kUrgent, kAckNote, kApproachNote, kAssessmentText, kNeedNote,
        kGoal, kOutcomeNote, kGuardian, kAddress, kHouseholdNote}) {
    EXPECT_THAT(dump, Not(HasSubstr(text))) << text;
  }
  EXPECT_THAT(dump, HasSubstr("北 一郎"));  // the dump does read the rows
  const std::string stored_summary = Sql("SELECT summary FROM contacts");
  EXPECT_THAT(stored_summary, StartsWith("enc:v1:a:"));
  EXPECT_THAT(Sql("SELECT outcome_changes.note FROM outcome_changes"),
              StartsWith("enc:v1:a:"));
  EXPECT_THAT(Sql("SELECT body->>'assessment' FROM conferences"),
              StartsWith("enc:v1:a:"));

  // A summary moved to another child's case does not open there.
  ASSERT_TRUE(RecordContact(other, "fe-other", "別の記録").ok());
  Sql(absl::StrCat("UPDATE contacts SET summary = (SELECT summary FROM",
                   " contacts WHERE request_id = 'fe-contact')",
                   " WHERE request_id = 'fe-other' RETURNING 1"));
  // The caller gets DATA_LOSS; the log names the field and case for
  // operators, never the text.
  v1::ListContactsResponse moved;
  testing::StdoutCapture swap_log(SharedPgCluster().data_dir() + "/swap.log");
  const grpc::Status refused = ListContacts(other, &moved);
  const std::string swap_logged = swap_log.Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_THAT(swap_logged,
              HasSubstr(absl::StrCat("cases.contacts.summary|", other.name(),
                                     ": stored value does not authenticate")));
  EXPECT_THAT(swap_logged + refused.error_message(), Not(HasSubstr(kSummary)));
  // Rows written before encryption (plaintext) read as they are.
  Sql("UPDATE contacts SET summary = '暗号化前の記録'"
      " WHERE request_id = 'fe-other' RETURNING 1");
  ASSERT_TRUE(ListContacts(other, &moved).ok());
  EXPECT_EQ(moved.contacts(0).summary(), "暗号化前の記録");

  // Rotation: key b is added and made active; what key a sealed still reads.
  ASSERT_OK(crypto::WriteRandomKeyFile(*keys_dir_, "b"));
  ASSERT_OK(Restart("b"));
  reads_back("after rotating to key b");
  const v1::Case fresh = NewCase("あたらしい", "fe-case-3");
  ASSERT_TRUE(RecordContact(fresh, "fe-rotated", kAfterRotation).ok());
  EXPECT_THAT(
      Sql("SELECT summary FROM contacts WHERE request_id = 'fe-rotated'"),
      StartsWith("enc:v1:b:"));
  EXPECT_THAT(Sql(absl::StrCat("SELECT household::text FROM cases WHERE id = ",
                               fresh.name().substr(6))),
              HasSubstr("enc:v1:b:"));
  v1::ListContactsResponse fresh_contacts;
  ASSERT_TRUE(ListContacts(fresh, &fresh_contacts).ok());
  EXPECT_EQ(fresh_contacts.contacts(0).summary(), kAfterRotation);

  // Without key a, its values are refused by name, never returned garbled.
  std::filesystem::rename(*keys_dir_ + "/a.key", *keys_dir_ + "/a.removed");
  ASSERT_OK(Restart("b"));
  v1::ListContactsResponse without_a;
  testing::StdoutCapture key_log(SharedPgCluster().data_dir() + "/key.log");
  const grpc::Status missing = ListContacts(c, &without_a);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_THAT(key_log.Finish(), HasSubstr("sealed with field key 'a'"));
  // A case written under key b alone still reads.
  ASSERT_TRUE(ListContacts(fresh, &fresh_contacts).ok());
  EXPECT_EQ(fresh_contacts.contacts(0).summary(), kAfterRotation);
  std::filesystem::rename(*keys_dir_ + "/a.removed", *keys_dir_ + "/a.key");

  // An active key without its file stops the service at start.
  const absl::Status unknown = Restart("c");
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.message(), HasSubstr("'c' has no file c.key"));
  EXPECT_THAT(unknown.message(), HasSubstr("KOSAPO_FIELD_KEY_ID"));
}

}  // namespace
}  // namespace kosapo::cases
