// `kosapo`, the command-line client of the kosapo services: its commands,
// their dispatch and help. main() only wires the process's streams and
// environment to Main(), so tests run commands in-process or as a binary.
#ifndef KOSAPO_TOOLS_CLI_CLI_H_
#define KOSAPO_TOOLS_CLI_CLI_H_

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/base/config.h"
#include "tools/cli/flags.h"

namespace kosapo::cli {

// Where a command writes and what it knows of its surroundings.
struct Io {
  std::ostream& out;
  std::ostream& err;
  // Whether stdout / stderr are terminals (colours, progress bars).
  bool out_is_terminal = false;
  bool err_is_terminal = false;
  EnvLookup env;
};

// An exit code the command chose (kExitOk, kExitRejected), or a failure
// whose code gives the exit code (ExitCodeOf) and whose message is printed.
using CommandResult = absl::StatusOr<int>;

struct Command {
  // "import" for `kosapo import sheets`; "" for a command of its own
  // (`kosapo health`).
  std::string group;
  std::string name;
  // What follows the command words in the usage line.
  std::string synopsis;
  // One line, for the command list.
  std::string summary;
  // Paragraphs for --help, after the summary.
  std::string details;
  std::vector<Flag> flags;
  size_t min_positional = 0;
  size_t max_positional = 0;
  std::function<CommandResult(const Args& args, Io& io)> run;
};

// Every command, in the order of the help text.
const std::vector<Command>& Commands();

// Runs the command line `args` (without the program name); returns the exit
// code (exit_codes.h).
int Main(const std::vector<std::string>& args, Io& io);

// The command groups, defined beside their commands.
std::vector<Command> ImportCommands();
std::vector<Command> ReportCommands();
std::vector<Command> CaseCommands();
std::vector<Command> HealthCommands();
std::vector<Command> TokenCommands();

}  // namespace kosapo::cli

#endif  // KOSAPO_TOOLS_CLI_CLI_H_
