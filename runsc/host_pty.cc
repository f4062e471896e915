#include "runsc/host_pty.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace runsc {

std::optional<winsize> WinsizeOf(const std::optional<oci::ConsoleSize>& size) {
  if (!size) return std::nullopt;
  return winsize{.ws_row = static_cast<uint16_t>(size->height),
                 .ws_col = static_cast<uint16_t>(size->width)};
}

absl::StatusOr<base::UniqueFd> ConsoleForSocket(
    const std::string& console_socket, std::optional<winsize> size) {
  base::UniqueFd master(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master.valid()) return absl::ErrnoToStatus(errno, "posix_openpt");
  if (grantpt(master.get()) != 0 || unlockpt(master.get()) != 0)
    return absl::ErrnoToStatus(errno, "unlockpt");
  char name[64];
  if (ptsname_r(master.get(), name, sizeof(name)) != 0)
    return absl::ErrnoToStatus(errno, "ptsname");
  base::UniqueFd replica(open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!replica.valid()) return absl::ErrnoToStatus(errno, name);
  // The line discipline is the sandbox's: the host's passes bytes through.
  termios t;
  if (tcgetattr(replica.get(), &t) == 0) {
    cfmakeraw(&t);
    (void)tcsetattr(replica.get(), TCSANOW, &t);
  }
  if (size && ioctl(master.get(), TIOCSWINSZ, &*size) != 0)
    return absl::ErrnoToStatus(errno, "TIOCSWINSZ");

  base::UniqueFd sock(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return absl::ErrnoToStatus(errno, "socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (console_socket.size() >= sizeof(addr.sun_path))
    return absl::InvalidArgumentError("--console-socket path too long");
  memcpy(addr.sun_path, console_socket.data(), console_socket.size());
  int r;
  do {
    r = connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  } while (r != 0 && errno == EINTR);
  if (r != 0)
    return absl::ErrnoToStatus(errno,
                               "cannot connect to --console-socket " +
                                   console_socket);
  char data[] = "/dev/ptmx";  // what runc sends
  iovec iov{.iov_base = data, .iov_len = sizeof(data) - 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  const int fd = master.get();
  memcpy(CMSG_DATA(c), &fd, sizeof(fd));
  ssize_t n;
  do {
    n = sendmsg(sock.get(), &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return absl::ErrnoToStatus(errno, "send to --console-socket");
  return replica;
}

}  // namespace runsc
