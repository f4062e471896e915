#include "runsc/errors.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/fd_io.h"
#include "runsc/cmd/commands.h"

namespace runsc {

void PrintError(const std::string& msg) {
  fprintf(stderr, "runsc: %s\n", msg.c_str());
}

namespace {

void LogLine(const Globals& g, const char* level, const std::string& msg) {
  if (g.log.empty()) return;
  const std::string time = absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", absl::Now(),
                                            absl::UTCTimeZone());
  std::string line;
  if (g.log_format == "json") {
    line =
        nlohmann::json{{"level", level}, {"msg", msg}, {"time", time}}.dump(
            -1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = "time=\"" + time + "\" level=" + level + " msg=" +
           nlohmann::json(msg).dump(-1, ' ', false,
                                    nlohmann::json::error_handler_t::replace);
  }
  line += "\n";
  int fd = open(g.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) {
    base::WriteFull(fd, line.data(), line.size());
    close(fd);
  }
}

}  // namespace

int Fail(const Globals& g, const std::string& msg) {
  PrintError(msg);
  LogLine(g, "error", msg);
  return 1;
}

void Warn(const Globals& g, const std::string& msg) {
  fprintf(stderr, "runsc: warning: %s\n", msg.c_str());
  LogLine(g, "warning", msg);
}

int Fail(const Globals& g, const absl::Status& status) {
  return Fail(g, std::string(status.message()));
}

}  // namespace runsc
