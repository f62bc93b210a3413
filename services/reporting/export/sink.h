// Where an export's bytes go, in order, so that a writer never needs the
// whole file in memory: tests collect it in a string, the gRPC adapter cuts
// it into messages and sends each as soon as it is full.
#ifndef KOSAPO_SERVICES_REPORTING_EXPORT_SINK_H_
#define KOSAPO_SERVICES_REPORTING_EXPORT_SINK_H_

#include <cstddef>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace kosapo::reporting::exports {

class ChunkSink {
 public:
  virtual ~ChunkSink() = default;
  // Takes the next bytes of the file. An error (the client went away)
  // stops the writer, which returns it unchanged.
  virtual absl::Status Append(absl::string_view bytes) = 0;
};

// Collects the whole file.
class StringSink final : public ChunkSink {
 public:
  absl::Status Append(absl::string_view bytes) override;
  const std::string& data() const { return data_; }

 private:
  std::string data_;
};

// Cuts the file into chunks of exactly `chunk_size` bytes, the last one
// shorter, and hands each to `emit` as soon as it is full. Close() emits the
// rest; it emits one empty chunk when nothing was written at all, so a
// stream always has a first chunk.
class ChunkingSink final : public ChunkSink {
 public:
  using Emit = std::function<absl::Status(std::string chunk)>;
  // `chunk_size` > 0.
  ChunkingSink(size_t chunk_size, Emit emit);

  absl::Status Append(absl::string_view bytes) override;
  // Emits what is left. Append after Close is FAILED_PRECONDITION.
  absl::Status Close();

  // Chunks emitted so far.
  int chunks() const { return chunks_; }

 private:
  absl::Status EmitBuffer();

  const size_t chunk_size_;
  Emit emit_;
  std::string buffer_;
  int chunks_ = 0;
  bool closed_ = false;
};

}  // namespace kosapo::reporting::exports

#endif  // KOSAPO_SERVICES_REPORTING_EXPORT_SINK_H_
