#include "runsc/container/exec.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "base/unique_fd.h"
#include "runsc/container/container.h"
#include "runsc/container/state.h"
#include "runsc/host_pty.h"
#include "sentry/boot/proto/control.pb.h"

namespace runsc::container {
namespace {

// The signals a waiting runsc exec passes on to its process, as runc's
// does (SIGCHLD, SIGWINCH and the job-control stops are not).
constexpr int kForwarded[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGTERM,
                              SIGUSR1, SIGUSR2, SIGALRM};

// Sends `req` with our fds 0, 1 and 2 (a closed one as /dev/null, so that
// the process's numbering holds).
absl::Status SendWithStdio(int sock, const control::Request& req) {
  base::UniqueFd null_fd;
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) {
    fds.push_back(i);
    if (fcntl(i, F_GETFD) < 0) {
      if (!null_fd.valid())
        null_fd.Reset(open("/dev/null", O_RDWR | O_CLOEXEC));
      if (!null_fd.valid()) return absl::ErrnoToStatus(errno, "/dev/null");
      fds.back() = null_fd.get();
    }
  }
  return SendRequest(sock, req, fds);
}

// The next answer on `sock`; nullopt if the sandbox went away.
std::optional<control::Response> Receive(int sock) {
  char buf[4096];
  ssize_t n;
  do {
    n = recv(sock, buf, sizeof(buf), 0);
  } while (n < 0 && errno == EINTR);
  control::Response resp;
  if (n <= 0 || !resp.ParseFromArray(buf, static_cast<int>(n)))
    return std::nullopt;
  return resp;
}

// The status for the process's end; a sandbox gone without saying (its
// init ended, and everything with it) counts as SIGKILL, which is what
// the process got.
int ExitStatusOf(const std::optional<control::Response>& resp) {
  if (!resp || !resp->exited()) return 128 + SIGKILL;
  if (resp->exit_signal() > 0) return 128 + resp->exit_signal();
  return resp->exit_code();
}

// Waits for the process's end on `sock`, passing on the signals of
// kForwarded (blocked by the caller, read from `sigfd`) to sandbox pid
// `pid`.
int WaitForExit(const Globals& g, const std::string& id, int sock, int sigfd,
                int pid) {
  for (;;) {
    pollfd p[2] = {{.fd = sock, .events = POLLIN},
                   {.fd = sigfd, .events = POLLIN}};
    int r = poll(p, sigfd >= 0 ? 2 : 1, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      return 128 + SIGKILL;
    }
    if (p[0].revents) return ExitStatusOf(Receive(sock));
    if (sigfd >= 0 && (p[1].revents & POLLIN)) {
      signalfd_siginfo si;
      if (read(sigfd, &si, sizeof(si)) != sizeof(si)) continue;
      auto conn = ConnectControl(g, id);
      if (!conn.ok()) continue;
      control::Request kill;
      kill.mutable_kill()->set_signal(static_cast<int>(si.ssi_signo));
      kill.mutable_kill()->set_pid(pid);
      const std::string out = kill.SerializeAsString();
      (void)!send(conn->get(), out.data(), out.size(), MSG_NOSIGNAL);
      (void)Receive(conn->get());
    }
  }
}

}  // namespace

absl::StatusOr<int> Exec(const Globals& g, const ExecRequest& req) {
  if (auto s = ValidateId(req.id); !s.ok()) return s;
  auto state = LoadState(g.root, req.id);
  if (!state.ok()) return state.status();
  const std::string status = CurrentStatus(*state);
  if (status == "stopped")
    return absl::FailedPreconditionError(
        "cannot exec in a stopped container");
  if (status == "paused")
    return absl::FailedPreconditionError(
        "cannot exec in a paused container");
  if (status != "running")
    return absl::FailedPreconditionError("cannot exec in a " + status +
                                         " container: container not running");
  control::Request creq;
  control::ExecRequest* e = creq.mutable_exec();
  for (const std::string& a : req.process.args) e->add_argv(a);
  for (const std::string& v : req.process.env) e->add_env(v);
  e->set_cwd(req.process.cwd);
  e->set_uid(req.process.user.uid);
  e->set_gid(req.process.user.gid);
  e->set_stdio_fds(3);
  base::UniqueFd replica;
  if (req.process.terminal) {
    auto r = ConsoleForSocket(req.console_socket,
                              WinsizeOf(req.process.console_size));
    if (!r.ok()) return r.status();
    replica = std::move(*r);
    e->set_terminal(true);
    e->set_stdio_fds(1);
  }

  // Blocked before the process starts, so that none is lost; the child of
  // a detached exec unblocks them.
  sigset_t forwarded, old;
  sigemptyset(&forwarded);
  for (int sig : kForwarded) sigaddset(&forwarded, sig);
  sigprocmask(SIG_BLOCK, &forwarded, &old);
  struct Restore {
    sigset_t set;
    ~Restore() { sigprocmask(SIG_SETMASK, &set, nullptr); }
  } restore{old};

  auto sock = ConnectControl(g, req.id);
  if (!sock.ok()) return sock.status();
  if (auto s = replica.valid()
                   ? SendRequest(sock->get(), creq, {replica.get()})
                   : SendWithStdio(sock->get(), creq);
      !s.ok())
    return s;
  replica.Reset();  // the sentry has its copy
  auto started = Receive(sock->get());
  if (!started) return absl::FailedPreconditionError("container not running");
  if (!started->ok()) return absl::FailedPreconditionError(started->error());
  const int pid = started->pid();

  if (!req.detach) {
    if (!req.pid_file.empty()) {
      if (auto s = WriteFileAtomic(req.pid_file, std::to_string(getpid()),
                                   0644);
          !s.ok())
        return s;
    }
    base::UniqueFd sigfd(signalfd(-1, &forwarded, SFD_CLOEXEC));
    return WaitForExit(g, req.id, sock->get(), sigfd.get(), pid);
  }
  // Detached: a child of ours stands for the process (the shim reaps it
  // once we are gone, as its subreaper) and exits with its status. Its
  // stdio goes to /dev/null: the shim waits for every holder of the
  // pipes it gave us to close them.
  pid_t child = fork();
  if (child < 0) return absl::ErrnoToStatus(errno, "fork");
  if (child == 0) {
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
      for (int i = 0; i < 3; ++i) dup2(null_fd, i);
      if (null_fd > 2) close(null_fd);
    }
    sigprocmask(SIG_SETMASK, &old, nullptr);
    _exit(ExitStatusOf(Receive(sock->get())));
  }
  if (!req.pid_file.empty()) {
    if (auto s = WriteFileAtomic(req.pid_file, std::to_string(child), 0644);
        !s.ok()) {
      kill(child, SIGKILL);
      return s;
    }
  }
  return 0;
}

}  // namespace runsc::container
