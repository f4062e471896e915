#include "runsc/sandbox.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/fd_io.h"
#include "base/unique_fd.h"
#include "sentry/boot/control_server.h"

namespace runsc {
namespace {

constexpr int kConfigFd = 3;  // in the sandbox process
constexpr int kGoferFd = 4;   // in the sandbox process
constexpr int kGoferSockFd = 3;  // in the gofer

absl::StatusOr<std::string> SelfExe() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n < 0) return absl::ErrnoToStatus(errno, "readlink /proc/self/exe");
  return std::string(buf, n);
}

// Forks the sandbox process. It is the init of a new pid namespace when
// we may create one, so that when it exits the kernel kills everything it
// started (stubs, helpers): nothing can be left behind.
pid_t ForkSandbox() {
  long pid = syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
                                    SIGCHLD,
                     nullptr, nullptr, nullptr, nullptr);
  if (pid < 0 && (errno == EPERM || errno == EINVAL)) pid = fork();
  return static_cast<pid_t>(pid);
}

// Starts `args` (this binary and a verb) in a child that dies with us and
// gets `fds` (this process's fd -> the child's number) and stdio, nothing
// else: every other fd of ours is close-on-exec. `sandbox` makes it the
// sandbox process (ForkSandbox).
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& args,
                            const std::vector<std::pair<int, int>>& fds,
                            bool sandbox, bool detached,
                            const std::vector<std::string>& cgroups) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<int> high(fds.size());  // no allocation after the fork
  const pid_t parent = getpid();
  const pid_t pid = sandbox ? ForkSandbox() : fork();
  if (pid < 0) return absl::ErrnoToStatus(errno, "fork");
  if (pid != 0) return pid;
  // The child must not outlive the runsc that started it, unless that is
  // runsc create.
  if (!detached) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent && getppid() != 0) _exit(125);
  }
  // Into the sandbox's cgroup before anything runs, so that every
  // process it starts is born there.
  for (const std::string& procs : cgroups) {
    int fd = open(procs.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1) {
      const char msg[] = "runsc: cannot join the sandbox's cgroup\n";
      (void)!write(2, msg, sizeof(msg) - 1);
      _exit(125);
    }
    close(fd);
  }
  // Out of the way first, so that no target number overwrites a source.
  for (size_t i = 0; i < fds.size(); ++i) {
    high[i] = fcntl(fds[i].first, F_DUPFD_CLOEXEC, 100);
    if (high[i] < 0) _exit(125);
  }
  for (size_t i = 0; i < fds.size(); ++i) {
    if (dup2(high[i], fds[i].second) < 0) _exit(125);
  }
  execv(argv[0], argv.data());
  _exit(125);
}

// `runsc gofer` serving the sandbox's root and the directories it keeps
// visible, on `sock`. It confines itself with pivot_root when it may
// (root); an unprivileged runsc do gets a gofer that is still walled in
// by its walks and its seccomp filter, but not chrooted (gofer/README.md).
absl::StatusOr<pid_t> StartGofer(const std::string& exe,
                                 const boot::Config& config, int sock,
                                 bool detached,
                                 const std::vector<std::string>& cgroups) {
  std::vector<std::string> args = {
      exe, "gofer", "--root=" + config.root,
      absl::StrCat("--sock-fd=", kGoferSockFd),
      geteuid() == 0 ? "--isolation=pivot" : "--isolation=none"};
  std::string mounts;
  for (size_t i = 0; i < config.visible.size(); ++i) {
    if (config.visible[i].find(',') != std::string::npos) {
      return absl::InvalidArgumentError(
          "cannot serve a directory whose path has a ',': " +
          config.visible[i]);
    }
    absl::StrAppend(&mounts, i ? "," : "", boot::GoferMountName(i), "=",
                    config.visible[i]);
  }
  if (!mounts.empty()) args.push_back("--mounts=" + mounts);
  return Spawn(args, {{sock, kGoferSockFd}}, /*sandbox=*/false, detached,
               cgroups);
}

void KillAndReap(pid_t pid) {
  kill(pid, SIGKILL);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

absl::StatusOr<Sandbox> StartSandbox(const boot::Config& config,
                                     const SandboxOptions& options) {
  auto exe = SelfExe();
  if (!exe.ok()) return exe.status();
  int socks[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) != 0)
    return absl::ErrnoToStatus(errno, "socketpair");
  base::UniqueFd sentry_end(socks[0]), gofer_end(socks[1]);
  Sandbox sandbox;
  auto gofer = StartGofer(*exe, config, gofer_end.get(), options.detached,
                          options.cgroup_procs);
  if (!gofer.ok()) return gofer.status();
  sandbox.gofer = *gofer;
  gofer_end.Reset();

  std::vector<std::string> args = {*exe, "boot",
                                   absl::StrCat("--config-fd=", kConfigFd),
                                   absl::StrCat("--gofer-fd=", kGoferFd)};
  if (!options.debug_log.empty())
    args.push_back("--debug-log=" + options.debug_log);
  if (options.debug) args.push_back("--debug");
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    KillAndReap(sandbox.gofer);
    return absl::ErrnoToStatus(errno, "pipe2");
  }
  base::UniqueFd rd(fds[0]), wr(fds[1]);
  std::vector<std::pair<int, int>> fds_to_pass = {{rd.get(), kConfigFd},
                                                 {sentry_end.get(), kGoferFd}};
  if (options.console_fd >= 0)
    fds_to_pass.push_back({options.console_fd, boot::kConsoleFd});
  if (options.control_fd >= 0) {
    fds_to_pass.push_back({options.control_fd, boot::kControlFd});
    fds_to_pass.push_back({options.ready_fd, boot::kReadyFd});
    args.push_back(absl::StrCat("--control-fd=", boot::kControlFd));
    args.push_back(absl::StrCat("--ready-fd=", boot::kReadyFd));
  }
  auto pid = Spawn(args, fds_to_pass, /*sandbox=*/true, options.detached,
                   options.cgroup_procs);
  if (!pid.ok()) {
    KillAndReap(sandbox.gofer);
    return pid.status();
  }
  sandbox.sentry = *pid;
  rd.Reset();
  sentry_end.Reset();
  const std::string json = boot::ConfigToJson(config);
  if (!base::WriteFull(wr.get(), json.data(), json.size())) {
    KillAndReap(sandbox.sentry);
    KillAndReap(sandbox.gofer);
    return absl::InternalError("cannot hand the configuration to the sandbox");
  }
  return sandbox;
}

namespace {

std::atomic<pid_t> g_sandbox_pid{0};

// The user's interrupt, hangup or terminate goes to the sandbox, which
// passes it to the application (runsc do then exits as the app does).
void ForwardSignal(int sig) {
  pid_t pid = g_sandbox_pid.load();
  if (pid > 0) kill(pid, sig);
}

}  // namespace

int WaitSandbox(const Sandbox& sandbox) {
  const pid_t pid = sandbox.sentry;
  g_sandbox_pid = pid;
  struct sigaction sa = {};
  sa.sa_handler = ForwardSignal;
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaction(sig, &sa, nullptr);
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 125;
  }
  // The sentry held the gofer's only client: nothing more can reach it.
  KillAndReap(sandbox.gofer);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  int sig = WTERMSIG(status);
  std::string msg = absl::StrCat("runsc: the sandbox died of signal ", sig,
                                 " (", strsignal(sig), ")\n");
  (void)!write(2, msg.data(), msg.size());
  return 128 + sig;
}

}  // namespace runsc
