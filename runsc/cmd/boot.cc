// runsc boot --config-fd=N [--gofer-fd=M]: the sandbox process itself
// (internal; started by `runsc do`, and later by `runsc create`), served
// its files by the gofer at M.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

#include "base/log.h"
#include "runsc/cmd/commands.h"
#include "runsc/flags.h"
#include "sentry/boot/boot.h"

namespace runsc {
namespace {

bool ReadAll(int fd, std::string* out) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out->append(buf, n);
  }
}

}  // namespace

int Boot(const std::vector<std::string>& args) {
  auto flags = ParseFlags(args, {"config-fd", "gofer-fd", "debug-log"}, {"debug"});
  if (!flags.ok()) {
    PrintError(std::string(flags.status().message()));
    return 125;
  }
  // Only errors reach the app's stderr by default; a debug log gets the
  // warnings and notes too (unimplemented syscalls, why a task died).
  base::SetLogLevel(base::LogLevel::kError);
  if (flags->Has("debug-log")) {
    std::string path = flags->Get("debug-log");
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      PrintError("cannot open debug log " + path);
      return 125;
    }
    base::SetLogFd(fd);
    base::SetLogLevel(base::LogLevel::kInfo);
  }
  if (flags->Bool("debug")) base::SetLogLevel(base::LogLevel::kDebug);

  int config_fd = atoi(flags->Get("config-fd", "-1").c_str());
  std::string json;
  if (config_fd < 0 || !ReadAll(config_fd, &json)) {
    PrintError("boot: cannot read the sandbox configuration");
    return 125;
  }
  close(config_fd);
  boot::Config config;
  std::string why;
  if (!boot::ConfigFromJson(json, &config, &why)) {
    PrintError(why);
    return 125;
  }
  int gofer_fd = -1;
  if (flags->Has("gofer-fd")) {
    gofer_fd = atoi(flags->Get("gofer-fd").c_str());
    if (gofer_fd < 3 || fcntl(gofer_fd, F_SETFD, FD_CLOEXEC) != 0) {
      PrintError("boot: --gofer-fd is not an open file");
      return 125;
    }
  }
  return boot::Run(config, gofer_fd);
}

}  // namespace runsc
