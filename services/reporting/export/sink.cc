#include "services/reporting/export/sink.h"

#include <algorithm>
#include <utility>

namespace kosapo::reporting::exports {

absl::Status StringSink::Append(absl::string_view bytes) {
  data_.append(bytes.data(), bytes.size());
  return absl::OkStatus();
}

ChunkingSink::ChunkingSink(size_t chunk_size, Emit emit)
    : chunk_size_(std::max<size_t>(chunk_size, 1)), emit_(std::move(emit)) {
  buffer_.reserve(chunk_size_);
}

absl::Status ChunkingSink::Append(absl::string_view bytes) {
  if (closed_) {
    return absl::FailedPreconditionError("export: written after its end");
  }
  while (!bytes.empty()) {
    const size_t take = std::min(bytes.size(), chunk_size_ - buffer_.size());
    buffer_.append(bytes.data(), take);
    bytes.remove_prefix(take);
    if (buffer_.size() == chunk_size_) {
      if (absl::Status emitted = EmitBuffer(); !emitted.ok()) {
        return emitted;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ChunkingSink::Close() {
  if (closed_) {
    return absl::OkStatus();
  }
  closed_ = true;
  if (buffer_.empty() && chunks_ > 0) {
    return absl::OkStatus();
  }
  return EmitBuffer();
}

absl::Status ChunkingSink::EmitBuffer() {
  std::string chunk;
  chunk.swap(buffer_);
  buffer_.reserve(chunk_size_);
  ++chunks_;
  return emit_(std::move(chunk));
}

}  // namespace kosapo::reporting::exports
