#include "common/crypto/field_cipher.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace kosapo::crypto {
namespace {

constexpr absl::string_view kPrefix = "enc:";
constexpr absl::string_view kVersion = "v1";
constexpr int kNonceBytes = 12;
constexpr int kTagBytes = 16;
constexpr absl::string_view kKeySuffix = ".key";

bool ValidKeyId(absl::string_view id) {
  if (id.empty() || id.size() > 64) {
    return false;
  }
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' &&
        c != '_') {
      return false;
    }
  }
  return true;
}

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

// The associated data: the format's version and the value's place, so a
// value opens only where it was sealed.
std::string AssociatedData(absl::string_view context) {
  return absl::StrCat("kosapo-field-", kVersion, "\n", context);
}

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

bool IsSealed(absl::string_view stored) {
  return absl::StartsWith(stored, kPrefix);
}

absl::StatusOr<std::shared_ptr<const FieldCipher>> FieldCipher::FromKeys(
    std::map<std::string, std::string> keys, const std::string& active_key_id) {
  for (const auto& [id, key] : keys) {
    if (!ValidKeyId(id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("field key id '", id, "' is not 1-64 of [A-Za-z0-9_-]"));
    }
    if (key.size() != kFieldKeyBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("field key '", id, "' has ", key.size(),
                       " bytes; AES-256 needs ", kFieldKeyBytes));
    }
  }
  if (keys.find(active_key_id) == keys.end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the active field key '", active_key_id, "' is not among the keys"));
  }
  return std::shared_ptr<const FieldCipher>(
      new FieldCipher(std::move(keys), active_key_id));
}

absl::StatusOr<std::shared_ptr<const FieldCipher>> FieldCipher::FromDir(
    const std::string& dir, const std::string& active_key_id) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("field keys directory '", dir, "' does not exist"));
  }
  std::map<std::string, std::string> keys;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    const std::string file = entry.path().filename().string();
    // Kubernetes mounts a Secret as "<key>" links into a "..data" directory.
    if (absl::StartsWith(file, ".") || !absl::EndsWith(file, kKeySuffix) ||
        !entry.is_regular_file(error)) {
      continue;
    }
    const std::string id = file.substr(0, file.size() - kKeySuffix.size());
    const std::string path = entry.path().string();
    if (!ValidKeyId(id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("field key file '", path,
                       "': the key id is not 1-64 of [A-Za-z0-9_-]"));
    }
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) {
      return absl::InvalidArgumentError(
          absl::StrCat("field key file '", path, "' cannot be read"));
    }
    std::string key;
    if (!absl::Base64Unescape(absl::StripAsciiWhitespace(text.str()), &key) ||
        key.size() != kFieldKeyBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "field key file '", path, "' does not hold ", kFieldKeyBytes,
          " bytes in base64 (make one with "
          "scripts/dev-field-keys.sh or `openssl rand -base64 32`)"));
    }
    keys[id] = std::move(key);
  }
  if (error) {
    return absl::InvalidArgumentError(absl::StrCat(
        "field keys directory '", dir, "' cannot be read: ", error.message()));
  }
  if (keys.find(active_key_id) == keys.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the active field key '", active_key_id, "' has no file ",
                     active_key_id, kKeySuffix, " in '", dir, "'"));
  }
  return FromKeys(std::move(keys), active_key_id);
}

std::shared_ptr<const FieldCipher> FieldCipher::Plaintext() {
  return std::shared_ptr<const FieldCipher>(new FieldCipher({}, ""));
}

absl::StatusOr<std::string> FieldCipher::Seal(absl::string_view plaintext,
                                              absl::string_view context) const {
  if (plaintext.empty()) {
    return std::string();
  }
  if (!encrypts()) {
    if (IsSealed(plaintext)) {
      // It would be taken for a sealed value when read.
      return absl::InvalidArgumentError(
          absl::StrCat(context,
                       ": without field keys a value may not begin "
                       "with \"enc:\""));
    }
    return std::string(plaintext);
  }
  const std::string& key = keys_.at(active_key_id_);
  std::string sealed(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(sealed.data());
  if (RAND_bytes(out, kNonceBytes) != 1) {
    return absl::InternalError(
        absl::StrCat(context, ": no random nonce from OpenSSL"));
  }
  const std::string aad = AssociatedData(context);
  Ctx ctx(EVP_CIPHER_CTX_new());
  int length = 0;
  int total = 0;
  if (ctx == nullptr ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key),
                         out) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &length, Bytes(aad),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out + kNonceBytes, &length, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1) {
    return absl::InternalError(absl::StrCat(context, ": encryption failed"));
  }
  total = length;
  if (EVP_EncryptFinal_ex(ctx.get(), out + kNonceBytes + total, &length) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          out + kNonceBytes + total + length) != 1) {
    return absl::InternalError(absl::StrCat(context, ": encryption failed"));
  }
  return absl::StrCat(kPrefix, kVersion, ":", active_key_id_, ":",
                      absl::WebSafeBase64Escape(sealed));
}

absl::StatusOr<std::string> FieldCipher::Open(absl::string_view stored,
                                              absl::string_view context) const {
  if (!IsSealed(stored)) {
    return std::string(stored);
  }
  const std::vector<absl::string_view> parts =
      absl::StrSplit(stored, absl::MaxSplits(':', 3));
  if (parts.size() != 4 || parts[1] != kVersion) {
    return absl::DataLossError(absl::StrCat(
        context, ": stored value is not in the enc:v1:<key id>:<data> form"));
  }
  const auto key = keys_.find(std::string(parts[2]));
  if (key == keys_.end()) {
    return absl::DataLossError(absl::StrCat(
        context, ": sealed with field key '", parts[2],
        "', which is not in --field_keys_dir (KOSAPO_FIELD_KEYS_DIR)"));
  }
  std::string sealed;
  if (!absl::WebSafeBase64Unescape(parts[3], &sealed) ||
      sealed.size() < static_cast<size_t>(kNonceBytes + kTagBytes)) {
    return absl::DataLossError(
        absl::StrCat(context, ": stored value is malformed"));
  }
  const size_t text_size = sealed.size() - kNonceBytes - kTagBytes;
  const auto* in = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string plaintext(text_size, '\0');
  auto* out = reinterpret_cast<unsigned char*>(plaintext.data());
  const std::string aad = AssociatedData(context);
  std::string tag(sealed.substr(kNonceBytes + text_size));
  Ctx ctx(EVP_CIPHER_CTX_new());
  int length = 0;
  const bool opened =
      ctx != nullptr &&
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         Bytes(key->second), in) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &length, Bytes(aad),
                        static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), out, &length, in + kNonceBytes,
                        static_cast<int>(text_size)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes,
                          tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), out + length, &length) == 1;
  if (!opened) {
    return absl::DataLossError(
        absl::StrCat(context,
                     ": stored value does not authenticate (altered, or sealed "
                     "for another record or field)"));
  }
  return plaintext;
}

absl::Status WriteRandomKeyFile(const std::string& dir,
                                const std::string& key_id) {
  namespace fs = std::filesystem;
  if (!ValidKeyId(key_id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "field key id '", key_id, "' is not 1-64 of [A-Za-z0-9_-]"));
  }
  std::error_code error;
  fs::create_directories(dir, error);
  std::string key(kFieldKeyBytes, '\0');
  if (error || RAND_bytes(reinterpret_cast<unsigned char*>(key.data()),
                          kFieldKeyBytes) != 1) {
    return absl::InternalError(
        absl::StrCat("cannot make a field key in '", dir, "'"));
  }
  const std::string path = absl::StrCat(dir, "/", key_id, kKeySuffix);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << absl::Base64Escape(key) << "\n";
    if (!out) {
      return absl::InternalError(absl::StrCat("cannot write '", path, "'"));
    }
  }
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, error);
  return absl::OkStatus();
}

}  // namespace kosapo::crypto
