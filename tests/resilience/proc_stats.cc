#include "tests/resilience/proc_stats.h"

#include <dirent.h>

#include <fstream>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace kosapo::resilience {

absl::StatusOr<int64_t> ResidentKiB(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream fields(line.substr(6));
      int64_t kib = 0;
      if (fields >> kib) {
        return kib;
      }
    }
  }
  return absl::NotFoundError(absl::StrCat("no VmRSS for pid ", pid));
}

absl::StatusOr<int> OpenFds(pid_t pid) {
  const std::string path = absl::StrCat("/proc/", pid, "/fd");
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) {
    return absl::NotFoundError("cannot read " + path);
  }
  int count = 0;
  while (const dirent* entry = readdir(dir)) {
    count += entry->d_name[0] == '.' ? 0 : 1;
  }
  closedir(dir);
  return count;
}

absl::StatusOr<int> PgConnections(const std::string& admin_url,
                                  const std::string& role) {
  try {
    pqxx::connection admin(admin_url);
    pqxx::nontransaction tx(admin);
    return tx
        .exec_params1(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = $1", role)[0]
        .as<int>();
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("pg_stat_activity: ", e.what()));
  }
}

}  // namespace kosapo::resilience
