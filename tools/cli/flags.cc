#include "tools/cli/flags.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace kosapo::cli {
namespace {

absl::Status FlagError(absl::string_view name, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("--", name, ": ", problem));
}

const Flag* FindFlag(const std::vector<Flag>& flags, absl::string_view name) {
  for (const Flag& flag : flags) {
    if (flag.name == name) {
      return &flag;
    }
  }
  return nullptr;
}

bool ParseBool(absl::string_view text, bool* out) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "true" || lower == "1" || lower == "yes") {
    *out = true;
    return true;
  }
  if (lower == "false" || lower == "0" || lower == "no") {
    *out = false;
    return true;
  }
  return false;
}

// `text` in lines of at most `width` bytes (help is ASCII), each after
// `indent`, broken between words.
std::string WrapWords(absl::string_view text, absl::string_view indent,
                      size_t width) {
  std::string out;
  std::string line(indent);
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (line.size() > indent.size() && line.size() + 1 + word.size() > width) {
      absl::StrAppend(&out, line, "\n");
      line = std::string(indent);
    }
    absl::StrAppend(&line, line.size() > indent.size() ? " " : "", word);
  }
  absl::StrAppend(&out, line, "\n");
  return out;
}

}  // namespace

const Args::Value& Args::Find(absl::string_view name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) {
    std::fprintf(stderr, "kosapo: internal error: undeclared flag --%s\n",
                 std::string(name).c_str());
    std::abort();
  }
  return it->second;
}

const std::string& Args::Get(absl::string_view name) const {
  return Find(name).text;
}

std::string Args::Source(absl::string_view name) const {
  return Find(name).source;
}

const Flag& Args::Declaration(absl::string_view name) const {
  return Find(name).flag;
}

absl::StatusOr<Args> ParseArgs(const std::vector<Flag>& flags,
                               const std::vector<std::string>& args,
                               const EnvLookup& env) {
  Args parsed;
  std::map<std::string, std::string, std::less<>> given;
  bool flags_ended = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (flags_ended || arg.size() < 2 || arg[0] != '-' ||
        (arg[1] != '-' && arg != "-h")) {
      // "-" alone (stdin) and negative numbers are positional.
      parsed.positional_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_ended = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      parsed.help_ = true;
      continue;
    }
    absl::string_view body = absl::string_view(arg).substr(2);
    const size_t equals = body.find('=');
    const std::string name =
        absl::StrReplaceAll(body.substr(0, equals), {{"_", "-"}});
    const Flag* flag = FindFlag(flags, name);
    if (flag == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, " (see --help)"));
    }
    std::string value;
    if (equals != absl::string_view::npos) {
      value = std::string(body.substr(equals + 1));
    } else if (flag->value_name.empty()) {
      value = "true";
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return FlagError(name, absl::StrCat("needs a value (--", name, "=",
                                          flag->value_name, ")"));
    }
    if (!given.emplace(name, std::move(value)).second) {
      return FlagError(name, "given more than once");
    }
  }
  for (const Flag& flag : flags) {
    Args::Value value;
    value.flag = flag;
    if (const auto it = given.find(flag.name); it != given.end()) {
      value.text = it->second;
      value.source = "flag";
    } else if (std::optional<std::string> from_env =
                   flag.env.empty() ? std::nullopt : env(flag.env);
               from_env.has_value() && !from_env->empty()) {
      value.text = *std::move(from_env);
      value.source = absl::StrCat("env ", flag.env);
    } else {
      value.text = flag.default_value;
      value.source = "default";
    }
    if (flag.value_name.empty()) {
      bool ignored = false;
      if (!ParseBool(value.text.empty() ? "false" : value.text, &ignored)) {
        return FlagError(flag.name,
                         absl::StrCat("'", value.text, "' (", value.source,
                                      ") is not true or false"));
      }
    }
    parsed.values_[flag.name] = std::move(value);
  }
  return parsed;
}

std::string FlagsHelp(const std::vector<Flag>& flags) {
  std::string out;
  for (const Flag& flag : flags) {
    absl::StrAppend(&out, "  --", flag.name);
    if (!flag.value_name.empty()) {
      absl::StrAppend(&out, "=", flag.value_name);
    }
    if (!flag.env.empty()) {
      absl::StrAppend(&out, "  [env ", flag.env, "]");
    }
    std::string help = flag.help;
    if (!flag.default_value.empty()) {
      absl::StrAppend(&help, " (default ", flag.default_value, ")");
    }
    absl::StrAppend(&out, "\n", WrapWords(help, "      ", 78));
  }
  return out;
}

absl::StatusOr<bool> GetSwitch(const Args& args, absl::string_view name) {
  const std::string& text = args.Get(name);
  bool value = false;
  if (!text.empty() && !ParseBool(text, &value)) {
    return FlagError(name, "must be true or false");
  }
  return value;
}

absl::StatusOr<int64_t> GetInt(const Args& args, absl::string_view name,
                               int64_t min, int64_t max) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(args.Get(name), &value) || value < min || value > max) {
    return FlagError(
        name, absl::StrCat("'", args.Get(name), "' is not a whole number from ",
                           min, " to ", max));
  }
  return value;
}

absl::StatusOr<absl::Duration> GetDuration(const Args& args,
                                           absl::string_view name) {
  absl::Duration value;
  if (!absl::ParseDuration(args.Get(name), &value) ||
      value <= absl::ZeroDuration()) {
    return FlagError(name, absl::StrCat("'", args.Get(name),
                                        "' is not a positive duration such as "
                                        "500ms, 30s or 2m"));
  }
  return value;
}

absl::StatusOr<std::string> GetChoice(const Args& args, absl::string_view name,
                                      const std::vector<std::string>& allowed) {
  const std::string& value = args.Get(name);
  for (const std::string& candidate : allowed) {
    if (value == candidate) {
      return value;
    }
  }
  return FlagError(name, absl::StrCat("'", value, "' is not one of ",
                                      absl::StrJoin(allowed, ", ")));
}

absl::StatusOr<std::string> GetRequired(const Args& args,
                                        absl::string_view name) {
  if (!args.Has(name)) {
    const Flag& flag = args.Declaration(name);
    std::string where = absl::StrCat("--", name);
    if (!flag.value_name.empty()) {
      absl::StrAppend(&where, "=", flag.value_name);
    }
    if (!flag.env.empty()) {
      absl::StrAppend(&where, " or ", flag.env);
    }
    return absl::InvalidArgumentError(
        absl::StrCat(where, " is required: ", flag.help));
  }
  return args.Get(name);
}

}  // namespace kosapo::cli
