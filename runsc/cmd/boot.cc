// runsc boot --config-fd=N [--gofer-fd=M] [--control-fd=C --ready-fd=R]:
// the sandbox process itself (internal; started by `runsc do`, and by
// `runsc create` with a control socket), served its files by the gofer at M.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

#include "base/log.h"
#include "runsc/cmd/commands.h"
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

int Boot(const BootFlags& flags) {
  // Only errors reach the app's stderr by default; a debug log gets the
  // warnings and notes too (unimplemented syscalls, why a task died).
  base::SetLogLevel(base::LogLevel::kError);
  if (!flags.debug_log.empty()) {
    const std::string& path = flags.debug_log;
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      PrintError("cannot open debug log " + path);
      return 125;
    }
    base::SetLogFd(fd);
    base::SetLogLevel(base::LogLevel::kInfo);
  }
  if (flags.debug) base::SetLogLevel(base::LogLevel::kDebug);

  const int config_fd = flags.config_fd;
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
  // The inherited fds must not reach helpers the sentry starts.
  for (auto [fd, name] : {std::pair{flags.gofer_fd, "--gofer-fd"},
                          {flags.control_fd, "--control-fd"},
                          {flags.ready_fd, "--ready-fd"}}) {
    if (fd != -1 && (fd < 3 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)) {
      PrintError(std::string("boot: ") + name + " is not an open file");
      return 125;
    }
  }
  if ((flags.control_fd == -1) != (flags.ready_fd == -1)) {
    PrintError("boot: --control-fd and --ready-fd go together");
    return 125;
  }
  return boot::Run(config, flags.gofer_fd, flags.control_fd, flags.ready_fd);
}

}  // namespace runsc
