// The sentry's end of the control channel (proto/control.proto) of a
// sandbox made by `runsc create`: it waits for start before the program
// runs, then serves kill and exec while it does.
#ifndef SENTRY_BOOT_CONTROL_SERVER_H_
#define SENTRY_BOOT_CONTROL_SERVER_H_

#include <functional>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "sentry/boot/proto/control.pb.h"

namespace boot {

// The fds `runsc boot` gets from `runsc create`, after config (3), gofer
// (4) and console (5): the listening control socket, and a pipe on which
// the sentry says it is ready (one byte) before it waits for start.
inline constexpr int kControlFd = 6;
inline constexpr int kReadyFd = 7;

// What the sandbox was told while the program waited.
struct StartOrder {
  bool start = false;  // false: a kill came first
  int signal = 0;      // that kill's signal
  int conn = -1;       // the start request's connection, answered by Reply
  // The start request's fd, if any: a file in the container's state dir
  // for init's exit status (runsc wait reads it once the sandbox is gone).
  base::UniqueFd status_file;
};

// Serves requests on `listen_fd` until start or a kill.
StartOrder WaitForStart(int listen_fd);

// Answers a request (an empty error is success) and closes `conn`.
void Reply(int conn, const std::string& error);
// Sends `resp` on `conn` (which stays open); false if the peer is gone.
bool Send(int conn, control::Response resp);

struct ControlHandlers {
  // A signal for init (pid 0), every process (`all`) or process `pid`;
  // returns an error ("" for success).
  std::function<std::string(int sig, bool all, int pid)> kill;
  // Starts the process of `req` with `stdio` (the caller's fds) and
  // answers on `conn`, which it then owns; must not block the server.
  std::function<void(int conn, const control::ExecRequest& req,
                     std::vector<base::UniqueFd> stdio)>
      exec;
  // Every other request (pause, resume, ps, stats, wait, update): answers
  // on `conn`, which it then owns; must not block the server.
  std::function<void(int conn, const control::Request& req)> other;
};

// Serves requests on `listen_fd` from a detached thread of its own for
// as long as the sandbox lives; a second start is refused.
void ServeControl(int listen_fd, ControlHandlers handlers);

}  // namespace boot

#endif  // SENTRY_BOOT_CONTROL_SERVER_H_
