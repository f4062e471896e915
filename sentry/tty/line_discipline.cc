#include "sentry/tty/line_discipline.h"

#include <signal.h>

#include <algorithm>
#include <cstring>

namespace tty {
namespace {

bool IsControl(uint8_t c) { return c < 0x20 || c == 0x7f; }

// A c_cc entry of 0 is disabled (_POSIX_VDISABLE), as on Linux.
bool Is(const KernelTermios& t, int index, uint8_t c) {
  return t.c_cc[index] != 0 && t.c_cc[index] == c;
}

}  // namespace

size_t MoveToIov(std::deque<uint8_t>& q, size_t n, std::span<const iovec> dst) {
  size_t done = 0;
  for (const iovec& v : dst) {
    if (done == n) break;
    const size_t chunk = std::min(v.iov_len, n - done);
    std::copy_n(q.begin() + done, chunk, static_cast<uint8_t*>(v.iov_base));
    done += chunk;
  }
  q.erase(q.begin(), q.begin() + done);
  return done;
}

void LineDiscipline::SetTermios(const KernelTermios& t) {
  const bool was_canonical = canonical();
  termios_ = t;
  if (was_canonical == canonical()) return;
  line_ends_.clear();
  literal_next_ = false;
  if (canonical() && !input_.empty()) EndLine();  // n_tty's "push"
}

void LineDiscipline::DropInputFront(size_t n) {
  input_.erase(input_.begin(), input_.begin() + n);
  for (size_t& end : line_ends_) end -= n;
}

void LineDiscipline::FlushInput() {
  input_.clear();
  line_ends_.clear();
  literal_next_ = false;
}

size_t LineDiscipline::InputReadable() const {
  if (!canonical()) return input_.size();
  return line_ends_.empty() ? 0 : line_ends_.back();
}

size_t LineDiscipline::ReadInput(std::span<const iovec> dst) {
  size_t want = 0;
  for (const iovec& v : dst) want += v.iov_len;
  if (!canonical()) {
    const size_t n = MoveToIov(input_, std::min(want, input_.size()), dst);
    return n;
  }
  if (line_ends_.empty()) return 0;
  const size_t line = line_ends_.front();
  const size_t n = MoveToIov(input_, std::min(want, line), dst);
  for (size_t& end : line_ends_) end -= n;
  // A line read whole (or an EOF line, which has nothing to read) is done.
  if (line_ends_.front() == 0) line_ends_.pop_front();
  return n;
}

bool LineDiscipline::OutputChar(uint8_t c) {
  const KernelTermios& t = termios_;
  const size_t room = kOutputCap - std::min(kOutputCap, output_.size());
  if (!(t.c_oflag & OPOST)) {
    if (room < 1) return false;
    output_.push_back(c);
    return true;
  }
  switch (c) {
    case '\n':
      if (t.c_oflag & ONLCR) {
        if (room < 2) return false;
        output_.push_back('\r');
        output_.push_back('\n');
        column_ = 0;
        return true;
      }
      if (room < 1) return false;
      if (t.c_oflag & ONLRET) column_ = 0;
      output_.push_back('\n');
      return true;
    case '\r':
      if ((t.c_oflag & ONOCR) && column_ == 0) return true;
      if (room < 1) return false;
      if (t.c_oflag & OCRNL) {
        if (t.c_oflag & ONLRET) column_ = 0;
        output_.push_back('\n');
        return true;
      }
      column_ = 0;
      output_.push_back('\r');
      return true;
    case '\t': {
      const size_t spaces = 8 - (column_ & 7);
      if ((t.c_oflag & TABDLY) == XTABS) {
        if (room < spaces) return false;
        for (size_t i = 0; i < spaces; ++i) output_.push_back(' ');
        column_ += spaces;
        return true;
      }
      if (room < 1) return false;
      column_ += spaces;
      output_.push_back('\t');
      return true;
    }
    case '\b':
      if (room < 1) return false;
      if (column_ > 0) --column_;
      output_.push_back('\b');
      return true;
    default:
      if (room < 1) return false;
      if (!IsControl(c)) ++column_;
      output_.push_back(c);
      return true;
  }
}

size_t LineDiscipline::WriteOutput(std::span<const uint8_t> data) {
  size_t n = 0;
  while (n < data.size() && OutputChar(data[n])) ++n;
  return n;
}

size_t LineDiscipline::ReadOutput(std::span<const iovec> dst) {
  size_t want = 0;
  for (const iovec& v : dst) want += v.iov_len;
  return MoveToIov(output_, std::min(want, output_.size()), dst);
}

void LineDiscipline::Echo(uint8_t c) { (void)OutputChar(c); }

void LineDiscipline::EchoString(const char* s) {
  for (; *s; ++s) Echo(static_cast<uint8_t>(*s));
}

void LineDiscipline::EchoChar(uint8_t c) {
  if ((termios_.c_lflag & ECHOCTL) && IsControl(c) && c != '\t' &&
      c != '\n') {
    Echo('^');
    Echo(c ^ 0100);
    return;
  }
  Echo(c);
}

void LineDiscipline::Erase(int kind) {
  const KernelTermios& t = termios_;
  const uint32_t lflag = t.c_lflag;
  if (EditLength() == 0) return;
  constexpr int kErase = 0, kWerase = 1, kKill = 2;
  if (kind == kKill) {
    if (!(lflag & ECHO)) {
      input_.resize(input_.size() - EditLength());
      return;
    }
    if (!(lflag & ECHOK) || !(lflag & ECHOKE) || !(lflag & ECHOE)) {
      input_.resize(input_.size() - EditLength());
      EchoChar(t.c_cc[VKILL]);
      if (lflag & ECHOK) Echo('\n');
      return;
    }
  }
  bool seen_word = false;
  while (EditLength() > 0) {
    const uint8_t c = input_.back();
    if (kind == kWerase) {
      const bool alnum = c == '_' || (c >= '0' && c <= '9') ||
                         ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
      if (alnum) {
        seen_word = true;
      } else if (seen_word) {
        break;
      }
    }
    input_.pop_back();
    if (lflag & ECHO) {
      if (kind == kErase && !(lflag & ECHOE)) {
        EchoChar(t.c_cc[VERASE]);
      } else if (c == '\t') {
        Echo('\b');
      } else {
        if (IsControl(c) && (lflag & ECHOCTL)) EchoString("\b \b");
        if (!IsControl(c) || (lflag & ECHOCTL)) EchoString("\b \b");
      }
    }
    if (kind == kErase) break;
  }
}

size_t LineDiscipline::ReceiveInput(std::span<const uint8_t> data,
                                    std::vector<int>* signals) {
  const KernelTermios& t = termios_;
  const uint32_t iflag = t.c_iflag, lflag = t.c_lflag;
  size_t n = 0;
  for (; n < data.size(); ++n) {
    uint8_t c = data[n];
    const bool full = input_.size() >= kInputCap;
    // Raw mode, or complete lines waiting: the writer waits for a reader.
    if (full && (!canonical() || !line_ends_.empty())) break;
    if (iflag & ISTRIP) c &= 0x7f;
    if (literal_next_) {
      literal_next_ = false;
      if (lflag & ECHO) EchoChar(c);
      if (!full) input_.push_back(c);
      continue;
    }
    if (iflag & IXON) {
      if (Is(t, VSTART, c) || Is(t, VSTOP, c)) continue;  // flow control
    }
    if (lflag & ISIG) {
      int sig = 0;
      if (Is(t, VINTR, c)) sig = SIGINT;
      else if (Is(t, VQUIT, c)) sig = SIGQUIT;
      else if (Is(t, VSUSP, c)) sig = SIGTSTP;
      if (sig != 0) {
        signals->push_back(sig);
        if (!(lflag & NOFLSH)) {
          FlushInput();
          FlushOutput();
        }
        if (lflag & ECHO) EchoChar(c);
        continue;
      }
    }
    if (c == '\r') {
      if (iflag & IGNCR) continue;
      if (iflag & ICRNL) c = '\n';
    } else if (c == '\n' && (iflag & INLCR)) {
      c = '\r';
    }
    if (canonical()) {
      if (Is(t, VERASE, c)) {
        Erase(0);
        continue;
      }
      if (Is(t, VKILL, c)) {
        Erase(2);
        continue;
      }
      if ((lflag & IEXTEN) && Is(t, VWERASE, c)) {
        Erase(1);
        continue;
      }
      if ((lflag & IEXTEN) && Is(t, VLNEXT, c)) {
        literal_next_ = true;
        if (lflag & ECHO) EchoString("^\b");
        continue;
      }
      if ((lflag & IEXTEN) && Is(t, VREPRINT, c)) {
        if (lflag & ECHO) {
          EchoChar(c);
          Echo('\n');
          for (size_t i = input_.size() - EditLength(); i < input_.size(); ++i)
            EchoChar(input_[i]);
        }
        continue;
      }
      if (c == '\n') {
        if (lflag & (ECHO | ECHONL)) Echo('\n');
        input_.push_back(c);
        EndLine();
        continue;
      }
      if (Is(t, VEOF, c)) {
        EndLine();  // not stored: an empty line reads as end of file
        continue;
      }
      if (Is(t, VEOL, c) || ((lflag & IEXTEN) && Is(t, VEOL2, c))) {
        if (lflag & ECHO) EchoChar(c);
        input_.push_back(c);
        EndLine();
        continue;
      }
    }
    if (lflag & ECHO) EchoChar(c);
    if (!full) input_.push_back(c);  // else a too long line loses it
  }
  return n;
}

}  // namespace tty
