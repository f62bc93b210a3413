#include "services/reporting/export/testing/unzip.h"

#include <minizip/unzip.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace kosapo::reporting::exports_testing {

std::string WriteTempFile(absl::string_view data, absl::string_view suffix) {
  std::string path =
      absl::StrCat(::testing::TempDir(), "/kosapo-export-XXXXXX", suffix);
  const int fd = mkstemps(path.data(), static_cast<int>(suffix.size()));
  EXPECT_GE(fd, 0) << path;
  if (fd >= 0) {
    close(fd);
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(data.data(), static_cast<std::streamsize>(data.size()));
  return path;
}

absl::StatusOr<std::vector<ZipEntry>> Unzip(absl::string_view zip) {
  const std::string path = WriteTempFile(zip, ".zip");
  unzFile file = unzOpen64(path.c_str());
  if (file == nullptr) {
    std::remove(path.c_str());
    return absl::InvalidArgumentError("minizip: not a zip archive");
  }
  std::vector<ZipEntry> entries;
  absl::Status status;
  for (int rc = unzGoToFirstFile(file); rc == UNZ_OK;
       rc = unzGoToNextFile(file)) {
    char name[512];
    unz_file_info64 info;
    if (unzGetCurrentFileInfo64(file, &info, name, sizeof(name), nullptr, 0,
                                nullptr, 0) != UNZ_OK) {
      status = absl::InvalidArgumentError("minizip: bad directory entry");
      break;
    }
    ZipEntry entry;
    entry.name = name;
    entry.crc = info.crc;
    entry.dos_date = info.dosDate;
    entry.method = static_cast<int>(info.compression_method);
    if (unzOpenCurrentFile(file) != UNZ_OK) {
      status = absl::InvalidArgumentError(absl::StrCat("cannot open ", name));
      break;
    }
    char buffer[8192];
    int n = 0;
    while ((n = unzReadCurrentFile(file, buffer, sizeof(buffer))) > 0) {
      entry.data.append(buffer, static_cast<size_t>(n));
    }
    // Closing checks the CRC of what was read against the directory's.
    const int closed = unzCloseCurrentFile(file);
    if (n < 0 || closed != UNZ_OK) {
      status = absl::InvalidArgumentError(absl::StrCat(
          "minizip: reading ", name, " failed (", n, ", ", closed, ")"));
      break;
    }
    if (entry.data.size() != info.uncompressed_size) {
      status = absl::InvalidArgumentError(
          absl::StrCat("minizip: ", name, " has the wrong size"));
      break;
    }
    entries.push_back(std::move(entry));
  }
  unzClose(file);
  std::remove(path.c_str());
  if (!status.ok()) {
    return status;
  }
  return entries;
}

}  // namespace kosapo::reporting::exports_testing
