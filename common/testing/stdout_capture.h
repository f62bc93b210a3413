// Captures what this process writes to stdout (where services log) into a
// file while a test runs calls, so the test can check what was logged.
//
//   StdoutCapture capture(dir + "/privacy.log");
//   ... calls ...
//   const std::string logged = capture.Finish();
#ifndef KOSAPO_COMMON_TESTING_STDOUT_CAPTURE_H_
#define KOSAPO_COMMON_TESTING_STDOUT_CAPTURE_H_

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

namespace kosapo::testing {

class StdoutCapture {
 public:
  explicit StdoutCapture(std::string path) : path_(std::move(path)) {
    std::fflush(stdout);
    saved_ = dup(STDOUT_FILENO);
    const int capture = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (saved_ >= 0 && capture >= 0) {
      dup2(capture, STDOUT_FILENO);
      close(capture);
    }
  }
  StdoutCapture(const StdoutCapture&) = delete;
  StdoutCapture& operator=(const StdoutCapture&) = delete;
  ~StdoutCapture() { Finish(); }

  // Restores stdout and returns what was written (once; later calls give
  // ""). The file is removed.
  std::string Finish() {
    if (saved_ < 0) {
      return "";
    }
    std::fflush(stdout);
    dup2(saved_, STDOUT_FILENO);
    close(saved_);
    saved_ = -1;
    std::ifstream in(path_);
    std::string logged((std::istreambuf_iterator<char>(in)),
                       std::istreambuf_iterator<char>());
    std::remove(path_.c_str());
    return logged;
  }

 private:
  const std::string path_;
  int saved_ = -1;
};

}  // namespace kosapo::testing

#endif  // KOSAPO_COMMON_TESTING_STDOUT_CAPTURE_H_
