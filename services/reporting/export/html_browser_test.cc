// The HTML export as people see it: Debian's headless Chromium renders the
// page and takes a screenshot, and the test decodes the PNG and counts its
// pixels. The yellow of flagged cells is measured against the same page
// with no flags (the legend's swatch is yellow in both), so the difference
// is the flagged cells' own fill; Japanese text must come out as dark
// pixels, and two different kanji must differ (missing fonts draw every
// character as the same box).
//
// Screenshots stay in the test's temporary directory, which is removed
// when the test passes and kept, with its path printed, when it fails or
// when KOSAPO_KEEP_SCREENSHOTS=1.
#include <fcntl.h>
#include <png.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "services/reporting/export/testing/sample_comparison.h"
#include "services/reporting/export/ward_export.h"

namespace kosapo::reporting::exports {
namespace {

using exports_testing::CountFlagged;
using exports_testing::PublishedComparison;

constexpr char kChromium[] = "/usr/bin/chromium";
constexpr int kWidth = 1800;
constexpr int kHeight = 1300;

struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;
  const uint8_t* At(int x, int y) const {
    return &rgb[(static_cast<size_t>(y) * width + x) * 3];
  }
};

absl::StatusOr<Image> ReadPng(const std::string& path) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&png, path.c_str())) {
    return absl::InternalError(absl::StrCat(path, ": ", png.message));
  }
  png.format = PNG_FORMAT_RGB;
  Image image;
  image.width = static_cast<int>(png.width);
  image.height = static_cast<int>(png.height);
  image.rgb.resize(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, image.rgb.data(), 0, nullptr)) {
    png_image_free(&png);
    return absl::InternalError(absl::StrCat(path, ": ", png.message));
  }
  return image;
}

// Pixels in rows [top, bottom) matching `predicate`.
template <typename Predicate>
int64_t Count(const Image& image, int top, int bottom, Predicate predicate) {
  int64_t n = 0;
  for (int y = top; y < bottom && y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      n += predicate(image.At(x, y)) ? 1 : 0;
    }
  }
  return n;
}

bool Yellow(const uint8_t* p) {
  return p[0] >= 230 && p[1] >= 230 && p[2] <= 60;
}
bool Dark(const uint8_t* p) { return p[0] < 110 && p[1] < 110 && p[2] < 110; }

class BrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* root = std::getenv("KOSAPO_TEST_TMPDIR");
    const std::string parent =
        root != nullptr && *root != '\0' ? root : KOSAPO_TEST_TMP;
    std::filesystem::create_directories(parent);
    dir_ = absl::StrCat(parent, "/browser.XXXXXX");
    ASSERT_NE(mkdtemp(dir_.data()), nullptr) << dir_;
    ASSERT_EQ(access(kChromium, X_OK), 0)
        << kChromium << " is missing: run scripts/install-deps.sh (chromium)";
  }

  void TearDown() override {
    const char* keep = std::getenv("KOSAPO_KEEP_SCREENSHOTS");
    if (HasFailure() || (keep != nullptr && std::string(keep) == "1")) {
      std::cerr << "screenshots and browser logs kept in " << dir_ << "\n";
    } else {
      std::filesystem::remove_all(dir_);
    }
  }

  // Renders `html` in headless Chromium and decodes its screenshot.
  absl::StatusOr<Image> Render(const std::string& name,
                               const std::string& html) {
    const std::string page = absl::StrCat(dir_, "/", name, ".html");
    const std::string png = absl::StrCat(dir_, "/", name, ".png");
    const std::string log = absl::StrCat(dir_, "/", name, ".log");
    std::ofstream(page, std::ios::binary) << html;
    std::vector<std::string> args = {
        kChromium,
        "--headless",
        "--no-sandbox",  // the tests may run as root
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        absl::StrCat("--user-data-dir=", dir_, "/profile-", name),
        absl::StrCat("--screenshot=", png),
        absl::StrCat("--window-size=", kWidth, ",", kHeight),
        absl::StrCat("file://", page)};
    if (absl::Status ran = RunWithin(args, log, absl::Seconds(120));
        !ran.ok()) {
      return ran;
    }
    return ReadPng(png);
  }

  std::string dir_;

 private:
  // Runs `args` in its own process group, output to `log`; kills the group
  // when it outlives `timeout` and, once it exits, whatever it left behind.
  static absl::Status RunWithin(const std::vector<std::string>& args,
                                const std::string& log,
                                absl::Duration timeout) {
    std::vector<char*> argv;
    for (const std::string& arg : args) {
      argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
      return absl::InternalError("fork failed");
    }
    if (pid == 0) {
      setpgid(0, 0);
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int null = open("/dev/null", O_RDONLY);
      if (fd >= 0 && null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
      }
      execv(argv[0], argv.data());
      _exit(127);
    }
    setpgid(pid, pid);  // also here, so the group exists before any kill
    const absl::Time deadline = absl::Now() + timeout;
    int status = 0;
    while (true) {
      const pid_t done = waitpid(pid, &status, WNOHANG);
      if (done == pid) {
        break;
      }
      if (absl::Now() > deadline) {
        kill(-pid, SIGKILL);
        waitpid(pid, &status, 0);
        return absl::DeadlineExceededError(
            absl::StrCat("chromium did not finish within ",
                         absl::FormatDuration(timeout), "; see ", log));
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    kill(-pid, SIGKILL);  // helpers still in the group, if any
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return absl::InternalError(
          absl::StrCat("chromium failed (status ", status, "); see ", log));
    }
    return absl::OkStatus();
  }
};

TEST_F(BrowserTest, FlaggedCellsShowYellowAndJapaneseTextRenders) {
  const v1::WardComparison flagged = PublishedComparison();
  const int flags = CountFlagged(flagged);
  ASSERT_GT(flags, 20);
  v1::WardComparison unflagged = flagged;
  for (v1::WardRow& row : *unflagged.mutable_rows()) {
    for (v1::Cell& cell : *row.mutable_cells()) {
      cell.set_flagged(false);
    }
  }
  StringSink with, without;
  ASSERT_TRUE(WriteHtml(flagged, with).ok());
  ASSERT_TRUE(WriteHtml(unflagged, without).ok());

  const absl::StatusOr<Image> shown = Render("flagged", with.data());
  ASSERT_TRUE(shown.ok()) << shown.status();
  const absl::StatusOr<Image> plain = Render("unflagged", without.data());
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_EQ(shown->width, kWidth);
  ASSERT_EQ(shown->height, kHeight);

  const int64_t yellow = Count(*shown, 0, kHeight, Yellow);
  const int64_t legend_yellow = Count(*plain, 0, kHeight, Yellow);
  // The legend's swatch only: a few hundred pixels.
  EXPECT_GT(legend_yellow, 50);
  EXPECT_LT(legend_yellow, 2000);
  // Each flagged cell is at least some 35 x 15 pixels of fill around its
  // digits; every one must be on screen and yellow.
  const int64_t cell_yellow = yellow - legend_yellow;
  EXPECT_GE(cell_yellow, flags * 300)
      << "yellow pixels: " << yellow << " with flags, " << legend_yellow
      << " without; " << flags << " flagged cells";

  // The heading (こどもサポートネット 区別実施状況 令和5年度 ...) is text in
  // the first 60 pixel rows; the table below it is mostly text too.
  const int64_t heading_dark = Count(*shown, 0, 60, Dark);
  const int64_t dark = Count(*shown, 0, kHeight, Dark);
  EXPECT_GT(heading_dark, 1500) << "dark pixels in the heading";
  EXPECT_GT(dark, 40000) << "dark pixels on the page";
  std::cout << "yellow pixels: " << yellow << " with " << flags
            << " flagged cells, " << legend_yellow << " without flags; dark "
            << "pixels: " << heading_dark << " in the heading, " << dark
            << " on the page\n";
}

TEST_F(BrowserTest, KanjiRenderAsTheirOwnGlyphs) {
  // Two lines of different kanji in a large size: with a CJK font each has
  // its own shape; without one, both lines are the same boxes.
  const std::string page =
      "<!DOCTYPE html><html lang=\"ja\"><meta charset=\"utf-8\">"
      "<body style=\"margin:0;background:#fff;color:#000\">"
      "<div style=\"font-size:80px;line-height:100px;height:100px\">"
      "区区区区区</div>"
      "<div style=\"font-size:80px;line-height:100px;height:100px\">"
      "鬱鬱鬱鬱鬱</div></body></html>";
  const absl::StatusOr<Image> shown = Render("kanji", page);
  ASSERT_TRUE(shown.ok()) << shown.status();
  const int64_t simple = Count(*shown, 0, 100, Dark);
  const int64_t dense = Count(*shown, 100, 200, Dark);
  EXPECT_GT(simple, 2000);
  EXPECT_GT(dense, 2000);
  // Pixels where one line has ink and the other not, line over line.
  int64_t differ = 0;
  for (int y = 0; y < 100; ++y) {
    for (int x = 0; x < shown->width; ++x) {
      differ += Dark(shown->At(x, y)) != Dark(shown->At(x, y + 100)) ? 1 : 0;
    }
  }
  EXPECT_GT(differ, std::min(simple, dense) / 2)
      << simple << " and " << dense << " dark pixels, " << differ << " differ";
}

}  // namespace
}  // namespace kosapo::reporting::exports
