#include "tools/cli/cli.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/cli/exit_codes.h"
#include "tools/cli/terminal.h"

namespace kosapo::cli {
namespace {

constexpr char kExitCodesHelp[] =
    "Exit codes:\n"
    "  0  success\n"
    "  1  input rejected, wholly or in part (each rejected line is listed)\n"
    "  2  usage: unknown command or flag, bad value, unreadable file, or a\n"
    "     request the service called invalid\n"
    "  3  unavailable: a service unreachable, not SERVING, or too slow\n"
    "  4  not authenticated or not permitted (token, role, scope)\n"
    "  5  not found\n"
    "  6  not available in this version (a service without the call)\n"
    "  7  any other failure\n";

constexpr char kConnectionHelp[] =
    "Connection (each a flag of the commands that need it, or the "
    "environment):\n"
    "  --screening-address  KOSAPO_SCREENING_ADDRESS  default "
    "127.0.0.1:50051\n"
    "  --case-address       KOSAPO_CASE_ADDRESS       default "
    "127.0.0.1:50052\n"
    "  --referral-address   KOSAPO_REFERRAL_ADDRESS   default "
    "127.0.0.1:50053\n"
    "  --reporting-address  KOSAPO_REPORTING_ADDRESS  default "
    "127.0.0.1:50054\n"
    "  --token-file         KOSAPO_TOKEN_FILE, or the token itself in "
    "KOSAPO_TOKEN\n"
    "  --municipality       KOSAPO_MUNICIPALITY       default: the token's\n"
    "  --timeout            KOSAPO_TIMEOUT            default 30s per call\n"
    "  --purpose            KOSAPO_PURPOSE            why you read or write "
    "personal\n"
    "                                                 data, kept in the "
    "audit trails\n"
    "The defaults reach a suite started with scripts/run.sh "
    "--keep-running.\n";

std::string CommandWords(const Command& command) {
  return command.group.empty() ? command.name
                               : absl::StrCat(command.group, " ", command.name);
}

std::string Overview() {
  std::string out =
      "kosapo: the command-line client of the kosapo services (screening, "
      "case,\nreferral, reporting).\n\n"
      "Usage: kosapo COMMAND [ARGUMENTS] [--flag=value ...]\n\n"
      "Commands:\n";
  size_t width = 0;
  for (const Command& command : Commands()) {
    width = std::max(
        width, CommandWords(command).size() + 1 + command.synopsis.size());
  }
  width = std::min<size_t>(width, 38);
  for (const Command& command : Commands()) {
    std::string head = CommandWords(command);
    if (!command.synopsis.empty() && command.synopsis[0] != '[' &&
        command.synopsis[0] != '-') {
      absl::StrAppend(&head, " ",
                      command.synopsis.substr(0, command.synopsis.find(' ')));
    }
    absl::StrAppend(
        &out, "  ", head,
        std::string(head.size() < width ? width - head.size() : 1, ' '), "  ",
        command.summary, "\n");
  }
  absl::StrAppend(&out,
                  "\nRun `kosapo COMMAND --help` for a command's arguments "
                  "and flags.\n\n",
                  kConnectionHelp, "\n", kExitCodesHelp);
  return out;
}

std::string GroupHelp(const std::string& group) {
  std::string out = absl::StrCat("Usage: kosapo ", group,
                                 " SUBCOMMAND [ARGUMENTS] [flags]\n\n"
                                 "Subcommands:\n");
  for (const Command& command : Commands()) {
    if (command.group == group) {
      absl::StrAppend(
          &out, "  ", command.name,
          std::string(command.name.size() < 18 ? 18 - command.name.size() : 1,
                      ' '),
          command.summary, "\n");
    }
  }
  absl::StrAppend(&out, "\nRun `kosapo ", group,
                  " SUBCOMMAND --help` for its flags.\n");
  return out;
}

std::string CommandHelp(const Command& command) {
  std::string out = absl::StrCat("Usage: kosapo ", CommandWords(command));
  if (!command.synopsis.empty()) {
    absl::StrAppend(&out, " ", command.synopsis);
  }
  absl::StrAppend(&out, "\n\n", command.summary, "\n");
  if (!command.details.empty()) {
    absl::StrAppend(&out, "\n", command.details);
    if (command.details.back() != '\n') {
      absl::StrAppend(&out, "\n");
    }
  }
  if (!command.flags.empty()) {
    absl::StrAppend(&out,
                    "\nFlags (a flag wins over its environment "
                    "variable, which wins over the default):\n",
                    FlagsHelp(command.flags));
  }
  absl::StrAppend(&out,
                  "\nExit codes: 0 success, 1 input rejected, 2 usage, "
                  "3 unavailable, 4 not\npermitted, 5 not found, 6 not "
                  "available yet, 7 other (see kosapo --help).\n");
  return out;
}

int UsageError(Io& io, const std::string& message, const std::string& help) {
  io.err << "kosapo: " << message << "\n" << help;
  return kExitUsage;
}

int RunCommand(const Command& command, const std::vector<std::string>& args,
               Io& io) {
  const std::string words = CommandWords(command);
  absl::StatusOr<Args> parsed = ParseArgs(command.flags, args, io.env);
  if (!parsed.ok()) {
    io.err << "kosapo " << words << ": " << parsed.status().message()
           << "\nRun `kosapo " << words << " --help` for usage.\n";
    return kExitUsage;
  }
  if (parsed->help()) {
    io.out << CommandHelp(command);
    return kExitOk;
  }
  const size_t count = parsed->positional().size();
  if (count < command.min_positional || count > command.max_positional) {
    io.err << "kosapo " << words << ": ";
    if (count > command.max_positional) {
      io.err << "unexpected argument '"
             << parsed->positional()[command.max_positional] << "'";
    } else {
      io.err << "missing argument";
    }
    io.err << "\nUsage: kosapo " << words << " " << command.synopsis
           << "\nRun `kosapo " << words << " --help` for usage.\n";
    return kExitUsage;
  }
  CommandResult result = command.run(*parsed, io);
  if (result.ok()) {
    return *result;
  }
  io.err << "kosapo " << words << ": " << result.status().message() << "\n";
  const int code = ExitCodeOf(result.status());
  if (code == kExitUsage && result.status().message().substr(0, 2) == "--") {
    io.err << "Run `kosapo " << words << " --help` for usage.\n";
  }
  return code;
}

}  // namespace

const std::vector<Command>& Commands() {
  static const auto* const kCommands = [] {
    auto* commands = new std::vector<Command>();
    for (auto group : {ImportCommands, ReportCommands, CaseCommands,
                       HealthCommands, TokenCommands}) {
      for (Command& command : group()) {
        commands->push_back(std::move(command));
      }
    }
    return commands;
  }();
  return *kCommands;
}

int Main(const std::vector<std::string>& args, Io& io) {
  if (args.empty()) {
    io.err << Overview();
    return kExitUsage;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  const std::string& word = args[0];
  if (word == "--help" || word == "-h" || word == "help") {
    if (word == "help" && !rest.empty()) {
      // `kosapo help report ward-comparison` = `kosapo report ... --help`.
      rest.push_back("--help");
      return Main(rest, io);
    }
    io.out << Overview();
    return kExitOk;
  }
  if (word == "--version" || word == "version") {
    io.out << "kosapo " << KOSAPO_VERSION << "\n";
    return kExitOk;
  }
  std::vector<std::string> names;
  for (const Command& command : Commands()) {
    if (command.group.empty() && command.name == word) {
      return RunCommand(command, rest, io);
    }
    if (command.group == word) {
      names.push_back(command.name);
    }
  }
  if (names.empty()) {
    return UsageError(io, absl::StrCat("unknown command '", word, "'"),
                      "Run `kosapo --help` for the commands.\n");
  }
  if (rest.empty() || rest[0].substr(0, 1) == "-") {
    const bool help = !rest.empty() && (rest[0] == "--help" || rest[0] == "-h");
    if (help) {
      io.out << GroupHelp(word);
      return kExitOk;
    }
    return UsageError(io,
                      absl::StrCat("'", word, "' needs a subcommand: one of ",
                                   absl::StrJoin(names, ", ")),
                      GroupHelp(word));
  }
  const std::string sub = rest[0];
  rest.erase(rest.begin());
  for (const Command& command : Commands()) {
    if (command.group == word && command.name == sub) {
      return RunCommand(command, rest, io);
    }
  }
  return UsageError(io,
                    absl::StrCat("unknown command '", word, " ", sub,
                                 "': one of ", absl::StrJoin(names, ", ")),
                    GroupHelp(word));
}

}  // namespace kosapo::cli
