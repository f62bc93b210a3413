#include "services/reporting/export/sink.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace kosapo::reporting::exports {
namespace {

TEST(ChunkingSink, CutsTheBytesIntoFullChunksAndALastShorterOne) {
  std::vector<std::string> chunks;
  ChunkingSink sink(4, [&](std::string chunk) {
    chunks.push_back(std::move(chunk));
    return absl::OkStatus();
  });
  ASSERT_TRUE(sink.Append("ab").ok());
  EXPECT_TRUE(chunks.empty());  // nothing goes out before a chunk is full
  ASSERT_TRUE(sink.Append("cdefghij").ok());
  EXPECT_EQ(chunks, (std::vector<std::string>{"abcd", "efgh"}));
  ASSERT_TRUE(sink.Append("").ok());
  ASSERT_TRUE(sink.Close().ok());
  EXPECT_EQ(chunks, (std::vector<std::string>{"abcd", "efgh", "ij"}));
  EXPECT_EQ(sink.chunks(), 3);
  EXPECT_EQ(sink.Append("x").code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ChunkingSink, ExactMultipleEndsWithoutAnEmptyChunk) {
  std::vector<std::string> chunks;
  ChunkingSink sink(3, [&](std::string chunk) {
    chunks.push_back(std::move(chunk));
    return absl::OkStatus();
  });
  ASSERT_TRUE(sink.Append("abcdef").ok());
  ASSERT_TRUE(sink.Close().ok());
  EXPECT_EQ(chunks, (std::vector<std::string>{"abc", "def"}));
}

TEST(ChunkingSink, NothingWrittenStillGivesOneChunk) {
  int emitted = 0;
  ChunkingSink sink(8, [&](std::string chunk) {
    EXPECT_TRUE(chunk.empty());
    ++emitted;
    return absl::OkStatus();
  });
  ASSERT_TRUE(sink.Close().ok());
  EXPECT_EQ(emitted, 1);
}

TEST(ChunkingSink, ReturnsTheFirstErrorOfEmit) {
  ChunkingSink sink(
      2, [](std::string) { return absl::CancelledError("client went away"); });
  const absl::Status status = sink.Append("abc");
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(status.message(), "client went away");
}

}  // namespace
}  // namespace kosapo::reporting::exports
