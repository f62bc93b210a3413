#include "services/screening/domain/scoring.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/screening/domain/template.h"

namespace kosapo::screening {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Levels out of 4 and weights in halves, so every expected number below is
// exact in binary and compared with ==.
Template SmallTemplate() {
  Template tmpl;
  tmpl.key = "test";
  tmpl.version = 1;
  tmpl.title_ja = "テスト";
  tmpl.title_en = "Test";
  tmpl.review_threshold = 4.0;
  tmpl.categories = {{"school_life", "学校生活", "School life"},
                     {"economic", "経済状況", "Economic circumstances"},
                     {"meals", "食事", "Meals"},
                     {"young_carer", "ヤングケアラー", "Young carer"},
                     {"health", "健康", "Health"}};
  tmpl.items = {
      {"school_absence", "school_life", "欠席が多い", "Frequent absence",
       AnswerKind::kLevel, 4, 2.0, false},
      {"economic_unpaid_fees", "economic", "学校徴収金の未納",
       "Unpaid school fees", AnswerKind::kFlag, 1, 1.5, false},
      {"meals_hunger", "meals", "空腹を訴える", "Complains of hunger",
       AnswerKind::kLevel, 4, 3.0, false},
      {"young_carer_siblings", "young_carer", "きょうだいの世話",
       "Looks after siblings", AnswerKind::kFlag, 1, 1.0, true},
      {"health_dental", "health", "歯科の未治療", "Untreated dental problems",
       AnswerKind::kFlag, 1, 0.5, false},
  };
  return tmpl;
}

Answer Flag(const std::string& item, int value) {
  return Answer{item, AnswerKind::kFlag, value};
}

Answer Level(const std::string& item, int value) {
  return Answer{item, AnswerKind::kLevel, value};
}

std::vector<std::string> TriggeredItems(const Score& score) {
  std::vector<std::string> items;
  for (const Trigger& trigger : score.triggered) {
    items.push_back(trigger.item);
  }
  return items;
}

TEST(ComputeScore, SumsWeightTimesValueOverMaxLevel) {
  const Template tmpl = SmallTemplate();
  const std::vector<Answer> answers = {
      Level("school_absence", 3),       // 2.0 * 3/4 = 1.5
      Flag("economic_unpaid_fees", 1),  // 1.5
      Level("meals_hunger", 1),         // 3.0 * 1/4 = 0.75
      Flag("health_dental", 0),         // 0
  };
  ASSERT_OK(ValidateAnswers(tmpl, answers));
  const Score score = ComputeScore(tmpl, answers);
  EXPECT_EQ(score.total, 3.75);
  ASSERT_EQ(score.triggered.size(), 3u);
  EXPECT_EQ(score.triggered[0].item, "school_absence");
  EXPECT_EQ(score.triggered[0].points, 1.5);
  EXPECT_FALSE(score.triggered[0].always_review);
  EXPECT_EQ(score.triggered[1].item, "economic_unpaid_fees");
  EXPECT_EQ(score.triggered[1].points, 1.5);
  EXPECT_EQ(score.triggered[2].item, "meals_hunger");
  EXPECT_EQ(score.triggered[2].points, 0.75);
  EXPECT_FALSE(score.candidate);  // 3.75 < 4.0
}

TEST(ComputeScore, UnansweredItemsCountAsZero) {
  const Score score = ComputeScore(SmallTemplate(), {});
  EXPECT_EQ(score.total, 0.0);
  EXPECT_THAT(score.triggered, IsEmpty());
  EXPECT_FALSE(score.candidate);
}

TEST(ComputeScore, TotalAtThresholdMakesCandidate) {
  const Score score =
      ComputeScore(SmallTemplate(), {Level("meals_hunger", 4),    // 3.0
                                     Level("school_absence", 1),  // 0.5
                                     Flag("health_dental", 1)});  // 0.5
  EXPECT_EQ(score.total, 4.0);
  EXPECT_TRUE(score.candidate);
}

TEST(ComputeScore, TotalJustBelowThresholdIsNotCandidate) {
  Template tmpl = SmallTemplate();
  tmpl.review_threshold = 4.25;
  const Score score =
      ComputeScore(tmpl, {Level("meals_hunger", 4), Level("school_absence", 1),
                          Flag("health_dental", 1)});
  EXPECT_EQ(score.total, 4.0);
  EXPECT_FALSE(score.candidate);
}

TEST(ComputeScore, RoundingDoesNotKeepAnExactTotalBelowThreshold) {
  // 0.1 * 1/3 + 0.2 * 2/3 + 0.7 * 1/3 is 0.4 exactly, but adds up to
  // 0.39999999999999997 in doubles.
  Template tmpl;
  tmpl.key = "thirds";
  tmpl.version = 1;
  tmpl.title_ja = "三分の一";
  tmpl.title_en = "Thirds";
  tmpl.review_threshold = 0.4;
  tmpl.categories = {{"learning", "学習", "Learning"}};
  tmpl.items = {
      {"learning_a", "learning", "項目A", "Item A", AnswerKind::kLevel, 3, 0.1,
       false},
      {"learning_b", "learning", "項目B", "Item B", AnswerKind::kLevel, 3, 0.2,
       false},
      {"learning_c", "learning", "項目C", "Item C", AnswerKind::kLevel, 3, 0.7,
       false},
  };
  ASSERT_OK(ValidateTemplate(tmpl));
  const Score score = ComputeScore(
      tmpl,
      {Level("learning_a", 1), Level("learning_b", 2), Level("learning_c", 1)});
  EXPECT_LT(score.total, 0.4);  // the rounding this test is about
  EXPECT_DOUBLE_EQ(score.total, 0.4);
  EXPECT_TRUE(score.candidate);
}

TEST(ComputeScore, ItemAtMaximumScoresExactlyItsWeight) {
  Template tmpl = SmallTemplate();
  tmpl.items[0].max_level = 3;
  tmpl.items[0].weight = 0.7;
  const Score score = ComputeScore(tmpl, {Level("school_absence", 3)});
  EXPECT_EQ(score.total, 0.7);
}

TEST(ComputeScore, AlwaysReviewMakesCandidateBelowThreshold) {
  const Score score =
      ComputeScore(SmallTemplate(), {Flag("young_carer_siblings", 1)});
  EXPECT_EQ(score.total, 1.0);
  EXPECT_TRUE(score.candidate);
  ASSERT_EQ(score.triggered.size(), 1u);
  EXPECT_TRUE(score.triggered[0].always_review);
}

TEST(ComputeScore, AlwaysReviewItemAnsweredNoDoesNotTrigger) {
  const Score score = ComputeScore(
      SmallTemplate(),
      {Flag("young_carer_siblings", 0), Flag("economic_unpaid_fees", 1)});
  EXPECT_EQ(score.total, 1.5);
  EXPECT_THAT(TriggeredItems(score), ElementsAre("economic_unpaid_fees"));
  EXPECT_FALSE(score.candidate);
}

TEST(ComputeScore, OrdersTriggeredByPointsThenTemplateOrder) {
  const Score score = ComputeScore(
      SmallTemplate(), {Flag("health_dental", 1),  // 0.5, template position 4
                        Flag("young_carer_siblings", 1),  // 1.0
                        Level("school_absence", 1),  // 0.5, template position 0
                        Level("meals_hunger", 4),    // 3.0
                        Flag("economic_unpaid_fees", 1)});  // 1.5
  EXPECT_THAT(
      TriggeredItems(score),
      ElementsAre("meals_hunger", "economic_unpaid_fees",
                  "young_carer_siblings", "school_absence", "health_dental"));
  EXPECT_EQ(score.total, 6.5);
}

TEST(ComputeScore, DoesNotDependOnAnswerOrder) {
  const Template tmpl = SmallTemplate();
  std::vector<Answer> answers = {
      Level("school_absence", 1), Flag("economic_unpaid_fees", 1),
      Level("meals_hunger", 3), Flag("health_dental", 1)};
  const Score first = ComputeScore(tmpl, answers);
  std::reverse(answers.begin(), answers.end());
  const Score second = ComputeScore(tmpl, answers);
  EXPECT_EQ(first.total, second.total);
  EXPECT_EQ(TriggeredItems(first), TriggeredItems(second));
}

TEST(ComputeScore, InvalidAnswersContributeNothing) {
  const Score score =
      ComputeScore(SmallTemplate(),
                   {Flag("unknown_item", 1), Level("economic_unpaid_fees", 1),
                    Level("meals_hunger", 9), Flag("health_dental", 1),
                    Flag("health_dental", 1)});
  EXPECT_EQ(score.total, 0.5);  // health_dental, once
  EXPECT_THAT(TriggeredItems(score), ElementsAre("health_dental"));
}

// ---------------------------------------------------------------------------
// SortCandidates.

Candidate MakeCandidate(const std::string& key, double total,
                        bool always_review) {
  Candidate candidate;
  candidate.pupil_key = key;
  candidate.score.total = total;
  candidate.score.triggered.push_back(Trigger{"item", total, always_review});
  candidate.score.candidate = always_review || total >= 4.0;
  return candidate;
}

std::vector<std::string> Keys(const std::vector<Candidate>& candidates) {
  std::vector<std::string> keys;
  for (const Candidate& candidate : candidates) {
    keys.push_back(candidate.pupil_key);
  }
  return keys;
}

std::vector<Candidate> Unsorted() {
  return {MakeCandidate("c", 5.0, false), MakeCandidate("a", 2.0, true),
          MakeCandidate("d", 5.0, false), MakeCandidate("b", 3.0, true),
          MakeCandidate("e", 7.0, false), MakeCandidate("f", 1.0, false)};
}

TEST(SortCandidates, PutsAlwaysReviewFirstThenTotalThenKey) {
  std::vector<Candidate> candidates = Unsorted();
  SortCandidates(candidates);
  EXPECT_THAT(Keys(candidates), ElementsAre("b", "a", "e", "c", "d", "f"));
}

TEST(SortCandidates, SameOrderWhateverTheInputOrder) {
  const std::vector<Candidate> base = Unsorted();
  std::vector<size_t> order = {0, 1, 2, 3, 4, 5};
  int permutations = 0;
  do {
    std::vector<Candidate> candidates;
    for (const size_t i : order) {
      candidates.push_back(base[i]);
    }
    SortCandidates(candidates);
    ASSERT_THAT(Keys(candidates), ElementsAre("b", "a", "e", "c", "d", "f"));
    ++permutations;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(permutations, 720);
}

TEST(SortCandidates, OrdersComputedScores) {
  const Template tmpl = SmallTemplate();
  std::vector<Candidate> candidates = {
      {"pupil-3", ComputeScore(tmpl, {Level("meals_hunger", 4),
                                      Flag("economic_unpaid_fees", 1)})},
      {"pupil-1", ComputeScore(tmpl, {Flag("young_carer_siblings", 1)})},
      {"pupil-2", ComputeScore(tmpl, {})},
      {"pupil-0", ComputeScore(tmpl, {Level("meals_hunger", 4),
                                      Flag("economic_unpaid_fees", 1)})},
  };
  SortCandidates(candidates);
  EXPECT_THAT(Keys(candidates),
              ElementsAre("pupil-1", "pupil-0", "pupil-3", "pupil-2"));
}

TEST(SortCandidates, AcceptsEmptyList) {
  std::vector<Candidate> candidates;
  SortCandidates(candidates);
  EXPECT_THAT(candidates, IsEmpty());
}

}  // namespace
}  // namespace kosapo::screening
