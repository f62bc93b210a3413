#ifndef KOSAPO_COMMON_TESTING_STATUS_MATCHERS_H_
#define KOSAPO_COMMON_TESTING_STATUS_MATCHERS_H_

// gMock matchers for absl::Status and absl::StatusOr<T> (Abseil 20220623 has
// none):
//
//   EXPECT_THAT(DoIt(), IsOk());
//   EXPECT_THAT(Parse(""), StatusIs(absl::StatusCode::kInvalidArgument));
//   EXPECT_THAT(Parse(""), StatusIs(absl::StatusCode::kInvalidArgument,
//                                   HasSubstr("empty")));
//   ASSERT_OK_AND_ASSIGN(auto value, Parse("1"));
//   ASSERT_OK(DoIt());
//   EXPECT_OK(DoIt());

#include <ostream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::testing {
namespace status_matchers_internal {

inline const absl::Status& GetStatus(const absl::Status& status) {
  return status;
}

template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// What StatusIs checks, independent of the type of the value matched.
class StatusIsMatcherCommonImpl {
 public:
  StatusIsMatcherCommonImpl(
      ::testing::Matcher<absl::StatusCode> code_matcher,
      ::testing::Matcher<const std::string&> message_matcher)
      : code_matcher_(std::move(code_matcher)),
        message_matcher_(std::move(message_matcher)) {}

  void DescribeTo(std::ostream* os) const {
    *os << "has a status code that ";
    code_matcher_.DescribeTo(os);
    *os << ", and has an error message that ";
    message_matcher_.DescribeTo(os);
  }

  void DescribeNegationTo(std::ostream* os) const {
    *os << "has a status code that ";
    code_matcher_.DescribeNegationTo(os);
    *os << ", or has an error message that ";
    message_matcher_.DescribeNegationTo(os);
  }

  bool MatchAndExplain(const absl::Status& status,
                       ::testing::MatchResultListener* listener) const {
    ::testing::StringMatchResultListener inner;
    if (!code_matcher_.MatchAndExplain(status.code(), &inner)) {
      *listener << ", whose status code is wrong";
      PrintExplanation(inner, listener);
      return false;
    }
    const std::string message(status.message());
    if (!message_matcher_.MatchAndExplain(message, &inner)) {
      *listener << ", whose error message is wrong";
      PrintExplanation(inner, listener);
      return false;
    }
    return true;
  }

 private:
  static void PrintExplanation(
      const ::testing::StringMatchResultListener& inner,
      ::testing::MatchResultListener* listener) {
    if (!inner.str().empty()) {
      *listener << ", " << inner.str();
    }
  }

  const ::testing::Matcher<absl::StatusCode> code_matcher_;
  const ::testing::Matcher<const std::string&> message_matcher_;
};

// StatusIs for one type: T is `const absl::Status&` or
// `const absl::StatusOr<U>&`.
template <typename T>
class MonoStatusIsMatcherImpl : public ::testing::MatcherInterface<T> {
 public:
  explicit MonoStatusIsMatcherImpl(StatusIsMatcherCommonImpl common)
      : common_(std::move(common)) {}

  void DescribeTo(std::ostream* os) const override { common_.DescribeTo(os); }
  void DescribeNegationTo(std::ostream* os) const override {
    common_.DescribeNegationTo(os);
  }
  bool MatchAndExplain(
      T actual, ::testing::MatchResultListener* listener) const override {
    const absl::Status& status = GetStatus(actual);
    *listener << "which has status " << status;
    return common_.MatchAndExplain(status, listener);
  }

 private:
  const StatusIsMatcherCommonImpl common_;
};

// The polymorphic matcher StatusIs returns.
class StatusIsMatcher {
 public:
  template <typename CodeMatcher, typename MessageMatcher>
  StatusIsMatcher(CodeMatcher&& code_matcher, MessageMatcher&& message_matcher)
      : common_(::testing::MatcherCast<absl::StatusCode>(
                    std::forward<CodeMatcher>(code_matcher)),
                ::testing::MatcherCast<const std::string&>(
                    std::forward<MessageMatcher>(message_matcher))) {}

  template <typename T>
  operator ::testing::Matcher<T>() const {  // NOLINT: implicit by design
    return ::testing::Matcher<T>(
        new MonoStatusIsMatcherImpl<const T&>(common_));
  }

 private:
  const StatusIsMatcherCommonImpl common_;
};

// IsOk for one type, as MonoStatusIsMatcherImpl.
template <typename T>
class MonoIsOkMatcherImpl : public ::testing::MatcherInterface<T> {
 public:
  void DescribeTo(std::ostream* os) const override { *os << "is OK"; }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "is not OK";
  }
  bool MatchAndExplain(
      T actual, ::testing::MatchResultListener* listener) const override {
    const absl::Status& status = GetStatus(actual);
    if (!status.ok()) {
      *listener << "which has status " << status;
      return false;
    }
    return true;
  }
};

// The polymorphic matcher IsOk returns.
class IsOkMatcher {
 public:
  template <typename T>
  operator ::testing::Matcher<T>() const {  // NOLINT: implicit by design
    return ::testing::Matcher<T>(new MonoIsOkMatcherImpl<const T&>());
  }
};

}  // namespace status_matchers_internal

// Matches an absl::Status or absl::StatusOr<T> that is OK.
inline status_matchers_internal::IsOkMatcher IsOk() { return {}; }

// Matches an absl::Status or absl::StatusOr<T> whose code matches
// `code_matcher` (an absl::StatusCode or a matcher of one) and whose message
// matches `message_matcher` (a string or a string matcher such as
// HasSubstr).
template <typename CodeMatcher, typename MessageMatcher>
status_matchers_internal::StatusIsMatcher StatusIs(
    CodeMatcher&& code_matcher, MessageMatcher&& message_matcher) {
  return status_matchers_internal::StatusIsMatcher(
      std::forward<CodeMatcher>(code_matcher),
      std::forward<MessageMatcher>(message_matcher));
}

// As above, with any message.
template <typename CodeMatcher>
status_matchers_internal::StatusIsMatcher StatusIs(CodeMatcher&& code_matcher) {
  return StatusIs(std::forward<CodeMatcher>(code_matcher), ::testing::_);
}

}  // namespace kosapo::testing

// Asserts (fatal) / expects (non-fatal) that an absl::Status or
// absl::StatusOr<T> expression is OK.
#define ASSERT_OK(expr) ASSERT_THAT((expr), ::kosapo::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::kosapo::testing::IsOk())

// Evaluates `rexpr`, an absl::StatusOr<T>; fails the test (returning from
// the enclosing void function) unless it is OK; otherwise moves its value
// into `lhs`, which may be a declaration: ASSERT_OK_AND_ASSIGN(auto x, F());
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr)                                      \
  KOSAPO_ASSERT_OK_AND_ASSIGN_IMPL_(                                          \
      KOSAPO_STATUS_MATCHERS_CONCAT_(kosapo_status_or_value_, __LINE__), lhs, \
      rexpr)

#define KOSAPO_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, rexpr)      \
  auto statusor = (rexpr);                                           \
  ASSERT_TRUE(statusor.ok()) << #rexpr << ": " << statusor.status(); \
  lhs = std::move(statusor).value()

#define KOSAPO_STATUS_MATCHERS_CONCAT_(x, y) \
  KOSAPO_STATUS_MATCHERS_CONCAT_INNER_(x, y)
#define KOSAPO_STATUS_MATCHERS_CONCAT_INNER_(x, y) x##y

#endif  // KOSAPO_COMMON_TESTING_STATUS_MATCHERS_H_
