#include "runsc/container/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/unique_fd.h"

namespace runsc::container {
namespace {

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (std::string& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Reads what is available on `fd` into *out (up to a bound: a chatty hook
// must not make runsc grow without end).
// Returns false at the end of the data (EOF, or EAGAIN: nothing more now).
bool Drain(int fd, std::string* out) {
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof(buf));
  if (n < 0 && errno == EINTR) return true;
  if (n <= 0) return false;
  if (out->size() < 65536) out->append(buf, n);
  return true;
}

std::string FirstLine(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  return line.size() > 200 ? line.substr(0, 200) + "..." : line;
}

absl::Status RunOne(const char* kind, const oci::Hook& hook,
                    const std::string& state_json) {
  const std::string name = absl::StrCat(kind, " hook ", hook.path);
  int in[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe2");
  base::UniqueFd in_rd(in[0]), in_wr(in[1]);
  if (pipe2(err, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe2");
  base::UniqueFd err_rd(err[0]), err_wr(err[1]);
  std::vector<std::string> args = hook.args, env = hook.env;
  if (args.empty()) args.push_back(hook.path);
  std::vector<char*> argv = CStrings(args), envp = CStrings(env);
  const pid_t pid = fork();
  if (pid < 0) return absl::ErrnoToStatus(errno, "fork");
  if (pid == 0) {
    // stdin: the state; stdout to /dev/null (runc's callers read ours),
    // stderr to us for the error message.
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (dup2(in_rd.get(), 0) < 0 || null < 0 || dup2(null, 1) < 0 ||
        dup2(err_wr.get(), 2) < 0)
      _exit(126);
    signal(SIGPIPE, SIG_DFL);
    execve(hook.path.c_str(), argv.data(), envp.data());
    dprintf(2, "cannot run it: %s\n", strerror(errno));
    _exit(127);
  }
  in_rd.Reset();
  err_wr.Reset();
  // The state is far smaller than a pipe's buffer: this never blocks. A
  // hook that exits without reading it is not an error (EPIPE).
  struct sigaction ignore = {}, old = {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &old);
  (void)!write(in_wr.get(), state_json.data(), state_json.size());
  sigaction(SIGPIPE, &old, nullptr);
  in_wr.Reset();

  // Collect stderr until the hook exits (a child it leaves behind may
  // hold the pipe open), or the timeout passes.
  base::UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  fcntl(err_rd.get(), F_SETFL, O_NONBLOCK);
  const absl::Time deadline =
      hook.timeout > 0 ? absl::Now() + absl::Seconds(hook.timeout)
                       : absl::InfiniteFuture();
  std::string stderr_text;
  bool timed_out = false, err_open = true;
  for (;;) {
    int wait_ms = -1;
    if (deadline != absl::InfiniteFuture()) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) {
        timed_out = true;
        break;
      }
      wait_ms = static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
    }
    pollfd p[2] = {{.fd = pidfd.get(), .events = POLLIN},
                   {.fd = err_open ? err_rd.get() : -1, .events = POLLIN}};
    int r = poll(p, 2, wait_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    if (p[1].revents) err_open = Drain(err_rd.get(), &stderr_text);
    if (p[0].revents || pidfd.get() < 0) {
      while (Drain(err_rd.get(), &stderr_text)) {
      }
      break;
    }
  }
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    return absl::DeadlineExceededError(
        absl::StrCat(name, " timed out after ", hook.timeout, " s"));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  std::string why =
      WIFEXITED(status)
          ? absl::StrCat("exit status ", WEXITSTATUS(status))
          : absl::StrCat("killed by signal ", WTERMSIG(status));
  if (!stderr_text.empty()) absl::StrAppend(&why, ": ", FirstLine(stderr_text));
  return absl::FailedPreconditionError(
      absl::StrCat(name, " failed: ", why));
}

}  // namespace

absl::Status RunHooks(const char* kind, const std::vector<oci::Hook>& hooks,
                      const std::string& state_json) {
  for (const oci::Hook& hook : hooks) {
    if (auto s = RunOne(kind, hook, state_json); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace runsc::container
