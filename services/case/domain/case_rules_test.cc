#include "services/case/domain/case_rules.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/auth/principal.h"
#include "common/testing/status_matchers.h"
#include "common/types/api_types.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kosapo/cases/v1/cases.pb.h"
#include "services/case/domain/enum_text.h"

namespace kosapo::cases {
namespace {

using auth::Principal;
using auth::Role;
using ::kosapo::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
constexpr absl::StatusCode kPrecondition =
    absl::StatusCode::kFailedPrecondition;

// The municipality's calendar day in these tests.
constexpr absl::CivilDay kToday(2024, 6, 10);

// Matches an INVALID_ARGUMENT whose message starts with "field: ".
auto InvalidField(absl::string_view field) {
  return StatusIs(kInvalid, StartsWith(absl::StrCat(field, ": ")));
}

// `unit` `n` times.
std::string Repeat(absl::string_view unit, size_t n) {
  std::string text;
  for (size_t i = 0; i < n; ++i) {
    text.append(unit.data(), unit.size());
  }
  return text;
}

kosapo::type::Date Date(int year, int month, int day) {
  kosapo::type::Date date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

// An instant on `day` (UTC; only the order of instants matters here).
absl::Time At(absl::CivilDay day, int hour = 9) {
  return absl::FromCivil(
      absl::CivilSecond(day.year(), day.month(), day.day(), hour, 0, 0),
      absl::UTCTimeZone());
}

// ---- Names ----------------------------------------------------------------

TEST(CaseNameTest, FormatsAndParsesBack) {
  EXPECT_EQ(CaseName(12), "cases/12");
  ASSERT_OK_AND_ASSIGN(const int64_t id, ParseCaseName(CaseName(12), "name"));
  EXPECT_EQ(id, 12);
  ASSERT_OK_AND_ASSIGN(const int64_t big,
                       ParseCaseName("cases/9223372036854775807", "name"));
  EXPECT_EQ(big, 9223372036854775807);
}

TEST(CaseNameTest, RejectsMalformedNamesNamingTheField) {
  for (const char* bad :
       {"", "cases", "cases/", "cases/0", "cases/-1", "cases/abc", "cases/1x",
        "case/1", "/cases/1", "cases/1/", "cases//1", "Cases/1",
        "cases/1/conferences/2", "municipalities/27100",
        "cases/99999999999999999999"}) {
    EXPECT_THAT(ParseCaseName(bad, "request.name"),
                StatusIs(kInvalid, AllOf(StartsWith("request.name: "),
                                         HasSubstr("cases/{id}"))))
        << bad;
  }
}

// Names are canonical: no sign, leading zero or whitespace in the numbers.
TEST(CaseNameTest, RejectsNonCanonicalNumbers) {
  for (const char* bad :
       {"cases/+12", "cases/012", "cases/ 12", "cases/12 ", "cases/\t12"}) {
    EXPECT_THAT(ParseCaseName(bad, "name"), InvalidField("name")) << bad;
  }
  for (const char* bad : {"cases/+12/conferences/3", "cases/12/conferences/03",
                          "cases/12/conferences/ 3"}) {
    EXPECT_THAT(ParseChildName(bad, "conferences", "name"),
                InvalidField("name"))
        << bad;
  }
}

TEST(ChildNameTest, FormatsAndParsesBack) {
  EXPECT_EQ(ChildName(12, "conferences", 3), "cases/12/conferences/3");
  EXPECT_EQ(ChildName(7, "urgentReports", 41), "cases/7/urgentReports/41");
  ASSERT_OK_AND_ASSIGN(
      const auto parsed,
      ParseChildName(ChildName(12, "conferences", 3), "conferences", "name"));
  EXPECT_EQ(parsed, std::make_pair(int64_t{12}, int64_t{3}));
  ASSERT_OK_AND_ASSIGN(
      const auto report,
      ParseChildName("cases/7/urgentReports/41", "urgentReports", "name"));
  EXPECT_EQ(report, std::make_pair(int64_t{7}, int64_t{41}));
}

TEST(ChildNameTest, RejectsMalformedNamesNamingTheField) {
  for (const char* bad :
       {"", "cases/12", "cases/12/conferences", "cases/12/conferences/",
        "cases/12/contacts/3", "cases/12/Conferences/3",
        "cases/0/conferences/3", "cases/12/conferences/0",
        "cases/-12/conferences/3", "cases/12/conferences/-3",
        "cases/x/conferences/3", "cases/12/conferences/x",
        "cases/12/conferences/3/extra", "case/12/conferences/3",
        "conferences/3"}) {
    EXPECT_THAT(
        ParseChildName(bad, "conferences", "request.name"),
        StatusIs(kInvalid, AllOf(StartsWith("request.name: "),
                                 HasSubstr("cases/{id}/conferences/{number}"))))
        << bad;
  }
}

// ---- KanaKey --------------------------------------------------------------

TEST(KanaKeyTest, HiraganaAndKatakanaWithEitherSpaceGiveTheSameKey) {
  ASSERT_OK_AND_ASSIGN(const std::string hiragana,
                       KanaKey("やまだ たろう", "kana"));
  ASSERT_OK_AND_ASSIGN(const std::string katakana,
                       KanaKey("ヤマダ　タロウ", "kana"));  // U+3000
  ASSERT_OK_AND_ASSIGN(const std::string mixed,
                       KanaKey("やまだ　タロウ", "kana"));
  ASSERT_OK_AND_ASSIGN(const std::string unspaced,
                       KanaKey("ヤマダタロウ", "kana"));
  EXPECT_EQ(hiragana, "ヤマダタロウ");
  EXPECT_EQ(katakana, hiragana);
  EXPECT_EQ(mixed, hiragana);
  EXPECT_EQ(unspaced, hiragana);
}

TEST(KanaKeyTest, RemovesEverySpaceAnywhere) {
  ASSERT_OK_AND_ASSIGN(const std::string key,
                       KanaKey("  や ま だ　　たろう　 ", "kana"));
  EXPECT_EQ(key, "ヤマダタロウ");
}

TEST(KanaKeyTest, KeepsKatakanaProlongedSoundMarkAndMiddleDot) {
  ASSERT_OK_AND_ASSIGN(const std::string long_vowel, KanaKey("さーや", "k"));
  EXPECT_EQ(long_vowel, "サーヤ");
  ASSERT_OK_AND_ASSIGN(const std::string dot, KanaKey("ジョン・スミス", "k"));
  EXPECT_EQ(dot, "ジョン・スミス");
  // The ends of the katakana range stay as they are.
  ASSERT_OK_AND_ASSIGN(const std::string ends, KanaKey("ァヺ", "k"));
  EXPECT_EQ(ends, "ァヺ");
}

TEST(KanaKeyTest, ConvertsTheWholeHiraganaRange) {
  // U+3041 ぁ .. U+3096 ゖ map to U+30A1 ァ .. U+30F6 ヶ.
  ASSERT_OK_AND_ASSIGN(const std::string key, KanaKey("ぁがぱゔゕゖ", "k"));
  EXPECT_EQ(key, "ァガパヴヵヶ");
  ASSERT_OK_AND_ASSIGN(const std::string small,
                       KanaKey("きょうこ　しゅんすけ", "k"));
  EXPECT_EQ(small, "キョウコシュンスケ");
}

TEST(KanaKeyTest, RejectsAnythingButKanaNamingTheField) {
  for (const char* bad : {
           "山田",            // kanji
           "やまだ太郎",      // kana and kanji
           "yamada",          // latin
           "ｙａｍａｄａ",    // full-width latin
           "ﾔﾏﾀﾞ ﾀﾛｳ",        // half-width katakana
           "たろう1",         // a digit
           "たろう\t",        // a tab is not a space here
           "たろう。",        // punctuation
           "\xE3\x81",        // truncated UTF-8
           "\xFF\xFE",        // not UTF-8 at all
           "\x80",            // a lone continuation byte
           "た\xE3\x81\x41",  // a bad continuation byte
       }) {
    EXPECT_THAT(KanaKey(bad, "case.child.kana"),
                InvalidField("case.child.kana"))
        << bad;
  }
  EXPECT_THAT(KanaKey("\xE3\x81", "kana"),
              StatusIs(kInvalid, HasSubstr("UTF-8")));
}

TEST(KanaKeyTest, RejectsEmptyAndOnlySpaces) {
  for (const char* blank : {"", " ", "   ", "　", "　 　"}) {
    EXPECT_THAT(KanaKey(blank, "search.kana"), InvalidField("search.kana"))
        << "[" << blank << "]";
  }
}

// ---- Lead -----------------------------------------------------------------

TEST(LeadTest, YoutaikyoRegisterDecidesTheLead) {
  EXPECT_EQ(LeadOf(true), v1::LEAD_CASE_WORKER);
  EXPECT_EQ(LeadOf(false), v1::LEAD_CONSULTATION_DESK);
}

TEST(LeadTest, LeadRoleIsTheWireNameOfARealRole) {
  EXPECT_EQ(LeadRole(v1::LEAD_CASE_WORKER), "case_worker");
  EXPECT_EQ(LeadRole(v1::LEAD_CONSULTATION_DESK), "consultation_desk");
  EXPECT_EQ(auth::ParseRole(std::string(LeadRole(v1::LEAD_CASE_WORKER))),
            Role::kCaseWorker);
  EXPECT_EQ(auth::ParseRole(std::string(LeadRole(v1::LEAD_CONSULTATION_DESK))),
            Role::kConsultationDesk);
}

// Free text (UTF-8, characters, blankness) is ValidateText's, tested in
// common/types/text_test.cc; each field's limit is tested with its message
// below.

// Only valid UTF-8 (RFC 3629): an overlong space is not taken for a space,
// nor an overlong kana for kana.
TEST(KanaKeyTest, RejectsOverlongForms) {
  EXPECT_THAT(KanaKey("たろう\xC0\xA0", "kana"), InvalidField("kana"));
  // An overlong (4-byte) encoding of ぁ U+3041.
  EXPECT_THAT(KanaKey("\xF0\x83\x81\x81", "kana"), InvalidField("kana"));
}

// ---- ValidateNewCase ------------------------------------------------------

v1::Case ValidCase() {
  v1::Case c;
  c.set_area_code("27127");
  c.set_source(v1::CASE_SOURCE_SCHOOL);
  c.set_source_detail("北小学校");
  *c.mutable_opened_date() = DateToProto(kToday - 3);
  v1::Child* child = c.mutable_child();
  child->set_name("山田 太郎");
  child->set_kana("やまだ たろう");
  *child->mutable_birth_date() = Date(2014, 5, 1);
  child->set_sex(v1::SEX_MALE);
  child->set_school_code("E1");
  child->set_grade(4);
  v1::Household* household = c.mutable_household();
  v1::Guardian* mother = household->add_guardians();
  mother->set_name("山田 花子");
  mother->set_kana("ヤマダ　ハナコ");
  mother->set_relationship("mother");
  mother->set_phone("06-0000-0000");
  household->set_address("大阪市北区1-1");
  household->set_note("祖母と同居");
  return c;
}

TEST(ValidateNewCaseTest, AcceptsAFullCase) {
  EXPECT_OK(ValidateNewCase(ValidCase(), kToday));
}

TEST(ValidateNewCaseTest, AcceptsTheOptionalPartsLeftOut) {
  v1::Case c = ValidCase();
  c.clear_source_detail();
  c.clear_household();
  c.mutable_child()->clear_sex();
  c.mutable_child()->clear_school_code();
  c.mutable_child()->clear_grade();
  EXPECT_OK(ValidateNewCase(c, kToday));
}

TEST(ValidateNewCaseTest, AcceptsTheBoundaries) {
  std::vector<std::function<void(v1::Case&)>> edits = {
      [](v1::Case& c) { *c.mutable_opened_date() = DateToProto(kToday); },
      [](v1::Case& c) {
        *c.mutable_child()->mutable_birth_date() = DateToProto(kToday);
      },
      [](v1::Case& c) {
        *c.mutable_child()->mutable_birth_date() =
            DateToProto(kToday - 365 * 25);
      },
      [](v1::Case& c) { c.mutable_child()->set_grade(0); },
      [](v1::Case& c) { c.mutable_child()->set_grade(9); },
      [](v1::Case& c) { c.mutable_child()->set_sex(v1::SEX_NOT_STATED); },
      [](v1::Case& c) {
        c.mutable_household()->mutable_guardians(0)->clear_kana();
      },
      [](v1::Case& c) { c.mutable_household()->set_note(Repeat("あ", 2000)); },
      [](v1::Case& c) {
        for (int i = 1; i < 10; ++i) {
          c.mutable_household()->add_guardians()->set_name("保護者");
        }
      },
      [](v1::Case& c) { c.set_source(v1::CASE_SOURCE_LOCAL_GROUP); },
      [](v1::Case& c) { c.set_source(v1::CASE_SOURCE_AGENCY); },
      [](v1::Case& c) { c.set_source(v1::CASE_SOURCE_OTHER); },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    v1::Case c = ValidCase();
    edits[i](c);
    EXPECT_OK(ValidateNewCase(c, kToday)) << "edit " << i;
  }
}

TEST(ValidateNewCaseTest, NamesTheFieldAtFault) {
  struct Fault {
    const char* field;
    std::function<void(v1::Case&)> edit;
  };
  const std::vector<Fault> faults = {
      {"case.area_code", [](v1::Case& c) { c.clear_area_code(); }},
      {"case.area_code",
       [](v1::Case& c) { c.set_area_code(std::string(21, '1')); }},
      {"case.source", [](v1::Case& c) { c.clear_source(); }},
      {"case.source",
       [](v1::Case& c) { c.set_source(static_cast<v1::CaseSource>(99)); }},
      {"case.source",
       [](v1::Case& c) { c.set_source(v1::CASE_SOURCE_SCREENING); }},
      {"case.source_detail",
       [](v1::Case& c) { c.set_source_detail(Repeat("あ", 201)); }},
      {"case.opened_date", [](v1::Case& c) { c.clear_opened_date(); }},
      {"case.opened_date",
       [](v1::Case& c) { *c.mutable_opened_date() = Date(2024, 2, 30); }},
      {"case.opened_date",
       [](v1::Case& c) { *c.mutable_opened_date() = DateToProto(kToday + 1); }},
      {"case.child.name", [](v1::Case& c) { c.clear_child(); }},
      {"case.child.name", [](v1::Case& c) { c.mutable_child()->clear_name(); }},
      {"case.child.name",
       [](v1::Case& c) { c.mutable_child()->set_name(Repeat("山", 101)); }},
      {"case.child.kana", [](v1::Case& c) { c.mutable_child()->clear_kana(); }},
      {"case.child.kana",
       [](v1::Case& c) { c.mutable_child()->set_kana("山田 太郎"); }},
      {"case.child.kana",
       [](v1::Case& c) { c.mutable_child()->set_kana("　"); }},
      {"case.child.birth_date",
       [](v1::Case& c) { c.mutable_child()->clear_birth_date(); }},
      {"case.child.birth_date",
       [](v1::Case& c) {
         *c.mutable_child()->mutable_birth_date() = Date(2015, 13, 1);
       }},
      {"case.child.birth_date",
       [](v1::Case& c) {
         *c.mutable_child()->mutable_birth_date() = DateToProto(kToday + 1);
       }},
      {"case.child.birth_date",
       [](v1::Case& c) {
         *c.mutable_child()->mutable_birth_date() =
             DateToProto(kToday - 365 * 25 - 1);
       }},
      {"case.child.grade",
       [](v1::Case& c) { c.mutable_child()->set_grade(-1); }},
      {"case.child.grade",
       [](v1::Case& c) { c.mutable_child()->set_grade(10); }},
      {"case.child.school_code",
       [](v1::Case& c) {
         c.mutable_child()->set_school_code(std::string(21, 'E'));
       }},
      {"case.child.sex",
       [](v1::Case& c) {
         c.mutable_child()->set_sex(static_cast<v1::Sex>(7));
       }},
      {"case.household.guardians[0].name",
       [](v1::Case& c) {
         c.mutable_household()->mutable_guardians(0)->clear_name();
       }},
      {"case.household.guardians[1].name",
       [](v1::Case& c) {
         c.mutable_household()->add_guardians()->set_kana("やまだ じろう");
       }},
      {"case.household.guardians[0].kana",
       [](v1::Case& c) {
         c.mutable_household()->mutable_guardians(0)->set_kana("Hanako");
       }},
      {"case.household.guardians[0].relationship",
       [](v1::Case& c) {
         c.mutable_household()->mutable_guardians(0)->set_relationship(
             Repeat("母", 51));
       }},
      {"case.household.guardians[0].phone",
       [](v1::Case& c) {
         c.mutable_household()->mutable_guardians(0)->set_phone(
             std::string(31, '0'));
       }},
      {"case.household.guardians",
       [](v1::Case& c) {
         for (int i = 1; i < 11; ++i) {
           c.mutable_household()->add_guardians()->set_name("保護者");
         }
       }},
      {"case.household.address",
       [](v1::Case& c) {
         c.mutable_household()->set_address(Repeat("町", 301));
       }},
      {"case.household.phone",
       [](v1::Case& c) {
         c.mutable_household()->set_phone(std::string(31, '0'));
       }},
      {"case.household.note",
       [](v1::Case& c) {
         c.mutable_household()->set_note(Repeat("あ", 2001));
       }},
      {"case.household.note",
       [](v1::Case& c) { c.mutable_household()->set_note("\xE3\x81"); }},
  };
  for (const Fault& fault : faults) {
    v1::Case c = ValidCase();
    fault.edit(c);
    EXPECT_THAT(ValidateNewCase(c, kToday), InvalidField(fault.field))
        << fault.field;
  }
}

TEST(ValidateNewCaseTest, ExplainsWhyScreeningCasesAreRefused) {
  v1::Case c = ValidCase();
  c.set_source(v1::CASE_SOURCE_SCREENING);
  EXPECT_THAT(ValidateNewCase(c, kToday),
              StatusIs(kInvalid, HasSubstr("screening")));
}

// ---- ValidateUpdateMask ---------------------------------------------------

TEST(ValidateUpdateMaskTest, RequiresAtLeastOnePath) {
  EXPECT_THAT(ValidateUpdateMask({}), InvalidField("update_mask"));
}

TEST(ValidateUpdateMaskTest, AcceptsTheDocumentedPaths) {
  const std::vector<std::string> all = {
      "child.name",   "child.kana",           "child.birth_date",
      "child.sex",    "child.school_code",    "child.grade",
      "household",    "youtaikyo_registered", "area_code",
      "source_detail"};
  EXPECT_OK(ValidateUpdateMask(all));
  for (const std::string& path : all) {
    EXPECT_OK(ValidateUpdateMask({path})) << path;
  }
  EXPECT_OK(ValidateUpdateMask({"household", "child.kana"}));
}

TEST(ValidateUpdateMaskTest, RejectsOtherPathsNamingThem) {
  for (const char* path :
       {"state", "name", "etag", "lead", "source", "opened_date", "child",
        "household.note", "assignees", "approach_status", "Child.name", ""}) {
    EXPECT_THAT(
        ValidateUpdateMask({"child.name", path}),
        StatusIs(kInvalid, AllOf(StartsWith("update_mask: "),
                                 HasSubstr(absl::StrCat("\"", path, "\"")))))
        << path;
  }
}

// ---- EffectiveDate --------------------------------------------------------

TEST(EffectiveDateTest, AcceptsTodayTheOpeningDayAndBetween) {
  const absl::CivilDay opened = kToday - 30;
  ASSERT_OK_AND_ASSIGN(
      const absl::CivilDay today,
      EffectiveDate(DateToProto(kToday), "effective_date", kToday, opened));
  EXPECT_EQ(today, kToday);
  ASSERT_OK_AND_ASSIGN(
      const absl::CivilDay first,
      EffectiveDate(DateToProto(opened), "effective_date", kToday, opened));
  EXPECT_EQ(first, opened);
  ASSERT_OK_AND_ASSIGN(const absl::CivilDay between,
                       EffectiveDate(DateToProto(opened + 10), "effective_date",
                                     kToday, opened));
  EXPECT_EQ(between, opened + 10);
  // A case opened today: today only.
  EXPECT_OK(EffectiveDate(DateToProto(kToday), "d", kToday, kToday));
}

TEST(EffectiveDateTest, RejectsAfterTodayNamingTheField) {
  EXPECT_THAT(EffectiveDate(DateToProto(kToday + 1), "contact.contact_date",
                            kToday, kToday - 30),
              StatusIs(kInvalid, AllOf(StartsWith("contact.contact_date: "),
                                       HasSubstr("after today"),
                                       HasSubstr("2024-06-10"))));
}

TEST(EffectiveDateTest, RejectsBeforeTheCaseOpenedNamingTheField) {
  const absl::CivilDay opened(2024, 4, 1);
  EXPECT_THAT(
      EffectiveDate(DateToProto(opened - 1), "effective_date", kToday, opened),
      StatusIs(kInvalid, AllOf(StartsWith("effective_date: "),
                               HasSubstr("before the case opened"),
                               HasSubstr("2024-04-01"))));
}

TEST(EffectiveDateTest, RejectsInvalidDatesNamingTheField) {
  for (const kosapo::type::Date& bad :
       {kosapo::type::Date(), Date(2024, 2, 30), Date(2023, 2, 29),
        Date(2024, 0, 1), Date(2024, 6, 0)}) {
    EXPECT_THAT(EffectiveDate(bad, "plan.plan_date", kToday,
                              absl::CivilDay(1970, 1, 1)),
                InvalidField("plan.plan_date"))
        << bad.ShortDebugString();
  }
}

// ---- Conference, assessment, plan, contact, urgent report -----------------

v1::Conference ValidConference() {
  v1::Conference conference;
  conference.set_kind(v1::CONFERENCE_KIND_SCREENING_MEETING_II);
  *conference.mutable_conference_date() = DateToProto(kToday);
  v1::ConferenceAttendee* ssw = conference.add_attendees();
  ssw->set_role("ssw");
  ssw->set_count(1);
  v1::ConferenceAttendee* teachers = conference.add_attendees();
  teachers->set_role("teacher");
  teachers->set_count(3);
  conference.set_assessment("登校が不安定");
  conference.set_support_policy("家庭訪問を続ける");
  v1::Assignee* worker = conference.add_persons_in_charge();
  worker->set_subject("u-cw-1");
  worker->set_role("case_worker");
  v1::Assignee* ssw_person = conference.add_persons_in_charge();
  ssw_person->set_subject("u-ssw-1");
  ssw_person->set_role("ssw");
  return conference;
}

TEST(ValidateConferenceTest, AcceptsAValidConference) {
  EXPECT_OK(ValidateConference(ValidConference()));
  v1::Conference individual = ValidConference();
  individual.set_kind(v1::CONFERENCE_KIND_INDIVIDUAL_CASE_CONFERENCE);
  individual.clear_persons_in_charge();
  individual.clear_assessment();
  individual.clear_support_policy();
  EXPECT_OK(ValidateConference(individual));
}

TEST(ValidateConferenceTest, AcceptsEveryAssigneeRoleAndCountBounds) {
  v1::Conference conference = ValidConference();
  conference.clear_persons_in_charge();
  int n = 0;
  for (const char* role : {"case_worker", "consultation_desk", "ssw",
                           "support_promoter", "ward_officer"}) {
    v1::Assignee* person = conference.add_persons_in_charge();
    person->set_subject(absl::StrCat("u-", ++n));
    person->set_role(role);
  }
  conference.mutable_attendees(0)->set_count(100);
  conference.set_assessment(Repeat("あ", 4000));
  conference.set_support_policy(Repeat("あ", 4000));
  EXPECT_OK(ValidateConference(conference));
}

TEST(ValidateConferenceTest, NamesTheFieldAtFault) {
  struct Fault {
    const char* field;
    std::function<void(v1::Conference&)> edit;
  };
  const std::vector<Fault> faults = {
      {"conference.kind", [](v1::Conference& c) { c.clear_kind(); }},
      {"conference.kind",
       [](v1::Conference& c) {
         c.set_kind(static_cast<v1::ConferenceKind>(9));
       }},
      {"conference.attendees", [](v1::Conference& c) { c.clear_attendees(); }},
      {"conference.attendees[1].role",
       [](v1::Conference& c) { c.mutable_attendees(1)->clear_role(); }},
      {"conference.attendees[0].count",
       [](v1::Conference& c) { c.mutable_attendees(0)->set_count(0); }},
      {"conference.attendees[0].count",
       [](v1::Conference& c) { c.mutable_attendees(0)->set_count(-1); }},
      {"conference.attendees[1].count",
       [](v1::Conference& c) { c.mutable_attendees(1)->set_count(101); }},
      {"conference.assessment",
       [](v1::Conference& c) { c.set_assessment(Repeat("あ", 4001)); }},
      {"conference.support_policy",
       [](v1::Conference& c) { c.set_support_policy(Repeat("あ", 4001)); }},
      {"conference.persons_in_charge[0].subject",
       [](v1::Conference& c) {
         c.mutable_persons_in_charge(0)->clear_subject();
       }},
      {"conference.persons_in_charge[1].role",
       [](v1::Conference& c) {
         c.mutable_persons_in_charge(1)->set_role("hub_operator");
       }},
      {"conference.persons_in_charge[1].role",
       [](v1::Conference& c) {
         c.mutable_persons_in_charge(1)->set_role("school_staff");
       }},
      {"conference.persons_in_charge[0].role",
       [](v1::Conference& c) { c.mutable_persons_in_charge(0)->clear_role(); }},
      {"conference.persons_in_charge[0].role",
       [](v1::Conference& c) {
         c.mutable_persons_in_charge(0)->set_role("Case_Worker");
       }},
      {"conference.persons_in_charge[1].subject",
       [](v1::Conference& c) {
         c.mutable_persons_in_charge(1)->set_subject("u-cw-1");
       }},
  };
  for (const Fault& fault : faults) {
    v1::Conference conference = ValidConference();
    fault.edit(conference);
    EXPECT_THAT(ValidateConference(conference), InvalidField(fault.field))
        << fault.field;
  }
}

TEST(ValidateConferenceTest, SaysWhenAPersonIsNamedTwice) {
  v1::Conference conference = ValidConference();
  conference.mutable_persons_in_charge(1)->set_subject("u-cw-1");
  EXPECT_THAT(ValidateConference(conference),
              StatusIs(kInvalid, HasSubstr("twice")));
}

v1::Assessment ValidAssessment() {
  v1::Assessment assessment;
  *assessment.mutable_assessed_date() = DateToProto(kToday);
  v1::Need* economic = assessment.add_needs();
  economic->set_domain(v1::NEED_DOMAIN_ECONOMIC);
  economic->set_level(v1::NEED_LEVEL_HIGH);
  economic->set_note("就学援助の申請前");
  v1::Need* caregiving = assessment.add_needs();
  caregiving->set_domain(v1::NEED_DOMAIN_CAREGIVING);
  caregiving->set_level(v1::NEED_LEVEL_NONE);
  return assessment;
}

TEST(ValidateAssessmentTest, AcceptsAValidAssessment) {
  EXPECT_OK(ValidateAssessment(ValidAssessment()));
  v1::Assessment every;
  for (int domain = v1::NeedDomain_MIN + 1; domain <= v1::NeedDomain_MAX;
       ++domain) {
    v1::Need* need = every.add_needs();
    need->set_domain(static_cast<v1::NeedDomain>(domain));
    need->set_level(v1::NEED_LEVEL_LOW);
    need->set_note(Repeat("あ", 1000));
  }
  EXPECT_OK(ValidateAssessment(every));
}

TEST(ValidateAssessmentTest, NamesTheFieldAtFault) {
  struct Fault {
    const char* field;
    std::function<void(v1::Assessment&)> edit;
  };
  const std::vector<Fault> faults = {
      {"assessment.needs", [](v1::Assessment& a) { a.clear_needs(); }},
      {"assessment.needs[0].domain",
       [](v1::Assessment& a) { a.mutable_needs(0)->clear_domain(); }},
      {"assessment.needs[1].domain",
       [](v1::Assessment& a) {
         a.mutable_needs(1)->set_domain(static_cast<v1::NeedDomain>(42));
       }},
      {"assessment.needs[1].domain",
       [](v1::Assessment& a) {
         a.mutable_needs(1)->set_domain(v1::NEED_DOMAIN_ECONOMIC);
       }},
      {"assessment.needs[0].level",
       [](v1::Assessment& a) { a.mutable_needs(0)->clear_level(); }},
      {"assessment.needs[1].level",
       [](v1::Assessment& a) {
         a.mutable_needs(1)->set_level(static_cast<v1::NeedLevel>(5));
       }},
      {"assessment.needs[0].note",
       [](v1::Assessment& a) {
         a.mutable_needs(0)->set_note(Repeat("あ", 1001));
       }},
  };
  for (const Fault& fault : faults) {
    v1::Assessment assessment = ValidAssessment();
    fault.edit(assessment);
    EXPECT_THAT(ValidateAssessment(assessment), InvalidField(fault.field))
        << fault.field;
  }
}

TEST(ValidateAssessmentTest, SaysWhenADomainIsAssessedTwice) {
  v1::Assessment assessment = ValidAssessment();
  v1::Need* again = assessment.add_needs();
  again->set_domain(v1::NEED_DOMAIN_CAREGIVING);
  again->set_level(v1::NEED_LEVEL_HIGH);
  EXPECT_THAT(ValidateAssessment(assessment),
              StatusIs(kInvalid, AllOf(StartsWith("assessment.needs[2].domain"),
                                       HasSubstr("twice"))));
}

v1::SupportPlan ValidPlan() {
  v1::SupportPlan plan;
  *plan.mutable_plan_date() = DateToProto(kToday);
  *plan.mutable_review_date() = DateToProto(kToday + 90);
  plan.add_goals("週3日の登校");
  plan.add_goals("保護者の通院の再開");
  v1::PlannedSupport* support = plan.add_supports();
  support->set_description("学習支援");
  support->set_provider("子ども食堂");
  support->set_frequency("weekly");
  plan.set_child_wishes_heard(true);
  return plan;
}

TEST(ValidateSupportPlanTest, AcceptsAValidPlan) {
  EXPECT_OK(ValidateSupportPlan(ValidPlan()));
  v1::SupportPlan same_day = ValidPlan();
  *same_day.mutable_review_date() = DateToProto(kToday);
  same_day.clear_supports();
  EXPECT_OK(ValidateSupportPlan(same_day));
  v1::SupportPlan most = ValidPlan();
  most.clear_goals();
  for (int i = 0; i < 20; ++i) {
    most.add_goals(Repeat("目", 500));
  }
  for (int i = 1; i < 50; ++i) {
    most.add_supports()->set_description(Repeat("支", 500));
  }
  EXPECT_OK(ValidateSupportPlan(most));
}

TEST(ValidateSupportPlanTest, NamesTheFieldAtFault) {
  struct Fault {
    const char* field;
    std::function<void(v1::SupportPlan&)> edit;
  };
  const std::vector<Fault> faults = {
      {"plan.goals", [](v1::SupportPlan& p) { p.clear_goals(); }},
      {"plan.goals",
       [](v1::SupportPlan& p) {
         for (int i = 0; i < 19; ++i) {
           p.add_goals("goal");
         }
       }},
      {"plan.goals[1]", [](v1::SupportPlan& p) { p.set_goals(1, ""); }},
      {"plan.goals[0]",
       [](v1::SupportPlan& p) { p.set_goals(0, Repeat("目", 501)); }},
      {"plan.supports",
       [](v1::SupportPlan& p) {
         for (int i = 0; i < 50; ++i) {
           p.add_supports()->set_description("support");
         }
       }},
      {"plan.supports[0].description",
       [](v1::SupportPlan& p) { p.mutable_supports(0)->clear_description(); }},
      {"plan.supports[0].provider",
       [](v1::SupportPlan& p) {
         p.mutable_supports(0)->set_provider(Repeat("あ", 201));
       }},
      {"plan.supports[0].frequency",
       [](v1::SupportPlan& p) {
         p.mutable_supports(0)->set_frequency(std::string(101, 'w'));
       }},
      {"plan.plan_date", [](v1::SupportPlan& p) { p.clear_plan_date(); }},
      {"plan.review_date", [](v1::SupportPlan& p) { p.clear_review_date(); }},
      {"plan.review_date",
       [](v1::SupportPlan& p) {
         *p.mutable_review_date() = DateToProto(kToday - 1);
       }},
  };
  for (const Fault& fault : faults) {
    v1::SupportPlan plan = ValidPlan();
    fault.edit(plan);
    EXPECT_THAT(ValidateSupportPlan(plan), InvalidField(fault.field))
        << fault.field;
  }
}

TEST(ValidateSupportPlanTest, ReviewBeforeThePlanDateIsExplained) {
  v1::SupportPlan plan = ValidPlan();
  *plan.mutable_review_date() = DateToProto(kToday - 1);
  EXPECT_THAT(ValidateSupportPlan(plan),
              StatusIs(kInvalid, HasSubstr("plan.plan_date")));
}

TEST(ValidateContactTest, NeedsAKindAndASummary) {
  v1::Contact contact;
  contact.set_kind(v1::CONTACT_KIND_HOME_VISIT);
  *contact.mutable_contact_date() = DateToProto(kToday);
  contact.set_summary("母親と面談");
  EXPECT_OK(ValidateContact(contact));
  contact.set_summary(Repeat("あ", 1000));
  EXPECT_OK(ValidateContact(contact));

  v1::Contact no_kind = contact;
  no_kind.clear_kind();
  EXPECT_THAT(ValidateContact(no_kind), InvalidField("contact.kind"));
  no_kind.set_kind(static_cast<v1::ContactKind>(6));
  EXPECT_THAT(ValidateContact(no_kind), InvalidField("contact.kind"));

  v1::Contact no_summary = contact;
  no_summary.clear_summary();
  EXPECT_THAT(ValidateContact(no_summary), InvalidField("contact.summary"));
  v1::Contact long_summary = contact;
  long_summary.set_summary(Repeat("あ", 1001));
  EXPECT_THAT(ValidateContact(long_summary), InvalidField("contact.summary"));
}

TEST(ValidateUrgentReportTest, NeedsACategoryAndADescription) {
  v1::UrgentReport report;
  report.set_category(v1::URGENT_CATEGORY_SIGNS_OF_ABUSE);
  report.set_description(Repeat("あ", 2000));
  EXPECT_OK(ValidateUrgentReport(report));

  v1::UrgentReport no_category = report;
  no_category.clear_category();
  EXPECT_THAT(ValidateUrgentReport(no_category),
              InvalidField("report.category"));
  no_category.set_category(static_cast<v1::UrgentCategory>(5));
  EXPECT_THAT(ValidateUrgentReport(no_category),
              InvalidField("report.category"));

  v1::UrgentReport no_description = report;
  no_description.clear_description();
  EXPECT_THAT(ValidateUrgentReport(no_description),
              InvalidField("report.description"));
  v1::UrgentReport long_description = report;
  long_description.set_description(Repeat("あ", 2001));
  EXPECT_THAT(ValidateUrgentReport(long_description),
              InvalidField("report.description"));
}

// ---- Access ---------------------------------------------------------------

constexpr char kCity[] = "27100";
constexpr char kOtherCity[] = "27200";
constexpr char kArea[] = "27127";
constexpr char kOtherArea[] = "27128";

CaseScope Scope() {
  CaseScope scope;
  scope.municipality = kCity;
  scope.area_code = kArea;
  scope.school_code = "E1";
  scope.assignees = {"u-cw-1", "u-cd-1", "u-ssw-9"};
  scope.hubs = {"H1", "H2"};
  return scope;
}

Principal Staff(Role role, std::string subject = "u-1") {
  Principal principal;
  principal.subject = std::move(subject);
  principal.role = role;
  principal.municipality = kCity;
  return principal;
}

const Role kAreaRoles[] = {Role::kWardOfficer, Role::kSsw,
                           Role::kSupportPromoter};

TEST(AccessToTest, AreaStaffSeeTheCasesOfTheirAreas) {
  for (Role role : kAreaRoles) {
    SCOPED_TRACE(auth::RoleName(role));
    Principal principal = Staff(role);
    principal.areas = {kOtherArea, kArea};
    EXPECT_EQ(AccessTo(principal, Scope()), Access::kFull);

    principal.areas = {kOtherArea};
    EXPECT_EQ(AccessTo(principal, Scope()), Access::kNone);
    principal.areas = {};
    EXPECT_EQ(AccessTo(principal, Scope()), Access::kNone);

    // Same area code, another municipality.
    principal.areas = {kArea};
    principal.municipality = kOtherCity;
    EXPECT_EQ(AccessTo(principal, Scope()), Access::kNone);
  }
}

TEST(AccessToTest, CaseWorkersAndTheDeskSeeOnlyTheCasesAssignedToThem) {
  for (const auto& [role, subject] :
       {std::make_pair(Role::kCaseWorker, "u-cw-1"),
        std::make_pair(Role::kConsultationDesk, "u-cd-1")}) {
    SCOPED_TRACE(auth::RoleName(role));
    Principal assigned = Staff(role, subject);
    EXPECT_EQ(AccessTo(assigned, Scope()), Access::kFull);

    // The area alone gives them nothing.
    Principal in_area = Staff(role, "u-other");
    in_area.areas = {kArea};
    EXPECT_EQ(AccessTo(in_area, Scope()), Access::kNone);

    Principal elsewhere = Staff(role, subject);
    elsewhere.municipality = kOtherCity;
    EXPECT_EQ(AccessTo(elsewhere, Scope()), Access::kNone);

    CaseScope unassigned = Scope();
    unassigned.assignees.clear();
    EXPECT_EQ(AccessTo(assigned, unassigned), Access::kNone);
  }
}

TEST(AccessToTest, HubOperatorsSeeTheChildOfTheirHubsCases) {
  Principal op = Staff(Role::kHubOperator);
  op.hubs = {"H9", "H2"};
  EXPECT_EQ(AccessTo(op, Scope()), Access::kChild);

  op.hubs = {"H9"};
  EXPECT_EQ(AccessTo(op, Scope()), Access::kNone);
  op.hubs = {};
  EXPECT_EQ(AccessTo(op, Scope()), Access::kNone);

  CaseScope no_hubs = Scope();
  no_hubs.hubs.clear();
  op.hubs = {"H1"};
  EXPECT_EQ(AccessTo(op, no_hubs), Access::kNone);

  op.municipality = kOtherCity;
  EXPECT_EQ(AccessTo(op, Scope()), Access::kNone);

  // Never more than the child, even when in the area or named as assignee.
  Principal assigned = Staff(Role::kHubOperator, "u-cw-1");
  assigned.areas = {kArea};
  assigned.hubs = {"H1"};
  EXPECT_EQ(AccessTo(assigned, Scope()), Access::kChild);
}

TEST(AccessToTest, OtherRolesSeeNothing) {
  for (Role role : {Role::kSchoolStaff, Role::kSchoolManager, Role::kAnalyst,
                    Role::kCityOperations}) {
    SCOPED_TRACE(auth::RoleName(role));
    // Everything in the scope matches, and still nothing.
    Principal principal = Staff(role, "u-cw-1");
    principal.areas = {kArea};
    principal.schools = {"E1"};
    principal.hubs = {"H1"};
    EXPECT_EQ(AccessTo(principal, Scope()), Access::kNone);
  }
}

TEST(AccessToTest, RoleGroups) {
  for (Role role : auth::kAllRoles) {
    SCOPED_TRACE(auth::RoleName(role));
    const bool area = role == Role::kWardOfficer || role == Role::kSsw ||
                      role == Role::kSupportPromoter;
    EXPECT_EQ(IsAreaStaff(role), area);
    EXPECT_EQ(MayOpenCases(role), area || role == Role::kCaseWorker ||
                                      role == Role::kConsultationDesk);
  }
}

TEST(AccessToTest, InAreas) {
  Principal principal = Staff(Role::kSsw);
  EXPECT_FALSE(InAreas(principal, kArea));
  principal.areas = {kOtherArea, kArea};
  EXPECT_TRUE(InAreas(principal, kArea));
  EXPECT_FALSE(InAreas(principal, "2712"));
  EXPECT_FALSE(InAreas(principal, ""));
}

TEST(MayRaiseUrgentReportTest, SchoolsOfTheChild) {
  for (Role role : {Role::kSchoolStaff, Role::kSchoolManager}) {
    SCOPED_TRACE(auth::RoleName(role));
    Principal principal = Staff(role);
    principal.schools = {"E1"};
    EXPECT_TRUE(MayRaiseUrgentReport(principal, Scope()));

    principal.schools = {"E2"};
    EXPECT_FALSE(MayRaiseUrgentReport(principal, Scope()));

    principal.schools = {"E1"};
    principal.municipality = kOtherCity;
    EXPECT_FALSE(MayRaiseUrgentReport(principal, Scope()));

    // A child not at school: no school may raise a report.
    CaseScope no_school = Scope();
    no_school.school_code.clear();
    Principal blank = Staff(role);
    blank.schools = {""};
    EXPECT_FALSE(MayRaiseUrgentReport(blank, no_school));
  }
}

TEST(MayRaiseUrgentReportTest, HubOperatorsOfTheChildsHub) {
  Principal op = Staff(Role::kHubOperator);
  op.hubs = {"H1"};
  EXPECT_TRUE(MayRaiseUrgentReport(op, Scope()));
  op.hubs = {"H3"};
  EXPECT_FALSE(MayRaiseUrgentReport(op, Scope()));
}

TEST(MayRaiseUrgentReportTest, StaffWithFullAccessAndNobodyElse) {
  Principal officer = Staff(Role::kWardOfficer);
  officer.areas = {kArea};
  EXPECT_TRUE(MayRaiseUrgentReport(officer, Scope()));
  officer.areas = {kOtherArea};
  EXPECT_FALSE(MayRaiseUrgentReport(officer, Scope()));

  EXPECT_TRUE(
      MayRaiseUrgentReport(Staff(Role::kCaseWorker, "u-cw-1"), Scope()));
  EXPECT_FALSE(
      MayRaiseUrgentReport(Staff(Role::kCaseWorker, "u-cw-2"), Scope()));

  Principal analyst = Staff(Role::kAnalyst);
  analyst.areas = {kArea};
  analyst.schools = {"E1"};
  EXPECT_FALSE(MayRaiseUrgentReport(analyst, Scope()));
}

// ---- Approach history -----------------------------------------------------

ApproachEntry Approach(
    v1::ApproachStatus status, absl::CivilDay effective, absl::Time recorded,
    v1::NotPossibleReason reason = v1::NOT_POSSIBLE_REASON_UNSPECIFIED) {
  ApproachEntry entry;
  entry.status = status;
  entry.reason = reason;
  entry.effective_date = effective;
  entry.record_time = recorded;
  return entry;
}

// Every order of `entries`.
std::vector<std::vector<ApproachEntry>> Orders(
    const std::vector<ApproachEntry>& entries) {
  std::vector<size_t> index(entries.size());
  for (size_t i = 0; i < index.size(); ++i) {
    index[i] = i;
  }
  std::vector<std::vector<ApproachEntry>> orders;
  do {
    std::vector<ApproachEntry> order;
    for (size_t i : index) {
      order.push_back(entries[i]);
    }
    orders.push_back(std::move(order));
  } while (std::next_permutation(index.begin(), index.end()));
  return orders;
}

// The status in force, or UNSPECIFIED when none is.
v1::ApproachStatus StatusAsOf(const std::vector<ApproachEntry>& history,
                              absl::CivilDay day,
                              absl::Time known_at = absl::InfiniteFuture()) {
  const ApproachEntry* entry = ApproachAsOf(history, day, known_at);
  return entry == nullptr ? v1::APPROACH_STATUS_UNSPECIFIED : entry->status;
}

constexpr absl::CivilDay kApril(2024, 4, 1);
constexpr absl::CivilDay kMay(2024, 5, 1);
constexpr absl::CivilDay kJune(2024, 6, 1);

// In preparation from 1 April, outreach done from 1 May, not possible
// (refused) from 1 June, each recorded on its day.
std::vector<ApproachEntry> History() {
  return {Approach(v1::APPROACH_STATUS_IN_PREPARATION, kApril, At(kApril)),
          Approach(v1::APPROACH_STATUS_OUTREACH_DONE, kMay, At(kMay)),
          Approach(v1::APPROACH_STATUS_NOT_POSSIBLE, kJune, At(kJune),
                   v1::NOT_POSSIBLE_REASON_REFUSED)};
}

TEST(ApproachAsOfTest, NullWithoutHistoryOrBeforeTheFirstEntry) {
  EXPECT_EQ(ApproachAsOf({}, kToday, absl::InfiniteFuture()), nullptr);
  for (const auto& history : Orders(History())) {
    EXPECT_EQ(ApproachAsOf(history, kApril - 1, absl::InfiniteFuture()),
              nullptr);
  }
}

TEST(ApproachAsOfTest, LatestEffectiveDateNotAfterTheDayInAnyOrder) {
  for (const auto& history : Orders(History())) {
    EXPECT_EQ(StatusAsOf(history, kApril), v1::APPROACH_STATUS_IN_PREPARATION);
    EXPECT_EQ(StatusAsOf(history, kMay - 1),
              v1::APPROACH_STATUS_IN_PREPARATION);
    EXPECT_EQ(StatusAsOf(history, kMay), v1::APPROACH_STATUS_OUTREACH_DONE);
    EXPECT_EQ(StatusAsOf(history, kJune - 1),
              v1::APPROACH_STATUS_OUTREACH_DONE);
    EXPECT_EQ(StatusAsOf(history, kJune), v1::APPROACH_STATUS_NOT_POSSIBLE);
    EXPECT_EQ(StatusAsOf(history, kToday + 365),
              v1::APPROACH_STATUS_NOT_POSSIBLE);
  }
}

TEST(ApproachAsOfTest, PointsIntoTheHistoryGiven) {
  std::vector<ApproachEntry> history = History();
  std::reverse(history.begin(), history.end());
  const ApproachEntry* entry =
      ApproachAsOf(history, kJune, absl::InfiniteFuture());
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry, &history[0]);
  EXPECT_EQ(entry->reason, v1::NOT_POSSIBLE_REASON_REFUSED);
}

TEST(ApproachAsOfTest, TheLaterRecordWinsATie) {
  const std::vector<ApproachEntry> tie = {
      Approach(v1::APPROACH_STATUS_IN_PREPARATION, kApril, At(kApril)),
      Approach(v1::APPROACH_STATUS_OUTREACH_DONE, kMay, At(kMay, 9)),
      Approach(v1::APPROACH_STATUS_NOT_POSSIBLE, kMay, At(kMay, 15),
               v1::NOT_POSSIBLE_REASON_UNREACHABLE),
  };
  for (const auto& history : Orders(tie)) {
    const ApproachEntry* now =
        ApproachAsOf(history, kMay, absl::InfiniteFuture());
    ASSERT_NE(now, nullptr);
    EXPECT_EQ(now->status, v1::APPROACH_STATUS_NOT_POSSIBLE);
    EXPECT_EQ(now->reason, v1::NOT_POSSIBLE_REASON_UNREACHABLE);
    // Between the two records, the first was all that was known.
    EXPECT_EQ(StatusAsOf(history, kMay, At(kMay, 12)),
              v1::APPROACH_STATUS_OUTREACH_DONE);
  }
}

TEST(ApproachAsOfTest, KnownAtExcludesLaterRecords) {
  // Outreach done on 1 May, but recorded only on 10 June (a backdated
  // correction).
  const std::vector<ApproachEntry> corrected = {
      Approach(v1::APPROACH_STATUS_IN_PREPARATION, kApril, At(kApril)),
      Approach(v1::APPROACH_STATUS_OUTREACH_DONE, kMay, At(kToday)),
  };
  for (const auto& history : Orders(corrected)) {
    const absl::CivilDay mid_may = kMay + 14;
    // A report run on 1 June saw "in preparation" for mid-May ...
    EXPECT_EQ(StatusAsOf(history, mid_may, At(kJune)),
              v1::APPROACH_STATUS_IN_PREPARATION);
    EXPECT_EQ(StatusAsOf(history, mid_may, At(kToday) - absl::Seconds(1)),
              v1::APPROACH_STATUS_IN_PREPARATION);
    // ... and is reproduced as such; from the record on, the correction
    // counts (the record instant itself included).
    EXPECT_EQ(StatusAsOf(history, mid_may, At(kToday)),
              v1::APPROACH_STATUS_OUTREACH_DONE);
    EXPECT_EQ(StatusAsOf(history, mid_may), v1::APPROACH_STATUS_OUTREACH_DONE);
    // Before anything was recorded, nothing was known.
    EXPECT_EQ(ApproachAsOf(history, mid_may, At(kApril) - absl::Hours(1)),
              nullptr);
  }
}

TEST(ApproachAsOfTest, AnUnknownLaterRecordDoesNotHideAnEarlierOne) {
  // A status effective 20 May but recorded after `known_at`: the 1 May entry
  // stays in force as known then.
  const std::vector<ApproachEntry> entries = {
      Approach(v1::APPROACH_STATUS_IN_PREPARATION, kApril, At(kApril)),
      Approach(v1::APPROACH_STATUS_OUTREACH_DONE, kMay, At(kMay)),
      Approach(v1::APPROACH_STATUS_NOT_POSSIBLE, kMay + 19, At(kToday),
               v1::NOT_POSSIBLE_REASON_MOVED),
  };
  for (const auto& history : Orders(entries)) {
    EXPECT_EQ(StatusAsOf(history, kJune, At(kJune)),
              v1::APPROACH_STATUS_OUTREACH_DONE);
    EXPECT_EQ(StatusAsOf(history, kJune), v1::APPROACH_STATUS_NOT_POSSIBLE);
  }
}

TEST(CheckApproachChangeTest, StatusIsRequired) {
  EXPECT_THAT(CheckApproachChange(History(), v1::APPROACH_STATUS_UNSPECIFIED,
                                  v1::NOT_POSSIBLE_REASON_UNSPECIFIED, kToday),
              InvalidField("status"));
  EXPECT_THAT(CheckApproachChange(History(), static_cast<v1::ApproachStatus>(4),
                                  v1::NOT_POSSIBLE_REASON_UNSPECIFIED, kToday),
              InvalidField("status"));
}

TEST(CheckApproachChangeTest, ReasonComesWithNotPossibleOnly) {
  EXPECT_THAT(CheckApproachChange({}, v1::APPROACH_STATUS_NOT_POSSIBLE,
                                  v1::NOT_POSSIBLE_REASON_UNSPECIFIED, kToday),
              InvalidField("reason"));
  EXPECT_THAT(CheckApproachChange({}, v1::APPROACH_STATUS_OUTREACH_DONE,
                                  v1::NOT_POSSIBLE_REASON_REFUSED, kToday),
              InvalidField("reason"));
  EXPECT_THAT(CheckApproachChange({}, v1::APPROACH_STATUS_IN_PREPARATION,
                                  v1::NOT_POSSIBLE_REASON_MOVED, kToday),
              InvalidField("reason"));
  EXPECT_THAT(
      CheckApproachChange({}, v1::APPROACH_STATUS_NOT_POSSIBLE,
                          static_cast<v1::NotPossibleReason>(9), kToday),
      InvalidField("reason"));
  for (v1::NotPossibleReason reason :
       {v1::NOT_POSSIBLE_REASON_REFUSED, v1::NOT_POSSIBLE_REASON_UNREACHABLE,
        v1::NOT_POSSIBLE_REASON_MOVED}) {
    EXPECT_OK(CheckApproachChange({}, v1::APPROACH_STATUS_NOT_POSSIBLE, reason,
                                  kToday));
  }
}

TEST(CheckApproachChangeTest, RejectsWhatIsAlreadyInForceOnThatDate) {
  for (const auto& history : Orders(History())) {
    EXPECT_THAT(
        CheckApproachChange(history, v1::APPROACH_STATUS_OUTREACH_DONE,
                            v1::NOT_POSSIBLE_REASON_UNSPECIFIED, kMay + 10),
        StatusIs(kInvalid,
                 AllOf(StartsWith("status: "), HasSubstr("already"),
                       HasSubstr("outreach_done"), HasSubstr("2024-05-11"))));
    EXPECT_THAT(
        CheckApproachChange(history, v1::APPROACH_STATUS_IN_PREPARATION,
                            v1::NOT_POSSIBLE_REASON_UNSPECIFIED, kApril),
        StatusIs(kInvalid, HasSubstr("already")));
    EXPECT_THAT(CheckApproachChange(history, v1::APPROACH_STATUS_NOT_POSSIBLE,
                                    v1::NOT_POSSIBLE_REASON_REFUSED, kToday),
                StatusIs(kInvalid, HasSubstr("already")));
  }
}

TEST(CheckApproachChangeTest, AcceptsADifferentReason) {
  EXPECT_OK(CheckApproachChange(History(), v1::APPROACH_STATUS_NOT_POSSIBLE,
                                v1::NOT_POSSIBLE_REASON_UNREACHABLE, kToday));
  EXPECT_OK(CheckApproachChange(History(), v1::APPROACH_STATUS_NOT_POSSIBLE,
                                v1::NOT_POSSIBLE_REASON_MOVED, kJune));
}

TEST(CheckApproachChangeTest, AnyDirectionIsAllowed) {
  for (const auto& history : Orders(History())) {
    // Done -> in preparation.
    EXPECT_OK(CheckApproachChange(history, v1::APPROACH_STATUS_IN_PREPARATION,
                                  v1::NOT_POSSIBLE_REASON_UNSPECIFIED,
                                  kMay + 10));
    // Not possible -> in preparation, and -> done.
    EXPECT_OK(CheckApproachChange(history, v1::APPROACH_STATUS_IN_PREPARATION,
                                  v1::NOT_POSSIBLE_REASON_UNSPECIFIED, kToday));
    EXPECT_OK(CheckApproachChange(history, v1::APPROACH_STATUS_OUTREACH_DONE,
                                  v1::NOT_POSSIBLE_REASON_UNSPECIFIED, kToday));
    // Done -> not possible.
    EXPECT_OK(CheckApproachChange(history, v1::APPROACH_STATUS_NOT_POSSIBLE,
                                  v1::NOT_POSSIBLE_REASON_MOVED, kMay + 1));
    // In preparation -> done earlier than it was recorded.
    EXPECT_OK(CheckApproachChange(history, v1::APPROACH_STATUS_OUTREACH_DONE,
                                  v1::NOT_POSSIBLE_REASON_UNSPECIFIED,
                                  kApril + 20));
  }
}

TEST(CheckApproachChangeTest, ComparesWithEverythingRecordedSoFar) {
  // The backdated correction counts, although recorded after the day.
  const std::vector<ApproachEntry> history = {
      Approach(v1::APPROACH_STATUS_IN_PREPARATION, kApril, At(kApril)),
      Approach(v1::APPROACH_STATUS_OUTREACH_DONE, kMay, At(kToday)),
  };
  EXPECT_THAT(CheckApproachChange(history, v1::APPROACH_STATUS_OUTREACH_DONE,
                                  v1::NOT_POSSIBLE_REASON_UNSPECIFIED, kJune),
              StatusIs(kInvalid, HasSubstr("already")));
  // Before the first entry nothing is in force.
  EXPECT_OK(CheckApproachChange(history, v1::APPROACH_STATUS_IN_PREPARATION,
                                v1::NOT_POSSIBLE_REASON_UNSPECIFIED,
                                kApril - 1));
}

// ---- Outcomes -------------------------------------------------------------

OutcomeEntry Closed(v1::Outcome outcome, absl::CivilDay effective,
                    absl::Time recorded) {
  OutcomeEntry entry;
  entry.outcome = outcome;
  entry.effective_date = effective;
  entry.record_time = recorded;
  return entry;
}

OutcomeEntry Reopened(absl::CivilDay effective, absl::Time recorded) {
  return Closed(v1::OUTCOME_UNSPECIFIED, effective, recorded);
}

// In preparation from 1 April, outreach done from 1 May.
std::vector<ApproachEntry> Reached() {
  return {Approach(v1::APPROACH_STATUS_IN_PREPARATION, kApril, At(kApril)),
          Approach(v1::APPROACH_STATUS_OUTREACH_DONE, kMay, At(kMay))};
}

const v1::Outcome kOtherOutcomes[] = {
    v1::OUTCOME_MOVED_AWAY, v1::OUTCOME_GRADUATED,
    v1::OUTCOME_HANDED_TO_CHILD_CONSULTATION_CENTRE, v1::OUTCOME_OTHER};

TEST(CheckOutcomeTest, OutcomeIsRequired) {
  EXPECT_THAT(CheckOutcome({}, Reached(), v1::OUTCOME_UNSPECIFIED, kToday),
              InvalidField("outcome"));
  EXPECT_THAT(CheckOutcome({}, Reached(), static_cast<v1::Outcome>(6), kToday),
              InvalidField("outcome"));
}

TEST(CheckOutcomeTest, ImprovedResolvedNeedsTheOutreachDoneAsOfTheDate) {
  EXPECT_OK(CheckOutcome({}, Reached(), v1::OUTCOME_IMPROVED_RESOLVED, kMay));
  EXPECT_OK(CheckOutcome({}, Reached(), v1::OUTCOME_IMPROVED_RESOLVED, kToday));
  EXPECT_THAT(
      CheckOutcome({}, Reached(), v1::OUTCOME_IMPROVED_RESOLVED, kMay - 1),
      StatusIs(kPrecondition, HasSubstr("outreach")));
  EXPECT_THAT(CheckOutcome({}, {}, v1::OUTCOME_IMPROVED_RESOLVED, kToday),
              StatusIs(kPrecondition));
  const std::vector<ApproachEntry> preparing = {
      Approach(v1::APPROACH_STATUS_IN_PREPARATION, kApril, At(kApril))};
  EXPECT_THAT(
      CheckOutcome({}, preparing, v1::OUTCOME_IMPROVED_RESOLVED, kToday),
      StatusIs(kPrecondition));
  // Done, then not possible: only while it was done.
  for (const auto& history : Orders(History())) {
    EXPECT_OK(
        CheckOutcome({}, history, v1::OUTCOME_IMPROVED_RESOLVED, kJune - 1));
    EXPECT_THAT(CheckOutcome({}, history, v1::OUTCOME_IMPROVED_RESOLVED, kJune),
                StatusIs(kPrecondition));
  }
}

TEST(CheckOutcomeTest, OtherOutcomesNeedNoOutreach) {
  for (v1::Outcome outcome : kOtherOutcomes) {
    SCOPED_TRACE(ToText(outcome));
    EXPECT_OK(CheckOutcome({}, {}, outcome, kToday));
    const std::vector<ApproachEntry> refused = {
        Approach(v1::APPROACH_STATUS_NOT_POSSIBLE, kApril, At(kApril),
                 v1::NOT_POSSIBLE_REASON_REFUSED)};
    EXPECT_OK(CheckOutcome({}, refused, outcome, kToday));
  }
}

TEST(CheckOutcomeTest, AClosedCaseTakesNoOtherOutcome) {
  const std::vector<OutcomeEntry> closed = {
      Closed(v1::OUTCOME_MOVED_AWAY, kJune, At(kJune))};
  for (v1::Outcome outcome : {v1::OUTCOME_IMPROVED_RESOLVED, v1::OUTCOME_OTHER,
                              v1::OUTCOME_MOVED_AWAY}) {
    EXPECT_THAT(CheckOutcome(closed, Reached(), outcome, kToday),
                StatusIs(kPrecondition, HasSubstr("closed")));
    EXPECT_THAT(CheckOutcome(closed, Reached(), outcome, kJune - 5),
                StatusIs(kPrecondition));
  }
  // Closed, reopened and closed again, in any order.
  std::vector<OutcomeEntry> again = {
      Closed(v1::OUTCOME_GRADUATED, kApril, At(kApril)),
      Reopened(kMay, At(kMay)),
      Closed(v1::OUTCOME_OTHER, kJune, At(kJune)),
  };
  std::reverse(again.begin(), again.end());
  EXPECT_THAT(CheckOutcome(again, Reached(), v1::OUTCOME_OTHER, kToday),
              StatusIs(kPrecondition));
}

TEST(CheckOutcomeTest, AfterAReopeningOnlyOnOrAfterItsDate) {
  std::vector<OutcomeEntry> reopened = {
      Closed(v1::OUTCOME_MOVED_AWAY, kMay, At(kMay)),
      Reopened(kJune, At(kJune)),
  };
  for (int reversed = 0; reversed < 2; ++reversed) {
    EXPECT_THAT(CheckOutcome(reopened, Reached(), v1::OUTCOME_OTHER, kJune - 1),
                StatusIs(kInvalid, AllOf(StartsWith("effective_date: "),
                                         HasSubstr("reopened"),
                                         HasSubstr("2024-06-01"))));
    EXPECT_OK(CheckOutcome(reopened, Reached(), v1::OUTCOME_OTHER, kJune));
    EXPECT_OK(CheckOutcome(reopened, Reached(), v1::OUTCOME_IMPROVED_RESOLVED,
                           kToday));
    std::reverse(reopened.begin(), reopened.end());
  }
}

TEST(CheckOutcomeTest, ClosedAndReopenedTheSameDayFollowsRecordTime) {
  std::vector<OutcomeEntry> same_day = {
      Closed(v1::OUTCOME_OTHER, kJune, At(kJune, 9)),
      Reopened(kJune, At(kJune, 15)),
  };
  for (int reversed = 0; reversed < 2; ++reversed) {
    EXPECT_OK(CheckOutcome(same_day, Reached(), v1::OUTCOME_GRADUATED, kJune));
    EXPECT_THAT(CheckReopen(same_day, kJune), StatusIs(kPrecondition));
    std::reverse(same_day.begin(), same_day.end());
  }
}

TEST(CheckReopenTest, OnlyAClosedCaseOnOrAfterItsClosure) {
  EXPECT_THAT(CheckReopen({}, kToday),
              StatusIs(kPrecondition, HasSubstr("not closed")));
  const std::vector<OutcomeEntry> open = {
      Closed(v1::OUTCOME_MOVED_AWAY, kMay, At(kMay)),
      Reopened(kJune, At(kJune))};
  EXPECT_THAT(CheckReopen(open, kToday), StatusIs(kPrecondition));

  std::vector<OutcomeEntry> closed = {
      Closed(v1::OUTCOME_MOVED_AWAY, kApril, At(kApril)),
      Reopened(kMay, At(kMay)),
      Closed(v1::OUTCOME_GRADUATED, kJune, At(kJune))};
  for (int reversed = 0; reversed < 2; ++reversed) {
    EXPECT_THAT(CheckReopen(closed, kJune - 1),
                StatusIs(kInvalid,
                         AllOf(StartsWith("effective_date: "),
                               HasSubstr("closed"), HasSubstr("2024-06-01"))));
    EXPECT_OK(CheckReopen(closed, kJune));
    EXPECT_OK(CheckReopen(closed, kToday));
    std::reverse(closed.begin(), closed.end());
  }
}

// ---- Enum texts -----------------------------------------------------------

TEST(EnumTextTest, KnownTexts) {
  EXPECT_EQ(ToText(v1::APPROACH_STATUS_OUTREACH_DONE), "outreach_done");
  EXPECT_EQ(ToText(v1::APPROACH_STATUS_IN_PREPARATION), "in_preparation");
  EXPECT_EQ(ToText(v1::APPROACH_STATUS_NOT_POSSIBLE), "not_possible");
  EXPECT_EQ(ToText(v1::OUTCOME_HANDED_TO_CHILD_CONSULTATION_CENTRE),
            "handed_to_child_consultation_centre");
  EXPECT_EQ(ToText(v1::OUTCOME_IMPROVED_RESOLVED), "improved_resolved");
  EXPECT_EQ(ToText(v1::CASE_SOURCE_LOCAL_GROUP), "local_group");
  EXPECT_EQ(ToText(v1::CONFERENCE_KIND_SCREENING_MEETING_II),
            "screening_meeting_ii");
  EXPECT_EQ(ToText(v1::NOT_POSSIBLE_REASON_UNREACHABLE), "unreachable");
  EXPECT_EQ(ToText(v1::NEED_DOMAIN_FAMILY_RELATIONS), "family_relations");
  EXPECT_EQ(ToText(v1::SEX_NOT_STATED), "not_stated");
  EXPECT_EQ(ToText(v1::LEAD_CASE_WORKER), "case_worker");
  EXPECT_EQ(ToText(v1::CONTACT_KIND_GUARDIAN_INTERVIEW), "guardian_interview");
  EXPECT_EQ(ToText(v1::URGENT_CATEGORY_SIGNS_OF_ABUSE), "signs_of_abuse");
  EXPECT_EQ(ToText(v1::CASE_STATE_WITHDRAWN), "withdrawn");
  EXPECT_EQ(ToText(v1::NEED_LEVEL_MEDIUM), "medium");
  EXPECT_EQ(EnumFromText<v1::ApproachStatus>("outreach_done"),
            v1::APPROACH_STATUS_OUTREACH_DONE);
  EXPECT_EQ(EnumFromText<v1::Outcome>("handed_to_child_consultation_centre"),
            v1::OUTCOME_HANDED_TO_CHILD_CONSULTATION_CENTRE);
}

TEST(EnumTextTest, UnspecifiedAndUnknownNumbersAreEmpty) {
  EXPECT_EQ(ToText(v1::SEX_UNSPECIFIED), "");
  EXPECT_EQ(ToText(v1::CASE_SOURCE_UNSPECIFIED), "");
  EXPECT_EQ(ToText(v1::CASE_STATE_UNSPECIFIED), "");
  EXPECT_EQ(ToText(v1::LEAD_UNSPECIFIED), "");
  EXPECT_EQ(ToText(v1::APPROACH_STATUS_UNSPECIFIED), "");
  EXPECT_EQ(ToText(v1::NOT_POSSIBLE_REASON_UNSPECIFIED), "");
  EXPECT_EQ(ToText(v1::OUTCOME_UNSPECIFIED), "");
  EXPECT_EQ(ToText(v1::CONFERENCE_KIND_UNSPECIFIED), "");
  EXPECT_EQ(ToText(v1::NEED_DOMAIN_UNSPECIFIED), "");
  EXPECT_EQ(ToText(v1::NEED_LEVEL_UNSPECIFIED), "");
  EXPECT_EQ(ToText(v1::CONTACT_KIND_UNSPECIFIED), "");
  EXPECT_EQ(ToText(v1::URGENT_CATEGORY_UNSPECIFIED), "");
  EXPECT_EQ(ToText(static_cast<v1::Outcome>(99)), "");
  EXPECT_EQ(ToText(static_cast<v1::ApproachStatus>(-1)), "");
}

TEST(EnumTextTest, UnknownTextIsUnspecified) {
  for (const char* text :
       {"", "bogus", "unspecified", "outreach-done", " outreach_done",
        "outreach_done ", "approach_status_outreach_done", "refused",
        "outreach_done\n", "アウトリーチ"}) {
    EXPECT_EQ(EnumFromText<v1::ApproachStatus>(text),
              v1::APPROACH_STATUS_UNSPECIFIED)
        << "[" << text << "]";
  }
  // "reopened" is stored for a reopening, which is no outcome.
  EXPECT_EQ(EnumFromText<v1::Outcome>("reopened"), v1::OUTCOME_UNSPECIFIED);
  EXPECT_EQ(EnumFromText<v1::NotPossibleReason>("not_possible"),
            v1::NOT_POSSIBLE_REASON_UNSPECIFIED);
  EXPECT_EQ(EnumFromText<v1::CaseSource>("screening_meeting_ii"),
            v1::CASE_SOURCE_UNSPECIFIED);
}

// Every value of Enum: a distinct lower-case text, the value's name without
// the enum's prefix, that reads back as the value; "" for UNSPECIFIED.
template <typename Enum>
void ExpectTextsRoundTrip(const google::protobuf::EnumDescriptor* descriptor) {
  SCOPED_TRACE(std::string(descriptor->full_name()));
  ASSERT_GT(descriptor->value_count(), 1);
  ASSERT_EQ(descriptor->value(0)->number(), 0);
  const std::string unspecified(descriptor->value(0)->name());
  ASSERT_TRUE(absl::EndsWith(unspecified, "_UNSPECIFIED"));
  const std::string prefix = unspecified.substr(
      0, unspecified.size() - std::string("UNSPECIFIED").size());
  std::set<std::string> texts;
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* value = descriptor->value(i);
    const std::string name(value->name());
    SCOPED_TRACE(name);
    const auto e = static_cast<Enum>(value->number());
    const std::string text = ToText(e);
    if (value->number() == 0) {
      EXPECT_EQ(text, "");
      EXPECT_EQ(EnumFromText<Enum>(""), e);
      continue;
    }
    ASSERT_TRUE(absl::StartsWith(name, prefix));
    EXPECT_EQ(text, absl::AsciiStrToLower(name.substr(prefix.size())));
    EXPECT_EQ(absl::AsciiStrToLower(text), text);
    EXPECT_EQ(EnumFromText<Enum>(text), e);
    EXPECT_TRUE(texts.insert(text).second) << text << " twice";
  }
}

TEST(EnumTextTest, EveryValueOfEveryEnumRoundTrips) {
  ExpectTextsRoundTrip<v1::Sex>(v1::Sex_descriptor());
  ExpectTextsRoundTrip<v1::CaseSource>(v1::CaseSource_descriptor());
  ExpectTextsRoundTrip<v1::CaseState>(v1::CaseState_descriptor());
  ExpectTextsRoundTrip<v1::Lead>(v1::Lead_descriptor());
  ExpectTextsRoundTrip<v1::ApproachStatus>(v1::ApproachStatus_descriptor());
  ExpectTextsRoundTrip<v1::NotPossibleReason>(
      v1::NotPossibleReason_descriptor());
  ExpectTextsRoundTrip<v1::Outcome>(v1::Outcome_descriptor());
  ExpectTextsRoundTrip<v1::ConferenceKind>(v1::ConferenceKind_descriptor());
  ExpectTextsRoundTrip<v1::NeedDomain>(v1::NeedDomain_descriptor());
  ExpectTextsRoundTrip<v1::NeedLevel>(v1::NeedLevel_descriptor());
  ExpectTextsRoundTrip<v1::ContactKind>(v1::ContactKind_descriptor());
  ExpectTextsRoundTrip<v1::UrgentCategory>(v1::UrgentCategory_descriptor());
}

TEST(EnumTextTest, CoversEveryEnumOfTheApi) {
  // An enum added to cases.proto needs its ToText/FromText (and a line in
  // the test above).
  const std::set<std::string> covered = {
      "Sex",       "CaseSource",     "CaseState",
      "Lead",      "ApproachStatus", "NotPossibleReason",
      "Outcome",   "ConferenceKind", "NeedDomain",
      "NeedLevel", "ContactKind",    "UrgentCategory"};
  const google::protobuf::FileDescriptor* file = v1::Case::descriptor()->file();
  std::set<std::string> declared;
  for (int i = 0; i < file->enum_type_count(); ++i) {
    declared.insert(std::string(file->enum_type(i)->name()));
  }
  EXPECT_EQ(declared, covered);
}

std::set<std::string> Texts(const google::protobuf::EnumDescriptor* descriptor,
                            const std::function<std::string(int)>& to_text) {
  std::set<std::string> texts;
  for (int i = 0; i < descriptor->value_count(); ++i) {
    if (descriptor->value(i)->number() != 0) {
      texts.insert(to_text(descriptor->value(i)->number()));
    }
  }
  return texts;
}

std::set<std::string> SourceTexts() {
  return Texts(v1::CaseSource_descriptor(),
               [](int n) { return ToText(static_cast<v1::CaseSource>(n)); });
}
std::set<std::string> ApproachTexts() {
  return Texts(v1::ApproachStatus_descriptor(), [](int n) {
    return ToText(static_cast<v1::ApproachStatus>(n));
  });
}
std::set<std::string> OutcomeTexts() {
  return Texts(v1::Outcome_descriptor(),
               [](int n) { return ToText(static_cast<v1::Outcome>(n)); });
}
std::set<std::string> ConferenceTexts() {
  return Texts(v1::ConferenceKind_descriptor(), [](int n) {
    return ToText(static_cast<v1::ConferenceKind>(n));
  });
}
std::set<std::string> StateTexts() {
  return Texts(v1::CaseState_descriptor(),
               [](int n) { return ToText(static_cast<v1::CaseState>(n)); });
}

TEST(EnumTextTest, TextsAreTheOnesTheSchemaAllows) {
  // The CHECK constraints of services/case/migrations/0001_cases.sql.
  EXPECT_EQ(SourceTexts(),
            (std::set<std::string>{"screening", "school", "local_group",
                                   "agency", "other"}));
  EXPECT_EQ(ApproachTexts(),
            (std::set<std::string>{"in_preparation", "outreach_done",
                                   "not_possible"}));
  EXPECT_EQ(
      OutcomeTexts(),
      (std::set<std::string>{"improved_resolved", "moved_away", "graduated",
                             "handed_to_child_consultation_centre", "other"}));
  EXPECT_EQ(ConferenceTexts(),
            (std::set<std::string>{"screening_meeting_ii",
                                   "individual_case_conference"}));
  EXPECT_EQ(StateTexts(),
            (std::set<std::string>{"open", "closed", "withdrawn"}));
}

// The quoted values of "CHECK (column IN (...))" in the definition of
// `table` in `sql`; empty when there is none.
std::set<std::string> CheckedValues(const std::string& sql,
                                    absl::string_view table,
                                    absl::string_view column) {
  const size_t start = sql.find(absl::StrCat("CREATE TABLE ", table, " ("));
  if (start == std::string::npos) {
    return {};
  }
  const size_t end = sql.find("CREATE TABLE", start + 1);
  const size_t check = sql.find(absl::StrCat("CHECK (", column, " IN"), start);
  if (check == std::string::npos || check > end) {
    return {};
  }
  const size_t open = sql.find('(', check + std::string("CHECK (").size());
  const size_t close = sql.find(')', open);
  if (open == std::string::npos || close == std::string::npos) {
    return {};
  }
  std::set<std::string> values;
  const std::vector<std::string> parts =
      absl::StrSplit(sql.substr(open + 1, close - open - 1), '\'');
  for (size_t i = 1; i < parts.size(); i += 2) {
    values.insert(parts[i]);
  }
  return values;
}

TEST(EnumTextTest, TextsMatchTheMigrationsCheckConstraints) {
  std::string path = __FILE__;
  const size_t at = path.rfind("domain/case_rules_test.cc");
  ASSERT_NE(at, std::string::npos) << path;
  path.replace(at, std::string::npos, "migrations/0001_cases.sql");
  std::ifstream file(path);
  if (!file) {
    GTEST_SKIP() << "cannot read " << path;
  }
  std::stringstream sql;
  sql << file.rdbuf();

  EXPECT_EQ(CheckedValues(sql.str(), "cases", "source"), SourceTexts());
  EXPECT_EQ(CheckedValues(sql.str(), "cases", "state"), StateTexts());
  EXPECT_EQ(CheckedValues(sql.str(), "approach_changes", "status"),
            ApproachTexts());
  std::set<std::string> outcome_kinds = OutcomeTexts();
  outcome_kinds.insert("reopened");  // a reopening, no outcome
  EXPECT_EQ(CheckedValues(sql.str(), "outcome_changes", "kind"), outcome_kinds);
  EXPECT_EQ(CheckedValues(sql.str(), "conferences", "kind"), ConferenceTexts());
}

}  // namespace
}  // namespace kosapo::cases
