#include "services/screening/domain/registry_rules.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::screening {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(ParseMunicipalityName, AcceptsOnlyFiveDigitCodes) {
  auto code = ParseMunicipalityName("municipalities/27100", "parent");
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, "27100");
  for (const char* bad : {"", "municipalities/", "municipalities/2710",
                          "municipalities/27100/areas/1", "cities/27100",
                          "municipalities/2710x"}) {
    auto parsed = ParseMunicipalityName(bad, "parent");
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
    EXPECT_THAT(parsed.status().message(), HasSubstr("parent:")) << bad;
  }
}

TEST(ValidateSchool, NamesTheFieldAtFault) {
  v1::School school;
  school.set_code("E 1");
  EXPECT_THAT(ValidateSchool(school).message(), HasSubstr("school.code"));
  school.set_code("E1");
  EXPECT_THAT(ValidateSchool(school).message(),
              HasSubstr("school.display_name"));
  school.set_display_name("北小学校");
  EXPECT_THAT(ValidateSchool(school).message(), HasSubstr("school.kind"));
  school.set_kind(v1::SCHOOL_KIND_NURSERY);
  EXPECT_THAT(ValidateSchool(school).message(), HasSubstr("school.area_code"));
  school.set_area_code("27127");
  EXPECT_TRUE(ValidateSchool(school).ok());
}

TEST(GradeRange, FollowsTheKindOfSchool) {
  EXPECT_EQ(GradeRange(v1::SCHOOL_KIND_ELEMENTARY), std::make_pair(1, 6));
  EXPECT_EQ(GradeRange(v1::SCHOOL_KIND_JUNIOR_HIGH), std::make_pair(1, 3));
  EXPECT_EQ(GradeRange(v1::SCHOOL_KIND_COMPULSORY), std::make_pair(1, 9));
  EXPECT_EQ(GradeRange(v1::SCHOOL_KIND_KINDERGARTEN), std::make_pair(3, 5));
}

TEST(ParseEnrollmentCsv, ReadsColumnsByNameWithLineNumbers) {
  const EnrollmentInput input = ParseEnrollmentCsv(
      "grade,pupils,school_code\n1,30,E1\n\"2\",31,E1\n,9,J1\n");
  EXPECT_THAT(input.errors, IsEmpty());
  ASSERT_EQ(input.rows.size(), 3u);
  EXPECT_EQ(input.rows[1].line, 3);
  EXPECT_EQ(input.rows[1].row.grade(), 2);
  EXPECT_EQ(input.rows[2].row.grade(), 0);  // empty grade = whole school
  EXPECT_EQ(input.rows[2].row.school_code(), "J1");
}

TEST(ParseEnrollmentCsv, ReportsBadLinesAndKeepsGoodOnes) {
  const EnrollmentInput input =
      ParseEnrollmentCsv("school_code,pupils\nE1,x\nE2\nE3,3\n");
  ASSERT_EQ(input.rows.size(), 1u);
  EXPECT_EQ(input.rows[0].row.school_code(), "E3");
  ASSERT_EQ(input.errors.size(), 2u);
  EXPECT_EQ(input.errors[0].line(), 2);
  EXPECT_EQ(input.errors[0].field(), "pupils");
  EXPECT_EQ(input.errors[1].line(), 3);
}

TEST(ParseEnrollmentCsv, MissingColumnIsReportedOnTheHeader) {
  const EnrollmentInput input = ParseEnrollmentCsv("school,pupils\nE1,1\n");
  ASSERT_EQ(input.errors.size(), 1u);
  EXPECT_EQ(input.errors[0].line(), 1);
  EXPECT_THAT(input.errors[0].message(), HasSubstr("school_code"));
}

NumberedRow Row(int64_t line, const std::string& school, int grade,
                int pupils) {
  NumberedRow row;
  row.line = line;
  row.row.set_school_code(school);
  row.row.set_grade(grade);
  row.row.set_pupils(pupils);
  return row;
}

TEST(ValidateEnrollment, AcceptsTotalsOrGradesPerSchool) {
  const std::map<std::string, v1::SchoolKind> schools = {
      {"E1", v1::SCHOOL_KIND_ELEMENTARY}, {"K1", v1::SCHOOL_KIND_KINDERGARTEN}};
  std::vector<v1::RowError> errors;
  ValidateEnrollment(
      {Row(1, "E1", 1, 30), Row(2, "E1", 6, 28), Row(3, "K1", 0, 40)}, schools,
      errors);
  EXPECT_THAT(errors, IsEmpty());
  ValidateEnrollment({Row(1, "K1", 2, 3), Row(2, "E1", 1, -1)}, schools,
                     errors);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].field(), "grade");
  EXPECT_THAT(errors[0].message(), HasSubstr("outside 3..5"));
  EXPECT_EQ(errors[1].field(), "pupils");
}

}  // namespace
}  // namespace kosapo::screening
