#include "common/base/log.h"

#include <cstdio>
#include <mutex>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace kosapo::log {
namespace {

// Process-wide logging settings, written once by Init() before threads start.
struct Settings {
  std::string service = "kosapo";
  Severity min_severity = Severity::kInfo;
};

Settings& GlobalSettings() {
  static Settings* const settings = new Settings();
  return *settings;
}

std::mutex& OutputMutex() {
  static std::mutex* const mutex = new std::mutex();
  return *mutex;
}

thread_local LogContext current_context;

const char* SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kDebug:
      return "DEBUG";
    case Severity::kInfo:
      return "INFO";
    case Severity::kWarning:
      return "WARNING";
    case Severity::kError:
      return "ERROR";
  }
  return "INFO";
}

}  // namespace

void Init(absl::string_view service, Severity min_severity) {
  GlobalSettings().service = std::string(service);
  GlobalSettings().min_severity = min_severity;
}

bool ParseSeverity(absl::string_view name, Severity* out) {
  if (name == "debug") {
    *out = Severity::kDebug;
  } else if (name == "info") {
    *out = Severity::kInfo;
  } else if (name == "warning") {
    *out = Severity::kWarning;
  } else if (name == "error") {
    *out = Severity::kError;
  } else {
    return false;
  }
  return true;
}

std::string FormatLine(Severity severity, absl::string_view message,
                       const nlohmann::json& fields) {
  nlohmann::json line = nlohmann::json::object();
  line["time"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(),
                                  absl::UTCTimeZone());
  line["severity"] = SeverityName(severity);
  line["message"] = message;
  line["service"] = GlobalSettings().service;
  const LogContext& context = current_context;
  if (!context.method.empty()) {
    line["method"] = context.method;
  }
  if (!context.request_id.empty()) {
    line["request_id"] = context.request_id;
  }
  if (!context.trace_id.empty()) {
    line["trace_id"] = context.trace_id;
  }
  if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) {
      if (!line.contains(key)) {
        line[key] = value;
      }
    }
  }
  // Replace invalid UTF-8 rather than throw: a log line must never fail.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Write(Severity severity, absl::string_view message,
           const nlohmann::json& fields) {
  if (severity < GlobalSettings().min_severity) {
    return;
  }
  std::string text = FormatLine(severity, message, fields);
  text.push_back('\n');
  std::lock_guard<std::mutex> lock(OutputMutex());
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

ScopedLogContext::ScopedLogContext(LogContext context)
    : previous_(std::move(current_context)) {
  current_context = std::move(context);
}

ScopedLogContext::~ScopedLogContext() {
  current_context = std::move(previous_);
}

}  // namespace kosapo::log
