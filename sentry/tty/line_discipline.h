// LineDiscipline: Linux's n_tty for a pseudo-terminal pair, without the
// locking and the waiting (Terminal does those).
//
// It holds the two queues of a pty: `input` (typed on the master, read on
// the replica, edited in canonical mode) and `output` (written on the
// replica and echoes, read on the master). What the master writes goes
// through input processing (ICRNL, INLCR, IGNCR, ISTRIP; ISIG characters;
// canonical editing with ERASE, WERASE, KILL, LNEXT, EOF, EOL, EOL2; echo
// with ECHO, ECHOE, ECHOK, ECHOKE, ECHONL, ECHOCTL); what the replica
// writes, and every echo, through output processing (OPOST with ONLCR,
// OCRNL, ONOCR, ONLRET, XTABS).
#ifndef SENTRY_TTY_LINE_DISCIPLINE_H_
#define SENTRY_TTY_LINE_DISCIPLINE_H_

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "sentry/tty/termios.h"

namespace tty {

class LineDiscipline {
 public:
  // Linux's N_TTY_BUF_SIZE less one: what the input queue holds.
  static constexpr size_t kInputCap = 4095;
  // What the output queue holds before a replica write blocks (Linux's
  // tty buffer limit for a pty is 64 KiB).
  static constexpr size_t kOutputCap = 65536;

  LineDiscipline() : termios_(DefaultTermios()) {}

  const KernelTermios& termios() const { return termios_; }
  // TCSETS: switching ICANON turns queued input into one complete line
  // (canonical on) or into plain bytes (off), as n_tty_set_termios.
  void SetTermios(const KernelTermios& t);
  bool canonical() const { return termios_.c_lflag & ICANON; }

  // Input from the master. Consumes bytes until the input queue is full
  // (in canonical mode a line too long loses its extra characters
  // instead); returns how many it took. ISIG characters append their
  // signal to `signals`.
  size_t ReceiveInput(std::span<const uint8_t> data, std::vector<int>* signals);
  // Bytes a replica read may take now: in canonical mode those of complete
  // lines, else everything queued. `lines`: complete lines (an EOF line
  // may have no bytes).
  size_t InputReadable() const;
  bool HasLine() const { return !line_ends_.empty(); }
  // Moves input to `dst`: at most one line in canonical mode (0 for an EOF
  // line), else what is queued.
  size_t ReadInput(std::span<const iovec> dst);
  void FlushInput();

  // Output from the replica, through OPOST; returns how many bytes of
  // `data` it took (0 when the output queue is full).
  size_t WriteOutput(std::span<const uint8_t> data);
  size_t OutputQueued() const { return output_.size(); }
  bool OutputFull() const { return output_.size() >= kOutputCap; }
  size_t ReadOutput(std::span<const iovec> dst);
  void FlushOutput() { output_.clear(); }

 private:
  // Output processing of one character (true if there was room).
  bool OutputChar(uint8_t c);
  // An echo: dropped when the output queue is full, as Linux drops echoes
  // it has no room for.
  void Echo(uint8_t c);
  // ECHOCTL: control characters as ^X (not tab or newline).
  void EchoChar(uint8_t c);
  void EchoString(const char* s);
  // Removes what ERASE (kind 0), WERASE (1) or KILL (2) removes from the
  // line being edited, echoing as n_tty's eraser().
  void Erase(int kind);
  // Ends the line being edited (after storing `c` unless it is EOF).
  void EndLine() { line_ends_.push_back(input_.size()); }
  // Bytes of the line being edited (after the last complete line).
  size_t EditLength() const {
    return input_.size() - (line_ends_.empty() ? 0 : line_ends_.back());
  }
  void DropInputFront(size_t n);

  KernelTermios termios_;
  std::deque<uint8_t> input_;
  // Where each complete line ends in input_ (offsets from its front).
  std::deque<size_t> line_ends_;
  std::deque<uint8_t> output_;
  bool literal_next_ = false;  // after LNEXT
  size_t column_ = 0;          // the output column, for ONOCR and tabs
};

// Copies `n` bytes from the front of `q` into `dst` (at most its length)
// and removes them; returns how many.
size_t MoveToIov(std::deque<uint8_t>& q, size_t n, std::span<const iovec> dst);

}  // namespace tty

#endif  // SENTRY_TTY_LINE_DISCIPLINE_H_
