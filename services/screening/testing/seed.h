// Test data through the screening API, for tests of the services that
// consume its extractions: a city with one area (A1) and school (E1), a
// round of the current fiscal year, pupil P1's sheet and a meeting I of
// today, where a test then decides P1's outcome.
#ifndef KOSAPO_SERVICES_SCREENING_TESTING_SEED_H_
#define KOSAPO_SERVICES_SCREENING_TESTING_SEED_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "common/testing/test_tokens.h"
#include "kosapo/screening/v1/screening.grpc.pb.h"

namespace kosapo::screening::testing {

// P1 as the school records them.
inline constexpr char kPupilName[] = "山田 太郎";
inline constexpr char kPupilKana[] = "やまだ たろう";
// P1's birth date, in the round of `fiscal_year`: a third grader's.
inline absl::CivilDay PupilBirthDate(int fiscal_year) {
  return absl::CivilDay(fiscal_year - 9, 5, 1);
}

// A client context carrying a token of `role` in `city`, scoped to area A1
// and school E1.
std::unique_ptr<grpc::ClientContext> ContextAs(
    const kosapo::testing::TestTokens& tokens, auth::Role role,
    const std::string& city);

// A CreateRound request for a regular round of `fiscal_year` in `parent`
// ("municipalities/{code}") on the shipped template, open from `open` to
// `close`: by default the whole fiscal year (1 April to 31 March).
v1::CreateRoundRequest RoundRequest(const std::string& parent,
                                    const std::string& request_id,
                                    int fiscal_year, const std::string& title,
                                    std::optional<absl::CivilDay> open = {},
                                    std::optional<absl::CivilDay> close = {});

// Registers `city` with one area, A1, and `schools` in it (elementary).
absl::Status SeedCity(v1::ScreeningService::Stub& stub,
                      const kosapo::testing::TestTokens& tokens,
                      const std::string& city,
                      const std::vector<std::string>& schools = {"E1"});

// Registers everything up to meeting I; returns the meeting's name.
absl::StatusOr<std::string> SeedMeeting(
    v1::ScreeningService::Stub& stub, const kosapo::testing::TestTokens& tokens,
    const std::string& city);

// Records meeting I's decision on P1; returns the decision's name (the
// extraction id).
absl::StatusOr<std::string> DecidePupil(
    v1::ScreeningService::Stub& stub, const kosapo::testing::TestTokens& tokens,
    const std::string& city, const std::string& meeting,
    v1::DecisionOutcome outcome);

}  // namespace kosapo::screening::testing

#endif  // KOSAPO_SERVICES_SCREENING_TESTING_SEED_H_
