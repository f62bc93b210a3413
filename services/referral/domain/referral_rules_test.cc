// The referral lifecycle: the transition table, consent before sending,
// reasons, dates in order, the answer due date and revocation.
#include "services/referral/domain/referral_rules.h"

#include <string>

#include "absl/time/civil_time.h"
#include "common/testing/status_matchers.h"
#include "common/types/api_types.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::referral {
namespace {

using ::kosapo::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
constexpr absl::StatusCode kPrecondition =
    absl::StatusCode::kFailedPrecondition;
constexpr absl::CivilDay kToday(2024, 6, 10);

ReferralFacts Facts(v1::ReferralState state, bool consent = true) {
  ReferralFacts facts;
  facts.name = "referrals/7";
  facts.state = state;
  facts.last_step = kToday - 10;
  facts.has_consent = consent;
  return facts;
}

v1::ChangeReferralStateRequest Change(v1::ReferralState state,
                                      absl::CivilDay day = kToday - 5,
                                      const std::string& reason = "") {
  v1::ChangeReferralStateRequest request;
  request.set_state(state);
  *request.mutable_effective_date() = DateToProto(day);
  request.set_reason(reason);
  return request;
}

TEST(MayRefer, WardStaffCaseWorkersAndTheDesk) {
  EXPECT_TRUE(MayRefer(auth::Role::kWardOfficer));
  EXPECT_TRUE(MayRefer(auth::Role::kSsw));
  EXPECT_TRUE(MayRefer(auth::Role::kSupportPromoter));
  EXPECT_TRUE(MayRefer(auth::Role::kCaseWorker));
  EXPECT_TRUE(MayRefer(auth::Role::kConsultationDesk));
  EXPECT_FALSE(MayRefer(auth::Role::kHubOperator));
  EXPECT_FALSE(MayRefer(auth::Role::kSchoolStaff));
  EXPECT_FALSE(MayRefer(auth::Role::kCentreDirector));
  EXPECT_FALSE(MayRefer(auth::Role::kAnalyst));
}

TEST(NextStates, FollowTheLifecycle) {
  EXPECT_THAT(
      NextStates(v1::REFERRAL_STATE_PROPOSED),
      ElementsAre(v1::REFERRAL_STATE_SENT, v1::REFERRAL_STATE_WITHDRAWN));
  EXPECT_THAT(
      NextStates(v1::REFERRAL_STATE_SENT),
      ElementsAre(v1::REFERRAL_STATE_ACCEPTED, v1::REFERRAL_STATE_DECLINED,
                  v1::REFERRAL_STATE_WITHDRAWN));
  EXPECT_THAT(
      NextStates(v1::REFERRAL_STATE_ACCEPTED),
      ElementsAre(v1::REFERRAL_STATE_CONNECTED, v1::REFERRAL_STATE_WITHDRAWN));
  EXPECT_THAT(NextStates(v1::REFERRAL_STATE_CONNECTED),
              ElementsAre(v1::REFERRAL_STATE_ENDED));
  for (v1::ReferralState terminal :
       {v1::REFERRAL_STATE_DECLINED, v1::REFERRAL_STATE_WITHDRAWN,
        v1::REFERRAL_STATE_ENDED, v1::REFERRAL_STATE_REVOKED}) {
    EXPECT_TRUE(NextStates(terminal).empty());
  }
}

TEST(ValidateNewReferral, NamesTheField) {
  v1::Referral referral;
  referral.set_case_("cases/3");
  referral.set_support("supports/4");
  *referral.mutable_proposed_date() = DateToProto(kToday);
  EXPECT_OK(ValidateNewReferral(referral, kToday));
  referral.set_case_("case/3");
  EXPECT_THAT(ValidateNewReferral(referral, kToday),
              StatusIs(kInvalid, StartsWith("referral.case: ")));
  referral.set_case_("cases/3");
  referral.set_support("organizations/4");
  EXPECT_THAT(ValidateNewReferral(referral, kToday),
              StatusIs(kInvalid, StartsWith("referral.support: ")));
  referral.set_support("supports/4");
  *referral.mutable_proposed_date() = DateToProto(kToday + 1);
  EXPECT_THAT(ValidateNewReferral(referral, kToday),
              StatusIs(kInvalid, StartsWith("referral.proposed_date: ")));
}

TEST(CheckConsent, BasisDateNoteAndOnlyWhileProposed) {
  v1::SharingConsent consent;
  EXPECT_THAT(CheckConsent(v1::REFERRAL_STATE_PROPOSED, consent, kToday),
              StatusIs(kInvalid, StartsWith("consent.basis: ")));
  consent.set_basis(v1::SHARING_BASIS_HOUSEHOLD_CONSENT);
  EXPECT_THAT(CheckConsent(v1::REFERRAL_STATE_PROPOSED, consent, kToday),
              StatusIs(kInvalid, StartsWith("consent.given_date: ")));
  *consent.mutable_given_date() = DateToProto(kToday);
  EXPECT_OK(CheckConsent(v1::REFERRAL_STATE_PROPOSED, consent, kToday));
  consent.set_basis(v1::SHARING_BASIS_OTHER_LEGAL_BASIS);
  EXPECT_THAT(CheckConsent(v1::REFERRAL_STATE_PROPOSED, consent, kToday),
              StatusIs(kInvalid, "consent.note: required"));
  consent.set_note("生活保護法に基づく照会");
  EXPECT_THAT(CheckConsent(v1::REFERRAL_STATE_SENT, consent, kToday),
              StatusIs(kPrecondition, HasSubstr("the referral is sent")));
}

TEST(CheckStateChange, SendingNeedsConsentAndSetsTheDueDate) {
  EXPECT_THAT(
      CheckStateChange(Facts(v1::REFERRAL_STATE_PROPOSED, false),
                       Change(v1::REFERRAL_STATE_SENT), kToday, 14),
      StatusIs(kPrecondition, HasSubstr("no consent to share information")));
  auto change = CheckStateChange(Facts(v1::REFERRAL_STATE_PROPOSED),
                                 Change(v1::REFERRAL_STATE_SENT), kToday, 14);
  ASSERT_OK(change);
  EXPECT_EQ(change->effective, kToday - 5);
  EXPECT_EQ(change->answer_due, kToday + 9);
  v1::ChangeReferralStateRequest request = Change(v1::REFERRAL_STATE_SENT);
  *request.mutable_answer_due_date() = DateToProto(kToday + 30);
  change =
      CheckStateChange(Facts(v1::REFERRAL_STATE_PROPOSED), request, kToday, 14);
  ASSERT_OK(change);
  EXPECT_EQ(change->answer_due, kToday + 30);
  *request.mutable_answer_due_date() = DateToProto(kToday - 6);
  EXPECT_THAT(
      CheckStateChange(Facts(v1::REFERRAL_STATE_PROPOSED), request, kToday, 14),
      StatusIs(kInvalid, StartsWith("answer_due_date: ")));
  request = Change(v1::REFERRAL_STATE_ACCEPTED);
  *request.mutable_answer_due_date() = DateToProto(kToday);
  EXPECT_THAT(
      CheckStateChange(Facts(v1::REFERRAL_STATE_SENT), request, kToday, 14),
      StatusIs(kInvalid, "answer_due_date: only when sending"));
}

TEST(CheckStateChange, InvalidTransitionsNameTheCurrentState) {
  EXPECT_THAT(
      CheckStateChange(Facts(v1::REFERRAL_STATE_PROPOSED),
                       Change(v1::REFERRAL_STATE_CONNECTED), kToday, 14),
      StatusIs(kPrecondition,
               "referrals/7 is proposed: it cannot go to connected; it can "
               "go to sent or withdrawn"));
  EXPECT_THAT(CheckStateChange(Facts(v1::REFERRAL_STATE_DECLINED),
                               Change(v1::REFERRAL_STATE_SENT), kToday, 14),
              StatusIs(kPrecondition,
                       "referrals/7 is declined: it cannot go to sent; "
                       "nothing follows but a ward officer's revocation"));
  EXPECT_THAT(
      CheckStateChange(Facts(v1::REFERRAL_STATE_REVOKED),
                       Change(v1::REFERRAL_STATE_ENDED), kToday, 14),
      StatusIs(kPrecondition, HasSubstr("nothing follows a revocation")));
  for (v1::ReferralState target :
       {v1::REFERRAL_STATE_UNSPECIFIED, v1::REFERRAL_STATE_PROPOSED,
        v1::REFERRAL_STATE_REVOKED, static_cast<v1::ReferralState>(99)}) {
    EXPECT_THAT(CheckStateChange(Facts(v1::REFERRAL_STATE_SENT), Change(target),
                                 kToday, 14),
                StatusIs(kInvalid, StartsWith("state: ")));
  }
}

TEST(CheckStateChange, ReasonsAndDatesInOrder) {
  EXPECT_THAT(CheckStateChange(Facts(v1::REFERRAL_STATE_SENT),
                               Change(v1::REFERRAL_STATE_DECLINED), kToday, 14),
              StatusIs(kInvalid, "reason: required"));
  EXPECT_OK(CheckStateChange(
      Facts(v1::REFERRAL_STATE_SENT),
      Change(v1::REFERRAL_STATE_DECLINED, kToday - 5, "定員に空きがない"),
      kToday, 14));
  EXPECT_THAT(
      CheckStateChange(Facts(v1::REFERRAL_STATE_SENT),
                       Change(v1::REFERRAL_STATE_ACCEPTED, kToday - 11), kToday,
                       14),
      StatusIs(kInvalid, HasSubstr("must not be before the previous step")));
  EXPECT_THAT(CheckStateChange(Facts(v1::REFERRAL_STATE_SENT),
                               Change(v1::REFERRAL_STATE_ACCEPTED, kToday + 1),
                               kToday, 14),
              StatusIs(kInvalid, HasSubstr("must not be after today")));
  // The same day as the previous step is fine.
  EXPECT_OK(CheckStateChange(Facts(v1::REFERRAL_STATE_ACCEPTED),
                             Change(v1::REFERRAL_STATE_CONNECTED, kToday - 10),
                             kToday, 14));
}

TEST(CheckRevoke, AnyStateButRevokedWithAReason) {
  EXPECT_THAT(CheckRevoke(Facts(v1::REFERRAL_STATE_CONNECTED), " "),
              StatusIs(kInvalid, "reason: required"));
  EXPECT_OK(CheckRevoke(Facts(v1::REFERRAL_STATE_CONNECTED), "別世帯と誤登録"));
  EXPECT_OK(CheckRevoke(Facts(v1::REFERRAL_STATE_PROPOSED), "誤登録"));
  EXPECT_THAT(CheckRevoke(Facts(v1::REFERRAL_STATE_REVOKED), "誤登録"),
              StatusIs(kPrecondition, "referrals/7 is already revoked"));
}

TEST(IsOverdue, SentAndPastTheDueDate) {
  EXPECT_FALSE(IsOverdue(v1::REFERRAL_STATE_SENT, kToday, kToday));
  EXPECT_TRUE(IsOverdue(v1::REFERRAL_STATE_SENT, kToday - 1, kToday));
  EXPECT_FALSE(IsOverdue(v1::REFERRAL_STATE_ACCEPTED, kToday - 1, kToday));
}

}  // namespace
}  // namespace kosapo::referral
