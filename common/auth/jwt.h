// Bearer tokens: compact JWS (RFC 7515/7519) signed with ES256 or RS256.
//
// The verifier accepts only the one algorithm it was configured with, checks
// the signature before reading any claim, and turns the claims into a
// Principal. Every rejection is UNAUTHENTICATED with a short message naming
// the check that failed; messages never contain the token or claim values.
#ifndef KOSAPO_COMMON_AUTH_JWT_H_
#define KOSAPO_COMMON_AUTH_JWT_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/principal.h"

namespace kosapo::auth {

enum class Algorithm { kEs256, kRs256 };

// "ES256" or "RS256" (exact, as in the JWS "alg" header); INVALID_ARGUMENT
// otherwise.
absl::StatusOr<Algorithm> ParseAlgorithm(std::string_view name);

// "ES256" or "RS256".
std::string_view AlgorithmName(Algorithm algorithm);

// Tokens longer than this are rejected as malformed before any decoding.
inline constexpr size_t kMaxTokenSize = 8 * 1024;

struct VerifierOptions {
  Algorithm algorithm = Algorithm::kEs256;
  // SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----") verifying
  // tokens without a "kid" header; may be empty when `keys_by_id` is not.
  std::string public_key_pem;
  // Required; "iss" must equal it.
  std::string issuer;
  // Required; "aud" (a string or an array of strings) must contain it.
  std::string audience;
  // Clock skew tolerated on "exp" and "nbf"; must not be negative.
  absl::Duration leeway = absl::Seconds(60);
  // Keys by key id, for rotation: a token with a "kid" header is verified
  // with the key of that id only (an unknown id is rejected), so old and
  // new keys verify side by side while tokens of the old one expire.
  std::map<std::string, std::string> keys_by_id{};
  // Tokens verified recently, kept so that a client calling many times with
  // the same token pays for its signature once (an ES256 verification costs
  // about as much as the rest of a small call). A cached token is still
  // refused once outside its "nbf"/"exp" window; any other token, however
  // similar, is verified in full. 0 turns the cache off.
  size_t cache_entries = 4096;
};

// Verifies bearer tokens against one public key. Immutable after Create, so
// Verify may be called from any number of threads at once.
class TokenVerifier {
 public:
  // INVALID_ARGUMENT if a key does not parse or does not fit the algorithm
  // (an EC P-256 key for ES256, an RSA key of at least 2048 bits for RS256),
  // if there is no key at all, a key id is empty, or issuer or audience is
  // empty or leeway is negative.
  static absl::StatusOr<std::unique_ptr<TokenVerifier>> Create(
      const VerifierOptions& options);

  TokenVerifier(const TokenVerifier&) = delete;
  TokenVerifier& operator=(const TokenVerifier&) = delete;
  ~TokenVerifier();

  // The caller named by `token` if the token is well formed, signed by the
  // key its "kid" names (or the key for tokens without one) with the
  // configured algorithm, valid at `now` (within the
  // leeway), issued by the issuer for the audience, and carries a subject and
  // a known role. UNAUTHENTICATED otherwise.
  absl::StatusOr<Principal> Verify(std::string_view token,
                                   absl::Time now) const;

 private:
  struct Key;
  class Cache;
  TokenVerifier(const VerifierOptions& options, std::unique_ptr<Key> key);

  absl::StatusOr<Principal> VerifyUncached(std::string_view token,
                                           absl::Time now,
                                           absl::Time* not_before) const;

  Algorithm algorithm_;
  std::string issuer_;
  std::string audience_;
  absl::Duration leeway_;
  std::unique_ptr<Key> key_;
  std::unique_ptr<Cache> cache_;  // null when off
};

struct SignerOptions {
  Algorithm algorithm = Algorithm::kEs256;
  // PKCS#8 ("-----BEGIN PRIVATE KEY-----") or traditional EC/RSA PEM; must
  // not be encrypted.
  std::string private_key_pem;
  std::string issuer;
  std::string audience;
  // Written as the "kid" header when not empty.
  std::string key_id{};
};

// Mints bearer tokens with one private key. Immutable after Create and safe
// to use from many threads.
class TokenSigner {
 public:
  // INVALID_ARGUMENT on the same conditions as TokenVerifier::Create.
  static absl::StatusOr<std::unique_ptr<TokenSigner>> Create(
      const SignerOptions& options);

  TokenSigner(const TokenSigner&) = delete;
  TokenSigner& operator=(const TokenSigner&) = delete;
  ~TokenSigner();

  // A token for `principal` with iat = nbf = `now` and exp = `now` + `ttl`
  // (principal.expire_time is ignored), plus iss, aud, sub, role,
  // municipality, areas, schools and hubs. INVALID_ARGUMENT if the subject
  // is empty, the role is not a Role, ttl is not positive, a string is not
  // UTF-8, or the token would exceed kMaxTokenSize.
  absl::StatusOr<std::string> Sign(const Principal& principal, absl::Time now,
                                   absl::Duration ttl) const;

 private:
  struct Key;
  TokenSigner(const SignerOptions& options, std::unique_ptr<Key> key);

  Algorithm algorithm_;
  std::string issuer_;
  std::string audience_;
  std::string key_id_;
  std::unique_ptr<Key> key_;
};

}  // namespace kosapo::auth

#endif  // KOSAPO_COMMON_AUTH_JWT_H_
