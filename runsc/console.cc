#include "runsc/console.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "base/fd_io.h"

namespace runsc {
namespace {

// Same bytes as tty::kConsoleData / kConsoleWinsize (sentry/tty/console.h).
constexpr char kData = 'd';
constexpr char kWinsize = 'w';

int g_winch_write = -1;

void OnWinch(int) {
  const int saved = errno;
  (void)!write(g_winch_write, "w", 1);
  errno = saved;
}

bool SendWinsize(int sandbox_fd) {
  struct winsize ws;
  if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) != 0 &&
      ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0)
    return true;  // not a terminal: nothing to tell
  char msg[1 + sizeof ws];
  msg[0] = kWinsize;
  std::memcpy(msg + 1, &ws, sizeof ws);
  return base::WriteFull(sandbox_fd, msg, sizeof msg);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ConsoleRelay>> ConsoleRelay::Start(
    int sandbox_fd) {
  int winch[2];
  if (pipe2(winch, O_CLOEXEC | O_NONBLOCK) != 0)
    return absl::ErrnoToStatus(errno, "pipe2");
  g_winch_write = winch[1];
  struct sigaction sa = {};
  sa.sa_handler = OnWinch;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGWINCH, &sa, nullptr);
  std::unique_ptr<ConsoleRelay> relay(new ConsoleRelay(sandbox_fd, winch[0]));
  if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &relay->saved_) == 0) {
    struct termios raw = relay->saved_;
    cfmakeraw(&raw);
    if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) relay->raw_ = true;
  }
  SendWinsize(sandbox_fd);
  relay->thread_ = std::thread([r = relay.get()] { r->Run(); });
  return relay;
}

ConsoleRelay::ConsoleRelay(int sandbox_fd, int winch_fd)
    : sandbox_fd_(sandbox_fd), winch_fd_(winch_fd) {}

ConsoleRelay::~ConsoleRelay() {
  thread_.join();
  if (raw_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  signal(SIGWINCH, SIG_DFL);
  close(sandbox_fd_);
  close(winch_fd_);
}

void ConsoleRelay::Run() {
  bool stdin_open = true;
  char buf[4096];
  for (;;) {
    struct pollfd fds[3] = {{sandbox_fd_, POLLIN, 0},
                            {winch_fd_, POLLIN, 0},
                            {stdin_open ? STDIN_FILENO : -1, POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents) {
      const ssize_t n = read(sandbox_fd_, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // the sandbox is gone: everything was written
      if (!base::WriteFull(STDOUT_FILENO, buf, n)) return;
    }
    if (fds[1].revents) {
      while (read(winch_fd_, buf, sizeof buf) > 0) {
      }
      if (!SendWinsize(sandbox_fd_)) return;
    }
    if (fds[2].revents) {
      const ssize_t n = read(STDIN_FILENO, buf + 3, sizeof buf - 3);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        stdin_open = false;  // the user's input ended; output goes on
        continue;
      }
      buf[0] = kData;
      buf[1] = static_cast<char>(n & 0xff);
      buf[2] = static_cast<char>(n >> 8);
      if (!base::WriteFull(sandbox_fd_, buf, n + 3)) return;
    }
  }
}

}  // namespace runsc
