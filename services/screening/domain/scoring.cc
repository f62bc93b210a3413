#include "services/screening/domain/scoring.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

namespace kosapo::screening {
namespace {

// Weights divided by levels (2/3, 0.1) do not add up exactly in binary; a
// pupil whose answers reach the threshold in exact arithmetic must not miss
// it by a rounding error. Far below any meaningful difference in weights.
constexpr double kRelativeTolerance = 1e-9;

bool InRange(const Item& item, const Answer& answer) {
  if (answer.kind != item.kind) {
    return false;
  }
  const int max_value = item.kind == AnswerKind::kFlag ? 1 : item.max_level;
  return answer.value >= 0 && answer.value <= max_value;
}

bool HasAlwaysReviewHit(const Score& score) {
  return std::any_of(
      score.triggered.begin(), score.triggered.end(),
      [](const Trigger& trigger) { return trigger.always_review; });
}

// A total as a sort key; NaN (only from an invalid template) sorts last
// instead of breaking the ordering.
double SortableTotal(double total) {
  return std::isnan(total) ? -std::numeric_limits<double>::infinity() : total;
}

}  // namespace

Score ComputeScore(const Template& tmpl, const std::vector<Answer>& answers) {
  // A linear search per answer: a sheet has a few answers, a template tens
  // of items, and an index built per sheet cost more than it saved.
  std::vector<int> values(tmpl.items.size(), 0);
  std::vector<bool> answered(tmpl.items.size(), false);
  for (const Answer& answer : answers) {
    size_t position = 0;
    while (position < tmpl.items.size() &&
           tmpl.items[position].code != answer.item) {
      ++position;
    }
    if (position == tmpl.items.size() || answered[position]) {
      continue;
    }
    answered[position] = true;
    if (InRange(tmpl.items[position], answer)) {
      values[position] = answer.value;
    }
  }

  Score score;
  for (size_t i = 0; i < tmpl.items.size(); ++i) {
    if (values[i] <= 0) {
      continue;
    }
    const Item& item = tmpl.items[i];
    // value / max_level first, so an item at its maximum scores exactly its
    // weight, as ValidateTemplate assumes for the highest possible total.
    const double points =
        item.weight * (static_cast<double>(values[i]) / item.max_level);
    score.total += points;
    score.triggered.push_back(Trigger{item.code, points, item.always_review});
  }
  // Stable: equal points stay in template order.
  std::stable_sort(
      score.triggered.begin(), score.triggered.end(),
      [](const Trigger& a, const Trigger& b) { return a.points > b.points; });
  score.candidate =
      HasAlwaysReviewHit(score) ||
      score.total >= tmpl.review_threshold * (1 - kRelativeTolerance);
  return score;
}

void SortCandidates(std::vector<Candidate>& candidates) {
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) {
                     const bool a_always = HasAlwaysReviewHit(a.score);
                     const bool b_always = HasAlwaysReviewHit(b.score);
                     if (a_always != b_always) {
                       return a_always;
                     }
                     const double a_total = SortableTotal(a.score.total);
                     const double b_total = SortableTotal(b.score.total);
                     if (a_total != b_total) {
                       return a_total > b_total;
                     }
                     return a.pupil_key < b.pupil_key;
                   });
}

}  // namespace kosapo::screening
