#include "base/log.h"

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace base {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kWarning)};
std::atomic<int> g_fd{2};

const char kLevelChar[] = {'D', 'I', 'W', 'E'};

}  // namespace

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }
bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_level; }
void SetLogFd(int fd) { g_fd = fd; }
int LogFd() { return g_fd; }

void WriteLogLine(std::string_view line) {
  std::string buf(line);
  buf.push_back('\n');
  const char* p = buf.data();
  size_t left = buf.size();
  while (left > 0) {
    ssize_t n = ::write(g_fd, p, left);
    if (n <= 0) return;  // Logging must never take the process down.
    p += n;
    left -= n;
  }
}

LogMessage::LogMessage(LogLevel level, const char* file, int line) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t;
  gmtime_r(&ts.tv_sec, &t);
  char head[64];
  std::string_view base_name = file;
  if (auto slash = base_name.rfind('/'); slash != base_name.npos)
    base_name.remove_prefix(slash + 1);
  snprintf(head, sizeof(head), "%c%02d%02d %02d:%02d:%02d.%06ld %5ld ",
           kLevelChar[static_cast<int>(level)], t.tm_mon + 1, t.tm_mday,
           t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1000,
           static_cast<long>(syscall(SYS_gettid)));
  stream_ << head << base_name << ":" << line << "] ";
}

LogMessage::~LogMessage() { WriteLogLine(stream_.str()); }

void Fatal(const char* file, int line, std::string_view msg) {
  LogMessage(LogLevel::kError, file, line).stream() << "FATAL: " << msg;
  std::abort();
}

}  // namespace base
