// The lifecycle of a referral, apart from gRPC and SQL: who refers, which
// step may follow which, what each step needs (consent before sending, a
// reason for declining, withdrawing, ending and revoking), effective dates
// in order, and the answer due date that closes the loop.
//
//   proposed ─▶ sent ─▶ accepted ─▶ connected ─▶ ended
//      │          │         │
//      └──────────┴─────────┴──▶ withdrawn      sent ─▶ declined
//   any state but revoked ─▶ revoked (RevokeReferral, ward officers)
#ifndef KOSAPO_SERVICES_REFERRAL_DOMAIN_REFERRAL_RULES_H_
#define KOSAPO_SERVICES_REFERRAL_DOMAIN_REFERRAL_RULES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "common/auth/principal.h"
#include "kosapo/referral/v1/referral.pb.h"

namespace kosapo::referral {

// Ward staff, case workers and the consultation desk: they refer (and apply
// for hub usage) for the cases the case service lets them act on.
bool MayRefer(auth::Role role);

// The states ChangeReferralState may move `from` to.
std::vector<v1::ReferralState> NextStates(v1::ReferralState from);

// A new referral's own fields: case and support names, proposed date not
// after today, purpose.
absl::Status ValidateNewReferral(const v1::Referral& referral,
                                 absl::CivilDay today);

// The consent or legal basis to share: a basis, a date not after today,
// the note (required for another legal basis). Only while proposed.
absl::Status CheckConsent(v1::ReferralState state,
                          const v1::SharingConsent& consent,
                          absl::CivilDay today);

// What a state change depends on.
struct ReferralFacts {
  std::string name;  // "referrals/3", for messages
  v1::ReferralState state = v1::REFERRAL_STATE_UNSPECIFIED;
  // The effective date of the latest step.
  absl::CivilDay last_step;
  bool has_consent = false;
};

struct StateChange {
  absl::CivilDay effective;
  // Set for SENT: the requested one or `effective` + answer_days.
  absl::CivilDay answer_due;
};

// Checks a ChangeReferralState request against the referral: the target
// (INVALID_ARGUMENT naming "state"), that it follows the current state
// (FAILED_PRECONDITION naming the current state and what may follow),
// consent before sending, a reason where needed, dates in order.
absl::StatusOr<StateChange> CheckStateChange(
    const ReferralFacts& facts, const v1::ChangeReferralStateRequest& request,
    absl::CivilDay today, int answer_days);

// A revocation: any state but revoked, with a reason; effective today.
absl::Status CheckRevoke(const ReferralFacts& facts, absl::string_view reason);

// Sent and unanswered past its due date.
bool IsOverdue(v1::ReferralState state, absl::CivilDay answer_due,
               absl::CivilDay today);

}  // namespace kosapo::referral

#endif  // KOSAPO_SERVICES_REFERRAL_DOMAIN_REFERRAL_RULES_H_
