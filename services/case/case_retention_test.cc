// Retention through the running case service, real gRPC and PostgreSQL, with
// an injected clock: the sweep erases the personal data of cases that ended
// more than the period ago, and nothing else; erased cases stay readable as
// statistics, refuse writes, and the erasure is in their audit trail; the
// reason in a withdrawal event is scrubbed from the feed.
#include <grpcpp/client_context.h>

#include <memory>
#include <pqxx/binarystring>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/base/clock.h"
#include "common/service/in_process.h"
#include "common/testing/pg_cluster.h"
#include "common/types/api_types.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kosapo/cases/v1/cases.grpc.pb.h"
#include "kosapo/cases/v1/events.pb.h"
#include "services/case/case_server.h"
#include "services/case/domain/case_rules.h"

namespace kosapo::cases {
namespace {

using ::kosapo::testing::SharedPgCluster;
using ::testing::HasSubstr;

constexpr char kCity[] = "27100";
constexpr int kRetentionDays = 365;

// What one case was given that is personal: each must be gone once erased.
struct Personal {
  std::string name;
  std::string kana;
  std::string guardian;
  std::string address;
  std::string source_detail;
  std::string contact;
  std::string approach_note;
  std::string outcome_note;
  std::string urgent;
  std::string ack_note;
  std::string withdraw_reason;

  // The values this case was given (an open case has no outcome note, only
  // a withdrawn one a withdrawal reason).
  std::vector<std::string> All() const {
    std::vector<std::string> all;
    for (const std::string* value :
         {&name, &kana, &guardian, &address, &source_detail, &contact,
          &approach_note, &outcome_note, &urgent, &ack_note,
          &withdraw_reason}) {
      if (!value->empty()) {
        all.push_back(*value);
      }
    }
    return all;
  }
  // Those stored as plain text; the rest is encrypted at rest (field
  // encryption), so a dump never shows it, erased or not.
  std::vector<std::string> Plain() const {
    std::vector<std::string> plain;
    for (const std::string* value :
         {&name, &kana, &source_detail, &withdraw_reason}) {
      if (!value->empty()) {
        plain.push_back(*value);
      }
    }
    return plain;
  }
};

Personal PersonalOf(const std::string& tag, const std::string& kana) {
  return {absl::StrCat("保持 ", tag, "子"),
          absl::StrCat("ホジ", kana),
          absl::StrCat("保持 ", tag, "母"),
          absl::StrCat("大阪市北区", tag, "-1"),
          absl::StrCat("紹介元", tag),
          absl::StrCat("家庭訪問", tag, "で母と話した"),
          absl::StrCat("接触メモ", tag),
          absl::StrCat("終結メモ", tag),
          absl::StrCat("緊急内容", tag),
          absl::StrCat("確認メモ", tag),
          ""};
}

class CaseRetentionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tokens = testing::TestTokens::Create();
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = tokens->release();
    clock_ = std::make_shared<FakeClock>(absl::Now());
    auto service = testing::InProcessService::Start(
        Definition(clock_), SharedPgCluster(), *tokens_,
        SharedPgCluster().data_dir(),
        {{"KOSAPO_FOLLOW_SCREENING", "false"},
         {"KOSAPO_RETENTION_PERIOD", absl::StrCat(kRetentionDays * 24, "h")},
         {"KOSAPO_RETENTION_INTERVAL", "100ms"}});
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = service->release();
  }

  static void TearDownTestSuite() {
    delete service_;
    delete tokens_;
    clock_.reset();
  }

  static std::unique_ptr<grpc::ClientContext> Officer() {
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

  static absl::CivilDay Today() { return *DayIn(clock_->Now(), "Asia/Tokyo"); }

  static void Ok(const grpc::Status& status, const std::string& what) {
    ASSERT_TRUE(status.ok()) << what << ": " << status.error_message();
  }

  // A case opened `opened_days_ago` with every kind of personal record: a
  // contact, an approach note, an urgent report acknowledged with a note.
  static v1::Case CaseWithRecords(const std::string& tag,
                                  const Personal& personal,
                                  int opened_days_ago) {
    v1::CreateCaseRequest create;
    create.set_parent(absl::StrCat("municipalities/", kCity));
    create.set_request_id(absl::StrCat("retention-", tag));
    v1::Case* c = create.mutable_case_();
    c->set_area_code("27127");
    c->set_source(v1::CASE_SOURCE_SCHOOL);
    c->set_source_detail(personal.source_detail);
    *c->mutable_opened_date() = DateToProto(Today() - opened_days_ago);
    c->mutable_child()->set_name(personal.name);
    c->mutable_child()->set_kana(personal.kana);
    *c->mutable_child()->mutable_birth_date() =
        DateToProto(absl::CivilDay(2013, 7, 21));
    c->mutable_child()->set_school_code("E100");
    c->mutable_child()->set_grade(4);
    v1::Guardian* guardian = c->mutable_household()->add_guardians();
    guardian->set_name(personal.guardian);
    guardian->set_relationship("mother");
    c->mutable_household()->set_address(personal.address);
    v1::Case created;
    Ok(Stub()->CreateCase(Officer().get(), create, &created), "create");

    v1::RecordContactRequest contact;
    contact.set_parent(created.name());
    contact.set_request_id(absl::StrCat("contact-", tag));
    contact.mutable_contact()->set_kind(v1::CONTACT_KIND_HOME_VISIT);
    *contact.mutable_contact()->mutable_contact_date() =
        DateToProto(Today() - opened_days_ago + 1);
    contact.mutable_contact()->set_summary(personal.contact);
    v1::Contact recorded;
    Ok(Stub()->RecordContact(Officer().get(), contact, &recorded), "contact");

    v1::ChangeApproachStatusRequest approach;
    approach.set_name(created.name());
    approach.set_status(v1::APPROACH_STATUS_OUTREACH_DONE);
    *approach.mutable_effective_date() =
        DateToProto(Today() - opened_days_ago + 2);
    approach.set_note(personal.approach_note);
    approach.set_request_id(absl::StrCat("approach-", tag));
    v1::Case changed;
    Ok(Stub()->ChangeApproachStatus(Officer().get(), approach, &changed),
       "approach");

    v1::RaiseUrgentReportRequest raise;
    raise.set_parent(created.name());
    raise.set_request_id(absl::StrCat("urgent-", tag));
    raise.mutable_report()->set_category(v1::URGENT_CATEGORY_SIGNS_OF_ABUSE);
    raise.mutable_report()->set_description(personal.urgent);
    v1::UrgentReport report;
    Ok(Stub()->RaiseUrgentReport(Officer().get(), raise, &report), "urgent");
    v1::AcknowledgeUrgentReportRequest ack;
    ack.set_name(report.name());
    ack.set_note(personal.ack_note);
    v1::UrgentReport acknowledged;
    Ok(Stub()->AcknowledgeUrgentReport(Officer().get(), ack, &acknowledged),
       "acknowledge");
    return changed;
  }

  static void Close(const v1::Case& c, const std::string& note, int days_ago) {
    v1::RecordOutcomeRequest request;
    request.set_name(c.name());
    request.set_outcome(v1::OUTCOME_IMPROVED_RESOLVED);
    *request.mutable_effective_date() = DateToProto(Today() - days_ago);
    request.set_note(note);
    request.set_request_id(absl::StrCat("close-", c.name()));
    v1::Case closed;
    Ok(Stub()->RecordOutcome(Officer().get(), request, &closed), "close");
  }

  static v1::Case Get(const std::string& name) {
    v1::GetCaseRequest request;
    request.set_name(name);
    v1::Case c;
    const grpc::Status status = Stub()->GetCase(Officer().get(), request, &c);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return c;
  }

  // Waits (bounded) for the sweep to have erased `name`.
  static bool WaitErased(const std::string& name) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      if (Get(name).has_erase_time()) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  // Every row of the case schema that names case `id`, as JSON text, and
  // the payloads of its events: what a database dump would show of it.
  static std::string DumpOf(int64_t id) {
    pqxx::connection connection(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(connection);
    const std::string schema = SharedPgCluster().Schema("case");
    std::string dump;
    for (const char* table : {"cases", "approach_changes", "outcome_changes",
                              "conferences", "assessments", "support_plans",
                              "contacts", "urgent_reports", "case_audit"}) {
      const std::string key = std::string(table) == "cases" ? "id" : "case_id";
      for (const pqxx::row& row :
           tx.exec_params(absl::StrCat("SELECT row_to_json(t)::text FROM ",
                                       tx.quote_name(schema), ".", table,
                                       " t WHERE ", key, " = $1"),
                          id)) {
        absl::StrAppend(&dump, row[0].as<std::string>(), "\n");
      }
    }
    for (const pqxx::row& row : tx.exec_params(
             absl::StrCat("SELECT payload FROM ", tx.quote_name(schema),
                          ".outbox_events WHERE subject = $1"),
             CaseName(id))) {
      const pqxx::binarystring payload(row[0]);
      absl::StrAppend(&dump, payload.str(), "\n");
    }
    return dump;
  }

  // How many free texts about case `id` are stored, encrypted or not: the
  // household, contact summaries, approach and outcome notes, urgent report
  // details and acknowledgement notes.
  static int64_t FreeTextLeft(int64_t id) {
    pqxx::connection connection(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(connection);
    const std::string s = tx.quote_name(SharedPgCluster().Schema("case"));
    return tx
        .exec_params1(
            absl::StrCat(
                "SELECT (SELECT count(*) FROM ", s,
                ".cases WHERE id = $1 AND household <> '{}')"
                " + (SELECT count(*) FROM ",
                s,
                ".contacts WHERE case_id = $1 AND summary <> '')"
                " + (SELECT count(*) FROM ",
                s,
                ".approach_changes WHERE case_id = $1 AND note <> '')"
                " + (SELECT count(*) FROM ",
                s,
                ".outcome_changes WHERE case_id = $1 AND note <> '')"
                " + (SELECT count(*) FROM ",
                s,
                ".urgent_reports WHERE case_id = $1 AND description <> '')"
                " + (SELECT count(*) FROM ",
                s, ".urgent_reports WHERE case_id = $1 AND ack_note <> '')"),
            id)[0]
        .as<int64_t>();
  }

  static int64_t IdOf(const v1::Case& c) {
    return *ParseCaseName(c.name(), "name");
  }

  static testing::TestTokens* tokens_;
  static std::shared_ptr<FakeClock> clock_;
  static testing::InProcessService* service_;
};

testing::TestTokens* CaseRetentionTest::tokens_ = nullptr;
std::shared_ptr<FakeClock> CaseRetentionTest::clock_;
testing::InProcessService* CaseRetentionTest::service_ = nullptr;

TEST_F(CaseRetentionTest, EndedCasesAreErasedAfterThePeriodAndNothingElse) {
  const Personal old_personal = PersonalOf("旧", "キュウ");
  const Personal recent_personal = PersonalOf("近", "キン");
  Personal open_personal = PersonalOf("開", "カイ");
  open_personal.outcome_note.clear();
  Personal withdrawn_personal = PersonalOf("撤", "テツ");
  withdrawn_personal.outcome_note.clear();
  withdrawn_personal.withdraw_reason = "転居のため撤回した撤";

  // Closed 300 days ago, closed 30 days ago, open, and withdrawn today:
  // none is due yet under the 365-day period, so the sweep running every
  // 100 ms leaves them all as the fixture stored them.
  const v1::Case old_case = CaseWithRecords("old", old_personal, 600);
  Close(old_case, old_personal.outcome_note, 300);
  const v1::Case recent = CaseWithRecords("recent", recent_personal, 200);
  Close(recent, recent_personal.outcome_note, 30);
  const v1::Case open = CaseWithRecords("open", open_personal, 200);
  const v1::Case withdrawn =
      CaseWithRecords("withdrawn", withdrawn_personal, 100);
  {
    v1::WithdrawCaseRequest request;
    request.set_name(withdrawn.name());
    request.set_reason(withdrawn_personal.withdraw_reason);
    v1::Case done;
    Ok(Stub()->WithdrawCase(Officer().get(), request, &done), "withdraw");
  }
  for (const auto& [c, personal] : std::vector<std::pair<v1::Case, Personal>>{
           {old_case, old_personal},
           {recent, recent_personal},
           {open, open_personal},
           {withdrawn, withdrawn_personal}}) {
    const std::string dump = DumpOf(IdOf(c));
    for (const std::string& value : personal.Plain()) {
      ASSERT_THAT(dump, HasSubstr(value)) << "the fixture stored " << value;
    }
    ASSERT_EQ(FreeTextLeft(IdOf(c)), personal.outcome_note.empty() ? 5 : 6)
        << c.name();
  }

  // 100 days on, the first case ended 400 days ago: it goes, the others
  // stay.
  clock_->Advance(absl::Hours(24 * 100));
  ASSERT_TRUE(WaitErased(old_case.name()));
  const v1::Case erased = Get(old_case.name());
  EXPECT_EQ(erased.child().name(), "");
  EXPECT_EQ(erased.child().kana(), "");
  EXPECT_FALSE(erased.child().has_birth_date());
  EXPECT_EQ(erased.household().guardians_size(), 0);
  EXPECT_EQ(erased.household().address(), "");
  EXPECT_EQ(erased.source_detail(), "");
  // The statistics stay.
  EXPECT_EQ(erased.area_code(), "27127");
  EXPECT_EQ(erased.child().school_code(), "E100");
  EXPECT_EQ(erased.child().grade(), 4);
  EXPECT_EQ(erased.state(), v1::CASE_STATE_CLOSED);
  EXPECT_EQ(erased.outcome(), v1::OUTCOME_IMPROVED_RESOLVED);
  EXPECT_EQ(erased.approach_status(), v1::APPROACH_STATUS_OUTREACH_DONE);
  EXPECT_EQ(erased.opened_date().year(), old_case.opened_date().year());
  EXPECT_EQ(erased.opened_date().day(), old_case.opened_date().day());
  EXPECT_EQ(erased.fiscal_year(), old_case.fiscal_year());
  const std::string old_dump = DumpOf(IdOf(old_case));
  for (const std::string& value : old_personal.All()) {
    EXPECT_THAT(old_dump, ::testing::Not(HasSubstr(value)));
  }
  EXPECT_THAT(old_dump, ::testing::Not(HasSubstr("2013-07-21")));
  EXPECT_EQ(FreeTextLeft(IdOf(old_case)), 0);
  for (const auto& [c, personal] : std::vector<std::pair<v1::Case, Personal>>{
           {recent, recent_personal},
           {open, open_personal},
           {withdrawn, withdrawn_personal}}) {
    EXPECT_FALSE(Get(c.name()).has_erase_time()) << c.name();
    const std::string dump = DumpOf(IdOf(c));
    for (const std::string& value : personal.Plain()) {
      EXPECT_THAT(dump, HasSubstr(value)) << c.name();
    }
    EXPECT_EQ(FreeTextLeft(IdOf(c)), personal.outcome_note.empty() ? 5 : 6)
        << c.name();
  }

  // Readable as what it is; the erasure is in its audit trail; no writes.
  {
    v1::ListContactsRequest request;
    request.set_parent(old_case.name());
    v1::ListContactsResponse response;
    Ok(Stub()->ListContacts(Officer().get(), request, &response), "contacts");
    ASSERT_EQ(response.contacts_size(), 1);
    EXPECT_EQ(response.contacts(0).summary(), "");
  }
  {
    v1::ListCaseAuditRequest request;
    request.set_name(old_case.name());
    request.set_page_size(100);
    v1::ListCaseAuditResponse response;
    Ok(Stub()->ListCaseAudit(Officer().get(), request, &response), "audit");
    int erasures = 0;
    for (const v1::AuditEntry& entry : response.entries()) {
      if (entry.method() == "EraseAfterRetention") {
        ++erasures;
        EXPECT_EQ(entry.subject(), "service:case-retention");
        EXPECT_EQ(entry.access(), "write");
      }
    }
    EXPECT_EQ(erasures, 1);
  }
  {
    v1::RecordContactRequest request;
    request.set_parent(old_case.name());
    request.set_request_id("after-erasure");
    request.mutable_contact()->set_kind(v1::CONTACT_KIND_PHONE_CALL);
    *request.mutable_contact()->mutable_contact_date() = DateToProto(Today());
    request.mutable_contact()->set_summary("消去後の記録");
    v1::Contact contact;
    const grpc::Status status =
        Stub()->RecordContact(Officer().get(), request, &contact);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(status.error_message(), HasSubstr("erased"));
  }

  // Two years on: the recently closed and the withdrawn case are due; the
  // open one never is, however old.
  clock_->Advance(absl::Hours(24 * 730));
  ASSERT_TRUE(WaitErased(recent.name()));
  ASSERT_TRUE(WaitErased(withdrawn.name()));
  for (const auto& [c, personal] : std::vector<std::pair<v1::Case, Personal>>{
           {recent, recent_personal}, {withdrawn, withdrawn_personal}}) {
    const std::string dump = DumpOf(IdOf(c));
    for (const std::string& value : personal.All()) {
      EXPECT_THAT(dump, ::testing::Not(HasSubstr(value))) << c.name();
    }
    EXPECT_EQ(FreeTextLeft(IdOf(c)), 0) << c.name();
  }
  // The withdrawal event is still in the feed, without its reason.
  {
    pqxx::connection connection(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(connection);
    const pqxx::result rows = tx.exec_params(
        absl::StrCat("SELECT payload FROM ",
                     tx.quote_name(SharedPgCluster().Schema("case")),
                     ".outbox_events WHERE subject = $1 AND type_url LIKE "
                     "'%CaseWithdrawn'"),
        withdrawn.name());
    ASSERT_EQ(rows.size(), 1u);
    v1::CaseWithdrawn event;
    const pqxx::binarystring payload(rows[0][0]);
    ASSERT_TRUE(
        event.ParseFromArray(payload.data(), static_cast<int>(payload.size())));
    EXPECT_EQ(event.case_(), withdrawn.name());
    EXPECT_EQ(event.reason(), "");
  }
  absl::SleepFor(absl::Milliseconds(300));  // a few more sweeps
  EXPECT_FALSE(Get(open.name()).has_erase_time());
  const std::string open_dump = DumpOf(IdOf(open));
  for (const std::string& value : open_personal.Plain()) {
    EXPECT_THAT(open_dump, HasSubstr(value));
  }
  EXPECT_EQ(FreeTextLeft(IdOf(open)), 5);
}

}  // namespace
}  // namespace kosapo::cases
