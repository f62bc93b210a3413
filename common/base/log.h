// Structured logging: one JSON object per line on stdout, as log collectors
// on Kubernetes expect. Every line carries the time, severity, message and
// service; lines written while serving a call also carry its method, request
// id and trace id (see ScopedLogContext).
//
// Never pass personal data (names, birth dates, addresses, free text from
// case records) to a log call: log resource names and ids only.
#ifndef KOSAPO_COMMON_BASE_LOG_H_
#define KOSAPO_COMMON_BASE_LOG_H_

#include <string>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace kosapo::log {

enum class Severity { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Sets the service name stamped on every line and the lowest severity
// written. Call once at start, before threads; defaults are "kosapo", kInfo.
void Init(absl::string_view service, Severity min_severity = Severity::kInfo);

// Parses "debug", "info", "warning" or "error".
bool ParseSeverity(absl::string_view name, Severity* out);

// Writes one line. `fields` holds extra structured fields (a JSON object).
void Write(Severity severity, absl::string_view message,
           const nlohmann::json& fields = nlohmann::json::object());

inline void Debug(absl::string_view m, const nlohmann::json& f = {}) {
  Write(Severity::kDebug, m, f);
}
inline void Info(absl::string_view m, const nlohmann::json& f = {}) {
  Write(Severity::kInfo, m, f);
}
inline void Warning(absl::string_view m, const nlohmann::json& f = {}) {
  Write(Severity::kWarning, m, f);
}
inline void Error(absl::string_view m, const nlohmann::json& f = {}) {
  Write(Severity::kError, m, f);
}

// The call a thread is serving; stamped on the lines it writes.
struct LogContext {
  std::string method;
  std::string request_id;
  std::string trace_id;
};

// Sets the current thread's log context for its lifetime, then restores the
// previous one.
class ScopedLogContext {
 public:
  explicit ScopedLogContext(LogContext context);
  ~ScopedLogContext();
  ScopedLogContext(const ScopedLogContext&) = delete;
  ScopedLogContext& operator=(const ScopedLogContext&) = delete;

 private:
  LogContext previous_;
};

// Renders a line without writing it (exposed for tests).
std::string FormatLine(Severity severity, absl::string_view message,
                       const nlohmann::json& fields);

}  // namespace kosapo::log

#endif  // KOSAPO_COMMON_BASE_LOG_H_
