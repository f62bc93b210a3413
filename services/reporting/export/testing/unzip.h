// Reads a zip archive back with minizip (zlib's contrib unzip), a reader
// independent of the writer under test.
#ifndef KOSAPO_SERVICES_REPORTING_EXPORT_TESTING_UNZIP_H_
#define KOSAPO_SERVICES_REPORTING_EXPORT_TESTING_UNZIP_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kosapo::reporting::exports_testing {

struct ZipEntry {
  std::string name;
  std::string data;
  // From the central directory.
  unsigned long crc = 0;
  unsigned long dos_date = 0;
  int method = 0;
};

// Every entry of `zip`, in the central directory's order, with its data
// inflated and its CRC checked by minizip. An error when minizip cannot read
// the archive or an entry.
absl::StatusOr<std::vector<ZipEntry>> Unzip(absl::string_view zip);

// Writes `data` to a fresh file under the test's temporary directory and
// returns its path.
std::string WriteTempFile(absl::string_view data, absl::string_view suffix);

}  // namespace kosapo::reporting::exports_testing

#endif  // KOSAPO_SERVICES_REPORTING_EXPORT_TESTING_UNZIP_H_
