// Declarative configuration from command-line flags and the environment
// (12-factor). Each option has a flag (`--db_url=...` or `--db_url ...`), an
// environment variable (`KOSAPO_DB_URL`) and a default. Precedence: flag,
// then environment, then default. Every value is validated when parsed, and
// an error names the flag and the variable, so a bad deployment stops at
// start with a message saying what to fix.
#ifndef KOSAPO_COMMON_BASE_CONFIG_H_
#define KOSAPO_COMMON_BASE_CONFIG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace kosapo {

// Looks up an environment variable; injectable so tests need no real env.
using EnvLookup =
    std::function<std::optional<std::string>(const std::string& name)>;

// The process environment.
EnvLookup ProcessEnv();

// The parsed, validated values of a ConfigSpec.
class Config {
 public:
  using Value = std::variant<std::string, int64_t, bool, absl::Duration>;

  // Getters abort on an undeclared name or a type mismatch: both are
  // programming errors, not configuration errors.
  const std::string& GetString(absl::string_view name) const;
  int64_t GetInt(absl::string_view name) const;
  bool GetBool(absl::string_view name) const;
  absl::Duration GetDuration(absl::string_view name) const;

  // True when `--help` was given; the caller prints the usage and exits.
  bool help_requested() const { return help_requested_; }

  // Every setting and where it came from, secrets redacted: for the start-up
  // log line.
  nlohmann::json Describe() const;

 private:
  friend class ConfigSpec;
  struct Entry {
    Value value;
    std::string source;  // "flag", "env" or "default"
    bool secret = false;
  };
  const Value& Get(absl::string_view name) const;

  std::map<std::string, Entry, std::less<>> entries_;
  bool help_requested_ = false;
};

// The options a program accepts.
class ConfigSpec {
 public:
  struct StringOptions {
    bool required = false;
    // Redacted in Describe(); e.g. a database URL with a password.
    bool secret = false;
    // When non-empty, the value must be one of these.
    std::vector<std::string> allowed;

    StringOptions& Required() {
      required = true;
      return *this;
    }
    StringOptions& Secret() {
      secret = true;
      return *this;
    }
    StringOptions& OneOf(std::vector<std::string> values) {
      allowed = std::move(values);
      return *this;
    }
  };

  ConfigSpec& AddString(std::string name, std::string env,
                        std::string default_value, std::string help,
                        StringOptions options);
  ConfigSpec& AddString(std::string name, std::string env,
                        std::string default_value, std::string help) {
    return AddString(std::move(name), std::move(env), std::move(default_value),
                     std::move(help), StringOptions{});
  }
  ConfigSpec& AddInt(std::string name, std::string env, int64_t default_value,
                     int64_t min, int64_t max, std::string help);
  ConfigSpec& AddBool(std::string name, std::string env, bool default_value,
                      std::string help);
  // Durations are written as Go-style strings: "250ms", "5s", "1m30s".
  ConfigSpec& AddDuration(std::string name, std::string env,
                          absl::Duration default_value, absl::Duration min,
                          std::string help);

  // Parses `args` (without the program name) and the environment.
  // INVALID_ARGUMENT names the offending flag and variable.
  absl::StatusOr<Config> Parse(const std::vector<std::string>& args,
                               const EnvLookup& env) const;

  // Convenience for main(): argv[1..argc).
  absl::StatusOr<Config> Parse(int argc, char** argv,
                               const EnvLookup& env) const;

  // A usage text listing every option, its variable and default.
  std::string Usage(absl::string_view program) const;

 private:
  enum class Kind { kString, kInt, kBool, kDuration };
  struct Option {
    std::string name;
    std::string env;
    std::string help;
    Kind kind = Kind::kString;
    Config::Value default_value;
    StringOptions string_options;
    int64_t min_int = 0;
    int64_t max_int = 0;
    absl::Duration min_duration;
  };
  static Option MakeOption(std::string name, std::string env, std::string help,
                           Kind kind, Config::Value default_value);
  ConfigSpec& Add(Option option);
  absl::StatusOr<Config::Value> ParseValue(const Option& option,
                                           absl::string_view text) const;
  std::string Describe(const Option& option) const;

  std::vector<Option> options_;
};

}  // namespace kosapo

#endif  // KOSAPO_COMMON_BASE_CONFIG_H_
