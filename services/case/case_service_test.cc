// The case service through real gRPC against a real PostgreSQL: staff-opened
// cases with duplicate detection, area scoping, optimistic concurrency, the
// approach status history as of several dates, outcomes and reopening,
// conferences, plans and their overdue reviews, contacts, urgent reports
// with an injected clock, hub operators' view, and the audit trail.
#include <grpcpp/client_context.h>

#include <algorithm>
#include <memory>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/base/clock.h"
#include "common/events/outbox.h"
#include "common/pg/migrations.h"
#include "common/service/in_process.h"
#include "common/testing/opaque_ids.h"
#include "common/testing/pg_cluster.h"
#include "common/testing/stdout_capture.h"
#include "common/types/api_types.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kosapo/cases/v1/cases.grpc.pb.h"
#include "kosapo/cases/v1/events.pb.h"
#include "services/case/case_server.h"

namespace kosapo::cases {

const std::vector<pg::Migration>& EmbeddedMigrations();  // from migrations/

namespace {

using ::kosapo::testing::SharedPgCluster;
using ::testing::HasSubstr;

constexpr char kCity[] = "27100";

class CaseServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tokens = testing::TestTokens::Create();
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = tokens->release();
    clock_ = std::make_shared<FakeClock>(absl::Now());
    auto service =
        testing::InProcessService::Start(Definition(clock_), SharedPgCluster(),
                                         *tokens_, SharedPgCluster().data_dir(),
                                         {{"KOSAPO_FOLLOW_SCREENING", "false"},
                                          {"KOSAPO_URGENT_ACK_WITHIN", "2h"}});
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = service->release();
  }

  static void TearDownTestSuite() {
    delete service_;
    delete tokens_;
    clock_.reset();
  }

  static std::unique_ptr<grpc::ClientContext> As(
      auth::Role role, const std::string& subject,
      std::vector<std::string> areas = {}, std::vector<std::string> hubs = {},
      std::vector<std::string> schools = {}) {
    auth::Principal principal;
    principal.subject = subject;
    principal.role = role;
    principal.municipality = kCity;
    principal.areas = std::move(areas);
    principal.hubs = std::move(hubs);
    principal.schools = std::move(schools);
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", "Bearer " + tokens_->Sign(principal));
    return context;
  }
  // A ward officer of Kita (27127) and one of Miyakojima (27102).
  static std::unique_ptr<grpc::ClientContext> Kita() {
    return As(auth::Role::kWardOfficer, "user:kita-officer", {"27127"});
  }
  static std::unique_ptr<grpc::ClientContext> Miyakojima() {
    return As(auth::Role::kWardOfficer, "user:miyakojima-officer", {"27102"});
  }

  static std::unique_ptr<v1::CaseService::Stub> Stub() {
    return v1::CaseService::NewStub(service_->channel());
  }

  static absl::CivilDay Today() { return *DayIn(clock_->Now(), "Asia/Tokyo"); }
  static kosapo::type::Date DaysAgo(int days) {
    return DateToProto(Today() - days);
  }

  // A new referral case in Kita for a child with this kana.
  static v1::Case NewCase(const std::string& kana,
                          const std::string& request_id,
                          int opened_days_ago = 60) {
    v1::CreateCaseRequest request;
    request.set_parent(absl::StrCat("municipalities/", kCity));
    request.set_request_id(request_id);
    v1::Case* c = request.mutable_case_();
    c->set_area_code("27127");
    c->set_source(v1::CASE_SOURCE_SCHOOL);
    c->set_source_detail("北小学校");
    *c->mutable_opened_date() = DaysAgo(opened_days_ago);
    c->mutable_child()->set_name("北 花子");
    c->mutable_child()->set_kana(kana);
    c->mutable_child()->mutable_birth_date()->set_year(
        static_cast<int32_t>(Today().year()) - 10);
    c->mutable_child()->mutable_birth_date()->set_month(6);
    c->mutable_child()->mutable_birth_date()->set_day(1);
    c->mutable_child()->set_school_code("E100");
    c->mutable_child()->set_grade(4);
    v1::Guardian* guardian = c->mutable_household()->add_guardians();
    guardian->set_name("北 母");
    guardian->set_relationship("mother");
    c->mutable_household()->set_address("大阪市北区1-1");
    v1::Case created;
    const grpc::Status status =
        Stub()->CreateCase(Kita().get(), request, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created;
  }

  static grpc::Status ChangeApproach(
      const v1::Case& c, v1::ApproachStatus status, kosapo::type::Date date,
      const std::string& request_id, v1::Case* out,
      v1::NotPossibleReason reason = v1::NOT_POSSIBLE_REASON_UNSPECIFIED) {
    v1::ChangeApproachStatusRequest request;
    request.set_name(c.name());
    request.set_status(status);
    request.set_reason(reason);
    *request.mutable_effective_date() = date;
    request.set_request_id(request_id);
    return Stub()->ChangeApproachStatus(Kita().get(), request, out);
  }

  static v1::ApproachHistory HistoryAsOf(const v1::Case& c,
                                         kosapo::type::Date as_of) {
    v1::GetApproachHistoryRequest request;
    request.set_name(c.name());
    *request.mutable_as_of() = as_of;
    v1::ApproachHistory history;
    EXPECT_TRUE(
        Stub()->GetApproachHistory(Kita().get(), request, &history).ok());
    return history;
  }

  static testing::TestTokens* tokens_;
  static testing::InProcessService* service_;
  static std::shared_ptr<FakeClock> clock_;
};

testing::TestTokens* CaseServiceTest::tokens_ = nullptr;
testing::InProcessService* CaseServiceTest::service_ = nullptr;
std::shared_ptr<FakeClock> CaseServiceTest::clock_;

TEST_F(CaseServiceTest, CreateIsIdempotentAndFindsDuplicates) {
  const v1::Case first = NewCase("きた はなこ", "dup-1");
  EXPECT_EQ(first.state(), v1::CASE_STATE_OPEN);
  EXPECT_EQ(first.approach_status(), v1::APPROACH_STATUS_IN_PREPARATION);
  EXPECT_EQ(first.lead(), v1::LEAD_CONSULTATION_DESK);
  EXPECT_EQ(first.fiscal_year(), FiscalYearOf(Today() - 60));
  EXPECT_EQ(first.household().guardians(0).name(), "北 母");

  // A retry gives the same case.
  EXPECT_EQ(NewCase("きた はなこ", "dup-1").name(), first.name());

  // Search finds it by kana in either script, spaces ignored.
  v1::SearchCasesRequest search;
  search.set_parent(absl::StrCat("municipalities/", kCity));
  search.set_kana("キタハナコ");
  *search.mutable_birth_date() = first.child().birth_date();
  v1::SearchCasesResponse found;
  ASSERT_TRUE(Stub()->SearchCases(Kita().get(), search, &found).ok());
  ASSERT_EQ(found.matches_size(), 1);
  EXPECT_EQ(found.matches(0).case_(), first.name());
  EXPECT_TRUE(found.matches(0).in_scope());
  // Another ward learns that a case exists, and where, but nothing more.
  ASSERT_TRUE(Stub()->SearchCases(Miyakojima().get(), search, &found).ok());
  ASSERT_EQ(found.matches_size(), 1);
  EXPECT_FALSE(found.matches(0).in_scope());
  EXPECT_EQ(found.matches(0).area_code(), "27127");

  // A second case of the same child needs an explicit, recorded override.
  v1::CreateCaseRequest again;
  again.set_parent(absl::StrCat("municipalities/", kCity));
  again.set_request_id("dup-2");
  *again.mutable_case_() = first;
  again.mutable_case_()->clear_name();
  again.mutable_case_()->mutable_child()->set_kana("キタ ハナコ");
  v1::Case second;
  grpc::Status status = Stub()->CreateCase(Kita().get(), again, &second);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr(first.name()));
  again.set_duplicate_override("兄弟と同姓同名・同日生まれの別人");
  status = Stub()->CreateCase(Kita().get(), again, &second);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_NE(second.name(), first.name());
  EXPECT_EQ(second.duplicate_override(), "兄弟と同姓同名・同日生まれの別人");
}

TEST_F(CaseServiceTest, BadInputNamesTheFieldAndWritesNothing) {
  v1::CreateCaseRequest request;
  request.set_parent(absl::StrCat("municipalities/", kCity));
  request.set_request_id("bad-1");
  v1::Case* c = request.mutable_case_();
  c->set_area_code("27127");
  c->set_source(v1::CASE_SOURCE_AGENCY);
  *c->mutable_opened_date() = DateToProto(Today() + 1);
  c->mutable_child()->set_name("未来 太郎");
  c->mutable_child()->set_kana("みらい たろう");
  *c->mutable_child()->mutable_birth_date() = DaysAgo(3000);
  v1::Case created;
  grpc::Status status = Stub()->CreateCase(Kita().get(), request, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("case.opened_date"));

  *c->mutable_opened_date() = DaysAgo(1);
  c->mutable_child()->set_kana("Mirai Taro");
  status = Stub()->CreateCase(Kita().get(), request, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("case.child.kana"));

  // Nothing of either attempt was stored.
  v1::SearchCasesRequest search;
  search.set_parent(absl::StrCat("municipalities/", kCity));
  search.set_kana("みらいたろう");
  *search.mutable_birth_date() = DaysAgo(3000);
  v1::SearchCasesResponse found;
  ASSERT_TRUE(Stub()->SearchCases(Kita().get(), search, &found).ok());
  EXPECT_EQ(found.matches_size(), 0);
}

TEST_F(CaseServiceTest, AreaScopingAcrossWards) {
  const v1::Case c = NewCase("すこーぷ", "scope-1");
  v1::GetCaseRequest get;
  get.set_name(c.name());
  v1::Case read;
  EXPECT_TRUE(Stub()->GetCase(Kita().get(), get, &read).ok());
  grpc::Status status = Stub()->GetCase(Miyakojima().get(), get, &read);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("27127"));

  // Nor may another ward change it, or open a case in Kita.
  v1::Case out;
  v1::ChangeApproachStatusRequest change;
  change.set_name(c.name());
  change.set_status(v1::APPROACH_STATUS_OUTREACH_DONE);
  *change.mutable_effective_date() = DaysAgo(1);
  change.set_request_id("scope-change");
  EXPECT_EQ(Stub()
                ->ChangeApproachStatus(Miyakojima().get(), change, &out)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::CreateCaseRequest create;
  create.set_parent(absl::StrCat("municipalities/", kCity));
  create.set_request_id("scope-create");
  *create.mutable_case_() = c;
  EXPECT_EQ(Stub()->CreateCase(Miyakojima().get(), create, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Other services acting for a user learn what the user may do, and no
  // personal data.
  v1::CheckCaseAccessRequest check;
  check.set_name(c.name());
  v1::CaseAccess access;
  ASSERT_TRUE(Stub()->CheckCaseAccess(Kita().get(), check, &access).ok());
  EXPECT_TRUE(access.may_act());
  EXPECT_EQ(access.area_code(), "27127");
  EXPECT_EQ(DateToSql(access.opened_date()), DateToSql(c.opened_date()));
  EXPECT_EQ(
      Stub()->CheckCaseAccess(Miyakojima().get(), check, &access).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  check.set_name("cases/999999");
  EXPECT_EQ(Stub()->CheckCaseAccess(Kita().get(), check, &access).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Another city's staff with the same area code see nothing, not even
  // that the case exists: the answer is the one for a missing id.
  auth::Principal other;
  other.subject = "user:sakai";
  other.role = auth::Role::kWardOfficer;
  other.municipality = "27140";
  other.areas = {"27127"};
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + tokens_->Sign(other));
  const grpc::Status foreign = Stub()->GetCase(&context, get, &read);
  EXPECT_EQ(foreign.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(foreign.error_message(), absl::StrCat(get.name(), " not found"));

  // A case worker sees it once a conference puts them in charge.
  auto worker = [] {
    return As(auth::Role::kCaseWorker, "user:worker-1", {"27127"});
  };
  EXPECT_EQ(Stub()->GetCase(worker().get(), get, &read).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::RecordConferenceRequest conference;
  conference.set_parent(c.name());
  conference.set_request_id("scope-conf");
  conference.mutable_conference()->set_kind(
      v1::CONFERENCE_KIND_SCREENING_MEETING_II);
  *conference.mutable_conference()->mutable_conference_date() = DaysAgo(5);
  v1::ConferenceAttendee* attendee =
      conference.mutable_conference()->add_attendees();
  attendee->set_role("ssw");
  attendee->set_count(1);
  v1::Assignee* person =
      conference.mutable_conference()->add_persons_in_charge();
  person->set_subject("user:worker-1");
  person->set_role("case_worker");
  v1::Conference recorded;
  ASSERT_TRUE(
      Stub()->RecordConference(Kita().get(), conference, &recorded).ok());
  status = Stub()->GetCase(worker().get(), get, &read);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(read.household().address(), "大阪市北区1-1");

  v1::ListCasesRequest mine;
  mine.set_parent(absl::StrCat("municipalities/", kCity));
  mine.set_assigned_to_me(true);
  v1::ListCasesResponse listed;
  ASSERT_TRUE(Stub()->ListCases(worker().get(), mine, &listed).ok());
  ASSERT_EQ(listed.cases_size(), 1);
  EXPECT_EQ(listed.cases(0).name(), c.name());
  EXPECT_FALSE(listed.cases(0).has_household());
}

TEST_F(CaseServiceTest, StaleEtagIsAborted) {
  const v1::Case c = NewCase("えたぐ", "etag-1");
  v1::UpdateCaseRequest update;
  *update.mutable_case_() = c;
  update.mutable_case_()->set_youtaikyo_registered(true);
  update.add_update_mask("youtaikyo_registered");
  v1::Case updated;
  ASSERT_TRUE(Stub()->UpdateCase(Kita().get(), update, &updated).ok());
  EXPECT_EQ(updated.lead(), v1::LEAD_CASE_WORKER);
  EXPECT_NE(updated.etag(), c.etag());

  // A second writer still holding the first version is refused.
  update.mutable_case_()->mutable_household()->set_phone("06-0000-0000");
  update.clear_update_mask();
  update.add_update_mask("household");
  v1::Case stale;
  const grpc::Status status = Stub()->UpdateCase(Kita().get(), update, &stale);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_THAT(status.error_message(), HasSubstr("read it again"));

  v1::ChangeApproachStatusRequest change;
  change.set_name(c.name());
  change.set_etag(c.etag());
  change.set_status(v1::APPROACH_STATUS_OUTREACH_DONE);
  *change.mutable_effective_date() = DaysAgo(1);
  change.set_request_id("etag-change");
  EXPECT_EQ(
      Stub()->ChangeApproachStatus(Kita().get(), change, &stale).error_code(),
      grpc::StatusCode::ABORTED);
  change.set_etag(updated.etag());
  EXPECT_TRUE(Stub()->ChangeApproachStatus(Kita().get(), change, &stale).ok());
  // The retry of the same request after success answers, not ABORTED.
  EXPECT_TRUE(Stub()->ChangeApproachStatus(Kita().get(), change, &stale).ok());
}

TEST_F(CaseServiceTest, ApproachHistoryAsOfSeveralDates) {
  const v1::Case c = NewCase("れきし", "history-1", 60);
  v1::Case out;
  ASSERT_TRUE(ChangeApproach(c, v1::APPROACH_STATUS_NOT_POSSIBLE, DaysAgo(40),
                             "h-1", &out, v1::NOT_POSSIBLE_REASON_UNREACHABLE)
                  .ok());
  ASSERT_TRUE(ChangeApproach(c, v1::APPROACH_STATUS_OUTREACH_DONE, DaysAgo(20),
                             "h-2", &out)
                  .ok());
  EXPECT_EQ(out.approach_status(), v1::APPROACH_STATUS_OUTREACH_DONE);

  EXPECT_EQ(HistoryAsOf(c, DaysAgo(61)).status(),
            v1::APPROACH_STATUS_UNSPECIFIED);  // before the case opened
  EXPECT_EQ(HistoryAsOf(c, DaysAgo(50)).status(),
            v1::APPROACH_STATUS_IN_PREPARATION);
  const v1::ApproachHistory at_30 = HistoryAsOf(c, DaysAgo(30));
  EXPECT_EQ(at_30.status(), v1::APPROACH_STATUS_NOT_POSSIBLE);
  EXPECT_EQ(at_30.reason(), v1::NOT_POSSIBLE_REASON_UNREACHABLE);
  EXPECT_EQ(HistoryAsOf(c, DaysAgo(20)).status(),
            v1::APPROACH_STATUS_OUTREACH_DONE);
  EXPECT_EQ(HistoryAsOf(c, DaysAgo(0)).changes_size(), 3);

  // A backdated correction changes the answer for dates after it, and the
  // answer as known before it was recorded stays reproducible.
  const v1::ApproachHistory before = HistoryAsOf(c, DaysAgo(30));
  const google::protobuf::Timestamp known =
      before.changes(before.changes_size() - 1).record_time();
  ASSERT_TRUE(ChangeApproach(c, v1::APPROACH_STATUS_OUTREACH_DONE, DaysAgo(35),
                             "h-3", &out)
                  .ok());
  EXPECT_EQ(HistoryAsOf(c, DaysAgo(30)).status(),
            v1::APPROACH_STATUS_OUTREACH_DONE);
  v1::GetApproachHistoryRequest then;
  then.set_name(c.name());
  *then.mutable_as_of() = DaysAgo(30);
  *then.mutable_as_known_at() = known;
  v1::ApproachHistory as_known;
  ASSERT_TRUE(Stub()->GetApproachHistory(Kita().get(), then, &as_known).ok());
  EXPECT_EQ(as_known.status(), v1::APPROACH_STATUS_NOT_POSSIBLE);
  EXPECT_EQ(as_known.changes_size(), 3);
}

TEST_F(CaseServiceTest, InvalidTransitionsAndDatesAreRejected) {
  const v1::Case c = NewCase("せんい", "transition-1", 30);
  v1::Case out;
  grpc::Status status = ChangeApproach(c, v1::APPROACH_STATUS_OUTREACH_DONE,
                                       DateToProto(Today() + 1), "t-1", &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("effective_date"));
  EXPECT_THAT(status.error_message(), HasSubstr("after today"));

  status = ChangeApproach(c, v1::APPROACH_STATUS_OUTREACH_DONE, DaysAgo(31),
                          "t-2", &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("before the case opened"));

  status = ChangeApproach(c, v1::APPROACH_STATUS_IN_PREPARATION, DaysAgo(10),
                          "t-3", &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("already in_preparation"));

  status = ChangeApproach(c, v1::APPROACH_STATUS_NOT_POSSIBLE, DaysAgo(10),
                          "t-4", &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("reason"));

  // 好転・解決 needs the outreach done first.
  v1::RecordOutcomeRequest outcome;
  outcome.set_name(c.name());
  outcome.set_outcome(v1::OUTCOME_IMPROVED_RESOLVED);
  *outcome.mutable_effective_date() = DaysAgo(2);
  outcome.set_request_id("t-outcome");
  status = Stub()->RecordOutcome(Kita().get(), outcome, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("outreach done"));
  // None of the refused changes left a trace.
  EXPECT_EQ(HistoryAsOf(c, DaysAgo(0)).changes_size(), 1);
}

TEST_F(CaseServiceTest, OutcomeClosesAndReopeningIsRecorded) {
  const v1::Case c = NewCase("けっか", "outcome-1", 90);
  v1::Case out;
  ASSERT_TRUE(ChangeApproach(c, v1::APPROACH_STATUS_OUTREACH_DONE, DaysAgo(80),
                             "o-1", &out)
                  .ok());
  v1::RecordOutcomeRequest outcome;
  outcome.set_name(c.name());
  outcome.set_outcome(v1::OUTCOME_IMPROVED_RESOLVED);
  *outcome.mutable_effective_date() = DaysAgo(30);
  outcome.set_request_id("o-2");
  ASSERT_TRUE(Stub()->RecordOutcome(Kita().get(), outcome, &out).ok());
  EXPECT_EQ(out.state(), v1::CASE_STATE_CLOSED);
  EXPECT_EQ(out.outcome(), v1::OUTCOME_IMPROVED_RESOLVED);

  // Closed: no approach change until reopened.
  const grpc::Status status = ChangeApproach(
      c, v1::APPROACH_STATUS_IN_PREPARATION, DaysAgo(5), "o-3", &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("reopen"));

  v1::ReopenCaseRequest reopen;
  reopen.set_name(c.name());
  *reopen.mutable_effective_date() = DaysAgo(31);
  reopen.set_reason("再び欠席が続く");
  reopen.set_request_id("o-4");
  EXPECT_EQ(Stub()->ReopenCase(Kita().get(), reopen, &out).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // before the closure
  *reopen.mutable_effective_date() = DaysAgo(10);
  ASSERT_TRUE(Stub()->ReopenCase(Kita().get(), reopen, &out).ok());
  EXPECT_EQ(out.state(), v1::CASE_STATE_OPEN);
  EXPECT_EQ(out.outcome(), v1::OUTCOME_UNSPECIFIED);

  auto events = testing::FeedEvents(*service_, *tokens_, c.name());
  std::vector<std::string> types;
  for (const auto& event : events) {
    types.push_back(event.payload().type_url().substr(
        event.payload().type_url().rfind('.') + 1));
  }
  EXPECT_THAT(types,
              ::testing::ElementsAre("CaseOpened", "ApproachStatusChanged",
                                     "OutcomeRecorded", "CaseReopened"));
  // Events carry no personal data.
  for (const auto& event : events) {
    EXPECT_THAT(event.payload().value(), ::testing::Not(HasSubstr("北 花子")));
  }
}

TEST_F(CaseServiceTest, PlansAreVersionedAndOverdueReviewsListed) {
  const v1::Case c = NewCase("ぷらん", "plan-1", 100);
  v1::RecordSupportPlanRequest request;
  request.set_parent(c.name());
  request.set_request_id("plan-v1");
  v1::SupportPlan* plan = request.mutable_plan();
  *plan->mutable_plan_date() = DaysAgo(90);
  plan->add_goals("毎日登校する");
  v1::PlannedSupport* support = plan->add_supports();
  support->set_description("学習支援");
  support->set_provider("こども食堂");
  *plan->mutable_review_date() = DaysAgo(7);
  plan->set_child_wishes_heard(true);
  v1::SupportPlan v1_plan;
  ASSERT_TRUE(Stub()->RecordSupportPlan(Kita().get(), request, &v1_plan).ok());
  EXPECT_EQ(v1_plan.version(), 1);
  EXPECT_TRUE(v1_plan.child_wishes_heard());
  EXPECT_EQ(v1_plan.supports(0).provider(), "こども食堂");
  // A retry does not make a second version.
  v1::SupportPlan retry;
  ASSERT_TRUE(Stub()->RecordSupportPlan(Kita().get(), request, &retry).ok());
  EXPECT_EQ(retry.name(), v1_plan.name());

  v1::ListOverdueReviewsRequest overdue;
  overdue.set_parent(absl::StrCat("municipalities/", kCity));
  v1::ListOverdueReviewsResponse reviews;
  ASSERT_TRUE(Stub()->ListOverdueReviews(Kita().get(), overdue, &reviews).ok());
  bool listed = false;
  for (const auto& review : reviews.reviews()) {
    if (review.case_() == c.name()) {
      listed = true;
      EXPECT_EQ(review.days_overdue(), 7);
      EXPECT_EQ(review.plan(), v1_plan.name());
    }
  }
  EXPECT_TRUE(listed);
  // Another ward's list does not show it.
  ASSERT_TRUE(
      Stub()->ListOverdueReviews(Miyakojima().get(), overdue, &reviews).ok());
  for (const auto& review : reviews.reviews()) {
    EXPECT_NE(review.case_(), c.name());
  }

  // The reviewed plan (version 2) is due later: no longer overdue.
  request.set_request_id("plan-v2");
  *plan->mutable_plan_date() = DaysAgo(6);
  *plan->mutable_review_date() = DateToProto(Today() + 90);
  v1::SupportPlan v2_plan;
  ASSERT_TRUE(Stub()->RecordSupportPlan(Kita().get(), request, &v2_plan).ok());
  EXPECT_EQ(v2_plan.version(), 2);
  ASSERT_TRUE(Stub()->ListOverdueReviews(Kita().get(), overdue, &reviews).ok());
  for (const auto& review : reviews.reviews()) {
    EXPECT_NE(review.case_(), c.name());
  }
  v1::ListSupportPlansRequest list;
  list.set_parent(c.name());
  v1::ListSupportPlansResponse plans;
  ASSERT_TRUE(Stub()->ListSupportPlans(Kita().get(), list, &plans).ok());
  ASSERT_EQ(plans.plans_size(), 2);
  EXPECT_EQ(plans.plans(0).version(), 2);

  // Assessments version the same way; contacts are logged.
  v1::RecordAssessmentRequest assess;
  assess.set_parent(c.name());
  assess.set_request_id("assess-1");
  *assess.mutable_assessment()->mutable_assessed_date() = DaysAgo(80);
  v1::Need* need = assess.mutable_assessment()->add_needs();
  need->set_domain(v1::NEED_DOMAIN_CAREGIVING);
  need->set_level(v1::NEED_LEVEL_HIGH);
  need->set_note("きょうだいの世話");
  v1::Assessment assessment;
  ASSERT_TRUE(Stub()->RecordAssessment(Kita().get(), assess, &assessment).ok());
  EXPECT_EQ(assessment.version(), 1);
  EXPECT_EQ(assessment.needs(0).level(), v1::NEED_LEVEL_HIGH);
  v1::RecordContactRequest contact;
  contact.set_parent(c.name());
  contact.set_request_id("contact-1");
  contact.mutable_contact()->set_kind(v1::CONTACT_KIND_HOME_VISIT);
  *contact.mutable_contact()->mutable_contact_date() = DaysAgo(3);
  contact.mutable_contact()->set_summary("母と面談。就学援助の申請を案内。");
  v1::Contact logged;
  ASSERT_TRUE(Stub()->RecordContact(Kita().get(), contact, &logged).ok());
  EXPECT_EQ(logged.staff(), "user:kita-officer");
}

TEST_F(CaseServiceTest, UrgentReportsAreRoutedAndTimedByTheClock) {
  const v1::Case c = NewCase("きんきゅう", "urgent-1");
  // The hub operator of the child's hub raises a report.
  v1::SetHubEnrollmentRequest enroll;
  enroll.set_name(c.name());
  enroll.set_hub_code("H-BB");
  enroll.set_enrolled(true);
  v1::Case enrolled;
  ASSERT_TRUE(Stub()
                  ->SetHubEnrollment(
                      As(auth::Role::kCentreDirector, "user:director").get(),
                      enroll, &enrolled)
                  .ok());
  EXPECT_FALSE(enrolled.has_child());  // the director sees no personal data
  auto hub = [] {
    return As(auth::Role::kHubOperator, "user:bb-house", {}, {"H-BB"});
  };
  v1::GetCaseRequest get;
  get.set_name(c.name());
  v1::Case seen;
  ASSERT_TRUE(Stub()->GetCase(hub().get(), get, &seen).ok());
  EXPECT_EQ(seen.child().name(), "北 花子");
  EXPECT_FALSE(seen.has_household());  // never the household

  v1::RaiseUrgentReportRequest raise;
  raise.set_parent(c.name());
  raise.set_request_id("urgent-r1");
  raise.mutable_report()->set_category(v1::URGENT_CATEGORY_SIGNS_OF_ABUSE);
  raise.mutable_report()->set_description("腕にあざ。本人は転んだと話す。");
  v1::UrgentReport report;
  ASSERT_TRUE(Stub()->RaiseUrgentReport(hub().get(), raise, &report).ok());
  EXPECT_EQ(report.routed_to_lead(), v1::LEAD_CONSULTATION_DESK);
  EXPECT_EQ(report.due_time().seconds() - report.raise_time().seconds(),
            2 * 3600);
  EXPECT_FALSE(report.overdue());
  v1::UrgentReport retried;
  ASSERT_TRUE(Stub()->RaiseUrgentReport(hub().get(), raise, &retried).ok());
  EXPECT_EQ(retried.name(), report.name());
  // Another hub may not.
  raise.set_request_id("urgent-r2");
  EXPECT_EQ(
      Stub()
          ->RaiseUrgentReport(
              As(auth::Role::kHubOperator, "user:other-hub", {}, {"H-X"}).get(),
              raise, &retried)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);

  v1::ListUrgentReportsRequest list;
  list.set_parent(absl::StrCat("municipalities/", kCity));
  list.set_overdue_only(true);
  v1::ListUrgentReportsResponse listed;
  ASSERT_TRUE(Stub()->ListUrgentReports(Kita().get(), list, &listed).ok());
  for (const auto& open : listed.reports()) {
    EXPECT_NE(open.name(), report.name());  // not overdue yet
  }
  clock_->Advance(absl::Hours(2) + absl::Minutes(1));
  ASSERT_TRUE(Stub()->ListUrgentReports(Kita().get(), list, &listed).ok());
  bool overdue = false;
  for (const auto& open : listed.reports()) {
    if (open.name() == report.name()) {
      overdue = open.overdue();
    }
  }
  EXPECT_TRUE(overdue);
  // The consultation desk of the area sees the unassigned report too.
  list.set_overdue_only(false);
  ASSERT_TRUE(
      Stub()
          ->ListUrgentReports(
              As(auth::Role::kConsultationDesk, "user:desk", {"27127"}).get(),
              list, &listed)
          .ok());
  ASSERT_GE(listed.reports_size(), 1);

  // Acknowledged late: recorded as overdue, and off the open list.
  v1::AcknowledgeUrgentReportRequest ack;
  ack.set_name(report.name());
  ack.set_note("家庭訪問を手配");
  v1::UrgentReport acknowledged;
  EXPECT_EQ(Stub()
                ->AcknowledgeUrgentReport(hub().get(), ack, &acknowledged)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(
      Stub()
          ->AcknowledgeUrgentReport(
              As(auth::Role::kConsultationDesk, "user:desk", {"27127"}).get(),
              ack, &acknowledged)
          .ok());
  EXPECT_TRUE(acknowledged.acknowledged());
  EXPECT_TRUE(acknowledged.overdue());
  EXPECT_EQ(acknowledged.acknowledged_by(), "user:desk");
  ASSERT_TRUE(Stub()->ListUrgentReports(Kita().get(), list, &listed).ok());
  for (const auto& open : listed.reports()) {
    EXPECT_NE(open.name(), report.name());
  }

  // Listing showed the reports' descriptions: audited as reads of the case.
  v1::ListCaseAuditRequest audit_request;
  audit_request.set_name(c.name());
  v1::ListCaseAuditResponse audit;
  ASSERT_TRUE(Stub()->ListCaseAudit(Kita().get(), audit_request, &audit).ok());
  bool listed_read = false;
  for (const auto& entry : audit.entries()) {
    listed_read = listed_read || (entry.method() == "ListUrgentReports" &&
                                  entry.access() == "read");
  }
  EXPECT_TRUE(listed_read);

  // One acknowledged in time is not overdue.
  raise.set_request_id("urgent-r3");
  raise.mutable_report()->set_category(v1::URGENT_CATEGORY_MISSING);
  ASSERT_TRUE(Stub()->RaiseUrgentReport(hub().get(), raise, &report).ok());
  clock_->Advance(absl::Minutes(30));
  ack.set_name(report.name());
  ASSERT_TRUE(
      Stub()->AcknowledgeUrgentReport(Kita().get(), ack, &acknowledged).ok());
  EXPECT_FALSE(acknowledged.overdue());
}

TEST_F(CaseServiceTest, EveryReadOfPersonalDataIsAudited) {
  const v1::Case c = NewCase("かんさ", "audit-1");
  v1::GetCaseRequest get;
  get.set_name(c.name());
  v1::Case read;
  ASSERT_TRUE(Stub()->GetCase(Kita().get(), get, &read).ok());
  ASSERT_TRUE(
      Stub()
          ->GetCase(As(auth::Role::kSsw, "user:kita-ssw", {"27127"}).get(), get,
                    &read)
          .ok());
  // A refused read leaves no audit row, since nothing was read.
  ASSERT_FALSE(Stub()->GetCase(Miyakojima().get(), get, &read).ok());

  v1::ListCaseAuditRequest request;
  request.set_name(c.name());
  v1::ListCaseAuditResponse audit;
  ASSERT_TRUE(Stub()->ListCaseAudit(Kita().get(), request, &audit).ok());
  std::vector<std::string> entries;
  for (const auto& entry : audit.entries()) {
    entries.push_back(absl::StrCat(entry.subject(), " ", entry.method(), " ",
                                   entry.access()));
  }
  EXPECT_THAT(entries,
              ::testing::ElementsAre("user:kita-ssw GetCase read",
                                     "user:kita-officer GetCase read",
                                     "user:kita-officer CreateCase write"));
  // Only ward officers read the trail.
  EXPECT_EQ(Stub()
                ->ListCaseAudit(
                    As(auth::Role::kSsw, "user:kita-ssw", {"27127"}).get(),
                    request, &audit)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// Audit ids come from one bigint sequence for every city: the trail pages
// on past 2^31 rows (its cursor was once read as a 32-bit integer).
TEST_F(CaseServiceTest, TheAuditTrailPagesPastTwoToTheThirtyFirstRows) {
  {
    pqxx::connection admin(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(admin);
    tx.exec1("SELECT setval('cases.case_audit_id_seq', 3000000000)");
  }
  const v1::Case c = NewCase("おおきい", "audit-big-1");
  v1::GetCaseRequest get;
  get.set_name(c.name());
  v1::Case read;
  ASSERT_TRUE(Stub()->GetCase(Kita().get(), get, &read).ok());
  v1::ListCaseAuditRequest request;
  request.set_name(c.name());
  request.set_page_size(1);
  int entries = 0;
  int pages = 0;
  do {
    v1::ListCaseAuditResponse page;
    const grpc::Status status =
        Stub()->ListCaseAudit(Kita().get(), request, &page);
    ASSERT_TRUE(status.ok()) << status.error_message();
    entries += page.entries_size();
    request.set_page_token(page.next_page_token());
    if (!request.page_token().empty()) {
      // The token tells nothing of how many audit rows all cities made.
      testing::ExpectTokenIdConcealed(request.page_token(), 3000000000);
    }
  } while (!request.page_token().empty() && ++pages < 10);
  EXPECT_EQ(entries, 2);  // CreateCase, GetCase
}

TEST_F(CaseServiceTest, TheAuditKeepsThePurposeTheCallerStated) {
  const v1::Case c = NewCase("もくてき", "audit-purpose-1");
  v1::GetCaseRequest get;
  get.set_name(c.name());
  v1::Case read;
  const std::string purpose = "家庭訪問の前に世帯状況を確認";
  auto stated = Kita();
  stated->AddMetadata("x-kosapo-purpose-bin", purpose);
  ASSERT_TRUE(Stub()->GetCase(stated.get(), get, &read).ok());
  auto ascii = Kita();
  ascii->AddMetadata("x-kosapo-purpose", "conference prep");
  ASSERT_TRUE(Stub()->GetCase(ascii.get(), get, &read).ok());

  // A purpose over 200 characters, or not UTF-8: refused naming the key,
  // and nothing read, so nothing audited.
  std::string too_long;
  for (int i = 0; i < 201; ++i) {
    too_long += "目";
  }
  auto long_purpose = Kita();
  long_purpose->AddMetadata("x-kosapo-purpose-bin", too_long);
  const grpc::Status refused = Stub()->GetCase(long_purpose.get(), get, &read);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refused.error_message(),
            "metadata x-kosapo-purpose-bin: at most 200 characters");
  auto not_utf8 = Kita();
  not_utf8->AddMetadata("x-kosapo-purpose-bin", std::string("\xff\xfe", 2));
  const grpc::Status bad_bytes = Stub()->GetCase(not_utf8.get(), get, &read);
  EXPECT_EQ(bad_bytes.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad_bytes.error_message(),
              HasSubstr("metadata x-kosapo-purpose-bin: not valid UTF-8"));
  auto long_ascii = Kita();
  long_ascii->AddMetadata("x-kosapo-purpose", std::string(201, 'x'));
  EXPECT_THAT(Stub()->GetCase(long_ascii.get(), get, &read).error_message(),
              HasSubstr("metadata x-kosapo-purpose:"));

  v1::ListCaseAuditRequest request;
  request.set_name(c.name());
  v1::ListCaseAuditResponse audit;
  ASSERT_TRUE(Stub()->ListCaseAudit(Kita().get(), request, &audit).ok());
  std::vector<std::string> entries;
  for (const auto& entry : audit.entries()) {
    entries.push_back(absl::StrCat(entry.method(), " [", entry.purpose(), "]"));
  }
  EXPECT_THAT(entries,
              ::testing::ElementsAre("GetCase [conference prep]",
                                     absl::StrCat("GetCase [", purpose, "]"),
                                     "CreateCase []"));
}

TEST_F(CaseServiceTest, ListsArePagedAndFilteredByStatus) {
  std::vector<std::string> opened;
  int n = 0;
  for (const char* kana :
       {"ぺーじいち", "ぺーじに", "ぺーじさん", "ぺーじよん", "ぺーじご"}) {
    opened.push_back(NewCase(kana, absl::StrCat("page-", n++)).name());
  }
  v1::Case out;
  v1::Case second;
  second.set_name(opened[1]);
  ASSERT_TRUE(ChangeApproach(second, v1::APPROACH_STATUS_OUTREACH_DONE,
                             DaysAgo(1), "page-change", &out)
                  .ok());

  // Page through the area's cases two at a time: each case once, oldest
  // first (by creation time: ids do not follow it).
  v1::ListCasesRequest request;
  request.set_parent(absl::StrCat("municipalities/", kCity));
  request.set_area_code("27127");
  request.set_page_size(2);
  std::vector<std::string> seen;
  std::vector<int64_t> created_us;
  int pages = 0;
  do {
    v1::ListCasesResponse page;
    ASSERT_TRUE(Stub()->ListCases(Kita().get(), request, &page).ok());
    ASSERT_LE(page.cases_size(), 2);
    for (const v1::Case& c : page.cases()) {
      seen.push_back(c.name());
      created_us.push_back(c.create_time().seconds() * 1000000 +
                           c.create_time().nanos() / 1000);
    }
    request.set_page_token(page.next_page_token());
    ++pages;
  } while (!request.page_token().empty() && pages < 100);
  std::vector<size_t> positions;
  for (const std::string& name : opened) {
    EXPECT_EQ(std::count(seen.begin(), seen.end(), name), 1) << name;
    positions.push_back(std::find(seen.begin(), seen.end(), name) -
                        seen.begin());
  }
  EXPECT_TRUE(std::is_sorted(positions.begin(), positions.end()));
  EXPECT_TRUE(std::is_sorted(created_us.begin(), created_us.end()));

  // Filtered by approach status.
  request.clear_page_token();
  request.set_page_size(500);
  request.set_approach_status(v1::APPROACH_STATUS_OUTREACH_DONE);
  v1::ListCasesResponse done;
  ASSERT_TRUE(Stub()->ListCases(Kita().get(), request, &done).ok());
  bool found = false;
  for (const v1::Case& c : done.cases()) {
    EXPECT_EQ(c.approach_status(), v1::APPROACH_STATUS_OUTREACH_DONE);
    found = found || c.name() == opened[1];
  }
  EXPECT_TRUE(found);

  // Another ward's area is refused, and a bad token is named.
  request.set_area_code("27102");
  EXPECT_EQ(Stub()->ListCases(Kita().get(), request, &done).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  request.set_area_code("27127");
  request.set_page_token("not-a-token");
  const grpc::Status status = Stub()->ListCases(Kita().get(), request, &done);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("page_token"));
  // So is a token of the form pages had when they followed ids.
  request.set_page_token(opened[0].substr(opened[0].find('/') + 1));
  EXPECT_EQ(Stub()->ListCases(Kita().get(), request, &done).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// The id in cases/{id} (and in the names under a case) tells nothing of
// other records: a user who opens cases one after the other cannot count
// from the gaps how many cases other municipalities opened in between, nor
// guess the next id. With a plain sequence, ids opened in a row increase,
// and most are one apart.
TEST_F(CaseServiceTest, IdsTellNothingOfOtherRecords) {
  std::vector<std::string> cases;
  std::vector<std::string> contacts;
  for (int i = 0; i < 20; ++i) {
    const std::string kana = "あいうえおかきくけこさしすせそたちつてと";
    const v1::Case c = NewCase(absl::StrCat("いでぃ", kana.substr(i * 3, 3)),
                               absl::StrCat("ids-", i));
    ASSERT_FALSE(c.name().empty());
    cases.push_back(c.name());
    v1::RecordContactRequest contact;
    contact.set_parent(c.name());
    contact.set_request_id(absl::StrCat("ids-contact-", i));
    contact.mutable_contact()->set_kind(v1::CONTACT_KIND_HOME_VISIT);
    *contact.mutable_contact()->mutable_contact_date() = DaysAgo(1);
    contact.mutable_contact()->set_summary("家庭訪問");
    v1::Contact recorded;
    const grpc::Status status =
        Stub()->RecordContact(Kita().get(), contact, &recorded);
    ASSERT_TRUE(status.ok()) << status.error_message();
    contacts.push_back(recorded.name());
  }
  kosapo::testing::ExpectOpaqueIds(cases);
  kosapo::testing::ExpectOpaqueIds(contacts);
}

TEST_F(CaseServiceTest, PersonalDataNeverReachesTheLogs) {
  testing::StdoutCapture capture(SharedPgCluster().data_dir() +
                                 "-case-privacy.log");
  v1::CreateCaseRequest request;
  request.set_parent(absl::StrCat("municipalities/", kCity));
  request.set_request_id("privacy-1");
  v1::Case* c = request.mutable_case_();
  c->set_area_code("27127");
  c->set_source(v1::CASE_SOURCE_AGENCY);
  *c->mutable_opened_date() = DaysAgo(3);
  c->mutable_child()->set_name("秘密 次郎");
  c->mutable_child()->set_kana("ひみつ じろう");
  c->mutable_child()->mutable_birth_date()->set_year(2015);
  c->mutable_child()->mutable_birth_date()->set_month(11);
  c->mutable_child()->mutable_birth_date()->set_day(29);
  c->mutable_household()->set_address("秘密町9-9-9");
  c->mutable_household()->set_phone("06-9999-0000");
  v1::Case created;
  const bool accepted =
      Stub()->CreateCase(Kita().get(), request, &created).ok();
  // Refused calls are logged too: a duplicate, and a bad kana.
  request.set_request_id("privacy-2");
  const bool duplicate =
      Stub()->CreateCase(Kita().get(), request, &created).error_code() ==
      grpc::StatusCode::ALREADY_EXISTS;
  request.set_request_id("privacy-3");
  c->mutable_child()->set_kana("Himitsu Jiro");
  const bool rejected =
      !Stub()->CreateCase(Kita().get(), request, &created).ok();
  const std::string logged = capture.Finish();
  ASSERT_TRUE(accepted);
  ASSERT_TRUE(duplicate);
  ASSERT_TRUE(rejected);
  EXPECT_THAT(logged, HasSubstr("CreateCase"));  // the capture worked
  for (const char* secret :
       {"秘密", "ひみつ", "Himitsu", "2015-11-29", "06-9999-0000"}) {
    EXPECT_THAT(logged, ::testing::Not(HasSubstr(secret))) << secret;
  }
}

// A case's contacts list newest first by when they were recorded (ids do
// not follow it), in pages whose tokens carry that order.
TEST_F(CaseServiceTest, ContactsPageNewestFirst) {
  const v1::Case c = NewCase("こんたくと ぺーじ", "contacts-page");
  std::vector<std::string> recorded;
  for (int i = 0; i < 5; ++i) {
    v1::RecordContactRequest request;
    request.set_parent(c.name());
    request.set_request_id(absl::StrCat("contacts-page-", i));
    request.mutable_contact()->set_kind(v1::CONTACT_KIND_PHONE_CALL);
    *request.mutable_contact()->mutable_contact_date() = DaysAgo(5 - i);
    request.mutable_contact()->set_summary("電話");
    v1::Contact contact;
    const grpc::Status status =
        Stub()->RecordContact(Kita().get(), request, &contact);
    ASSERT_TRUE(status.ok()) << status.error_message();
    recorded.push_back(contact.name());
  }
  v1::ListContactsRequest request;
  request.set_parent(c.name());
  request.set_page_size(2);
  std::vector<std::string> listed;
  int pages = 0;
  do {
    v1::ListContactsResponse page;
    const grpc::Status status =
        Stub()->ListContacts(Kita().get(), request, &page);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_LE(page.contacts_size(), 2);
    for (const v1::Contact& contact : page.contacts()) {
      listed.push_back(contact.name());
    }
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty() && ++pages < 10);
  EXPECT_EQ(listed,
            std::vector<std::string>(recorded.rbegin(), recorded.rend()));
}

// On a database that already holds cases, the migration keeps their ids
// (names already given out stay valid) and gives new cases concealed ids,
// which never meet the old ones: 2^62 and above, far past any sequence.
TEST(CaseIdMigrationTest, ExistingCasesKeepTheirIds) {
  const std::string schema = "cases_id_upgrade";
  {
    pqxx::connection admin(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(admin);
    tx.exec0("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    tx.exec0("CREATE SCHEMA " + schema + " AUTHORIZATION kosapo_case_owner");
  }
  const std::vector<pg::Migration>& all = EmbeddedMigrations();
  std::vector<pg::Migration> before;
  for (const pg::Migration& migration : all) {
    if (migration.version < 5) {
      before.push_back(migration);
    }
  }
  ASSERT_LT(before.size(), all.size());
  const std::string owner = SharedPgCluster().OwnerUrl("case");
  ASSERT_TRUE(pg::Migrate(owner, schema,
                          {events::PlatformMigrations(), {"case", before}})
                  .ok());
  constexpr char kInsert[] =
      "INSERT INTO cases (municipality, area_code, source, opened_date,"
      " fiscal_year, child_name, child_kana, kana_key, birth_date,"
      " created_by) VALUES ('27100', '27127', 'school', '2024-05-01', 2024,"
      " 'x', 'x', 'x', '2014-06-01', 'test') RETURNING id";
  auto insert = [&]() {
    pqxx::connection connection(owner);
    pqxx::nontransaction tx(connection);
    tx.exec0("SET search_path TO " + schema);
    return tx.exec1(kInsert)[0].as<int64_t>();
  };
  const int64_t old_id = insert();
  EXPECT_EQ(old_id, 1);

  const auto upgraded =
      pg::Migrate(owner, schema, {events::PlatformMigrations(), {"case", all}});
  ASSERT_TRUE(upgraded.ok()) << upgraded.status();
  const int64_t first = insert();
  const int64_t second = insert();
  EXPECT_GE(first, int64_t{1} << 62);
  EXPECT_GE(second, int64_t{1} << 62);
  EXPECT_NE(second - first, 1);
  pqxx::connection admin(SharedPgCluster().AdminUrl());
  pqxx::nontransaction tx(admin);
  EXPECT_EQ(
      tx.exec1("SELECT count(*) FROM " + schema + ".cases WHERE id = 1")[0]
          .as<int>(),
      1);
  tx.exec0("DROP SCHEMA " + schema + " CASCADE");
}

}  // namespace
}  // namespace kosapo::cases
