// Scores one pupil's screening sheet against its template and orders the
// pupils for screening meeting I. A score supports the people at the meeting:
// it picks out and orders candidates, and a person decides (and records why).
#ifndef KOSAPO_SERVICES_SCREENING_DOMAIN_SCORING_H_
#define KOSAPO_SERVICES_SCREENING_DOMAIN_SCORING_H_

#include <string>
#include <vector>

#include "services/screening/domain/template.h"

namespace kosapo::screening {

// One answered item that counted.
struct Trigger {
  std::string item;   // the item's code
  double points = 0;  // weight * value / max_level
  bool always_review = false;
};

struct Score {
  // Sum over the answered items of weight * value / max_level (a flag:
  // weight * value), added in template order.
  double total = 0;
  // The items answered above 0: highest points first, ties in template order.
  std::vector<Trigger> triggered;
  // The total reaches the template's review_threshold, or an always-review
  // item was triggered. A total that equals the threshold in exact
  // arithmetic reaches it despite floating-point rounding.
  bool candidate = false;
};

// Scores `answers`, which ValidateAnswers has accepted for `tmpl`. An answer
// it would reject (unknown item, wrong kind, value out of range, a second
// answer to one item) contributes nothing rather than a made-up value.
Score ComputeScore(const Template& tmpl, const std::vector<Answer>& answers);

// A pupil's score, keyed by an opaque tie-breaker (never a name).
struct Candidate {
  std::string pupil_key;
  Score score;
};

// Orders `candidates` most concerning first: those with an always-review
// item triggered, then by total descending, then by pupil_key ascending. The
// result depends only on the set of candidates, not on their input order
// (unless two share a pupil_key and a score).
void SortCandidates(std::vector<Candidate>& candidates);

}  // namespace kosapo::screening

#endif  // KOSAPO_SERVICES_SCREENING_DOMAIN_SCORING_H_
