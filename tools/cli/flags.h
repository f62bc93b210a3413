// The command line of one `kosapo` command: flags from a declared table
// (each optionally backed by an environment variable and a default), and
// positional arguments. Hand-written rather than absl flags so that every
// command's --help lists exactly its own flags.
//
// Accepted forms: --name=value, --name value, --switch, --switch=false, and
// "--" to end the flags. Underscores in a given name read as hyphens, so
// --as_of equals --as-of (scripts written for kosapo-token's
// --private_key_file keep working). Precedence: flag, then environment
// variable (when set and not empty), then default.
#ifndef KOSAPO_TOOLS_CLI_FLAGS_H_
#define KOSAPO_TOOLS_CLI_FLAGS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/base/config.h"

namespace kosapo::cli {

struct Flag {
  // Without the dashes, hyphenated: "as-of".
  std::string name;
  // Shown in help ("DATE"); empty makes the flag a switch (true/false).
  std::string value_name;
  std::string help;
  // Environment variable read when the flag is not given; may be empty.
  std::string env;
  std::string default_value;
};

// The parsed command line. Values are never validated here: commands do
// that (ParseDuration etc.), naming the flag.
class Args {
 public:
  // The flag's value after precedence; "" when none applies. Aborts on an
  // undeclared name (a programming error).
  const std::string& Get(absl::string_view name) const;
  // Whether the command declares the flag.
  bool Declared(absl::string_view name) const {
    return values_.find(name) != values_.end();
  }
  // Whether the value is non-empty.
  bool Has(absl::string_view name) const { return !Get(name).empty(); }
  // Where the value came from: "flag", "env <NAME>" or "default", for
  // messages.
  std::string Source(absl::string_view name) const;
  // The declaration of a flag, for messages.
  const Flag& Declaration(absl::string_view name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  bool help() const { return help_; }

 private:
  friend absl::StatusOr<Args> ParseArgs(const std::vector<Flag>&,
                                        const std::vector<std::string>&,
                                        const EnvLookup&);
  struct Value {
    std::string text;
    std::string source;
    Flag flag;
  };
  const Value& Find(absl::string_view name) const;
  std::map<std::string, Value, std::less<>> values_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

// INVALID_ARGUMENT naming the flag: an unknown flag, one given twice, a
// missing value, or a switch with a value other than true/false.
absl::StatusOr<Args> ParseArgs(const std::vector<Flag>& flags,
                               const std::vector<std::string>& args,
                               const EnvLookup& env);

// One entry per flag: "  --as-of=DATE  [env ...]\n      help (default x)".
std::string FlagsHelp(const std::vector<Flag>& flags);

// Typed readers; INVALID_ARGUMENT "--name: ..." on a bad value.
absl::StatusOr<bool> GetSwitch(const Args& args, absl::string_view name);
absl::StatusOr<int64_t> GetInt(const Args& args, absl::string_view name,
                               int64_t min, int64_t max);
// Go-style durations: 500ms, 30s, 2m.
absl::StatusOr<absl::Duration> GetDuration(const Args& args,
                                           absl::string_view name);
// One of `allowed`.
absl::StatusOr<std::string> GetChoice(const Args& args, absl::string_view name,
                                      const std::vector<std::string>& allowed);
// INVALID_ARGUMENT "--name is required (help)" when empty.
absl::StatusOr<std::string> GetRequired(const Args& args,
                                        absl::string_view name);

}  // namespace kosapo::cli

#endif  // KOSAPO_TOOLS_CLI_FLAGS_H_
