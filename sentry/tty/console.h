// The container's console for `runsc do -t`: a pseudo-terminal whose
// replica is init's stdio and controlling terminal, and whose master is
// relayed to a host socket that runsc connects to the user's terminal.
//
// runsc -> sandbox: frames of one type byte, then
//   'd' u16 length (little endian) + that many bytes typed by the user;
//   'w' a struct winsize (TIOCSWINSZ, so SIGWINCH for the foreground).
// sandbox -> runsc: the terminal's output, raw.
//
// When `host_fd` is a host terminal instead (the replica of a host
// pseudo-terminal whose master runsc sent to a shim's --console-socket),
// both ways are raw bytes, and the window size is the host terminal's:
// read at the start (process.consoleSize) and again before each input
// relayed, so a resize (the shim's TIOCSWINSZ on the master) reaches the
// sandbox with the next key typed.
#ifndef SENTRY_TTY_CONSOLE_H_
#define SENTRY_TTY_CONSOLE_H_

#include <sys/ioctl.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "base/result.h"
#include "sentry/tty/terminal.h"
#include "sentry/vfs/file_description.h"

namespace kernel {
class Kernel;
}

namespace tty {

inline constexpr char kConsoleData = 'd';
inline constexpr char kConsoleWinsize = 'w';

class Console {
 public:
  // Makes the console terminal (session 1 is init's, so it controls init's
  // session from the start) and starts relaying with `host_fd` (a stream
  // socket, owned). `stdio` gets init's fds 0, 1 and 2.
  // `session` (init's, 1, by default) gets the terminal as its
  // controlling one; 0 leaves that to AttachSession.
  static base::Result<std::unique_ptr<Console>> Start(
      kernel::Kernel& k, int host_fd, uint32_t uid,
      std::vector<std::shared_ptr<vfs::FileDescription>>* stdio,
      int session = 1);
  // Makes the terminal session `sid`'s controlling terminal, its group
  // `sid` the foreground (a process runsc exec starts leads its own
  // session).
  void AttachSession(int sid);
  // Sends what output is left, then stops both relay threads. Must run
  // before the kernel goes away.
  ~Console();

 private:
  Console(kernel::Kernel& k, int host_fd, std::shared_ptr<Terminal> term,
          std::shared_ptr<vfs::FileDescription> master);
  void RelayInput();   // host socket -> master
  void RelayRawInput();  // host terminal -> master
  // Writes all of `data` to the master, waiting while its queue is full.
  void WriteMaster(const uint8_t* data, size_t len);
  // The host terminal's window size, if it changed (raw mode).
  void SyncWinsize();
  void RelayOutput();  // master -> host socket

  kernel::Kernel& kernel_;
  const int host_fd_;
  const std::shared_ptr<Terminal> term_;
  const std::shared_ptr<vfs::FileDescription> master_;
  std::atomic<bool> stopping_{false};
  const bool raw_;          // host_fd_ is a host terminal
  int stop_pipe_[2] = {-1, -1};  // raw mode: wakes the input thread's poll
  struct winsize winsize_ {};
  class Waker;
  std::unique_ptr<Waker> waker_;
  std::thread input_, output_;
};

}  // namespace tty

#endif  // SENTRY_TTY_CONSOLE_H_
