#include "services/reporting/export/zip_writer.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/reporting/export/testing/unzip.h"

namespace kosapo::reporting::exports {
namespace {

using exports_testing::Unzip;

// Bytes that deflate does not shrink much, so the entry spans many of the
// writer's output buffers.
std::string Noise(size_t size) {
  std::string out(size, '\0');
  uint32_t x = 2463534242u;
  for (char& c : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x & 0xff);
  }
  return out;
}

TEST(ZipWriter, MinizipReadsBackEveryEntry) {
  const std::string noise = Noise(300 * 1024);
  std::string text;
  for (int i = 0; i < 20000; ++i) {
    absl::StrAppend(&text, "<row r=\"", i, "\">北区</row>");
  }
  StringSink sink;
  ZipWriter zip(sink);
  ASSERT_TRUE(zip.Add("empty.txt", "").ok());
  ASSERT_TRUE(zip.Begin("dir/text.xml").ok());
  // Written in uneven pieces, as a streaming writer does.
  for (size_t at = 0; at < text.size(); at += 777) {
    ASSERT_TRUE(zip.Write(absl::string_view(text).substr(at, 777)).ok());
  }
  ASSERT_TRUE(zip.Add("noise.bin", noise).ok());
  ASSERT_TRUE(zip.Finish().ok());
  EXPECT_FALSE(zip.Add("late", "x").ok());

  auto entries = Unzip(sink.data());
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].name, "empty.txt");
  EXPECT_EQ((*entries)[0].data, "");
  EXPECT_EQ((*entries)[1].name, "dir/text.xml");
  EXPECT_EQ((*entries)[1].data, text);
  EXPECT_EQ((*entries)[2].name, "noise.bin");
  EXPECT_EQ((*entries)[2].data, noise);
  for (const auto& entry : *entries) {
    EXPECT_EQ(entry.method, 8) << entry.name;  // deflated
    // 1980-01-01 00:00 whatever the clock says: (0 << 25 | 1 << 21 | 1 << 16).
    EXPECT_EQ(entry.dos_date, 0x00210000u) << entry.name;
  }
  EXPECT_LT(sink.data().size(), noise.size() + text.size() / 4);
}

TEST(ZipWriter, SameEntriesGiveTheSameBytes) {
  auto write = [](absl::string_view content) {
    StringSink sink;
    ZipWriter zip(sink);
    EXPECT_TRUE(zip.Add("a.xml", content).ok());
    EXPECT_TRUE(zip.Add("b.xml", "second").ok());
    EXPECT_TRUE(zip.Finish().ok());
    return sink.data();
  };
  EXPECT_EQ(write("first"), write("first"));
  EXPECT_NE(write("first"), write("First"));
}

TEST(ZipWriter, PassesOnTheSinksError) {
  class FailingSink : public ChunkSink {
   public:
    absl::Status Append(absl::string_view) override {
      return absl::CancelledError("gone");
    }
  } sink;
  ZipWriter zip(sink);
  EXPECT_EQ(zip.Begin("a").code(), absl::StatusCode::kCancelled);
}

TEST(ZipWriter, RefusesBadNamesAndWritesOutsideAnEntry) {
  StringSink sink;
  ZipWriter zip(sink);
  EXPECT_EQ(zip.Write("x").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(zip.Begin("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(zip.Begin("/abs").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kosapo::reporting::exports
