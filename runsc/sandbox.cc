#include "runsc/sandbox.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
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
#include "base/unique_fd.h"

namespace runsc {
namespace {

constexpr int kConfigFd = 3;

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

bool WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += n;
  }
  return true;
}

}  // namespace

absl::StatusOr<pid_t> StartSandbox(const boot::Config& config,
                                   const SandboxOptions& options) {
  auto exe = SelfExe();
  if (!exe.ok()) return exe.status();
  std::vector<std::string> args = {*exe, "boot",
                                   absl::StrCat("--config-fd=", kConfigFd)};
  if (!options.debug_log.empty())
    args.push_back("--debug-log=" + options.debug_log);
  if (options.debug) args.push_back("--debug");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe2");
  base::UniqueFd rd(fds[0]), wr(fds[1]);
  pid_t parent = getpid();

  pid_t pid = ForkSandbox();
  if (pid < 0) return absl::ErrnoToStatus(errno, "starting the sandbox");
  if (pid == 0) {
    // The sandbox must not outlive the runsc that started it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent && getppid() != 0) _exit(125);
    // dup2 onto itself would keep O_CLOEXEC, so clear it explicitly then.
    if (rd.get() == kConfigFd ? fcntl(kConfigFd, F_SETFD, 0) < 0
                              : dup2(rd.get(), kConfigFd) < 0)
      _exit(125);
    execv(argv[0], argv.data());
    _exit(125);
  }
  rd.Reset();
  if (!WriteAll(wr.get(), boot::ConfigToJson(config))) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return absl::InternalError("cannot hand the configuration to the sandbox");
  }
  return pid;
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

int WaitSandbox(pid_t pid) {
  g_sandbox_pid = pid;
  struct sigaction sa = {};
  sa.sa_handler = ForwardSignal;
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaction(sig, &sa, nullptr);
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 125;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  int sig = WTERMSIG(status);
  std::string msg = absl::StrCat("runsc: the sandbox died of signal ", sig,
                                 " (", strsignal(sig), ")\n");
  (void)!write(2, msg.data(), msg.size());
  return 128 + sig;
}

}  // namespace runsc
