// runsc do -t: the user's terminal connected to the sandbox's console
// (sentry/tty/console.h has the protocol). The host terminal is put in
// raw mode, so ^C and ^Z reach the sandbox's line discipline as bytes,
// and restored when the relay finishes; SIGWINCH becomes a window size
// message.
#ifndef RUNSC_CONSOLE_H_
#define RUNSC_CONSOLE_H_

#include <termios.h>

#include <memory>
#include <thread>

#include "absl/status/statusor.h"

namespace runsc {

class ConsoleRelay {
 public:
  // Relays between this process's stdin/stdout and `sandbox_fd` (owned).
  static absl::StatusOr<std::unique_ptr<ConsoleRelay>> Start(int sandbox_fd);
  // Waits until the sandbox side is closed (its output all written), then
  // restores the terminal.
  ~ConsoleRelay();

 private:
  ConsoleRelay(int sandbox_fd, int winch_fd);
  void Run();

  const int sandbox_fd_;
  const int winch_fd_;  // read end of the SIGWINCH self-pipe
  bool raw_ = false;
  struct termios saved_ {};
  std::thread thread_;
};

}  // namespace runsc

#endif  // RUNSC_CONSOLE_H_
