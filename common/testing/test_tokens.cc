#include "common/testing/test_tokens.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace kosapo::testing {
namespace {

std::string ToPem(EVP_PKEY* key, bool private_key) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (private_key) {
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  } else {
    PEM_write_bio_PUBKEY(bio, key);
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(length));
  BIO_free(bio);
  return pem;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TestTokens>> TestTokens::Create(
    const std::string& key_id) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) {
    return absl::InternalError("cannot generate a P-256 key");
  }
  const std::string private_pem = ToPem(key, true);
  std::string public_pem = ToPem(key, false);
  EVP_PKEY_free(key);
  auth::SignerOptions options;
  options.algorithm = auth::Algorithm::kEs256;
  options.private_key_pem = private_pem;
  options.issuer = kIssuer;
  options.audience = kAudience;
  options.key_id = key_id;
  auto signer = auth::TokenSigner::Create(options);
  if (!signer.ok()) {
    return signer.status();
  }
  return std::unique_ptr<TestTokens>(
      new TestTokens(std::move(public_pem), *std::move(signer)));
}

absl::Status TestTokens::WritePublicKey(const std::string& path) const {
  std::ofstream out(path);
  out << public_key_pem_;
  out.close();
  if (!out) {
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

std::unique_ptr<auth::TokenVerifier> TestTokens::Verifier() const {
  auth::VerifierOptions options;
  options.algorithm = auth::Algorithm::kEs256;
  options.public_key_pem = public_key_pem_;
  options.issuer = kIssuer;
  options.audience = kAudience;
  return *auth::TokenVerifier::Create(options);
}

std::string TestTokens::Sign(const auth::Principal& principal) const {
  return signer_->Sign(principal, absl::Now(), absl::Hours(1)).value();
}

std::string TestTokens::Sign(auth::Role role,
                             const std::string& subject) const {
  auth::Principal principal;
  principal.subject = subject;
  principal.role = role;
  principal.municipality = "27100";
  return Sign(principal);
}

}  // namespace kosapo::testing
