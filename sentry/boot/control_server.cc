#include "sentry/boot/control_server.h"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "base/log.h"

namespace boot {
namespace {

// The most fds a request may carry: an exec's stdin, stdout and stderr.
constexpr int kMaxFds = 3;
// An exec request carries argv and env: room for a large environment.
constexpr size_t kMaxRequest = 256 * 1024;

// The next request, on a fresh connection, with the fds it carried; -1
// when the socket is broken.
int Next(int listen_fd, control::Request* req,
         std::vector<base::UniqueFd>* fds) {
  static thread_local std::vector<char> buf(kMaxRequest);
  for (;;) {
    fds->clear();
    int conn = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      LOG(Error) << "control socket: accept failed: " << errno;
      return -1;
    }
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
    iovec iov{.iov_base = buf.data(), .iov_len = buf.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n;
    do {
      n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
      // Every fd that came is ours to close, whatever else is wrong.
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
          continue;
        const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
          int fd;
          memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
          fds->emplace_back(fd);
        }
      }
    }
    if (n <= 0 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
        !req->ParseFromArray(buf.data(), static_cast<int>(n))) {
      Reply(conn, "malformed control request");
      continue;
    }
    return conn;
  }
}

bool ValidSignal(int sig) { return sig >= 1 && sig <= 64; }

}  // namespace

bool Send(int conn, control::Response resp) {
  resp.set_ok(resp.error().empty());
  const std::string out = resp.SerializeAsString();
  ssize_t n;
  do {
    n = send(conn, out.data(), out.size(), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(out.size());
}

void Reply(int conn, const std::string& error) {
  control::Response resp;
  resp.set_error(error);
  (void)Send(conn, std::move(resp));
  close(conn);
}

StartOrder WaitForStart(int listen_fd) {
  for (;;) {
    control::Request req;
    std::vector<base::UniqueFd> fds;
    int conn = Next(listen_fd, &req, &fds);
    if (conn < 0) return {.start = false, .signal = SIGKILL};
    if (req.has_start()) {
      StartOrder order{.start = true, .conn = conn};
      if (!fds.empty()) order.status_file = std::move(fds[0]);
      return order;
    }
    if (req.has_kill() && ValidSignal(req.kill().signal())) {
      // The program never ran: the container ends as if the signal had
      // killed it, whatever the signal.
      Reply(conn, "");
      return {.start = false, .signal = req.kill().signal()};
    }
    if (req.has_exec()) {
      Reply(conn, "cannot exec in a created container: start it first");
      continue;
    }
    if (req.has_ps() || req.has_stats()) {
      // Nothing runs yet: init is loaded, held, and not worth listing.
      control::Response resp;
      if (req.has_stats()) resp.mutable_stats();
      (void)Send(conn, resp);
      close(conn);
      continue;
    }
    Reply(conn, "bad signal or unknown control request");
  }
}

void ServeControl(int listen_fd, ControlHandlers handlers) {
  std::thread([listen_fd, handlers = std::move(handlers)] {
    for (;;) {
      control::Request req;
      std::vector<base::UniqueFd> fds;
      int conn = Next(listen_fd, &req, &fds);
      if (conn < 0) return;
      if (req.has_start()) {
        Reply(conn, "cannot start an already running container");
      } else if (req.has_kill() && ValidSignal(req.kill().signal())) {
        Reply(conn, handlers.kill(req.kill().signal(), req.kill().all(),
                                  req.kill().pid()));
      } else if (req.has_exec()) {
        handlers.exec(conn, req.exec(), std::move(fds));
      } else if (req.op_case() != control::Request::OP_NOT_SET &&
                 !req.has_kill()) {
        handlers.other(conn, req);
      } else {
        Reply(conn, "bad signal or unknown control request");
      }
    }
  }).detach();
}

}  // namespace boot
