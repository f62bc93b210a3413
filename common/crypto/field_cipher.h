// Field-level encryption at rest of free text about children and families
// (notes, contact summaries, urgent report details), so that a database dump
// or backup alone does not reveal it.
//
// Each value is sealed with AES-256-GCM under the active key: a random
// 96-bit nonce per value, a 128-bit tag, and associated data naming the
// value's place ("cases.contacts.summary" and the case it belongs to), so a
// ciphertext copied to another row or column does not open. The stored form
// is text:
//
//   enc:v1:<key id>:<base64url(nonce | ciphertext | tag)>
//
// Reading takes any key still present, so keys rotate by adding a key file,
// switching the active id and restarting; values are never re-encrypted in
// place. A stored value without the prefix is legacy plaintext (written
// before encryption was configured) and is read as it is. The empty string
// is stored as it is: that a note is empty is not secret, and CHECK
// constraints of the schema compare with ''.
#ifndef KOSAPO_COMMON_CRYPTO_FIELD_CIPHER_H_
#define KOSAPO_COMMON_CRYPTO_FIELD_CIPHER_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kosapo::crypto {

inline constexpr int kFieldKeyBytes = 32;

class FieldCipher {
 public:
  // Keys from `dir`: every "<key id>.key" file holds 32 random bytes in
  // base64 (scripts/dev-field-keys.sh makes one). New values are sealed
  // with `active_key_id`. INVALID_ARGUMENT naming the directory or file
  // when the directory is missing, a key file does not hold 32 bytes, a key
  // id is not [A-Za-z0-9_-]+, or the active key is not among them. Other
  // files in the directory (a Kubernetes Secret's "..data" links) are
  // ignored.
  static absl::StatusOr<std::shared_ptr<const FieldCipher>> FromDir(
      const std::string& dir, const std::string& active_key_id);
  // Keys given as raw 32-byte strings by id (tests).
  static absl::StatusOr<std::shared_ptr<const FieldCipher>> FromKeys(
      std::map<std::string, std::string> keys,
      const std::string& active_key_id);
  // Stores new values as plaintext (local development only); reads legacy
  // plaintext and refuses sealed values, having no keys.
  static std::shared_ptr<const FieldCipher> Plaintext();

  // The stored form of `plaintext` at the place `context` names (its
  // column and the record it belongs to). Empty stays empty.
  absl::StatusOr<std::string> Seal(absl::string_view plaintext,
                                   absl::string_view context) const;
  // The plaintext of a stored value, or the value itself when it is legacy
  // plaintext. DATA_LOSS naming `context` (never the value) when the value
  // was altered, was sealed for another place, is malformed, or names a key
  // this process does not have.
  absl::StatusOr<std::string> Open(absl::string_view stored,
                                   absl::string_view context) const;

  // False for Plaintext(): new values are not encrypted.
  bool encrypts() const { return !active_key_id_.empty(); }
  const std::string& active_key_id() const { return active_key_id_; }

 private:
  FieldCipher(std::map<std::string, std::string> keys,
              std::string active_key_id)
      : keys_(std::move(keys)), active_key_id_(std::move(active_key_id)) {}

  std::map<std::string, std::string> keys_;  // id -> 32 raw bytes
  std::string active_key_id_;
};

// Writes "<dir>/<key_id>.key" with 32 random bytes in base64 (mode 0600),
// creating `dir` if needed; for tests and launchers that need a key.
absl::Status WriteRandomKeyFile(const std::string& dir,
                                const std::string& key_id);

// Whether `stored` is in the sealed form (begins with "enc:"; a version
// other than v1 does not open).
bool IsSealed(absl::string_view stored);

}  // namespace kosapo::crypto

#endif  // KOSAPO_COMMON_CRYPTO_FIELD_CIPHER_H_
