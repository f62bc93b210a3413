// kosapo token mint: a signed bearer token for development and tests (it
// replaces the kosapo-token tool). Production tokens come from the city's
// identity provider.
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/auth/jwt.h"
#include "common/auth/principal.h"
#include "common/base/status.h"
#include "tools/cli/cli.h"
#include "tools/cli/exit_codes.h"

namespace kosapo::cli {
namespace {

constexpr absl::Duration kMaxTtl = absl::Hours(31 * 24);
constexpr std::streamsize kMaxKeyFileSize = 1 << 20;

absl::Status FlagError(absl::string_view flag, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", problem));
}

absl::StatusOr<std::vector<std::string>> ParseList(const Args& args,
                                                   absl::string_view name) {
  std::vector<std::string> items;
  if (!args.Has(name)) {
    return items;
  }
  for (absl::string_view item : absl::StrSplit(args.Get(name), ',')) {
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
    return FlagError("private-key-file",
                     absl::StrCat("cannot open ", path,
                                  " (scripts/dev-keys.sh DIR makes a "
                                  "development key pair)"));
  }
  std::string contents(static_cast<size_t>(kMaxKeyFileSize) + 1, '\0');
  file.read(contents.data(), kMaxKeyFileSize + 1);
  if (file.bad()) {
    return FlagError("private-key-file", "cannot read the file");
  }
  if (file.gcount() > kMaxKeyFileSize) {
    return FlagError("private-key-file", "file is too large for a key");
  }
  contents.resize(static_cast<size_t>(file.gcount()));
  return contents;
}

CommandResult RunMint(const Args& args, Io& io) {
  auth::SignerOptions signer_options;
  absl::StatusOr<auth::Algorithm> algorithm =
      auth::ParseAlgorithm(args.Get("algorithm"));
  if (!algorithm.ok()) {
    return FlagError("algorithm", "must be ES256 or RS256");
  }
  signer_options.algorithm = *algorithm;
  signer_options.issuer = args.Get("issuer");
  signer_options.audience = args.Get("audience");
  if (signer_options.issuer.empty() || signer_options.audience.empty()) {
    return FlagError(signer_options.issuer.empty() ? "issuer" : "audience",
                     "must not be empty");
  }

  auth::Principal principal;
  KOSAPO_ASSIGN_OR_RETURN(std::string subject, GetRequired(args, "subject"));
  principal.subject = subject;
  KOSAPO_ASSIGN_OR_RETURN(std::string role_name, GetRequired(args, "role"));
  const std::optional<auth::Role> role = auth::ParseRole(role_name);
  if (!role.has_value()) {
    std::vector<std::string> names;
    for (auth::Role known : auth::kAllRoles) {
      names.emplace_back(auth::RoleName(known));
    }
    return FlagError("role",
                     absl::StrCat("unknown role '", role_name, "'; one of ",
                                  absl::StrJoin(names, ", ")));
  }
  principal.role = *role;
  principal.municipality = args.Get("municipality");
  for (const auto& [name, list] : {std::pair{"areas", &principal.areas},
                                   std::pair{"schools", &principal.schools},
                                   std::pair{"hubs", &principal.hubs}}) {
    KOSAPO_ASSIGN_OR_RETURN(std::vector<std::string> items,
                            ParseList(args, name));
    *list = std::move(items);
  }
  KOSAPO_ASSIGN_OR_RETURN(absl::Duration ttl, GetDuration(args, "ttl"));
  if (ttl < absl::Seconds(1) || ttl > kMaxTtl) {
    return FlagError("ttl", "must be from 1s to 744h (31 days)");
  }

  KOSAPO_ASSIGN_OR_RETURN(std::string key_file,
                          GetRequired(args, "private-key-file"));
  KOSAPO_ASSIGN_OR_RETURN(std::string key, ReadKeyFile(key_file));
  signer_options.private_key_pem = std::move(key);
  absl::StatusOr<std::unique_ptr<auth::TokenSigner>> signer =
      auth::TokenSigner::Create(signer_options);
  if (!signer.ok()) {
    // Issuer and audience are checked above, so what is left is the key.
    return FlagError("private-key-file", signer.status().message());
  }
  KOSAPO_ASSIGN_OR_RETURN(std::string token,
                          (*signer)->Sign(principal, absl::Now(), ttl));
  io.out << token << "\n";
  io.out.flush();
  return io.out ? kExitOk : kExitFailure;
}

}  // namespace

std::vector<Command> TokenCommands() {
  Command mint;
  mint.group = "token";
  mint.name = "mint";
  mint.synopsis =
      "--private-key-file=FILE --subject=ID --role=ROLE [--municipality=CODE] "
      "[--areas=...] [flags]";
  mint.summary = "print a signed bearer token (development and tests)";
  mint.details =
      "Signs a token with a development key, such as the one scripts/run.sh\n"
      "keeps in .kosapo/keys/jwt-es256.key (scripts/dev-keys.sh DIR makes a\n"
      "pair). The defaults for issuer and audience are the services'.\n"
      "Roles: school_staff, school_manager, ssw, support_promoter,\n"
      "ward_officer, case_worker, consultation_desk, hub_operator,\n"
      "centre_director, city_operations, analyst, service.\n\n"
      "  kosapo token mint --private-key-file=.kosapo/keys/jwt-es256.key \\\n"
      "      --subject=user:ward-officer-1 --role=ward_officer \\\n"
      "      --municipality=27100 --areas=27127 --ttl=8h > ward.token\n"
      "  export KOSAPO_TOKEN_FILE=$PWD/ward.token\n";
  mint.flags = {
      {"private-key-file", "FILE", "PEM private key (PKCS#8 or traditional)",
       "KOSAPO_JWT_PRIVATE_KEY_FILE", ""},
      {"algorithm", "ALG", "ES256 or RS256", "", "ES256"},
      {"issuer", "ISS", "\"iss\" claim; must match the services' issuer", "",
       "kosapo-dev"},
      {"audience", "AUD", "\"aud\" claim; must match the services' audience",
       "", "kosapo"},
      {"subject", "ID", "\"sub\" claim: an opaque user or service id", "", ""},
      {"role", "ROLE", "role wire name, e.g. ward_officer", "", ""},
      {"municipality", "CODE", "JIS municipality code, e.g. 27100", "", ""},
      {"areas", "CODE,...", "area (ward) codes", "", ""},
      {"schools", "CODE,...", "school codes", "", ""},
      {"hubs", "CODE,...", "hub codes", "", ""},
      {"ttl", "DURATION", "lifetime, at most 744h", "", "1h"},
  };
  mint.run = RunMint;
  return {mint};
}

}  // namespace kosapo::cli
