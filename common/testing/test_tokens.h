// Development tokens for tests: a fresh ES256 key pair per instance and a
// signer for principals of any role, with the same issuer and audience the
// services default to.
#ifndef KOSAPO_COMMON_TESTING_TEST_TOKENS_H_
#define KOSAPO_COMMON_TESTING_TEST_TOKENS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/auth/jwt.h"
#include "common/auth/principal.h"

namespace kosapo::testing {

class TestTokens {
 public:
  static constexpr char kIssuer[] = "kosapo-dev";
  static constexpr char kAudience[] = "kosapo";

  // Tokens name `key_id` in their "kid" header when it is not empty.
  static absl::StatusOr<std::unique_ptr<TestTokens>> Create(
      const std::string& key_id = "");

  const std::string& public_key_pem() const { return public_key_pem_; }
  // Writes the public key to `path` (for a service's --jwt_public_key_file).
  absl::Status WritePublicKey(const std::string& path) const;
  std::unique_ptr<auth::TokenVerifier> Verifier() const;

  // A token valid for an hour.
  std::string Sign(const auth::Principal& principal) const;
  std::string Sign(auth::Role role, const std::string& subject) const;

 private:
  TestTokens(std::string public_key_pem,
             std::unique_ptr<auth::TokenSigner> signer)
      : public_key_pem_(std::move(public_key_pem)),
        signer_(std::move(signer)) {}

  std::string public_key_pem_;
  std::unique_ptr<auth::TokenSigner> signer_;
};

}  // namespace kosapo::testing

#endif  // KOSAPO_COMMON_TESTING_TEST_TOKENS_H_
