#include "sentry/boot/control_server.h"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "base/log.h"
#include "sentry/boot/proto/control.pb.h"

namespace boot {
namespace {

// The next request, on a fresh connection; -1 when the socket is broken.
int Next(int listen_fd, control::Request* req) {
  for (;;) {
    int conn = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      LOG(Error) << "control socket: accept failed: " << errno;
      return -1;
    }
    char buf[4096];
    ssize_t n;
    do {
      n = recv(conn, buf, sizeof(buf), 0);
    } while (n < 0 && errno == EINTR);
    // A request too big for the buffer arrives truncated and fails here.
    if (n <= 0 || !req->ParseFromArray(buf, static_cast<int>(n))) {
      Reply(conn, "malformed control request");
      continue;
    }
    return conn;
  }
}

bool ValidSignal(int sig) { return sig >= 1 && sig <= 64; }

}  // namespace

void Reply(int conn, const std::string& error) {
  control::Response resp;
  resp.set_ok(error.empty());
  resp.set_error(error);
  std::string out = resp.SerializeAsString();
  (void)!send(conn, out.data(), out.size(), MSG_NOSIGNAL);
  close(conn);
}

StartOrder WaitForStart(int listen_fd) {
  for (;;) {
    control::Request req;
    int conn = Next(listen_fd, &req);
    if (conn < 0) return {.start = false, .signal = SIGKILL};
    if (req.has_start()) return {.start = true, .conn = conn};
    if (req.has_kill() && ValidSignal(req.kill().signal())) {
      // The program never ran: the container ends as if the signal had
      // killed it, whatever the signal.
      Reply(conn, "");
      return {.start = false, .signal = req.kill().signal()};
    }
    Reply(conn, "bad signal or unknown control request");
  }
}

void ServeControl(int listen_fd, std::function<void(int sig, bool all)> kill) {
  std::thread([listen_fd, kill = std::move(kill)] {
    for (;;) {
      control::Request req;
      int conn = Next(listen_fd, &req);
      if (conn < 0) return;
      if (req.has_start()) {
        Reply(conn, "cannot start an already running container");
      } else if (req.has_kill() && ValidSignal(req.kill().signal())) {
        kill(req.kill().signal(), req.kill().all());
        Reply(conn, "");
      } else {
        Reply(conn, "bad signal or unknown control request");
      }
    }
  }).detach();
}

}  // namespace boot
