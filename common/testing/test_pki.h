// A development CA and mutual-TLS certificates for tests, made by
// scripts/dev-ca.sh (so tests run the script the run command and
// developers use): certificates for the four services and a client "test".
#ifndef KOSAPO_COMMON_TESTING_TEST_PKI_H_
#define KOSAPO_COMMON_TESTING_TEST_PKI_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/tls/tls.h"

namespace kosapo::testing {

class TestPki {
 public:
  // The PKI in `dir`: created on first use, reused afterwards (dev-ca.sh is
  // idempotent), so every service of a test binary shares one CA.
  static absl::StatusOr<TestPki> InDir(const std::string& dir);

  const std::string& dir() const { return dir_; }
  std::string ca_file() const { return dir_ + "/ca.crt"; }
  // The files of service `name` / client `name` (see Issue for others).
  tls::TlsFiles Service(const std::string& name) const;
  tls::TlsFiles Client(const std::string& name = "test") const;

  // Issues a certificate for service or client `name` if it has none, or a
  // new one (new key, same CA) with `renew`: a rotation.
  absl::Status IssueService(const std::string& name, bool renew = false) const;
  absl::Status IssueClient(const std::string& name, bool renew = false) const;

 private:
  explicit TestPki(std::string dir) : dir_(std::move(dir)) {}
  absl::Status Run(const std::string& args) const;

  std::string dir_;
};

// Field-encryption keys in `dir` made by scripts/dev-field-keys.sh, as the
// run command makes them (created on first use, reused afterwards); returns
// the active key id, the services' --field_key_id.
absl::StatusOr<std::string> DevFieldKeys(const std::string& dir);

}  // namespace kosapo::testing

#endif  // KOSAPO_COMMON_TESTING_TEST_PKI_H_
