// A zip archive (PKWARE APPNOTE 6.3) written front to back into a
// ChunkSink, never seeking: each entry is deflated as it is written, and its
// CRC and sizes follow its data in a data descriptor (general purpose flag
// bit 3), as Java's ZipOutputStream and Apache POI's streaming workbooks do.
// Only the central directory (some 100 bytes an entry) is held until the
// end.
//
// The same entries give the same bytes: every entry is dated 1980-01-01
// 00:00 (the earliest DOS date), and no extra fields or comments are
// written. Entries and the archive stay within 4 GiB (no zip64); beyond
// that is OUT_OF_RANGE.
#ifndef KOSAPO_SERVICES_REPORTING_EXPORT_ZIP_WRITER_H_
#define KOSAPO_SERVICES_REPORTING_EXPORT_ZIP_WRITER_H_

#include <zlib.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/reporting/export/sink.h"

namespace kosapo::reporting::exports {

class ZipWriter {
 public:
  explicit ZipWriter(ChunkSink& sink);
  ~ZipWriter();
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;

  // Starts an entry; `name` is a relative path with forward slashes, in
  // ASCII. Ends the previous entry if one is open.
  absl::Status Begin(absl::string_view name);
  // Appends to the open entry.
  absl::Status Write(absl::string_view data);
  // Begin, Write and End in one.
  absl::Status Add(absl::string_view name, absl::string_view data);
  // Ends the open entry and writes the central directory. Nothing may be
  // written after it.
  absl::Status Finish();

 private:
  absl::Status End();
  // Runs deflate over the pending input with `flush` and sends its output.
  absl::Status Deflate(int flush);
  absl::Status Emit(absl::string_view bytes);

  ChunkSink& sink_;
  z_stream stream_{};
  bool deflating_ = false;  // stream_ is initialised
  bool open_ = false;       // an entry is being written
  bool finished_ = false;
  uint64_t offset_ = 0;  // bytes written to the sink

  // The open entry.
  std::string name_;
  uint64_t local_offset_ = 0;
  uint32_t crc_ = 0;
  uint64_t size_ = 0;
  uint64_t compressed_size_ = 0;

  std::string central_directory_;
  uint64_t entries_ = 0;
};

}  // namespace kosapo::reporting::exports

#endif  // KOSAPO_SERVICES_REPORTING_EXPORT_ZIP_WRITER_H_
