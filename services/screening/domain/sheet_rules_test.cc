#include "services/screening/domain/sheet_rules.h"

#include <string>

#include "common/base/digest.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace kosapo::screening {
namespace {

v1::Sheet Pupil() {
  v1::Sheet sheet;
  sheet.set_school_code("E1");
  sheet.set_pupil_id("P-0001");
  sheet.set_grade(3);
  sheet.set_class_name("2組");
  sheet.set_pupil_name("山田 太郎");
  sheet.set_pupil_kana("ヤマダ タロウ");
  sheet.mutable_birth_date()->set_year(2015);
  sheet.mutable_birth_date()->set_month(5);
  sheet.mutable_birth_date()->set_day(20);
  sheet.set_sex(v1::SEX_MALE);
  sheet.set_note("給食をよく残す");
  return sheet;
}

// The formula the stored content hashes were computed with: a sheet sent
// again must keep its hash, or every re-sent sheet becomes a new revision.
std::string StoredFormula(const v1::Sheet& sheet) {
  const nlohmann::json content = {
      {"school", sheet.school_code()},
      {"pupil", sheet.pupil_id()},
      {"grade", sheet.grade()},
      {"class", sheet.class_name()},
      {"name", sheet.pupil_name()},
      {"kana", sheet.pupil_kana()},
      {"birth",
       {sheet.birth_date().year(), sheet.birth_date().month(),
        sheet.birth_date().day()}},
      {"sex", std::string(SexToDb(sheet.sex()))},
      {"answers", nlohmann::json::parse(AnswersJson(sheet))},
      {"note", sheet.note()}};
  return Sha256Hex(
      content.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

TEST(SheetFingerprint, KeepsTheStoredFormula) {
  v1::Sheet sheet = Pupil();
  EXPECT_EQ(SheetFingerprint(sheet), StoredFormula(sheet));
  v1::Answer* level = sheet.add_answers();
  level->set_item("school_absence");
  level->set_level(2);
  v1::Answer* flag = sheet.add_answers();
  flag->set_item("economic_unpaid_fees");
  flag->set_flag(true);
  v1::Answer* zero = sheet.add_answers();
  zero->set_item("meals_hunger");
  zero->set_level(0);
  EXPECT_EQ(SheetFingerprint(sheet), StoredFormula(sheet));
}

TEST(SheetFingerprint, IgnoresAnswerOrderAndZeroAnswers) {
  v1::Sheet a = Pupil();
  v1::Sheet b = Pupil();
  a.add_answers()->set_item("school_absence");
  a.mutable_answers(0)->set_level(1);
  a.add_answers()->set_item("home_injury");
  a.mutable_answers(1)->set_flag(true);
  b.add_answers()->set_item("home_injury");
  b.mutable_answers(0)->set_flag(true);
  b.add_answers()->set_item("meals_hunger");
  b.mutable_answers(1)->set_level(0);
  b.add_answers()->set_item("school_absence");
  b.mutable_answers(2)->set_level(1);
  EXPECT_EQ(SheetFingerprint(a), SheetFingerprint(b));
  b.mutable_answers(2)->set_level(2);
  EXPECT_NE(SheetFingerprint(a), SheetFingerprint(b));
}

}  // namespace
}  // namespace kosapo::screening
