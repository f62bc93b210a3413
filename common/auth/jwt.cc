#include "common/auth/jwt.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace kosapo::auth {
namespace {

using Json = nlohmann::json;

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BioDeleter {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
struct BignumDeleter {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using UniquePkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using UniqueMdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
using UniqueBio = std::unique_ptr<BIO, BioDeleter>;
using UniqueEcdsaSig = std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter>;
using UniqueBignum = std::unique_ptr<BIGNUM, BignumDeleter>;

// Drops whatever OpenSSL queued on this thread during the scope, so a
// rejected token leaves nothing behind for unrelated code to trip over.
class OpenSslErrorScope {
 public:
  OpenSslErrorScope() { ERR_set_mark(); }
  ~OpenSslErrorScope() { ERR_pop_to_mark(); }
  OpenSslErrorScope(const OpenSslErrorScope&) = delete;
  OpenSslErrorScope& operator=(const OpenSslErrorScope&) = delete;
};

// ES256 signatures on the wire are R || S, each a 32-byte big-endian integer.
constexpr int kEs256HalfSize = 32;
constexpr size_t kEs256SignatureSize = 2 * kEs256HalfSize;
constexpr int kMinRsaBits = 2048;
// 9999-12-31T23:59:59Z: later (or negative) NumericDates are not plausible.
constexpr int64_t kMaxNumericDate = 253402300799;

constexpr std::string_view kBase64UrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

absl::Status Malformed() {
  return absl::UnauthenticatedError("malformed token");
}

absl::Status ClaimMissing(const char* claim) {
  return absl::UnauthenticatedError(
      absl::StrCat("token claim '", claim, "' missing"));
}

absl::Status ClaimWrongType(const char* claim) {
  return absl::UnauthenticatedError(
      absl::StrCat("token claim '", claim, "' has wrong type"));
}

absl::Status ClaimInvalid(const char* claim) {
  return absl::UnauthenticatedError(
      absl::StrCat("token claim '", claim, "' invalid"));
}

std::string Base64UrlEncode(std::string_view in) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kBase64UrlAlphabet[(buffer >> bits) & 0x3F]);
    }
  }
  if (bits > 0) {
    out.push_back(kBase64UrlAlphabet[(buffer << (6 - bits)) & 0x3F]);
  }
  return out;
}

int Base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '-') {
    return 62;
  }
  if (c == '_') {
    return 63;
  }
  return -1;
}

// Strict: no padding, no other characters, and unused trailing bits must be
// zero, so every byte string has exactly one accepted encoding.
std::optional<std::string> Base64UrlDecode(std::string_view in) {
  if (in.size() % 4 == 1) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : in) {
    const int value = Base64UrlValue(c);
    if (value < 0) {
      return std::nullopt;
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  if ((buffer & ((1u << bits) - 1)) != 0) {
    return std::nullopt;
  }
  return out;
}

// A JSON object, or nothing if `text` is not exactly one JSON object or
// repeats a member name at any level (RFC 7515 section 4 allows rejecting
// duplicates; accepting them invites parser disagreements).
std::optional<Json> ParseJsonObject(std::string_view text) {
  std::vector<std::set<std::string>> open_objects;
  bool duplicate_key = false;
  const Json::parser_callback_t callback =
      [&](int /*depth*/, Json::parse_event_t event, Json& parsed) {
        switch (event) {
          case Json::parse_event_t::object_start:
            open_objects.emplace_back();
            break;
          case Json::parse_event_t::key:
            if (open_objects.empty() ||
                !open_objects.back()
                     .insert(parsed.get_ref<const std::string&>())
                     .second) {
              duplicate_key = true;
            }
            break;
          case Json::parse_event_t::object_end:
            if (!open_objects.empty()) {
              open_objects.pop_back();
            }
            break;
          default:
            break;
        }
        return true;
      };
  Json json = Json::parse(text.begin(), text.end(), callback,
                          /*allow_exceptions=*/false);
  if (json.is_discarded() || duplicate_key || !json.is_object()) {
    return std::nullopt;
  }
  return json;
}

int RefusePassword(char* /*buf*/, int /*size*/, int /*rwflag*/,
                   void* /*userdata*/) {
  return 0;  // Never prompt on a terminal for an encrypted key.
}

UniqueBio MemoryBio(std::string_view data) {
  if (data.size() > static_cast<size_t>(INT_MAX)) {
    return nullptr;
  }
  return UniqueBio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

absl::Status CheckKeyFitsAlgorithm(EVP_PKEY* key, Algorithm algorithm,
                                   const char* what) {
  switch (algorithm) {
    case Algorithm::kEs256: {
      if (EVP_PKEY_is_a(key, "EC") != 1) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, " is not an EC key, which ES256 requires"));
      }
      char group[80] = {};
      size_t group_length = 0;
      if (EVP_PKEY_get_group_name(key, group, sizeof(group), &group_length) !=
              1 ||
          (std::string_view(group) != "prime256v1" &&
           std::string_view(group) != "P-256")) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, " is not on curve P-256, which ES256 requires"));
      }
      return absl::OkStatus();
    }
    case Algorithm::kRs256:
      if (EVP_PKEY_is_a(key, "RSA") != 1) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, " is not an RSA key, which RS256 requires"));
      }
      if (EVP_PKEY_get_bits(key) < kMinRsaBits) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, " has fewer than ", kMinRsaBits, " bits"));
      }
      return absl::OkStatus();
  }
  return absl::InvalidArgumentError("unknown algorithm");
}

absl::Status CheckIssuerAndAudience(std::string_view issuer,
                                    std::string_view audience) {
  if (issuer.empty()) {
    return absl::InvalidArgumentError("issuer is required");
  }
  if (audience.empty()) {
    return absl::InvalidArgumentError("audience is required");
  }
  return absl::OkStatus();
}

// DER ECDSA-Sig-Value from the JWS form R || S.
std::optional<std::string> RawEcdsaToDer(std::string_view raw) {
  if (raw.size() != kEs256SignatureSize) {
    return std::nullopt;
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  UniqueBignum r(BN_bin2bn(bytes, kEs256HalfSize, nullptr));
  UniqueBignum s(BN_bin2bn(bytes + kEs256HalfSize, kEs256HalfSize, nullptr));
  UniqueEcdsaSig signature(ECDSA_SIG_new());
  if (r == nullptr || s == nullptr || signature == nullptr ||
      ECDSA_SIG_set0(signature.get(), r.get(), s.get()) != 1) {
    return std::nullopt;
  }
  // ECDSA_SIG_set0 took ownership of both numbers.
  static_cast<void>(r.release());
  static_cast<void>(s.release());
  const int length = i2d_ECDSA_SIG(signature.get(), nullptr);
  if (length <= 0) {
    return std::nullopt;
  }
  std::string der(static_cast<size_t>(length), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(signature.get(), &out) != length) {
    return std::nullopt;
  }
  return der;
}

// The JWS form R || S from a DER ECDSA-Sig-Value.
std::optional<std::string> DerEcdsaToRaw(std::string_view der) {
  const auto* in = reinterpret_cast<const unsigned char*>(der.data());
  UniqueEcdsaSig signature(
      d2i_ECDSA_SIG(nullptr, &in, static_cast<long>(der.size())));
  if (signature == nullptr) {
    return std::nullopt;
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(signature.get(), &r, &s);
  std::string raw(kEs256SignatureSize, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, kEs256HalfSize) != kEs256HalfSize ||
      BN_bn2binpad(s, out + kEs256HalfSize, kEs256HalfSize) != kEs256HalfSize) {
    return std::nullopt;
  }
  return raw;
}

bool VerifySignature(EVP_PKEY* key, Algorithm algorithm,
                     std::string_view signing_input,
                     std::string_view signature) {
  std::string der;
  if (algorithm == Algorithm::kEs256) {
    std::optional<std::string> converted = RawEcdsaToDer(signature);
    if (!converted.has_value()) {
      return false;
    }
    der = *std::move(converted);
    signature = der;
  } else if (signature.size() != static_cast<size_t>(EVP_PKEY_get_size(key))) {
    return false;
  }
  UniqueMdCtx context(EVP_MD_CTX_new());
  if (context == nullptr ||
      EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr,
                           key) != 1) {
    return false;
  }
  return EVP_DigestVerify(
             context.get(),
             reinterpret_cast<const unsigned char*>(signature.data()),
             signature.size(),
             reinterpret_cast<const unsigned char*>(signing_input.data()),
             signing_input.size()) == 1;
}

absl::StatusOr<std::string> SignBytes(EVP_PKEY* key, Algorithm algorithm,
                                      std::string_view signing_input) {
  const absl::Status failed = absl::InternalError("token signing failed");
  UniqueMdCtx context(EVP_MD_CTX_new());
  if (context == nullptr ||
      EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key) !=
          1) {
    return failed;
  }
  const int max_size = EVP_PKEY_get_size(key);
  if (max_size <= 0) {
    return failed;
  }
  std::string signature(static_cast<size_t>(max_size), '\0');
  size_t length = signature.size();
  if (EVP_DigestSign(
          context.get(), reinterpret_cast<unsigned char*>(signature.data()),
          &length, reinterpret_cast<const unsigned char*>(signing_input.data()),
          signing_input.size()) != 1) {
    return failed;
  }
  signature.resize(length);
  if (algorithm == Algorithm::kEs256) {
    std::optional<std::string> raw = DerEcdsaToRaw(signature);
    if (!raw.has_value()) {
      return failed;
    }
    return *std::move(raw);
  }
  return signature;
}

absl::Status CheckHeader(const Json& header, Algorithm algorithm) {
  const auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() ||
      alg->get_ref<const std::string&>() != AlgorithmName(algorithm)) {
    return absl::UnauthenticatedError("token algorithm not allowed");
  }
  // "crit" names extensions that must be understood; we understand none.
  if (header.contains("crit")) {
    return absl::UnauthenticatedError("token header not supported");
  }
  const auto kid = header.find("kid");
  if (kid != header.end() && !kid->is_string()) {
    return absl::UnauthenticatedError("token key id not allowed");
  }
  const auto typ = header.find("typ");
  if (typ != header.end() &&
      (!typ->is_string() ||
       !absl::EqualsIgnoreCase(typ->get_ref<const std::string&>(), "JWT"))) {
    return absl::UnauthenticatedError("token type not allowed");
  }
  return absl::OkStatus();
}

// A NumericDate claim (RFC 7519 section 2), or nullopt if it is absent.
absl::StatusOr<std::optional<absl::Time>> ReadNumericDate(const Json& claims,
                                                          const char* claim) {
  const auto it = claims.find(claim);
  if (it == claims.end()) {
    return std::nullopt;
  }
  if (it->is_number_unsigned()) {
    const uint64_t seconds = it->get<uint64_t>();
    if (seconds > static_cast<uint64_t>(kMaxNumericDate)) {
      return ClaimInvalid(claim);
    }
    return absl::FromUnixSeconds(static_cast<int64_t>(seconds));
  }
  if (it->is_number_integer()) {
    const int64_t seconds = it->get<int64_t>();
    if (seconds < 0 || seconds > kMaxNumericDate) {
      return ClaimInvalid(claim);
    }
    return absl::FromUnixSeconds(seconds);
  }
  if (it->is_number_float()) {
    const double seconds = it->get<double>();
    if (!std::isfinite(seconds) || seconds < 0 ||
        seconds > static_cast<double>(kMaxNumericDate)) {
      return ClaimInvalid(claim);
    }
    return absl::UnixEpoch() + absl::Seconds(seconds);
  }
  return ClaimWrongType(claim);
}

absl::StatusOr<std::string> ReadRequiredString(const Json& claims,
                                               const char* claim) {
  const auto it = claims.find(claim);
  if (it == claims.end()) {
    return ClaimMissing(claim);
  }
  if (!it->is_string()) {
    return ClaimWrongType(claim);
  }
  if (it->get_ref<const std::string&>().empty()) {
    return ClaimMissing(claim);
  }
  return it->get<std::string>();
}

absl::Status ReadOptionalString(const Json& claims, const char* claim,
                                std::string* out) {
  const auto it = claims.find(claim);
  if (it == claims.end()) {
    return absl::OkStatus();
  }
  if (!it->is_string()) {
    return ClaimWrongType(claim);
  }
  *out = it->get<std::string>();
  return absl::OkStatus();
}

// An array of non-empty strings; an empty code would match unscoped data.
absl::Status ReadOptionalStringArray(const Json& claims, const char* claim,
                                     std::vector<std::string>* out) {
  const auto it = claims.find(claim);
  if (it == claims.end()) {
    return absl::OkStatus();
  }
  if (!it->is_array()) {
    return ClaimWrongType(claim);
  }
  out->clear();
  out->reserve(it->size());
  for (const Json& element : *it) {
    if (!element.is_string()) {
      return ClaimWrongType(claim);
    }
    if (element.get_ref<const std::string&>().empty()) {
      return ClaimInvalid(claim);
    }
    out->push_back(element.get<std::string>());
  }
  return absl::OkStatus();
}

absl::Status CheckAudience(const Json& claims, std::string_view audience) {
  const auto it = claims.find("aud");
  if (it == claims.end()) {
    return ClaimMissing("aud");
  }
  if (it->is_string()) {
    if (it->get_ref<const std::string&>() != audience) {
      return absl::UnauthenticatedError("token audience mismatch");
    }
    return absl::OkStatus();
  }
  if (!it->is_array()) {
    return ClaimWrongType("aud");
  }
  bool found = false;
  for (const Json& element : *it) {
    if (!element.is_string()) {
      return ClaimWrongType("aud");
    }
    found = found || element.get_ref<const std::string&>() == audience;
  }
  if (!found) {
    return absl::UnauthenticatedError("token audience mismatch");
  }
  return absl::OkStatus();
}

struct ClaimChecks {
  std::string_view issuer;
  std::string_view audience;
  absl::Duration leeway;
};

absl::StatusOr<Principal> PrincipalFromClaims(const Json& claims,
                                              const ClaimChecks& checks,
                                              absl::Time now) {
  absl::StatusOr<std::optional<absl::Time>> expire_time =
      ReadNumericDate(claims, "exp");
  if (!expire_time.ok()) {
    return expire_time.status();
  }
  if (!expire_time->has_value()) {
    return ClaimMissing("exp");
  }
  if (now >= **expire_time + checks.leeway) {
    return absl::UnauthenticatedError("token expired");
  }
  absl::StatusOr<std::optional<absl::Time>> not_before =
      ReadNumericDate(claims, "nbf");
  if (!not_before.ok()) {
    return not_before.status();
  }
  if (not_before->has_value() && now + checks.leeway < **not_before) {
    return absl::UnauthenticatedError("token not yet valid");
  }
  if (absl::StatusOr<std::optional<absl::Time>> issued_at =
          ReadNumericDate(claims, "iat");
      !issued_at.ok()) {
    return issued_at.status();
  }

  absl::StatusOr<std::string> issuer = ReadRequiredString(claims, "iss");
  if (!issuer.ok()) {
    return issuer.status();
  }
  if (*issuer != checks.issuer) {
    return absl::UnauthenticatedError("token issuer mismatch");
  }
  if (absl::Status status = CheckAudience(claims, checks.audience);
      !status.ok()) {
    return status;
  }

  Principal principal;
  principal.expire_time = **expire_time;
  absl::StatusOr<std::string> subject = ReadRequiredString(claims, "sub");
  if (!subject.ok()) {
    return subject.status();
  }
  principal.subject = *std::move(subject);
  absl::StatusOr<std::string> role_name = ReadRequiredString(claims, "role");
  if (!role_name.ok()) {
    return role_name.status();
  }
  std::optional<Role> role = ParseRole(*role_name);
  if (!role.has_value()) {
    return absl::UnauthenticatedError("token role unknown");
  }
  principal.role = *role;
  for (absl::Status status :
       {ReadOptionalString(claims, "municipality", &principal.municipality),
        ReadOptionalStringArray(claims, "areas", &principal.areas),
        ReadOptionalStringArray(claims, "schools", &principal.schools),
        ReadOptionalStringArray(claims, "hubs", &principal.hubs)}) {
    if (!status.ok()) {
      return status;
    }
  }
  return principal;
}

// A PEM public key that fits `algorithm`; INVALID_ARGUMENT naming `what`.
absl::StatusOr<UniquePkey> ReadPublicKey(const std::string& pem,
                                         Algorithm algorithm,
                                         const std::string& what) {
  UniqueBio bio = MemoryBio(pem);
  if (bio == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not readable"));
  }
  UniquePkey key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, RefusePassword, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is not a PEM public key (BEGIN PUBLIC KEY)"));
  }
  if (absl::Status status =
          CheckKeyFitsAlgorithm(key.get(), algorithm, what.c_str());
      !status.ok()) {
    return status;
  }
  return key;
}

}  // namespace

absl::StatusOr<Algorithm> ParseAlgorithm(std::string_view name) {
  if (name == "ES256") {
    return Algorithm::kEs256;
  }
  if (name == "RS256") {
    return Algorithm::kRs256;
  }
  return absl::InvalidArgumentError("algorithm must be ES256 or RS256");
}

std::string_view AlgorithmName(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kEs256:
      return "ES256";
    case Algorithm::kRs256:
      return "RS256";
  }
  return {};
}

struct TokenVerifier::Key {
  UniquePkey public_key;  // for tokens without "kid"; may be null
  std::map<std::string, UniquePkey, std::less<>> by_id;
};

// Verified tokens by their exact text, with the principal and the window
// of validity they were verified for. Sharded so that concurrent calls
// rarely wait on each other; a full shard is emptied rather than managed
// as an LRU, which keeps memory bounded (entries x token size, at most
// kMaxTokenSize each) at the cost of re-verifying after a burst of new
// tokens.
class TokenVerifier::Cache {
 public:
  explicit Cache(size_t entries)
      : per_shard_(std::max<size_t>(1, entries / kShards)) {}

  std::optional<Principal> Find(std::string_view token, absl::Time now,
                                absl::Duration leeway) {
    Shard& shard = ShardOf(token);
    absl::MutexLock lock(&shard.mutex);
    const auto it =
        shard.entries.find(absl::string_view(token.data(), token.size()));
    // Outside the window: verified in full again, which refuses it with the
    // same message as a token never seen.
    if (it == shard.entries.end() ||
        now >= it->second.principal.expire_time + leeway ||
        now + leeway < it->second.not_before) {
      return std::nullopt;
    }
    return it->second.principal;
  }

  void Add(std::string_view token, const Principal& principal,
           absl::Time not_before) {
    Shard& shard = ShardOf(token);
    absl::MutexLock lock(&shard.mutex);
    if (shard.entries.size() >= per_shard_) {
      shard.entries.clear();
    }
    shard.entries.insert_or_assign(std::string(token),
                                   Entry{principal, not_before});
  }

 private:
  static constexpr size_t kShards = 16;
  struct Entry {
    Principal principal;
    absl::Time not_before;
  };
  struct Shard {
    absl::Mutex mutex;
    absl::flat_hash_map<std::string, Entry> entries ABSL_GUARDED_BY(mutex);
  };

  Shard& ShardOf(std::string_view token) {
    return shards_[absl::Hash<absl::string_view>{}(
                       absl::string_view(token.data(), token.size())) %
                   kShards];
  }

  const size_t per_shard_;
  std::array<Shard, kShards> shards_;
};

TokenVerifier::TokenVerifier(const VerifierOptions& options,
                             std::unique_ptr<Key> key)
    : algorithm_(options.algorithm),
      issuer_(options.issuer),
      audience_(options.audience),
      leeway_(options.leeway),
      key_(std::move(key)),
      cache_(options.cache_entries > 0
                 ? std::make_unique<Cache>(options.cache_entries)
                 : nullptr) {}

TokenVerifier::~TokenVerifier() = default;

absl::StatusOr<std::unique_ptr<TokenVerifier>> TokenVerifier::Create(
    const VerifierOptions& options) {
  OpenSslErrorScope error_scope;
  if (absl::Status status =
          CheckIssuerAndAudience(options.issuer, options.audience);
      !status.ok()) {
    return status;
  }
  if (options.leeway < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("leeway must not be negative");
  }
  if (options.public_key_pem.empty() && options.keys_by_id.empty()) {
    return absl::InvalidArgumentError("no public key");
  }
  auto owned_key = std::make_unique<Key>();
  if (!options.public_key_pem.empty()) {
    absl::StatusOr<UniquePkey> key =
        ReadPublicKey(options.public_key_pem, options.algorithm, "public key");
    if (!key.ok()) {
      return key.status();
    }
    owned_key->public_key = *std::move(key);
  }
  for (const auto& [id, pem] : options.keys_by_id) {
    if (id.empty()) {
      return absl::InvalidArgumentError("a key id is empty");
    }
    absl::StatusOr<UniquePkey> key = ReadPublicKey(
        pem, options.algorithm, absl::StrCat("public key \"", id, "\""));
    if (!key.ok()) {
      return key.status();
    }
    owned_key->by_id.emplace(id, *std::move(key));
  }
  return std::unique_ptr<TokenVerifier>(
      new TokenVerifier(options, std::move(owned_key)));
}

absl::StatusOr<Principal> TokenVerifier::Verify(std::string_view token,
                                                absl::Time now) const {
  if (cache_ == nullptr) {
    absl::Time not_before;
    return VerifyUncached(token, now, &not_before);
  }
  if (std::optional<Principal> cached = cache_->Find(token, now, leeway_)) {
    return *std::move(cached);
  }
  absl::Time not_before;
  absl::StatusOr<Principal> principal = VerifyUncached(token, now, &not_before);
  if (principal.ok()) {
    cache_->Add(token, *principal, not_before);
  }
  return principal;
}

absl::StatusOr<Principal> TokenVerifier::VerifyUncached(
    std::string_view token, absl::Time now, absl::Time* not_before) const {
  OpenSslErrorScope error_scope;
  if (token.empty() || token.size() > kMaxTokenSize) {
    return Malformed();
  }
  const size_t first_dot = token.find('.');
  if (first_dot == std::string_view::npos) {
    return Malformed();
  }
  const size_t second_dot = token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos) {
    return Malformed();
  }
  const std::string_view encoded_header = token.substr(0, first_dot);
  const std::string_view encoded_payload =
      token.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string_view encoded_signature = token.substr(second_dot + 1);
  if (encoded_header.empty() || encoded_payload.empty()) {
    return Malformed();
  }

  std::optional<std::string> header_text = Base64UrlDecode(encoded_header);
  if (!header_text.has_value()) {
    return Malformed();
  }
  std::optional<Json> header = ParseJsonObject(*header_text);
  if (!header.has_value()) {
    return Malformed();
  }
  if (absl::Status status = CheckHeader(*header, algorithm_); !status.ok()) {
    return status;
  }

  // The key: the one the "kid" names, else the one for tokens without.
  EVP_PKEY* public_key = key_->public_key.get();
  if (const auto kid = header->find("kid"); kid != header->end()) {
    const auto named = key_->by_id.find(kid->get_ref<const std::string&>());
    if (named == key_->by_id.end()) {
      return absl::UnauthenticatedError("token key id unknown");
    }
    public_key = named->second.get();
  } else if (public_key == nullptr) {
    return absl::UnauthenticatedError("token key id missing");
  }

  // Nothing in the payload is read before the signature is known good.
  std::optional<std::string> signature = Base64UrlDecode(encoded_signature);
  if (!signature.has_value()) {
    return Malformed();
  }
  if (!VerifySignature(public_key, algorithm_, token.substr(0, second_dot),
                       *signature)) {
    return absl::UnauthenticatedError("token signature invalid");
  }

  std::optional<std::string> payload_text = Base64UrlDecode(encoded_payload);
  if (!payload_text.has_value()) {
    return Malformed();
  }
  std::optional<Json> claims = ParseJsonObject(*payload_text);
  if (!claims.has_value()) {
    return Malformed();
  }
  absl::StatusOr<Principal> principal = PrincipalFromClaims(
      *claims, ClaimChecks{issuer_, audience_, leeway_}, now);
  if (principal.ok()) {
    // Read and checked already by PrincipalFromClaims.
    absl::StatusOr<std::optional<absl::Time>> nbf =
        ReadNumericDate(*claims, "nbf");
    *not_before = nbf.ok() && nbf->has_value() ? **nbf : absl::InfinitePast();
  }
  return principal;
}

struct TokenSigner::Key {
  UniquePkey private_key;
};

TokenSigner::TokenSigner(const SignerOptions& options, std::unique_ptr<Key> key)
    : algorithm_(options.algorithm),
      issuer_(options.issuer),
      audience_(options.audience),
      key_id_(options.key_id),
      key_(std::move(key)) {}

TokenSigner::~TokenSigner() = default;

absl::StatusOr<std::unique_ptr<TokenSigner>> TokenSigner::Create(
    const SignerOptions& options) {
  OpenSslErrorScope error_scope;
  if (absl::Status status =
          CheckIssuerAndAudience(options.issuer, options.audience);
      !status.ok()) {
    return status;
  }
  UniqueBio bio = MemoryBio(options.private_key_pem);
  if (bio == nullptr) {
    return absl::InvalidArgumentError("private key is not readable");
  }
  UniquePkey key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, RefusePassword, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        "private key is not an unencrypted PEM private key");
  }
  if (absl::Status status =
          CheckKeyFitsAlgorithm(key.get(), options.algorithm, "private key");
      !status.ok()) {
    return status;
  }
  auto owned_key = std::make_unique<Key>();
  owned_key->private_key = std::move(key);
  return std::unique_ptr<TokenSigner>(
      new TokenSigner(options, std::move(owned_key)));
}

absl::StatusOr<std::string> TokenSigner::Sign(const Principal& principal,
                                              absl::Time now,
                                              absl::Duration ttl) const {
  OpenSslErrorScope error_scope;
  if (principal.subject.empty()) {
    return absl::InvalidArgumentError("principal subject is empty");
  }
  const std::string_view role_name = RoleName(principal.role);
  if (role_name.empty()) {
    return absl::InvalidArgumentError("principal role is not a known role");
  }
  if (ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("ttl must be positive");
  }
  const absl::Time expire_time = now + ttl;
  if (now < absl::UnixEpoch() ||
      expire_time > absl::FromUnixSeconds(kMaxNumericDate)) {
    return absl::InvalidArgumentError("token lifetime is out of range");
  }
  const int64_t issued_at = absl::ToUnixSeconds(now);

  Json header = {{"alg", AlgorithmName(algorithm_)}, {"typ", "JWT"}};
  if (!key_id_.empty()) {
    header["kid"] = key_id_;
  }
  const Json claims = {
      {"iss", issuer_},           {"aud", audience_},
      {"sub", principal.subject}, {"iat", issued_at},
      {"nbf", issued_at},         {"exp", absl::ToUnixSeconds(expire_time)},
      {"role", role_name},        {"municipality", principal.municipality},
      {"areas", principal.areas}, {"schools", principal.schools},
      {"hubs", principal.hubs},
  };
  std::string signing_input;
  try {
    signing_input = absl::StrCat(Base64UrlEncode(header.dump()), ".",
                                 Base64UrlEncode(claims.dump()));
  } catch (const Json::exception&) {
    // dump() throws only on strings that are not UTF-8.
    return absl::InvalidArgumentError(
        "principal has a string that is not UTF-8");
  }
  absl::StatusOr<std::string> signature =
      SignBytes(key_->private_key.get(), algorithm_, signing_input);
  if (!signature.ok()) {
    return signature.status();
  }
  std::string token =
      absl::StrCat(signing_input, ".", Base64UrlEncode(*signature));
  if (token.size() > kMaxTokenSize) {
    return absl::InvalidArgumentError(
        "token would exceed the maximum token size");
  }
  return token;
}

}  // namespace kosapo::auth
