// kosapo: the command-line client of the kosapo services (see cli.h and the
// README section "The kosapo command-line client").
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "tools/cli/cli.h"

int main(int argc, char** argv) {
  kosapo::cli::Io io{std::cout, std::cerr, isatty(STDOUT_FILENO) == 1,
                     isatty(STDERR_FILENO) == 1, kosapo::ProcessEnv()};
  const int code =
      kosapo::cli::Main(std::vector<std::string>(argv + 1, argv + argc), io);
  std::cout.flush();
  return code;
}
