// The referral lifecycle: transitions, consent, reasons, dates, due dates.
#include "services/referral/domain/referral_rules.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/types/api_types.h"
#include "services/referral/domain/enum_text.h"
#include "services/referral/domain/fields.h"

namespace kosapo::referral {
namespace {

using auth::Role;

bool NeedsReason(v1::ReferralState state) {
  return state == v1::REFERRAL_STATE_DECLINED ||
         state == v1::REFERRAL_STATE_WITHDRAWN ||
         state == v1::REFERRAL_STATE_ENDED;
}

std::string NextText(v1::ReferralState from) {
  std::vector<std::string> names;
  for (v1::ReferralState next : NextStates(from)) {
    names.push_back(ToText(next));
  }
  if (from == v1::REFERRAL_STATE_REVOKED) {
    return "nothing follows a revocation";
  }
  if (names.empty()) {
    return "nothing follows but a ward officer's revocation";
  }
  return absl::StrCat("it can go to ", absl::StrJoin(names, " or "));
}

}  // namespace

bool MayRefer(Role role) {
  return role == Role::kWardOfficer || role == Role::kSsw ||
         role == Role::kSupportPromoter || role == Role::kCaseWorker ||
         role == Role::kConsultationDesk;
}

std::vector<v1::ReferralState> NextStates(v1::ReferralState from) {
  switch (from) {
    case v1::REFERRAL_STATE_PROPOSED:
      return {v1::REFERRAL_STATE_SENT, v1::REFERRAL_STATE_WITHDRAWN};
    case v1::REFERRAL_STATE_SENT:
      return {v1::REFERRAL_STATE_ACCEPTED, v1::REFERRAL_STATE_DECLINED,
              v1::REFERRAL_STATE_WITHDRAWN};
    case v1::REFERRAL_STATE_ACCEPTED:
      return {v1::REFERRAL_STATE_CONNECTED, v1::REFERRAL_STATE_WITHDRAWN};
    case v1::REFERRAL_STATE_CONNECTED:
      return {v1::REFERRAL_STATE_ENDED};
    default:
      return {};
  }
}

absl::Status ValidateNewReferral(const v1::Referral& referral,
                                 absl::CivilDay today) {
  if (absl::Status s =
          ParseResourceName(referral.case_(), kCases, "referral.case").status();
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          ParseResourceName(referral.support(), kSupports, "referral.support")
              .status();
      !s.ok()) {
    return s;
  }
  if (absl::Status s = EffectiveDate(referral.proposed_date(),
                                     "referral.proposed_date", today)
                           .status();
      !s.ok()) {
    return s;
  }
  return ValidateText(referral.purpose(), 2000, false, "referral.purpose");
}

absl::Status CheckConsent(v1::ReferralState state,
                          const v1::SharingConsent& consent,
                          absl::CivilDay today) {
  if (consent.basis() == v1::SHARING_BASIS_UNSPECIFIED ||
      !v1::SharingBasis_IsValid(consent.basis())) {
    return Invalid("consent.basis",
                   "required: household consent, youtaikyo decision or other "
                   "legal basis");
  }
  if (absl::Status s =
          EffectiveDate(consent.given_date(), "consent.given_date", today)
              .status();
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          ValidateText(consent.note(), 1000,
                       consent.basis() == v1::SHARING_BASIS_OTHER_LEGAL_BASIS,
                       "consent.note");
      !s.ok()) {
    return s;
  }
  if (state != v1::REFERRAL_STATE_PROPOSED) {
    return absl::FailedPreconditionError(
        absl::StrCat("the referral is ", ToText(state),
                     ": consent is recorded before it is sent"));
  }
  return absl::OkStatus();
}

absl::StatusOr<StateChange> CheckStateChange(
    const ReferralFacts& facts, const v1::ChangeReferralStateRequest& request,
    absl::CivilDay today, int answer_days) {
  const v1::ReferralState target = request.state();
  if (target == v1::REFERRAL_STATE_UNSPECIFIED ||
      target == v1::REFERRAL_STATE_PROPOSED ||
      target == v1::REFERRAL_STATE_REVOKED ||
      !v1::ReferralState_IsValid(target)) {
    return Invalid("state",
                   "one of sent, accepted, connected, declined, withdrawn, "
                   "ended (revocation is RevokeReferral)");
  }
  const std::vector<v1::ReferralState> next = NextStates(facts.state);
  if (std::find(next.begin(), next.end(), target) == next.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat(facts.name, " is ", ToText(facts.state), ": it cannot go ",
                     "to ", ToText(target), "; ", NextText(facts.state)));
  }
  if (target == v1::REFERRAL_STATE_SENT && !facts.has_consent) {
    return absl::FailedPreconditionError(absl::StrCat(
        facts.name,
        " has no consent to share information: record the household's "
        "consent or the legal basis (RecordReferralConsent) before sending"));
  }
  if (absl::Status s =
          ValidateText(request.reason(), 1000, NeedsReason(target), "reason");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateText(request.note(), 1000, false, "note");
      !s.ok()) {
    return s;
  }
  StateChange change;
  auto effective = EffectiveDate(request.effective_date(), "effective_date",
                                 today, facts.last_step, "the previous step");
  if (!effective.ok()) {
    return effective.status();
  }
  change.effective = *effective;
  if (request.has_answer_due_date()) {
    if (target != v1::REFERRAL_STATE_SENT) {
      return Invalid("answer_due_date", "only when sending");
    }
    auto due = DateFromProto(request.answer_due_date(), "answer_due_date");
    if (!due.ok()) {
      return due.status();
    }
    if (*due < change.effective) {
      return Invalid("answer_due_date", "must not be before effective_date");
    }
    change.answer_due = *due;
  } else {
    change.answer_due = change.effective + answer_days;
  }
  return change;
}

absl::Status CheckRevoke(const ReferralFacts& facts, absl::string_view reason) {
  if (absl::Status s = ValidateText(reason, 1000, true, "reason"); !s.ok()) {
    return s;
  }
  if (facts.state == v1::REFERRAL_STATE_REVOKED) {
    return absl::FailedPreconditionError(
        absl::StrCat(facts.name, " is already revoked"));
  }
  return absl::OkStatus();
}

bool IsOverdue(v1::ReferralState state, absl::CivilDay answer_due,
               absl::CivilDay today) {
  return state == v1::REFERRAL_STATE_SENT && answer_due < today;
}

}  // namespace kosapo::referral
