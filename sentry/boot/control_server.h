// The sentry's end of the control channel (proto/control.proto) of a
// sandbox made by `runsc create`: it waits for start before the program
// runs, then serves kill while it does.
#ifndef SENTRY_BOOT_CONTROL_SERVER_H_
#define SENTRY_BOOT_CONTROL_SERVER_H_

#include <functional>
#include <string>

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
};

// Serves requests on `listen_fd` until start or a kill.
StartOrder WaitForStart(int listen_fd);

// Answers a request (an empty error is success) and closes `conn`.
void Reply(int conn, const std::string& error);

// Serves kill requests on `listen_fd` from a detached thread of its own for
// as long as the sandbox lives; a second start is refused.
void ServeControl(int listen_fd, std::function<void(int sig, bool all)> kill);

}  // namespace boot

#endif  // SENTRY_BOOT_CONTROL_SERVER_H_
