#include "services/reporting/export/zip_writer.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace kosapo::reporting::exports {
namespace {

constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint32_t kDataDescriptor = 0x08074b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr uint16_t kVersion = 20;    // 2.0: deflate
constexpr uint16_t kFlags = 0x0008;  // sizes in a data descriptor
constexpr uint16_t kDeflated = 8;
constexpr uint16_t kDosTime = 0;                        // 00:00:00
constexpr uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01
constexpr uint64_t kMax32 = std::numeric_limits<uint32_t>::max();
constexpr size_t kOutputBuffer = 16 * 1024;

void Put16(std::string& out, uint16_t value) {
  out.push_back(static_cast<char>(value & 0xff));
  out.push_back(static_cast<char>(value >> 8));
}

void Put32(std::string& out, uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

absl::Status TooLarge() {
  return absl::OutOfRangeError("export: larger than a zip without zip64");
}

}  // namespace

ZipWriter::ZipWriter(ChunkSink& sink) : sink_(sink) {}

ZipWriter::~ZipWriter() {
  if (deflating_) {
    deflateEnd(&stream_);
  }
}

absl::Status ZipWriter::Emit(absl::string_view bytes) {
  offset_ += bytes.size();
  return sink_.Append(bytes);
}

absl::Status ZipWriter::Begin(absl::string_view name) {
  if (finished_) {
    return absl::FailedPreconditionError("zip: entry after the end");
  }
  if (open_) {
    if (absl::Status ended = End(); !ended.ok()) {
      return ended;
    }
  }
  if (name.empty() || name.size() > 0xffff || name.front() == '/') {
    return absl::InvalidArgumentError(absl::StrCat("zip: bad name ", name));
  }
  // One deflate state for every entry, reset in between: a fresh one costs
  // some 2 ms of page faults here, more than deflating a whole sheet.
  if (!deflating_) {
    stream_ = z_stream{};
    // Raw deflate (negative window bits): zip frames the data itself.
    if (deflateInit2(&stream_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
      return absl::InternalError("zip: deflateInit2 failed");
    }
    deflating_ = true;
  } else if (deflateReset(&stream_) != Z_OK) {
    return absl::InternalError("zip: deflateReset failed");
  }
  open_ = true;
  name_ = std::string(name);
  local_offset_ = offset_;
  crc_ = static_cast<uint32_t>(crc32(0L, Z_NULL, 0));
  size_ = 0;
  compressed_size_ = 0;

  std::string header;
  Put32(header, kLocalHeader);
  Put16(header, kVersion);
  Put16(header, kFlags);
  Put16(header, kDeflated);
  Put16(header, kDosTime);
  Put16(header, kDosDate);
  Put32(header, 0);  // CRC, compressed and uncompressed size: in the
  Put32(header, 0);  // data descriptor
  Put32(header, 0);
  Put16(header, static_cast<uint16_t>(name_.size()));
  Put16(header, 0);  // extra field length
  header.append(name_);
  return Emit(header);
}

absl::Status ZipWriter::Write(absl::string_view data) {
  if (!open_) {
    return absl::FailedPreconditionError("zip: write outside an entry");
  }
  // zlib's counts are uInt: feed very large pieces in parts.
  while (!data.empty()) {
    const size_t piece = std::min<size_t>(data.size(), 1u << 30);
    crc_ = static_cast<uint32_t>(
        crc32(crc_, reinterpret_cast<const Bytef*>(data.data()),
              static_cast<uInt>(piece)));
    size_ += piece;
    stream_.next_in =
        const_cast<Bytef*>(reinterpret_cast<const Bytef*>(data.data()));
    stream_.avail_in = static_cast<uInt>(piece);
    if (absl::Status deflated = Deflate(Z_NO_FLUSH); !deflated.ok()) {
      return deflated;
    }
    data.remove_prefix(piece);
  }
  return size_ > kMax32 ? TooLarge() : absl::OkStatus();
}

absl::Status ZipWriter::Deflate(int flush) {
  char buffer[kOutputBuffer];
  while (true) {
    stream_.next_out = reinterpret_cast<Bytef*>(buffer);
    stream_.avail_out = sizeof(buffer);
    const int rc = deflate(&stream_, flush);
    if (rc == Z_STREAM_ERROR) {
      return absl::InternalError("zip: deflate failed");
    }
    const size_t produced = sizeof(buffer) - stream_.avail_out;
    if (produced > 0) {
      compressed_size_ += produced;
      if (absl::Status sent = Emit(absl::string_view(buffer, produced));
          !sent.ok()) {
        return sent;
      }
    }
    if (flush == Z_FINISH ? rc == Z_STREAM_END : stream_.avail_out != 0) {
      return absl::OkStatus();
    }
  }
}

absl::Status ZipWriter::End() {
  absl::Status finished = Deflate(Z_FINISH);
  open_ = false;
  if (!finished.ok()) {
    return finished;
  }
  if (size_ > kMax32 || compressed_size_ > kMax32 || local_offset_ > kMax32) {
    return TooLarge();
  }
  std::string descriptor;
  Put32(descriptor, kDataDescriptor);
  Put32(descriptor, crc_);
  Put32(descriptor, static_cast<uint32_t>(compressed_size_));
  Put32(descriptor, static_cast<uint32_t>(size_));
  if (absl::Status sent = Emit(descriptor); !sent.ok()) {
    return sent;
  }

  std::string& cd = central_directory_;
  Put32(cd, kCentralHeader);
  Put16(cd, kVersion);  // made by: MS-DOS (0), 2.0
  Put16(cd, kVersion);  // needed to extract
  Put16(cd, kFlags);
  Put16(cd, kDeflated);
  Put16(cd, kDosTime);
  Put16(cd, kDosDate);
  Put32(cd, crc_);
  Put32(cd, static_cast<uint32_t>(compressed_size_));
  Put32(cd, static_cast<uint32_t>(size_));
  Put16(cd, static_cast<uint16_t>(name_.size()));
  Put16(cd, 0);  // extra field length
  Put16(cd, 0);  // comment length
  Put16(cd, 0);  // disk number start
  Put16(cd, 0);  // internal attributes
  Put32(cd, 0);  // external attributes
  Put32(cd, static_cast<uint32_t>(local_offset_));
  cd.append(name_);
  ++entries_;
  return absl::OkStatus();
}

absl::Status ZipWriter::Add(absl::string_view name, absl::string_view data) {
  if (absl::Status begun = Begin(name); !begun.ok()) {
    return begun;
  }
  return Write(data);
}

absl::Status ZipWriter::Finish() {
  if (finished_) {
    return absl::FailedPreconditionError("zip: finished twice");
  }
  if (open_) {
    if (absl::Status ended = End(); !ended.ok()) {
      return ended;
    }
  }
  finished_ = true;
  const uint64_t directory_offset = offset_;
  const uint64_t directory_size = central_directory_.size();
  if (entries_ > 0xffff || directory_offset > kMax32 ||
      directory_size > kMax32) {
    return TooLarge();
  }
  std::string end = std::move(central_directory_);
  Put32(end, kEndOfCentralDirectory);
  Put16(end, 0);  // this disk
  Put16(end, 0);  // the disk the directory starts on
  Put16(end, static_cast<uint16_t>(entries_));
  Put16(end, static_cast<uint16_t>(entries_));
  Put32(end, static_cast<uint32_t>(directory_size));
  Put32(end, static_cast<uint32_t>(directory_offset));
  Put16(end, 0);  // comment length
  return Emit(end);
}

}  // namespace kosapo::reporting::exports
