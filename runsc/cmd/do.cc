// runsc do [flags] -- CMD ARGS...: run a command in a new sandbox whose
// root is an overlay: the host's root filesystem (or --root-dir) read-only
// below, the sandbox's changes in its memory above.
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "runsc/cmd/commands.h"
#include "runsc/console.h"
#include "runsc/sandbox.h"

extern char** environ;

namespace runsc {
namespace {

// A socket pair for the console (-t); {-1, -1} on failure.
std::pair<int, int> ConsoleSockets() {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return {-1, -1};
  return {sv[0], sv[1]};
}

// Starts the sandbox and waits for it.
int RunDo(const boot::Config& config, const DoFlags& flags) {
  SandboxOptions options{.debug_log = flags.debug_log,
                         .debug = flags.debug};
  auto [ours, theirs] =
      config.tty ? ConsoleSockets() : std::pair<int, int>{-1, -1};
  if (config.tty && (ours < 0 || theirs < 0)) {
    PrintError("cannot make the console socket");
    return 125;
  }
  options.console_fd = theirs;
  auto pid = StartSandbox(config, options);
  if (theirs >= 0) close(theirs);
  if (!pid.ok()) {
    PrintError(std::string(pid.status().message()));
    return 125;
  }
  std::unique_ptr<ConsoleRelay> relay;
  if (config.tty) {
    auto r = ConsoleRelay::Start(ours);
    if (!r.ok()) {
      PrintError(std::string(r.status().message()));
      close(ours);
    } else {
      relay = std::move(*r);
    }
  }
  const int status = WaitSandbox(*pid);
  relay.reset();  // the rest of the output, then the terminal back
  return status;
}

}  // namespace

int Do(const Globals& g, const DoFlags& given) {
  DoFlags flags = given;
  // The global flags count for do too; its own win.
  if (flags.platform.empty()) flags.platform = g.platform;
  if (flags.debug_log.empty()) flags.debug_log = g.debug_log;
  flags.strace |= g.strace;
  flags.debug |= g.debug;
  if (!flags.command.empty() && flags.command[0].starts_with("-")) {
    PrintError("unknown flag: " + flags.command[0]);
    return 125;
  }
  if (flags.command.empty()) {
    PrintError("usage: runsc do [--platform=systrap|ptrace] "
               "[--systrap-patch=true|false] [--strace] "
               "[--debug-log=PATH] [--pids-limit=N] [--root-dir=DIR] "
               "[-t|--tty] -- CMD [ARGS...]");
    return 125;
  }
  boot::Config config;
  config.argv = flags.command;
  config.platform = flags.platform;
  if (config.platform != "ptrace" && config.platform != "systrap") {
    PrintError("unknown platform \"" + config.platform +
               "\" (available: ptrace, systrap)");
    return 125;
  }
  // Off unless --systrap-patch[=true]: on this VM the gs base the fast
  // path needs costs more per context switch than the path saves
  // (platform/README.md, "Syscall patching").
  config.systrap_patch = flags.systrap_patch;
  config.strace = flags.strace;
  // -t: a terminal of the sandbox's own for the command, relayed to ours.
  config.tty = flags.tty;
  if (!flags.pids_limit.empty()) {
    const std::string& v = flags.pids_limit;
    char* end = nullptr;
    errno = 0;
    unsigned long long n = strtoull(v.c_str(), &end, 10);
    if (v.empty() || v[0] == '-' || *end || errno || n == 0) {
      PrintError("--pids-limit needs a positive number of tasks, not \"" +
                 v + "\"");
      return 125;
    }
    config.pids_limit = n;
  }
  for (char** e = environ; *e; ++e) config.env.emplace_back(*e);
  config.uid = getuid();
  config.gid = getgid();
  if (!flags.root_dir.empty()) {
    // Another tree as the overlay's lower layer (a rootfs made with
    // debootstrap or busybox): the command starts in its "/", as chroot.
    char root[PATH_MAX];
    struct stat st;
    const std::string& dir = flags.root_dir;
    if (!realpath(dir.c_str(), root) || stat(root, &st) != 0) {
      PrintError("--root-dir: \"" + dir + "\": " + strerror(errno));
      return 125;
    }
    if (!S_ISDIR(st.st_mode)) {
      PrintError("--root-dir: \"" + dir + "\" is not a directory");
      return 125;
    }
    config.root = root;
    config.cwd = "/";
    return RunDo(config, flags);
  }
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof(cwd))) config.cwd = cwd;
  // The sandbox's /tmp is its own tmpfs, which would hide a project the
  // user works on under the host's /tmp: keep the top directory under /tmp
  // that holds the cwd or the program visible (read-only).
  char exe[PATH_MAX];
  for (const char* p : {config.cwd.c_str(),
                        realpath(config.argv[0].c_str(), exe) ? exe : ""}) {
    std::string path = p;
    if (!path.starts_with("/tmp/")) continue;
    std::string top = path.substr(0, path.find('/', 5));
    struct stat st;
    if (stat(top.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    if (std::find(config.visible.begin(), config.visible.end(), top) ==
        config.visible.end())
      config.visible.push_back(top);
  }
  return RunDo(config, flags);
}

}  // namespace runsc
