#include "common/base/config.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace kosapo {
namespace {

[[noreturn]] void Die(absl::string_view what) {
  std::fprintf(stderr, "kosapo config: %.*s\n", static_cast<int>(what.size()),
               what.data());
  std::abort();
}

std::string FormatValue(const Config::Value& value) {
  if (const auto* s = std::get_if<std::string>(&value)) {
    return *s;
  }
  if (const auto* i = std::get_if<int64_t>(&value)) {
    return absl::StrCat(*i);
  }
  if (const auto* b = std::get_if<bool>(&value)) {
    return *b ? "true" : "false";
  }
  return absl::FormatDuration(std::get<absl::Duration>(value));
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  };
}

const Config::Value& Config::Get(absl::string_view name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    Die(absl::StrCat("undeclared option ", name));
  }
  return it->second.value;
}

const std::string& Config::GetString(absl::string_view name) const {
  const auto* value = std::get_if<std::string>(&Get(name));
  if (value == nullptr) {
    Die(absl::StrCat("option ", name, " is not a string"));
  }
  return *value;
}

int64_t Config::GetInt(absl::string_view name) const {
  const auto* value = std::get_if<int64_t>(&Get(name));
  if (value == nullptr) {
    Die(absl::StrCat("option ", name, " is not an integer"));
  }
  return *value;
}

bool Config::GetBool(absl::string_view name) const {
  const auto* value = std::get_if<bool>(&Get(name));
  if (value == nullptr) {
    Die(absl::StrCat("option ", name, " is not a boolean"));
  }
  return *value;
}

absl::Duration Config::GetDuration(absl::string_view name) const {
  const auto* value = std::get_if<absl::Duration>(&Get(name));
  if (value == nullptr) {
    Die(absl::StrCat("option ", name, " is not a duration"));
  }
  return *value;
}

nlohmann::json Config::Describe() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, entry] : entries_) {
    out[name] = {{"value", entry.secret ? std::string("<redacted>")
                                        : FormatValue(entry.value)},
                 {"source", entry.source}};
  }
  return out;
}

ConfigSpec::Option ConfigSpec::MakeOption(std::string name, std::string env,
                                          std::string help, Kind kind,
                                          Config::Value default_value) {
  Option option;
  option.name = std::move(name);
  option.env = std::move(env);
  option.help = std::move(help);
  option.kind = kind;
  option.default_value = std::move(default_value);
  return option;
}

ConfigSpec& ConfigSpec::Add(Option option) {
  for (const Option& existing : options_) {
    if (existing.name == option.name) {
      Die(absl::StrCat("option declared twice: ", option.name));
    }
  }
  options_.push_back(std::move(option));
  return *this;
}

ConfigSpec& ConfigSpec::AddString(std::string name, std::string env,
                                  std::string default_value, std::string help,
                                  StringOptions options) {
  Option option = MakeOption(std::move(name), std::move(env), std::move(help),
                             Kind::kString, std::move(default_value));
  option.string_options = std::move(options);
  return Add(std::move(option));
}

ConfigSpec& ConfigSpec::AddInt(std::string name, std::string env,
                               int64_t default_value, int64_t min, int64_t max,
                               std::string help) {
  Option option = MakeOption(std::move(name), std::move(env), std::move(help),
                             Kind::kInt, default_value);
  option.min_int = min;
  option.max_int = max;
  return Add(std::move(option));
}

ConfigSpec& ConfigSpec::AddBool(std::string name, std::string env,
                                bool default_value, std::string help) {
  return Add(MakeOption(std::move(name), std::move(env), std::move(help),
                        Kind::kBool, default_value));
}

ConfigSpec& ConfigSpec::AddDuration(std::string name, std::string env,
                                    absl::Duration default_value,
                                    absl::Duration min, std::string help) {
  Option option = MakeOption(std::move(name), std::move(env), std::move(help),
                             Kind::kDuration, default_value);
  option.min_duration = min;
  return Add(std::move(option));
}

std::string ConfigSpec::Describe(const Option& option) const {
  if (option.env.empty()) {
    return absl::StrCat("--", option.name);
  }
  return absl::StrCat("--", option.name, " (env ", option.env, ")");
}

absl::StatusOr<Config::Value> ConfigSpec::ParseValue(
    const Option& option, absl::string_view text) const {
  const std::string shown =
      option.string_options.secret ? "<redacted>" : std::string(text);
  switch (option.kind) {
    case Kind::kString: {
      const auto& allowed = option.string_options.allowed;
      if (!allowed.empty()) {
        bool found = false;
        for (const std::string& candidate : allowed) {
          found = found || candidate == text;
        }
        if (!found) {
          return absl::InvalidArgumentError(
              absl::StrCat("invalid value for ", Describe(option), ": '", shown,
                           "' is not one of ", absl::StrJoin(allowed, ", ")));
        }
      }
      return Config::Value(std::string(text));
    }
    case Kind::kInt: {
      int64_t value = 0;
      if (!absl::SimpleAtoi(text, &value)) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid value for ", Describe(option), ": '", shown,
                         "' is not an integer"));
      }
      if (value < option.min_int || value > option.max_int) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid value for ", Describe(option), ": ", value,
                         " is outside ", option.min_int, "..", option.max_int));
      }
      return Config::Value(value);
    }
    case Kind::kBool: {
      const std::string lower = absl::AsciiStrToLower(text);
      if (lower == "true" || lower == "1" || lower == "yes") {
        return Config::Value(true);
      }
      if (lower == "false" || lower == "0" || lower == "no") {
        return Config::Value(false);
      }
      return absl::InvalidArgumentError(
          absl::StrCat("invalid value for ", Describe(option), ": '", shown,
                       "' is not true or false"));
    }
    case Kind::kDuration: {
      absl::Duration value;
      if (!absl::ParseDuration(text, &value)) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid value for ", Describe(option), ": '", shown,
                         "' is not a duration such as 250ms, 5s or 1m"));
      }
      if (value < option.min_duration) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid value for ", Describe(option), ": ", text,
                         " is below the minimum ",
                         absl::FormatDuration(option.min_duration)));
      }
      return Config::Value(value);
    }
  }
  return absl::InternalError("unreachable");
}

absl::StatusOr<Config> ConfigSpec::Parse(int argc, char** argv,
                                         const EnvLookup& env) const {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    args.emplace_back(argv[i]);
  }
  return Parse(args, env);
}

absl::StatusOr<Config> ConfigSpec::Parse(const std::vector<std::string>& args,
                                         const EnvLookup& env) const {
  Config config;
  std::map<std::string, std::string, std::less<>> flags;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      config.help_requested_ = true;
      continue;
    }
    if (!absl::ConsumePrefix(&arg, "--")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unexpected argument '", arg, "': flags look like --name=value"));
    }
    std::string name;
    std::string value;
    const size_t eq = arg.find('=');
    if (eq != absl::string_view::npos) {
      name = std::string(arg.substr(0, eq));
      value = std::string(arg.substr(eq + 1));
    } else {
      name = std::string(arg);
      const Option* option = nullptr;
      for (const Option& candidate : options_) {
        if (candidate.name == name) {
          option = &candidate;
        }
      }
      if (option != nullptr && option->kind == Kind::kBool) {
        value = "true";  // a bare boolean flag switches it on
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", name, " needs a value"));
      }
    }
    if (flags.count(name) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", name, " given twice"));
    }
    flags[name] = std::move(value);
  }
  for (const auto& [name, value] : flags) {
    bool known = false;
    for (const Option& option : options_) {
      known = known || option.name == name;
    }
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, " (see --help)"));
    }
  }
  for (const Option& option : options_) {
    Config::Entry entry;
    entry.secret = option.string_options.secret;
    std::optional<std::string> text;
    if (auto it = flags.find(option.name); it != flags.end()) {
      text = it->second;
      entry.source = "flag";
    } else if (!option.env.empty()) {
      if (std::optional<std::string> from_env = env(option.env);
          from_env.has_value() && !from_env->empty()) {
        text = std::move(from_env);
        entry.source = "env";
      }
    }
    if (text.has_value()) {
      auto value = ParseValue(option, *text);
      if (!value.ok()) {
        return value.status();
      }
      entry.value = *std::move(value);
    } else {
      if (option.kind == Kind::kString && option.string_options.required &&
          std::get<std::string>(option.default_value).empty() &&
          !config.help_requested_) {
        return absl::InvalidArgumentError(absl::StrCat(
            "missing required setting ", Describe(option), ": ", option.help));
      }
      entry.value = option.default_value;
      entry.source = "default";
    }
    config.entries_[option.name] = std::move(entry);
  }
  return config;
}

std::string ConfigSpec::Usage(absl::string_view program) const {
  std::string out = absl::StrCat("Usage: ", program, " [--flag=value ...]\n",
                                 "Flags win over environment variables, "
                                 "which win over defaults.\n\n");
  for (const Option& option : options_) {
    absl::StrAppend(&out, "  --", option.name);
    if (!option.env.empty()) {
      absl::StrAppend(&out, "  [env ", option.env, "]");
    }
    absl::StrAppend(&out, "\n      ", option.help);
    const std::string def = FormatValue(option.default_value);
    if (option.kind == Kind::kString && option.string_options.required) {
      absl::StrAppend(&out, " (required)");
    } else if (!def.empty()) {
      absl::StrAppend(&out, " (default ", def, ")");
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

}  // namespace kosapo
