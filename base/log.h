// Minimal leveled logging for runsc, the sentry and the gofer.
//
// One write(2) per line, so lines from different threads never interleave.
// The destination is stderr until SetLogFd() points it at a debug log.
#ifndef BASE_LOG_H_
#define BASE_LOG_H_

#include <sstream>
#include <string_view>

namespace base {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Messages below `level` are dropped. Default: kWarning.
void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);
// Sends log lines to `fd` (not owned; must stay open).
void SetLogFd(int fd);
int LogFd();
// Writes one already formatted line (a newline is appended).
void WriteLogLine(std::string_view line);

class LogMessage {
 public:
  LogMessage(LogLevel level, const char* file, int line);
  ~LogMessage();
  std::ostream& stream() { return stream_; }

 private:
  std::ostringstream stream_;
};

// Ends the process after logging: for sentry invariants that no application
// input can break. A sentry bug kills this sandbox, never the host.
[[noreturn]] void Fatal(const char* file, int line, std::string_view msg);

// Lets LOG() be one expression, so it is safe as the body of an
// unbraced if/else.
struct LogVoidify {
  void operator&(std::ostream&) {}
};

}  // namespace base

#define LOG(level)                                                     \
  !::base::LogEnabled(::base::LogLevel::k##level)                      \
      ? (void)0                                                        \
      : ::base::LogVoidify() &                                         \
            ::base::LogMessage(::base::LogLevel::k##level, __FILE__,   \
                               __LINE__)                               \
                .stream()

#define CHECK(cond)                                                  \
  do {                                                               \
    if (!(cond)) [[unlikely]]                                        \
      ::base::Fatal(__FILE__, __LINE__, "CHECK failed: " #cond);     \
  } while (0)

#endif  // BASE_LOG_H_
