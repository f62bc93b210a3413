#include "common/crypto/field_cipher.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/proto_fields.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kosapo/cases/v1/cases.pb.h"

namespace kosapo::crypto {
namespace {

using ::kosapo::testing::IsOk;
using ::kosapo::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kContext[] = "cases.contacts.summary|cases/12";
const std::string kText = "母親から電話。夜は一人で過ごしていると話した。";

MATCHER_P(Holds, value, "") { return arg.ok() && *arg == value; }

std::string Key(char fill) { return std::string(kFieldKeyBytes, fill); }

std::shared_ptr<const FieldCipher> Cipher(
    std::map<std::string, std::string> keys, const std::string& active) {
  auto cipher = FieldCipher::FromKeys(std::move(keys), active);
  EXPECT_THAT(cipher.status(), IsOk());
  return cipher.ok() ? *cipher : FieldCipher::Plaintext();
}

// Flips one bit of the sealed bytes at `offset` (from the start of the
// nonce), keeping the text form.
std::string Flip(const std::string& stored, size_t offset) {
  const size_t data_at = stored.rfind(':') + 1;
  std::string raw;
  EXPECT_TRUE(absl::WebSafeBase64Unescape(stored.substr(data_at), &raw));
  raw[offset] ^= 0x01;
  return stored.substr(0, data_at) + absl::WebSafeBase64Escape(raw);
}

TEST(FieldCipherTest, RoundTripsAndHidesThePlaintext) {
  auto cipher = Cipher({{"k1", Key('a')}}, "k1");
  ASSERT_OK_AND_ASSIGN(const std::string stored, cipher->Seal(kText, kContext));
  EXPECT_THAT(stored, StartsWith("enc:v1:k1:"));
  EXPECT_EQ(stored.find(kText), std::string::npos);
  EXPECT_EQ(stored.find_first_of("+/= \n"), std::string::npos) << stored;
  EXPECT_THAT(cipher->Open(stored, kContext), Holds(kText));
}

TEST(FieldCipherTest, EachValueGetsItsOwnNonce) {
  auto cipher = Cipher({{"k1", Key('a')}}, "k1");
  ASSERT_OK_AND_ASSIGN(const std::string first, cipher->Seal(kText, kContext));
  ASSERT_OK_AND_ASSIGN(const std::string second, cipher->Seal(kText, kContext));
  EXPECT_NE(first, second);
}

TEST(FieldCipherTest, EmptyStaysEmpty) {
  auto cipher = Cipher({{"k1", Key('a')}}, "k1");
  EXPECT_THAT(cipher->Seal("", kContext), Holds(""));
  EXPECT_THAT(cipher->Open("", kContext), Holds(""));
}

TEST(FieldCipherTest, TamperedValueDoesNotOpen) {
  auto cipher = Cipher({{"k1", Key('a')}}, "k1");
  ASSERT_OK_AND_ASSIGN(const std::string stored, cipher->Seal(kText, kContext));
  // The nonce, the ciphertext and the tag each.
  for (size_t offset :
       {size_t{0}, size_t{12}, size_t{12 + 5}, 12 + kText.size() + 3}) {
    EXPECT_THAT(cipher->Open(Flip(stored, offset), kContext),
                StatusIs(absl::StatusCode::kDataLoss,
                         HasSubstr("does not authenticate")))
        << "offset " << offset;
  }
  EXPECT_THAT(cipher->Open(stored.substr(0, stored.size() - 4), kContext),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(cipher->Open("enc:v1:k1:!!", kContext),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("malformed")));
  EXPECT_THAT(cipher->Open("enc:v2:k1:AAAA", kContext),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("enc:v1")));
}

TEST(FieldCipherTest, WrongPlaceDoesNotOpen) {
  auto cipher = Cipher({{"k1", Key('a')}}, "k1");
  ASSERT_OK_AND_ASSIGN(const std::string stored, cipher->Seal(kText, kContext));
  // Another case's row, and another column of the same case.
  auto other_row = cipher->Open(stored, "cases.contacts.summary|cases/13");
  EXPECT_THAT(other_row,
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("cases.contacts.summary|cases/13")));
  EXPECT_THAT(other_row.status().message(), Not(HasSubstr(kText)));
  EXPECT_THAT(cipher->Open(stored, "cases.urgent_reports.description|cases/12"),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST(FieldCipherTest, WrongOrUnknownKeyDoesNotOpen) {
  auto writer = Cipher({{"k1", Key('a')}}, "k1");
  ASSERT_OK_AND_ASSIGN(const std::string stored, writer->Seal(kText, kContext));
  // Same id, other bytes: the tag fails.
  EXPECT_THAT(Cipher({{"k1", Key('b')}}, "k1")->Open(stored, kContext),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(
      Cipher({{"k2", Key('b')}}, "k2")->Open(stored, kContext),
      StatusIs(absl::StatusCode::kDataLoss,
               HasSubstr("field key 'k1', which is not in --field_keys_dir")));
  EXPECT_THAT(FieldCipher::Plaintext()->Open(stored, kContext),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST(FieldCipherTest, RotationReadsValuesOfTheOldKey) {
  auto before = Cipher({{"2024a", Key('a')}}, "2024a");
  ASSERT_OK_AND_ASSIGN(const std::string old_value,
                       before->Seal(kText, kContext));
  auto after = Cipher({{"2024a", Key('a')}, {"2025a", Key('b')}}, "2025a");
  ASSERT_OK_AND_ASSIGN(const std::string new_value,
                       after->Seal(kText, kContext));
  EXPECT_THAT(new_value, StartsWith("enc:v1:2025a:"));
  EXPECT_THAT(after->Open(old_value, kContext), Holds(kText));
  EXPECT_THAT(after->Open(new_value, kContext), Holds(kText));
}

TEST(FieldCipherTest, LegacyPlaintextIsReadAsItIs) {
  auto cipher = Cipher({{"k1", Key('a')}}, "k1");
  EXPECT_THAT(cipher->Open(kText, kContext), Holds(kText));
}

TEST(FieldCipherTest, PlaintextModeStoresPlaintext) {
  auto plain = FieldCipher::Plaintext();
  EXPECT_FALSE(plain->encrypts());
  EXPECT_THAT(plain->Seal(kText, kContext), Holds(kText));
  EXPECT_THAT(plain->Seal("enc:v1:x:y", kContext),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(FieldCipherTest, RefusesBadKeys) {
  EXPECT_THAT(FieldCipher::FromKeys({{"k1", "short"}}, "k1"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("field key 'k1' has 5 bytes")));
  EXPECT_THAT(FieldCipher::FromKeys({{"k1", Key('a')}}, "k2"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'k2'")));
  EXPECT_THAT(FieldCipher::FromKeys({{"a:b", Key('a')}}, "a:b"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

class FieldKeysDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(
        ::testing::TempDir(), "/field-keys-",
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& file, const std::string& text) {
    std::filesystem::create_directories(dir_);
    std::ofstream(absl::StrCat(dir_, "/", file)) << text;
  }
  std::string dir_;
};

TEST_F(FieldKeysDirTest, LoadsKeysFromFiles) {
  ASSERT_OK(WriteRandomKeyFile(dir_, "old"));
  ASSERT_OK(WriteRandomKeyFile(dir_, "new"));
  Write("README", "not a key");
  ASSERT_OK_AND_ASSIGN(auto old_cipher, FieldCipher::FromDir(dir_, "old"));
  ASSERT_OK_AND_ASSIGN(auto new_cipher, FieldCipher::FromDir(dir_, "new"));
  ASSERT_OK_AND_ASSIGN(const std::string stored,
                       old_cipher->Seal(kText, kContext));
  EXPECT_THAT(new_cipher->Open(stored, kContext), Holds(kText));
  EXPECT_EQ(new_cipher->active_key_id(), "new");
  EXPECT_EQ(std::filesystem::status(dir_ + "/new.key").permissions() &
                std::filesystem::perms::others_read,
            std::filesystem::perms::none);
}

TEST_F(FieldKeysDirTest, NamesWhatIsWrong) {
  EXPECT_THAT(FieldCipher::FromDir(dir_, "k1"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(absl::StrCat("'", dir_, "' does not exist"))));
  ASSERT_OK(WriteRandomKeyFile(dir_, "k1"));
  EXPECT_THAT(FieldCipher::FromDir(dir_, "k2"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("'k2' has no file k2.key")));
  Write("short.key", absl::Base64Escape("sixteen bytes!!!"));
  EXPECT_THAT(FieldCipher::FromDir(dir_, "k1"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(absl::StrCat("'", dir_, "/short.key'"))));
}

TEST(ProtoFieldsTest, SealsOnlyTheNamedTextOfABody) {
  auto cipher = Cipher({{"k1", Key('a')}}, "k1");
  kosapo::cases::v1::SupportPlan plan;
  plan.add_goals("通学を再開する");
  plan.add_goals("");
  auto* support = plan.add_supports();
  support->set_description("学習支援");
  support->set_provider("NPO");
  plan.set_child_wishes_heard(true);
  kosapo::cases::v1::SupportPlan sealed = plan;
  constexpr const char* paths[] = {"goals", "supports.description"};
  ASSERT_OK(SealFields(sealed, paths, "cases.support_plans.body", "cases/12",
                       *cipher));
  EXPECT_THAT(sealed.goals(0), StartsWith("enc:v1:"));
  EXPECT_EQ(sealed.goals(1), "");
  EXPECT_THAT(sealed.supports(0).description(), StartsWith("enc:v1:"));
  EXPECT_EQ(sealed.supports(0).provider(), "NPO");
  kosapo::cases::v1::SupportPlan opened = sealed;
  EXPECT_THAT(OpenFields(opened, paths, "cases.support_plans.body", "cases/13",
                         *cipher),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("cases.support_plans.body.goals|cases/13")));
  opened = sealed;
  ASSERT_OK(OpenFields(opened, paths, "cases.support_plans.body", "cases/12",
                       *cipher));
  EXPECT_EQ(opened.SerializeAsString(), plan.SerializeAsString());
  EXPECT_THAT(
      SealFields(sealed, {"supports.nope"}, "x", "cases/12", *cipher),
      StatusIs(absl::StatusCode::kInternal, HasSubstr("no such string field")));
}

}  // namespace
}  // namespace kosapo::crypto
