#include "common/testing/test_pki.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace kosapo::testing {
namespace {

std::string Quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

tls::TlsFiles FilesIn(const std::string& dir) {
  tls::TlsFiles files;
  files.cert_file = dir + "/tls.crt";
  files.key_file = dir + "/tls.key";
  files.ca_file = dir + "/ca.crt";
  return files;
}

bool Exists(const tls::TlsFiles& files) {
  return std::ifstream(files.cert_file).good() &&
         std::ifstream(files.key_file).good();
}

}  // namespace

absl::StatusOr<TestPki> TestPki::InDir(const std::string& dir) {
  TestPki pki(dir);
  if (Exists(pki.Client("test"))) {
    return pki;
  }
  absl::Status made = pki.Run(
      "--service screening --service case --service referral "
      "--service reporting --client test");
  if (!made.ok()) {
    return made;
  }
  return pki;
}

tls::TlsFiles TestPki::Service(const std::string& name) const {
  return FilesIn(absl::StrCat(dir_, "/service/", name));
}

tls::TlsFiles TestPki::Client(const std::string& name) const {
  return FilesIn(absl::StrCat(dir_, "/client/", name));
}

absl::Status TestPki::IssueService(const std::string& name, bool renew) const {
  if (!renew && Exists(Service(name))) {
    return absl::OkStatus();
  }
  return Run(absl::StrCat("--service ", Quote(name), renew ? " --renew" : ""));
}

absl::Status TestPki::IssueClient(const std::string& name, bool renew) const {
  if (!renew && Exists(Client(name))) {
    return absl::OkStatus();
  }
  return Run(absl::StrCat("--client ", Quote(name), renew ? " --renew" : ""));
}

absl::Status TestPki::Run(const std::string& args) const {
  const std::string log = dir_ + ".dev-ca.log";
  const std::string command =
      absl::StrCat(Quote(std::string(KOSAPO_SOURCE_DIR) + "/scripts/dev-ca.sh"),
                   " ", Quote(dir_), " ", args, " >", Quote(log), " 2>&1");
  const int status = std::system(command.c_str());
  if (status != 0) {
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    return absl::InternalError(
        absl::StrCat("scripts/dev-ca.sh ", args, " failed: ", text.str()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> DevFieldKeys(const std::string& dir) {
  const std::string out = dir + ".dev-field-keys.out";
  const std::string command = absl::StrCat(
      Quote(std::string(KOSAPO_SOURCE_DIR) + "/scripts/dev-field-keys.sh"), " ",
      Quote(dir), " >", Quote(out), " 2>&1");
  const int status = std::system(command.c_str());
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  if (status != 0) {
    return absl::InternalError(
        absl::StrCat("scripts/dev-field-keys.sh failed: ", text.str()));
  }
  return std::string(absl::StripAsciiWhitespace(text.str()));
}

}  // namespace kosapo::testing
