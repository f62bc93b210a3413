// kosapo-token: prints a signed bearer token for development and tests.
//
//   kosapo-token --private_key_file=dev/jwt-es256.key --issuer=kosapo-dev
//       --audience=kosapo --subject=u-0001 --role=case_worker
//       --municipality=27100 --areas=27102,27104
//
// Exit status: 0 with the token on stdout; 2 on bad flags or an unusable
// key, with a message naming the flag on stderr; 1 on any other failure.
#include <cstdint>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/auth/jwt.h"
#include "common/auth/principal.h"

namespace kosapo::tools {
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int64_t kMaxTtlSeconds = 31 * 24 * 3600;
constexpr std::streamsize kMaxKeyFileSize = 1 << 20;

struct FlagSpec {
  const char* name;
  bool required;
  const char* help;
};

constexpr FlagSpec kFlagSpecs[] = {
    {"private_key_file", true, "PEM private key (PKCS#8 or traditional)"},
    {"algorithm", false, "ES256 (default) or RS256"},
    {"issuer", true, "\"iss\" claim; must match the services' issuer"},
    {"audience", true, "\"aud\" claim; must match the services' audience"},
    {"subject", true, "\"sub\" claim: an opaque user or service id"},
    {"role", true, "role wire name, e.g. case_worker"},
    {"municipality", false, "JIS municipality code, e.g. 27100"},
    {"areas", false, "comma-separated area (ward) codes"},
    {"schools", false, "comma-separated school ids"},
    {"hubs", false, "comma-separated hub ids"},
    {"ttl_seconds", false, "lifetime in seconds (default 3600)"},
};

using FlagValues = std::map<std::string, std::string, std::less<>>;

std::string Usage() {
  std::string usage =
      "Usage: kosapo-token --private_key_file=PATH --issuer=ISS "
      "--audience=AUD\n"
      "                    --subject=ID --role=ROLE [more flags]\n"
      "Prints a signed bearer token on stdout.\n\n";
  for (const FlagSpec& spec : kFlagSpecs) {
    const std::string flag = absl::StrCat("--", spec.name, "=...");
    absl::StrAppend(&usage, "  ", flag,
                    std::string(flag.size() < 24 ? 24 - flag.size() : 1, ' '),
                    spec.help, spec.required ? " (required)" : "", "\n");
  }
  return usage;
}

bool IsKnownFlag(std::string_view name) {
  for (const FlagSpec& spec : kFlagSpecs) {
    if (spec.name == name) {
      return true;
    }
  }
  return false;
}

// Debian's Abseil has its own absl::string_view, which std::string_view does
// not convert to; hence std::string here.
absl::Status FlagError(const std::string& flag, const std::string& problem) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", problem));
}

// Accepts only --name=value, each known flag at most once.
absl::StatusOr<FlagValues> ParseFlags(
    const std::vector<std::string_view>& args) {
  FlagValues values;
  for (std::string_view arg : args) {
    if (arg.substr(0, 2) != "--") {
      return absl::InvalidArgumentError(
          "unexpected argument; flags look like --name=value");
    }
    arg.remove_prefix(2);
    const size_t equals = arg.find('=');
    const std::string name(arg.substr(0, equals));
    if (!IsKnownFlag(name)) {
      return FlagError(name, "unknown flag");
    }
    if (equals == std::string_view::npos) {
      return FlagError(name, absl::StrCat("needs a value (--", name, "=...)"));
    }
    if (!values.emplace(name, arg.substr(equals + 1)).second) {
      return FlagError(name, "given more than once");
    }
  }
  for (const FlagSpec& spec : kFlagSpecs) {
    const auto it = values.find(spec.name);
    if (spec.required && (it == values.end() || it->second.empty())) {
      return FlagError(spec.name, "required");
    }
  }
  return values;
}

std::string ValueOr(const FlagValues& values, std::string_view name,
                    std::string fallback) {
  const auto it = values.find(name);
  return it == values.end() ? fallback : it->second;
}

absl::StatusOr<std::vector<std::string>> ParseList(const FlagValues& values,
                                                   const std::string& name) {
  const std::string text = ValueOr(values, name, "");
  std::vector<std::string> items;
  if (text.empty()) {
    return items;
  }
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    if (item.empty()) {
      return FlagError(name, "empty item in the list");
    }
    items.emplace_back(item);
  }
  return items;
}

absl::StatusOr<std::string> ReadKeyFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return FlagError("private_key_file", "cannot open the file");
  }
  std::string contents;
  contents.resize(static_cast<size_t>(kMaxKeyFileSize) + 1);
  file.read(contents.data(), kMaxKeyFileSize + 1);
  if (file.bad()) {
    return FlagError("private_key_file", "cannot read the file");
  }
  if (file.gcount() > kMaxKeyFileSize) {
    return FlagError("private_key_file", "file is too large for a key");
  }
  contents.resize(static_cast<size_t>(file.gcount()));
  return contents;
}

struct TokenRequest {
  auth::SignerOptions signer;
  auth::Principal principal;
  absl::Duration ttl;
};

absl::StatusOr<TokenRequest> BuildRequest(const FlagValues& values) {
  TokenRequest request;
  absl::StatusOr<auth::Algorithm> algorithm =
      auth::ParseAlgorithm(ValueOr(values, "algorithm", "ES256"));
  if (!algorithm.ok()) {
    return FlagError("algorithm", "must be ES256 or RS256");
  }
  request.signer.algorithm = *algorithm;
  request.signer.issuer = ValueOr(values, "issuer", "");
  request.signer.audience = ValueOr(values, "audience", "");

  request.principal.subject = ValueOr(values, "subject", "");
  const std::optional<auth::Role> role =
      auth::ParseRole(ValueOr(values, "role", ""));
  if (!role.has_value()) {
    std::vector<std::string> names;
    for (auth::Role known : auth::kAllRoles) {
      names.emplace_back(auth::RoleName(known));
    }
    return FlagError("role", absl::StrCat("unknown role; one of ",
                                          absl::StrJoin(names, ", ")));
  }
  request.principal.role = *role;
  request.principal.municipality = ValueOr(values, "municipality", "");
  for (const auto& [name, list] :
       {std::pair{"areas", &request.principal.areas},
        std::pair{"schools", &request.principal.schools},
        std::pair{"hubs", &request.principal.hubs}}) {
    absl::StatusOr<std::vector<std::string>> items = ParseList(values, name);
    if (!items.ok()) {
      return items.status();
    }
    *list = *std::move(items);
  }

  int64_t ttl_seconds = 0;
  if (!absl::SimpleAtoi(ValueOr(values, "ttl_seconds", "3600"), &ttl_seconds) ||
      ttl_seconds < 1 || ttl_seconds > kMaxTtlSeconds) {
    return FlagError("ttl_seconds", absl::StrCat("must be a whole number from "
                                                 "1 to ",
                                                 kMaxTtlSeconds));
  }
  request.ttl = absl::Seconds(ttl_seconds);

  absl::StatusOr<std::string> key =
      ReadKeyFile(ValueOr(values, "private_key_file", ""));
  if (!key.ok()) {
    return key.status();
  }
  request.signer.private_key_pem = *std::move(key);
  return request;
}

int Fail(const absl::Status& status, int exit_code) {
  std::cerr << "kosapo-token: " << status.message() << "\n";
  if (exit_code == kExitUsage) {
    std::cerr << "Run kosapo-token --help for usage.\n";
  }
  return exit_code;
}

int Run(const std::vector<std::string_view>& args) {
  for (std::string_view arg : args) {
    if (arg == "--help" || arg == "-h") {
      std::cout << Usage();
      return 0;
    }
  }
  absl::StatusOr<FlagValues> values = ParseFlags(args);
  if (!values.ok()) {
    return Fail(values.status(), kExitUsage);
  }
  absl::StatusOr<TokenRequest> request = BuildRequest(*values);
  if (!request.ok()) {
    return Fail(request.status(), kExitUsage);
  }
  absl::StatusOr<std::unique_ptr<auth::TokenSigner>> signer =
      auth::TokenSigner::Create(request->signer);
  if (!signer.ok()) {
    // Issuer and audience are checked as required flags already, so what is
    // left is the key.
    return Fail(
        FlagError("private_key_file", std::string(signer.status().message())),
        kExitUsage);
  }
  absl::StatusOr<std::string> token =
      (*signer)->Sign(request->principal, absl::Now(), request->ttl);
  if (!token.ok()) {
    return Fail(token.status(), absl::IsInvalidArgument(token.status())
                                    ? kExitUsage
                                    : kExitFailure);
  }
  std::cout << *token << "\n";
  return std::cout.flush() ? 0 : kExitFailure;
}

}  // namespace
}  // namespace kosapo::tools

int main(int argc, char** argv) {
  return kosapo::tools::Run(
      std::vector<std::string_view>(argv + 1, argv + argc));
}
