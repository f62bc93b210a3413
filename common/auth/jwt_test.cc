#include "common/auth/jwt.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/auth/principal.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::auth {
namespace {

using Json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kIssuer[] = "https://auth.kosapo.test";
constexpr char kAudience[] = "kosapo";
constexpr char kSubject[] = "u-7f3a9c";

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

// Abseil 20220623 ships no status matchers; these take a StatusOr.
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER_P2(StatusIs, code, message, "") {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code &&
         ::testing::ExplainMatchResult(message, std::string(status.message()),
                                       result_listener);
}

MATCHER(IsOk, "") {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status;
  return status.ok();
}

// Rejections all look alike to the caller apart from the message.
auto Rejected(std::string message) {
  return StatusIs(absl::StatusCode::kUnauthenticated, std::move(message));
}

// ---------------------------------------------------------------------------
// Keys, generated once per test binary; no key material is committed.

struct KeyPair {
  std::string private_pem;
  std::string public_pem;
};

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(length));
}

KeyPair PemPair(EVP_PKEY* key, const EVP_CIPHER* cipher = nullptr,
                const char* passphrase = nullptr) {
  std::unique_ptr<BIO, decltype(&BIO_free)> private_bio(BIO_new(BIO_s_mem()),
                                                        BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> public_bio(BIO_new(BIO_s_mem()),
                                                       BIO_free);
  const int written = PEM_write_bio_PrivateKey(
      private_bio.get(), key, cipher,
      reinterpret_cast<const unsigned char*>(passphrase),
      passphrase == nullptr ? 0 : static_cast<int>(strlen(passphrase)), nullptr,
      nullptr);
  if (written != 1 || PEM_write_bio_PUBKEY(public_bio.get(), key) != 1) {
    ADD_FAILURE() << "cannot write PEM";
    return {};
  }
  return {BioContents(private_bio.get()), BioContents(public_bio.get())};
}

KeyPair GenerateEc(const char* curve) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve), EVP_PKEY_free);
  if (key == nullptr) {
    ADD_FAILURE() << "EC key generation failed";
    return {};
  }
  return PemPair(key.get());
}

KeyPair GenerateRsa(size_t bits) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits), EVP_PKEY_free);
  if (key == nullptr) {
    ADD_FAILURE() << "RSA key generation failed";
    return {};
  }
  return PemPair(key.get());
}

const KeyPair& Es256Key() {
  static const KeyPair* const key = new KeyPair(GenerateEc("P-256"));
  return *key;
}
const KeyPair& OtherEs256Key() {
  static const KeyPair* const key = new KeyPair(GenerateEc("P-256"));
  return *key;
}
const KeyPair& Rs256Key() {
  static const KeyPair* const key = new KeyPair(GenerateRsa(2048));
  return *key;
}
const KeyPair& OtherRs256Key() {
  static const KeyPair* const key = new KeyPair(GenerateRsa(2048));
  return *key;
}

const KeyPair& KeyFor(Algorithm algorithm) {
  return algorithm == Algorithm::kEs256 ? Es256Key() : Rs256Key();
}

// ---------------------------------------------------------------------------
// An independent JWS implementation for hand-built tokens, so the tests do
// not only check the library against itself.

std::string B64Url(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int length =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(data.data()),
                      static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(length));
  while (!out.empty() && out.back() == '=') {
    out.pop_back();
  }
  for (char& c : out) {
    if (c == '+') {
      c = '-';
    } else if (c == '/') {
      c = '_';
    }
  }
  return out;
}

std::string B64UrlDecode(std::string data) {
  for (char& c : data) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    }
  }
  const size_t padding = (4 - data.size() % 4) % 4;
  data.append(padding, '=');
  std::string out(data.size() / 4 * 3, '\0');
  const int length =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(data.data()),
                      static_cast<int>(data.size()));
  EXPECT_GE(length, 0);
  out.resize(static_cast<size_t>(length) - padding);
  return out;
}

// JWS signature bytes over `input`; ES256 in the raw R || S form.
std::string TestSignature(const KeyPair& key, std::string_view input) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(key.private_pem.data(),
                      static_cast<int>(key.private_pem.size())),
      BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr),
      EVP_PKEY_free);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(
      EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::string signature(static_cast<size_t>(EVP_PKEY_get_size(pkey.get())),
                        '\0');
  size_t length = signature.size();
  if (EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr,
                         pkey.get()) != 1 ||
      EVP_DigestSign(
          context.get(), reinterpret_cast<unsigned char*>(signature.data()),
          &length, reinterpret_cast<const unsigned char*>(input.data()),
          input.size()) != 1) {
    ADD_FAILURE() << "test signing failed";
    return {};
  }
  signature.resize(length);
  if (!EVP_PKEY_is_a(pkey.get(), "EC")) {
    return signature;
  }
  const auto* der = reinterpret_cast<const unsigned char*>(signature.data());
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(
      d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size())),
      ECDSA_SIG_free);
  std::string raw(64, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + 32, 32);
  return raw;
}

std::string HandSignedText(const KeyPair& key, std::string_view header,
                           std::string_view payload) {
  const std::string input = absl::StrCat(B64Url(header), ".", B64Url(payload));
  return absl::StrCat(input, ".", B64Url(TestSignature(key, input)));
}

Json Header(std::string_view alg) { return {{"alg", alg}, {"typ", "JWT"}}; }

std::string HandSigned(const KeyPair& key, const Json& header,
                       const Json& claims) {
  return HandSignedText(key, header.dump(), claims.dump());
}

Json ValidClaims() {
  const int64_t now = absl::ToUnixSeconds(kNow);
  return {
      {"iss", kIssuer},
      {"aud", kAudience},
      {"sub", kSubject},
      {"iat", now},
      {"nbf", now},
      {"exp", now + 3600},
      {"role", "case_worker"},
      {"municipality", "27100"},
      {"areas", {"27102", "27104"}},
  };
}

std::unique_ptr<TokenVerifier> MakeVerifier(
    Algorithm algorithm, const KeyPair& key,
    absl::Duration leeway = absl::Seconds(60)) {
  absl::StatusOr<std::unique_ptr<TokenVerifier>> verifier =
      TokenVerifier::Create(
          {algorithm, key.public_pem, kIssuer, kAudience, leeway});
  EXPECT_THAT(verifier, IsOk());
  return verifier.ok() ? *std::move(verifier) : nullptr;
}

std::unique_ptr<TokenVerifier> Es256Verifier(
    absl::Duration leeway = absl::Seconds(60)) {
  return MakeVerifier(Algorithm::kEs256, Es256Key(), leeway);
}

std::unique_ptr<TokenSigner> MakeSigner(Algorithm algorithm,
                                        const KeyPair& key) {
  absl::StatusOr<std::unique_ptr<TokenSigner>> signer =
      TokenSigner::Create({algorithm, key.private_pem, kIssuer, kAudience});
  EXPECT_THAT(signer, IsOk());
  return signer.ok() ? *std::move(signer) : nullptr;
}

Principal FullPrincipal() {
  Principal principal;
  principal.subject = kSubject;
  principal.role = Role::kHubOperator;
  principal.municipality = "27100";
  principal.areas = {"27102", "27104"};
  principal.schools = {"s-001"};
  principal.hubs = {"h-01", "h-02", "h-03"};
  return principal;
}

std::vector<std::string> Parts(const std::string& token) {
  return absl::StrSplit(token, '.');
}

// ---------------------------------------------------------------------------
// Round trips.

void ExpectRoundTrip(Algorithm algorithm) {
  std::unique_ptr<TokenSigner> signer =
      MakeSigner(algorithm, KeyFor(algorithm));
  std::unique_ptr<TokenVerifier> verifier =
      MakeVerifier(algorithm, KeyFor(algorithm));
  ASSERT_NE(signer, nullptr);
  ASSERT_NE(verifier, nullptr);
  absl::StatusOr<std::string> token =
      signer->Sign(FullPrincipal(), kNow, absl::Hours(1));
  ASSERT_THAT(token, IsOk());

  absl::StatusOr<Principal> principal =
      verifier->Verify(*token, kNow + absl::Minutes(5));
  ASSERT_THAT(principal, IsOk());
  EXPECT_EQ(principal->subject, kSubject);
  EXPECT_EQ(principal->role, Role::kHubOperator);
  EXPECT_EQ(principal->municipality, "27100");
  EXPECT_THAT(principal->areas, ElementsAre("27102", "27104"));
  EXPECT_THAT(principal->schools, ElementsAre("s-001"));
  EXPECT_THAT(principal->hubs, ElementsAre("h-01", "h-02", "h-03"));
  EXPECT_EQ(principal->expire_time, kNow + absl::Hours(1));
}

TEST(TokenSigner, RoundTripEs256KeepsAllClaims) {
  ExpectRoundTrip(Algorithm::kEs256);
}

TEST(TokenSigner, RoundTripRs256KeepsAllClaims) {
  ExpectRoundTrip(Algorithm::kRs256);
}

TEST(TokenSigner, WritesStandardHeaderAndClaims) {
  std::unique_ptr<TokenSigner> signer =
      MakeSigner(Algorithm::kEs256, Es256Key());
  ASSERT_NE(signer, nullptr);
  absl::StatusOr<std::string> token =
      signer->Sign(FullPrincipal(), kNow, absl::Seconds(900));
  ASSERT_THAT(token, IsOk());
  const std::vector<std::string> parts = Parts(*token);
  ASSERT_EQ(parts.size(), 3u);

  EXPECT_EQ(Json::parse(B64UrlDecode(parts[0])),
            Json({{"alg", "ES256"}, {"typ", "JWT"}}));
  const Json claims = Json::parse(B64UrlDecode(parts[1]));
  const int64_t now = absl::ToUnixSeconds(kNow);
  EXPECT_EQ(claims["iss"], kIssuer);
  EXPECT_EQ(claims["aud"], kAudience);
  EXPECT_EQ(claims["sub"], kSubject);
  EXPECT_EQ(claims["iat"], now);
  EXPECT_EQ(claims["nbf"], now);
  EXPECT_EQ(claims["exp"], now + 900);
  EXPECT_EQ(claims["role"], "hub_operator");
  EXPECT_EQ(claims["municipality"], "27100");
  EXPECT_EQ(claims["areas"], Json({"27102", "27104"}));
  EXPECT_EQ(claims["schools"], Json({"s-001"}));
  EXPECT_EQ(claims["hubs"], Json({"h-01", "h-02", "h-03"}));
  // JWS ES256 signatures are the raw 64-byte R || S, not DER.
  EXPECT_EQ(B64UrlDecode(parts[2]).size(), 64u);
}

TEST(TokenVerifier, AcceptsIndependentlyBuiltToken) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  absl::StatusOr<Principal> principal = verifier->Verify(
      HandSigned(Es256Key(), Header("ES256"), ValidClaims()), kNow);
  ASSERT_THAT(principal, IsOk());
  EXPECT_EQ(principal->role, Role::kCaseWorker);
  EXPECT_THAT(principal->schools, IsEmpty());
  EXPECT_THAT(principal->hubs, IsEmpty());
}

TEST(TokenVerifier, AcceptsTokenWithOnlyRequiredClaims) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  const Json claims = {{"iss", kIssuer},
                       {"aud", kAudience},
                       {"sub", "svc-intake"},
                       {"exp", absl::ToUnixSeconds(kNow) + 60},
                       {"role", "service"}};
  absl::StatusOr<Principal> principal = verifier->Verify(
      HandSigned(Es256Key(), {{"alg", "ES256"}}, claims), kNow);
  ASSERT_THAT(principal, IsOk());
  EXPECT_EQ(principal->subject, "svc-intake");
  EXPECT_EQ(principal->role, Role::kService);
  EXPECT_THAT(principal->municipality, IsEmpty());
  EXPECT_THAT(principal->areas, IsEmpty());
}

// RFC 7515 appendix A.3: a fixed ES256 vector from outside this code base.
// The signature passes; the claims then fail on the missing audience.
TEST(TokenVerifier, VerifiesRfc7515Es256Signature) {
  constexpr char kRfcPublicKey[] =
      "-----BEGIN PUBLIC KEY-----\n"
      "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEf83OJ3D2xF1Bg8vub9tLe1gHMzV7\n"
      "6e8Tus9uPHvRVEXH8UTNG72bfocs3+257rn0s2ldbqkLJK2KRiMohYjlrQ==\n"
      "-----END PUBLIC KEY-----\n";
  constexpr char kRfcToken[] =
      "eyJhbGciOiJFUzI1NiJ9"
      ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxl"
      "LmNvbS9pc19yb290Ijp0cnVlfQ"
      ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQ"
      "xfKTUJqPP3-Kg6NU1Q";
  absl::StatusOr<std::unique_ptr<TokenVerifier>> verifier =
      TokenVerifier::Create({Algorithm::kEs256, kRfcPublicKey, "joe", "any"});
  ASSERT_THAT(verifier, IsOk());
  const absl::Time before_expiry = absl::FromUnixSeconds(1300819000);

  EXPECT_THAT((*verifier)->Verify(kRfcToken, before_expiry),
              Rejected("token claim 'aud' missing"));
  std::string tampered = kRfcToken;
  tampered[tampered.size() - 20] =
      tampered[tampered.size() - 20] == 'A' ? 'B' : 'A';
  EXPECT_THAT((*verifier)->Verify(tampered, before_expiry),
              Rejected("token signature invalid"));
}

// ---------------------------------------------------------------------------
// Time.

TEST(TokenVerifier, RejectsExpiredToken) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  const std::string token =
      HandSigned(Es256Key(), Header("ES256"), ValidClaims());
  EXPECT_THAT(
      verifier->Verify(token, kNow + absl::Hours(1) + absl::Seconds(61)),
      Rejected("token expired"));
}

TEST(TokenVerifier, AcceptsExpiredTokenWithinLeeway) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  const std::string token =
      HandSigned(Es256Key(), Header("ES256"), ValidClaims());
  EXPECT_THAT(
      verifier->Verify(token, kNow + absl::Hours(1) + absl::Seconds(59)),
      IsOk());
}

TEST(TokenVerifier, RejectsTokenAtExpiryWithoutLeeway) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier(absl::ZeroDuration());
  ASSERT_NE(verifier, nullptr);
  const std::string token =
      HandSigned(Es256Key(), Header("ES256"), ValidClaims());
  EXPECT_THAT(verifier->Verify(token, kNow + absl::Hours(1) - absl::Seconds(1)),
              IsOk());
  EXPECT_THAT(verifier->Verify(token, kNow + absl::Hours(1)),
              Rejected("token expired"));
}

TEST(TokenVerifier, RejectsTokenBeforeNotBefore) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  Json claims = ValidClaims();
  claims["nbf"] = absl::ToUnixSeconds(kNow) + 120;
  EXPECT_THAT(
      verifier->Verify(HandSigned(Es256Key(), Header("ES256"), claims), kNow),
      Rejected("token not yet valid"));
}

TEST(TokenVerifier, AcceptsNotBeforeWithinLeeway) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  Json claims = ValidClaims();
  claims["nbf"] = absl::ToUnixSeconds(kNow) + 30;
  EXPECT_THAT(
      verifier->Verify(HandSigned(Es256Key(), Header("ES256"), claims), kNow),
      IsOk());
}

TEST(TokenVerifier, AcceptsFractionalNumericDates) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier(absl::ZeroDuration());
  ASSERT_NE(verifier, nullptr);
  Json claims = ValidClaims();
  claims["exp"] = absl::ToUnixSeconds(kNow) + 10.5;
  const std::string token = HandSigned(Es256Key(), Header("ES256"), claims);
  EXPECT_THAT(verifier->Verify(token, kNow + absl::Seconds(10)), IsOk());
  EXPECT_THAT(verifier->Verify(token, kNow + absl::Milliseconds(10500)),
              Rejected("token expired"));
}

// ---------------------------------------------------------------------------
// Issuer and audience.

TEST(TokenVerifier, RejectsWrongIssuer) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  Json claims = ValidClaims();
  claims["iss"] = "https://evil.example";
  EXPECT_THAT(
      verifier->Verify(HandSigned(Es256Key(), Header("ES256"), claims), kNow),
      Rejected("token issuer mismatch"));
}

TEST(TokenVerifier, RejectsWrongAudience) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  Json claims = ValidClaims();
  claims["aud"] = "another-suite";
  EXPECT_THAT(
      verifier->Verify(HandSigned(Es256Key(), Header("ES256"), claims), kNow),
      Rejected("token audience mismatch"));
}

TEST(TokenVerifier, AcceptsAudienceArrayContainingAudience) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  Json claims = ValidClaims();
  claims["aud"] = {"another-suite", kAudience};
  EXPECT_THAT(
      verifier->Verify(HandSigned(Es256Key(), Header("ES256"), claims), kNow),
      IsOk());
}

TEST(TokenVerifier, RejectsAudienceArrayWithoutAudience) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  Json claims = ValidClaims();
  claims["aud"] = {"another-suite", "kosapo-admin"};
  EXPECT_THAT(
      verifier->Verify(HandSigned(Es256Key(), Header("ES256"), claims), kNow),
      Rejected("token audience mismatch"));
  claims["aud"] = Json::array();
  EXPECT_THAT(
      verifier->Verify(HandSigned(Es256Key(), Header("ES256"), claims), kNow),
      Rejected("token audience mismatch"));
}

// ---------------------------------------------------------------------------
// Algorithm pinning.

TEST(TokenVerifier, RejectsAlgNoneToken) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  for (const char* alg : {"none", "None", "NONE"}) {
    const std::string token =
        absl::StrCat(B64Url(Json({{"alg", alg}, {"typ", "JWT"}}).dump()), ".",
                     B64Url(ValidClaims().dump()), ".");
    EXPECT_THAT(verifier->Verify(token, kNow),
                Rejected("token algorithm not allowed"))
        << alg;
  }
}

TEST(TokenVerifier, RejectsMissingAlgorithm) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  EXPECT_THAT(
      verifier->Verify(HandSigned(Es256Key(), {{"typ", "JWT"}}, ValidClaims()),
                       kNow),
      Rejected("token algorithm not allowed"));
  EXPECT_THAT(verifier->Verify(
                  HandSigned(Es256Key(), {{"alg", 256}}, ValidClaims()), kNow),
              Rejected("token algorithm not allowed"));
  EXPECT_THAT(
      verifier->Verify(
          HandSigned(Es256Key(), {{"alg", "es256"}}, ValidClaims()), kNow),
      Rejected("token algorithm not allowed"));
}

// The classic confusion: an HMAC keyed with the verifier's public key PEM,
// which an attacker knows.
std::string Hs256TokenKeyedWith(std::string_view secret) {
  const std::string input = absl::StrCat(B64Url(Header("HS256").dump()), ".",
                                         B64Url(ValidClaims().dump()));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
       &mac_length);
  return absl::StrCat(
      input, ".",
      B64Url(std::string_view(reinterpret_cast<const char*>(mac), mac_length)));
}

TEST(TokenVerifier, RejectsHs256TokenKeyedWithPublicKey) {
  for (Algorithm algorithm : {Algorithm::kEs256, Algorithm::kRs256}) {
    std::unique_ptr<TokenVerifier> verifier =
        MakeVerifier(algorithm, KeyFor(algorithm));
    ASSERT_NE(verifier, nullptr);
    EXPECT_THAT(verifier->Verify(
                    Hs256TokenKeyedWith(KeyFor(algorithm).public_pem), kNow),
                Rejected("token algorithm not allowed"));
  }
}

TEST(TokenVerifier, RejectsRs256TokenForEs256Verifier) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  std::unique_ptr<TokenSigner> signer =
      MakeSigner(Algorithm::kRs256, Rs256Key());
  ASSERT_NE(verifier, nullptr);
  ASSERT_NE(signer, nullptr);
  absl::StatusOr<std::string> token =
      signer->Sign(FullPrincipal(), kNow, absl::Hours(1));
  ASSERT_THAT(token, IsOk());
  EXPECT_THAT(verifier->Verify(*token, kNow),
              Rejected("token algorithm not allowed"));
}

TEST(TokenVerifier, RejectsEs256TokenForRs256Verifier) {
  std::unique_ptr<TokenVerifier> verifier =
      MakeVerifier(Algorithm::kRs256, Rs256Key());
  ASSERT_NE(verifier, nullptr);
  EXPECT_THAT(verifier->Verify(
                  HandSigned(Es256Key(), Header("ES256"), ValidClaims()), kNow),
              Rejected("token algorithm not allowed"));
}

// An RS256-labelled token must not verify against an EC key even if the
// header claims the configured algorithm: the key decides, not the header.
TEST(TokenVerifier, RejectsEs256LabelOnRsaSignature) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  EXPECT_THAT(verifier->Verify(
                  HandSigned(Rs256Key(), Header("ES256"), ValidClaims()), kNow),
              Rejected("token signature invalid"));
}

TEST(TokenVerifier, RejectsCriticalHeaderAndForeignType) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  Json critical = Header("ES256");
  critical["crit"] = {"exp"};
  EXPECT_THAT(
      verifier->Verify(HandSigned(Es256Key(), critical, ValidClaims()), kNow),
      Rejected("token header not supported"));
  Json foreign = Header("ES256");
  foreign["typ"] = "dpop+jwt";
  EXPECT_THAT(
      verifier->Verify(HandSigned(Es256Key(), foreign, ValidClaims()), kNow),
      Rejected("token type not allowed"));
}

// ---------------------------------------------------------------------------
// Signatures.

TEST(TokenVerifier, RejectsTamperedPayload) {
  std::unique_ptr<TokenSigner> signer =
      MakeSigner(Algorithm::kEs256, Es256Key());
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(signer, nullptr);
  ASSERT_NE(verifier, nullptr);
  absl::StatusOr<std::string> token =
      signer->Sign(FullPrincipal(), kNow, absl::Hours(1));
  ASSERT_THAT(token, IsOk());
  const std::vector<std::string> parts = Parts(*token);
  ASSERT_EQ(parts.size(), 3u);

  Json claims = Json::parse(B64UrlDecode(parts[1]));
  claims["role"] = "city_operations";
  const std::string tampered =
      absl::StrCat(parts[0], ".", B64Url(claims.dump()), ".", parts[2]);
  EXPECT_THAT(verifier->Verify(tampered, kNow),
              Rejected("token signature invalid"));
}

TEST(TokenVerifier, RejectsTamperedSignature) {
  for (Algorithm algorithm : {Algorithm::kEs256, Algorithm::kRs256}) {
    std::unique_ptr<TokenSigner> signer =
        MakeSigner(algorithm, KeyFor(algorithm));
    std::unique_ptr<TokenVerifier> verifier =
        MakeVerifier(algorithm, KeyFor(algorithm));
    ASSERT_NE(signer, nullptr);
    ASSERT_NE(verifier, nullptr);
    absl::StatusOr<std::string> token =
        signer->Sign(FullPrincipal(), kNow, absl::Hours(1));
    ASSERT_THAT(token, IsOk());
    const size_t signature_start = token->rfind('.') + 1;

    std::string flipped = *token;
    char& c = flipped[signature_start + 10];
    c = c == 'A' ? 'B' : 'A';
    EXPECT_THAT(verifier->Verify(flipped, kNow),
                Rejected("token signature invalid"));

    const std::string signature = B64UrlDecode(token->substr(signature_start));
    const std::string truncated =
        absl::StrCat(token->substr(0, signature_start),
                     B64Url(signature.substr(0, signature.size() - 1)));
    EXPECT_THAT(verifier->Verify(truncated, kNow),
                Rejected("token signature invalid"));

    const std::string unsigned_token = token->substr(0, signature_start);
    EXPECT_THAT(verifier->Verify(unsigned_token, kNow),
                Rejected("token signature invalid"));
  }
}

TEST(TokenVerifier, RejectsTokenSignedByAnotherKey) {
  std::unique_ptr<TokenVerifier> es256 = Es256Verifier();
  std::unique_ptr<TokenVerifier> rs256 =
      MakeVerifier(Algorithm::kRs256, Rs256Key());
  ASSERT_NE(es256, nullptr);
  ASSERT_NE(rs256, nullptr);
  EXPECT_THAT(
      es256->Verify(HandSigned(OtherEs256Key(), Header("ES256"), ValidClaims()),
                    kNow),
      Rejected("token signature invalid"));
  EXPECT_THAT(
      rs256->Verify(HandSigned(OtherRs256Key(), Header("RS256"), ValidClaims()),
                    kNow),
      Rejected("token signature invalid"));
}

// Key rotation: tokens name their key with "kid"; old and new keys verify
// side by side, each token only with the key it names.
TEST(TokenVerifier, VerifiesEachTokenWithTheKeyItsKidNames) {
  VerifierOptions options{Algorithm::kEs256, "", kIssuer, kAudience,
                          absl::Seconds(60)};
  options.keys_by_id = {{"2026-10", Es256Key().public_pem},
                        {"2026-11", OtherEs256Key().public_pem}};
  absl::StatusOr<std::unique_ptr<TokenVerifier>> verifier =
      TokenVerifier::Create(options);
  ASSERT_THAT(verifier, IsOk());
  for (const auto& [kid, key] :
       std::vector<std::pair<std::string, const KeyPair*>>{
           {"2026-10", &Es256Key()}, {"2026-11", &OtherEs256Key()}}) {
    absl::StatusOr<std::unique_ptr<TokenSigner>> signer = TokenSigner::Create(
        {Algorithm::kEs256, key->private_pem, kIssuer, kAudience, kid});
    ASSERT_THAT(signer, IsOk());
    absl::StatusOr<std::string> token =
        (*signer)->Sign(FullPrincipal(), kNow, absl::Hours(1));
    ASSERT_THAT(token, IsOk());
    EXPECT_EQ(Json::parse(B64UrlDecode(Parts(*token)[0]))["kid"], kid);
    EXPECT_THAT((*verifier)->Verify(*token, kNow), IsOk()) << kid;
  }
  Json header = Header("ES256");
  // Signed by the old key but naming the new one.
  header["kid"] = "2026-11";
  EXPECT_THAT(
      (*verifier)->Verify(HandSigned(Es256Key(), header, ValidClaims()), kNow),
      Rejected("token signature invalid"));
  header["kid"] = "2025-01";  // retired
  EXPECT_THAT(
      (*verifier)->Verify(HandSigned(Es256Key(), header, ValidClaims()), kNow),
      Rejected("token key id unknown"));
  header["kid"] = 7;
  EXPECT_THAT(
      (*verifier)->Verify(HandSigned(Es256Key(), header, ValidClaims()), kNow),
      Rejected("token key id not allowed"));
  // Without a kid there is no key to use: only keys by id are configured.
  EXPECT_THAT((*verifier)->Verify(
                  HandSigned(Es256Key(), Header("ES256"), ValidClaims()), kNow),
              Rejected("token key id missing"));

  // A verifier with a key for kid-less tokens still uses it for them, and
  // checks named keys against the algorithm too.
  options.public_key_pem = Es256Key().public_pem;
  verifier = TokenVerifier::Create(options);
  ASSERT_THAT(verifier, IsOk());
  EXPECT_THAT((*verifier)->Verify(
                  HandSigned(Es256Key(), Header("ES256"), ValidClaims()), kNow),
              IsOk());
  options.keys_by_id["rsa"] = Rs256Key().public_pem;
  EXPECT_THAT(TokenVerifier::Create(options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("public key \"rsa\"")));
  options.keys_by_id = {{"", Es256Key().public_pem}};
  EXPECT_THAT(TokenVerifier::Create(options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("key id is empty")));
  options.keys_by_id.clear();
  options.public_key_pem.clear();
  EXPECT_THAT(
      TokenVerifier::Create(options),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no public key")));
}

// ---------------------------------------------------------------------------
// Claims.

TEST(TokenVerifier, RejectsUnknownRole) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  for (const char* role : {"superuser", "Case_Worker", "case_worker ", ""}) {
    Json claims = ValidClaims();
    claims["role"] = role;
    EXPECT_THAT(
        verifier->Verify(HandSigned(Es256Key(), Header("ES256"), claims), kNow),
        StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("role")))
        << role;
  }
}

TEST(TokenVerifier, RejectsMissingRequiredClaims) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  for (const char* claim : {"exp", "iss", "aud", "sub", "role"}) {
    Json claims = ValidClaims();
    claims.erase(claim);
    EXPECT_THAT(
        verifier->Verify(HandSigned(Es256Key(), Header("ES256"), claims), kNow),
        Rejected(absl::StrCat("token claim '", claim, "' missing")));
  }
  Json claims = ValidClaims();
  claims["sub"] = "";
  EXPECT_THAT(
      verifier->Verify(HandSigned(Es256Key(), Header("ES256"), claims), kNow),
      Rejected("token claim 'sub' missing"));
}

TEST(TokenVerifier, RejectsClaimsOfWrongType) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  const std::vector<std::pair<std::string, Json>> cases = {
      {"exp", "1700003600"},
      {"exp", true},
      {"nbf", "1700000000"},
      {"iat", Json::object()},
      {"iss", 7},
      {"aud", 7},
      {"aud", Json::array({kAudience, 7})},
      {"sub", 12345},
      {"role", Json::array({"case_worker"})},
      {"municipality", 27100},
      {"areas", "27102"},
      {"areas", Json::array({"27102", 27104})},
      {"schools", nullptr},
      {"hubs", Json::array({Json::object({{"id", "h-01"}})})},
  };
  for (const auto& [claim, value] : cases) {
    Json claims = ValidClaims();
    claims[claim] = value;
    EXPECT_THAT(
        verifier->Verify(HandSigned(Es256Key(), Header("ES256"), claims), kNow),
        Rejected(absl::StrCat("token claim '", claim, "' has wrong type")))
        << claim << " = " << value.dump();
  }
}

TEST(TokenVerifier, RejectsClaimsWithImplausibleValues) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  const std::vector<std::pair<std::string, Json>> cases = {
      {"exp", -1},
      {"exp", 1e300},
      {"exp", 253402300800},  // Past the year 9999.
      {"exp", 18446744073709551615u},
      {"nbf", -0.5},
      {"areas", Json::array({"27102", ""})},
      {"schools", Json::array({""})},
      {"hubs", Json::array({""})},
  };
  for (const auto& [claim, value] : cases) {
    Json claims = ValidClaims();
    claims[claim] = value;
    EXPECT_THAT(
        verifier->Verify(HandSigned(Es256Key(), Header("ES256"), claims), kNow),
        Rejected(absl::StrCat("token claim '", claim, "' invalid")))
        << claim << " = " << value.dump();
  }
}

TEST(TokenVerifier, RejectsDuplicateClaim) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  std::string payload = ValidClaims().dump();
  ASSERT_EQ(payload.back(), '}');
  payload.insert(payload.size() - 1, R"(,"role":"city_operations")");
  EXPECT_THAT(
      verifier->Verify(
          HandSignedText(Es256Key(), Header("ES256").dump(), payload), kNow),
      Rejected("malformed token"));
}

TEST(TokenVerifier, ErrorMessagesDoNotEchoTokenOrClaims) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  constexpr char kMarker[] = "Yamada-Taro-secret";
  for (const char* claim : {"iss", "aud", "role", "exp", "areas"}) {
    Json claims = ValidClaims();
    claims[claim] = kMarker;
    const std::string token = HandSigned(Es256Key(), Header("ES256"), claims);
    const absl::Status status = verifier->Verify(token, kNow).status();
    EXPECT_FALSE(status.ok());
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr(kMarker)));
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr(token)));
  }
}

// ---------------------------------------------------------------------------
// Malformed input.

TEST(TokenVerifier, RejectsMalformedTokens) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  const std::string good =
      HandSigned(Es256Key(), Header("ES256"), ValidClaims());
  const std::vector<std::string> parts = Parts(good);
  ASSERT_EQ(parts.size(), 3u);
  const std::string header = parts[0];

  // The same signature bytes with a non-zero unused trailing bit: only one
  // encoding of a token is accepted.
  // A 64-byte ES256 signature leaves 4 unused bits in its last character.
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string non_canonical = good;
  const size_t last_value = kAlphabet.find(non_canonical.back());
  ASSERT_EQ(last_value % 16, 0u);
  non_canonical.back() = kAlphabet[last_value + 1];
  ASSERT_EQ(B64UrlDecode(parts[2]),
            B64UrlDecode(non_canonical.substr(non_canonical.rfind('.') + 1)));

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty", ""},
      {"non-canonical base64", non_canonical},
      {"no dots", "abcdef"},
      {"one dot", absl::StrCat(parts[0], ".", parts[1])},
      {"four parts", absl::StrCat(good, ".", parts[2])},
      {"five parts (JWE)", absl::StrCat(good, ".", parts[1], ".", parts[2])},
      {"empty header", absl::StrCat(".", parts[1], ".", parts[2])},
      {"empty payload", absl::StrCat(parts[0], "..", parts[2])},
      {"bad base64 header", absl::StrCat("e*J.", parts[1], ".", parts[2])},
      {"padded header", absl::StrCat(header, "==.", parts[1], ".", parts[2])},
      {"standard base64 alphabet",
       absl::StrCat(header, ".", parts[1], ".", parts[2], "+/")},
      {"whitespace", absl::StrCat(" ", good)},
      {"non-JSON header",
       absl::StrCat(B64Url("not json"), ".", parts[1], ".", parts[2])},
      {"header is an array",
       absl::StrCat(B64Url(R"(["ES256"])"), ".", parts[1], ".", parts[2])},
      {"header with trailing garbage",
       absl::StrCat(B64Url(Header("ES256").dump() + "x"), ".", parts[1], ".",
                    parts[2])},
      {"non-JSON payload",
       HandSignedText(Es256Key(), Header("ES256").dump(), "not json")},
      {"payload is a string",
       HandSignedText(Es256Key(), Header("ES256").dump(), R"("claims")")},
      {"payload not UTF-8", HandSignedText(Es256Key(), Header("ES256").dump(),
                                           "{\"sub\":\"\xff\xfe\"}")},
      {"huge", std::string(kMaxTokenSize + 1, 'a')},
      {"huge but well formed",
       absl::StrCat(header, ".", std::string(kMaxTokenSize, 'A'), ".",
                    parts[2])},
  };
  for (const auto& [name, token] : cases) {
    EXPECT_THAT(verifier->Verify(token, kNow), Rejected("malformed token"))
        << name;
  }
}

TEST(TokenVerifier, RejectsSignedTokenLargerThanLimit) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  Json claims = ValidClaims();
  claims["schools"] = std::vector<std::string>(1000, "s-000001");
  const std::string token = HandSigned(Es256Key(), Header("ES256"), claims);
  ASSERT_GT(token.size(), kMaxTokenSize);
  EXPECT_THAT(verifier->Verify(token, kNow), Rejected("malformed token"));
}

// ---------------------------------------------------------------------------
// The cache of verified tokens: what it remembers never outlives the checks.

TEST(TokenVerifierCache, AnswersARepeatedTokenWithTheSamePrincipal) {
  std::unique_ptr<TokenSigner> signer =
      MakeSigner(Algorithm::kEs256, Es256Key());
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(signer, nullptr);
  ASSERT_NE(verifier, nullptr);
  absl::StatusOr<std::string> token =
      signer->Sign(FullPrincipal(), kNow, absl::Hours(1));
  ASSERT_THAT(token, IsOk());
  absl::StatusOr<Principal> first = verifier->Verify(*token, kNow);
  absl::StatusOr<Principal> again =
      verifier->Verify(*token, kNow + absl::Minutes(30));
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->subject, first->subject);
  EXPECT_EQ(again->role, first->role);
  EXPECT_EQ(again->municipality, first->municipality);
  EXPECT_EQ(again->areas, first->areas);
  EXPECT_EQ(again->schools, first->schools);
  EXPECT_EQ(again->hubs, first->hubs);
  EXPECT_EQ(again->expire_time, first->expire_time);
}

TEST(TokenVerifierCache, ACachedTokenStillExpires) {
  for (absl::Duration leeway : {absl::ZeroDuration(), absl::Seconds(60)}) {
    std::unique_ptr<TokenVerifier> verifier = Es256Verifier(leeway);
    ASSERT_NE(verifier, nullptr);
    const std::string token =
        HandSigned(Es256Key(), Header("ES256"), ValidClaims());
    ASSERT_THAT(verifier->Verify(token, kNow), IsOk());
    EXPECT_THAT(verifier->Verify(
                    token, kNow + absl::Hours(1) + leeway - absl::Seconds(1)),
                IsOk());
    EXPECT_THAT(verifier->Verify(token, kNow + absl::Hours(1) + leeway),
                Rejected("token expired"));
  }
}

TEST(TokenVerifierCache, ACachedTokenIsNotValidBeforeItsNotBefore) {
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(verifier, nullptr);
  Json claims = ValidClaims();
  claims["nbf"] = absl::ToUnixSeconds(kNow) + 30;
  const std::string token = HandSigned(Es256Key(), Header("ES256"), claims);
  ASSERT_THAT(verifier->Verify(token, kNow), IsOk());  // within the leeway
  // The clock stepped back: the same token, asked earlier, is refused.
  EXPECT_THAT(verifier->Verify(token, kNow - absl::Seconds(31)),
              Rejected("token not yet valid"));
}

TEST(TokenVerifierCache, OnlyTheExactTokenIsRemembered) {
  std::unique_ptr<TokenSigner> signer =
      MakeSigner(Algorithm::kEs256, Es256Key());
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(signer, nullptr);
  ASSERT_NE(verifier, nullptr);
  absl::StatusOr<std::string> token =
      signer->Sign(FullPrincipal(), kNow, absl::Hours(1));
  ASSERT_THAT(token, IsOk());
  ASSERT_THAT(verifier->Verify(*token, kNow), IsOk());

  // The remembered signature under other claims, and the token with bytes
  // added: each verified in full, and refused.
  const std::vector<std::string> parts = Parts(*token);
  ASSERT_EQ(parts.size(), 3u);
  Json claims = Json::parse(B64UrlDecode(parts[1]));
  claims["role"] = "city_operations";
  EXPECT_THAT(
      verifier->Verify(
          absl::StrCat(parts[0], ".", B64Url(claims.dump()), ".", parts[2]),
          kNow),
      Rejected("token signature invalid"));
  EXPECT_THAT(verifier->Verify(absl::StrCat(*token, "AA"), kNow),
              Rejected("token signature invalid"));
}

TEST(TokenVerifierCache, ASmallCacheStaysCorrectUnderChurn) {
  // One entry per shard: every shard is emptied again and again.
  VerifierOptions options{Algorithm::kEs256, Es256Key().public_pem, kIssuer,
                          kAudience};
  options.cache_entries = 16;
  absl::StatusOr<std::unique_ptr<TokenVerifier>> verifier =
      TokenVerifier::Create(options);
  ASSERT_THAT(verifier, IsOk());
  std::vector<std::string> tokens;
  for (int i = 0; i < 100; ++i) {
    Json claims = ValidClaims();
    claims["sub"] = absl::StrCat("user:", i);
    tokens.push_back(HandSigned(Es256Key(), Header("ES256"), claims));
  }
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 100; ++i) {
      absl::StatusOr<Principal> principal =
          (*verifier)->Verify(tokens[i], kNow);
      ASSERT_THAT(principal, IsOk());
      EXPECT_EQ(principal->subject, absl::StrCat("user:", i));
    }
  }
}

// ---------------------------------------------------------------------------
// Construction.

TEST(TokenVerifier, CreateRejectsKeysThatDoNotFitTheAlgorithm) {
  const KeyPair p384 = GenerateEc("P-384");
  const KeyPair rsa1024 = GenerateRsa(1024);
  const std::vector<std::pair<Algorithm, std::string>> cases = {
      {Algorithm::kEs256, Rs256Key().public_pem},
      {Algorithm::kEs256, p384.public_pem},
      {Algorithm::kRs256, Es256Key().public_pem},
      {Algorithm::kRs256, rsa1024.public_pem},
      {Algorithm::kEs256, Es256Key().private_pem},
      {Algorithm::kEs256,
       "-----BEGIN PUBLIC KEY-----\nAAAA\n"
       "-----END PUBLIC KEY-----\n"},
      {Algorithm::kEs256, ""},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_THAT(TokenVerifier::Create(
                    {cases[i].first, cases[i].second, kIssuer, kAudience}),
                StatusIs(absl::StatusCode::kInvalidArgument, testing::_))
        << "case " << i;
  }
}

TEST(TokenVerifier, CreateRejectsMissingIssuerAudienceOrNegativeLeeway) {
  const std::string& pem = Es256Key().public_pem;
  EXPECT_THAT(
      TokenVerifier::Create({Algorithm::kEs256, pem, "", kAudience}),
      StatusIs(absl::StatusCode::kInvalidArgument, "issuer is required"));
  EXPECT_THAT(
      TokenVerifier::Create({Algorithm::kEs256, pem, kIssuer, ""}),
      StatusIs(absl::StatusCode::kInvalidArgument, "audience is required"));
  EXPECT_THAT(TokenVerifier::Create({Algorithm::kEs256, pem, kIssuer, kAudience,
                                     absl::Seconds(-1)}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "leeway must not be negative"));
}

TEST(TokenVerifier, VerifiesConcurrently) {
  std::unique_ptr<TokenSigner> signer =
      MakeSigner(Algorithm::kEs256, Es256Key());
  std::unique_ptr<TokenVerifier> verifier = Es256Verifier();
  ASSERT_NE(signer, nullptr);
  ASSERT_NE(verifier, nullptr);
  absl::StatusOr<std::string> good =
      signer->Sign(FullPrincipal(), kNow, absl::Hours(1));
  ASSERT_THAT(good, IsOk());
  const std::string bad =
      HandSigned(OtherEs256Key(), Header("ES256"), ValidClaims());

  std::atomic<int> wrong_results{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (!verifier->Verify(*good, kNow).ok() ||
            verifier->Verify(bad, kNow).ok()) {
          ++wrong_results;
        }
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(wrong_results.load(), 0);
}

TEST(TokenSigner, CreateRejectsUnusableKeys) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free);
  ASSERT_NE(key, nullptr);
  // Encrypted keys are refused without prompting on the terminal.
  const KeyPair encrypted =
      PemPair(key.get(), EVP_aes_256_cbc(), "correct horse");
  ASSERT_THAT(encrypted.private_pem, HasSubstr("ENCRYPTED"));

  const std::vector<std::pair<Algorithm, std::string>> cases = {
      {Algorithm::kEs256, encrypted.private_pem},
      {Algorithm::kEs256, Es256Key().public_pem},
      {Algorithm::kEs256, Rs256Key().private_pem},
      {Algorithm::kRs256, Es256Key().private_pem},
      {Algorithm::kRs256, "garbage"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_THAT(TokenSigner::Create(
                    {cases[i].first, cases[i].second, kIssuer, kAudience}),
                StatusIs(absl::StatusCode::kInvalidArgument, testing::_))
        << "case " << i;
  }
}

TEST(TokenSigner, SignRejectsInvalidPrincipalOrTtl) {
  std::unique_ptr<TokenSigner> signer =
      MakeSigner(Algorithm::kEs256, Es256Key());
  ASSERT_NE(signer, nullptr);

  Principal no_subject = FullPrincipal();
  no_subject.subject.clear();
  EXPECT_THAT(signer->Sign(no_subject, kNow, absl::Hours(1)),
              StatusIs(absl::StatusCode::kInvalidArgument, testing::_));

  Principal bad_role = FullPrincipal();
  bad_role.role = static_cast<Role>(99);
  EXPECT_THAT(signer->Sign(bad_role, kNow, absl::Hours(1)),
              StatusIs(absl::StatusCode::kInvalidArgument, testing::_));

  Principal not_utf8 = FullPrincipal();
  not_utf8.areas.push_back("\xff");
  EXPECT_THAT(signer->Sign(not_utf8, kNow, absl::Hours(1)),
              StatusIs(absl::StatusCode::kInvalidArgument, testing::_));

  Principal too_big = FullPrincipal();
  too_big.schools.assign(1000, "s-000001");
  EXPECT_THAT(signer->Sign(too_big, kNow, absl::Hours(1)),
              StatusIs(absl::StatusCode::kInvalidArgument, testing::_));

  EXPECT_THAT(signer->Sign(FullPrincipal(), kNow, absl::ZeroDuration()),
              StatusIs(absl::StatusCode::kInvalidArgument, testing::_));
  EXPECT_THAT(signer->Sign(FullPrincipal(), kNow, absl::InfiniteDuration()),
              StatusIs(absl::StatusCode::kInvalidArgument, testing::_));
}

TEST(ParseAlgorithm, AcceptsOnlyExactNames) {
  EXPECT_THAT(ParseAlgorithm("ES256"), IsOk());
  EXPECT_EQ(*ParseAlgorithm("ES256"), Algorithm::kEs256);
  EXPECT_EQ(*ParseAlgorithm("RS256"), Algorithm::kRs256);
  for (const char* name : {"es256", "HS256", "none", "PS256", ""}) {
    EXPECT_THAT(ParseAlgorithm(name),
                StatusIs(absl::StatusCode::kInvalidArgument, testing::_))
        << name;
  }
  EXPECT_EQ(AlgorithmName(Algorithm::kEs256), "ES256");
  EXPECT_EQ(AlgorithmName(Algorithm::kRs256), "RS256");
}

}  // namespace
}  // namespace kosapo::auth
