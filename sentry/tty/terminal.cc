#include "sentry/tty/terminal.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/sysmacros.h>
#include <time.h>

#include <algorithm>
#include <cstring>

namespace tty {
namespace {

using base::Err;
using base::Result;

// Every event either end may wait for: a change wakes everyone, and each
// waiter looks again (spurious wakeups are fine for the blocking layer).
constexpr uint64_t kAllEvents = EPOLLIN | EPOLLRDNORM | EPOLLOUT |
                                EPOLLWRNORM | EPOLLERR | EPOLLHUP;

// Linux's pty major for /dev/pts/N (UNIX98_PTY_SLAVE_MAJOR).
constexpr unsigned kReplicaMajor = 136;

std::vector<uint8_t> Gather(std::span<const iovec> src) {
  std::vector<uint8_t> out;
  for (const iovec& v : src) {
    const auto* p = static_cast<const uint8_t*>(v.iov_base);
    out.insert(out.end(), p, p + v.iov_len);
  }
  return out;
}

size_t Length(std::span<const iovec> iov) {
  size_t n = 0;
  for (const iovec& v : iov) n += v.iov_len;
  return n;
}

timespec Now() {
  timespec t{};
  clock_gettime(CLOCK_REALTIME, &t);
  return t;
}

}  // namespace

Terminal::Terminal(uint32_t index, uint32_t uid, uint32_t gid)
    : index_(index), uid_(uid), gid_(gid), created_(Now()) {}

void Terminal::NotifyAll() {
  master_queue_.Notify(kAllEvents);
  replica_queue_.Notify(kAllEvents);
}

Result<size_t> Terminal::MasterWrite(std::span<const iovec> src, Signals* out) {
  const std::vector<uint8_t> data = Gather(src);
  if (data.empty()) return 0;
  size_t n;
  {
    absl::MutexLock lock(&mu_);
    n = ldisc_.ReceiveInput(data, &out->sigs);
    if (n == 0) return Err(EAGAIN);
    last_input_ = absl::Now();
    out->pgrp = pgrp_;
  }
  NotifyAll();
  return n;
}

Result<size_t> Terminal::MasterRead(std::span<const iovec> dst) {
  const size_t want = Length(dst);
  if (want == 0) return 0;
  size_t n;
  {
    absl::MutexLock lock(&mu_);
    if (ldisc_.OutputQueued() == 0) {
      if (replica_opened_ && replicas_ == 0) return Err(EIO);
      return Err(EAGAIN);
    }
    if (packet_mode_) {
      // TIOCPKT: a status byte (TIOCPKT_DATA) before the data.
      std::vector<uint8_t> buf(std::min(want, ldisc_.OutputQueued() + 1));
      buf[0] = TIOCPKT_DATA;
      iovec v{buf.data() + 1, buf.size() - 1};
      ldisc_.ReadOutput(std::span(&v, 1));
      std::deque<uint8_t> q(buf.begin(), buf.end());
      n = MoveToIov(q, buf.size(), dst);
    } else {
      n = ldisc_.ReadOutput(dst);
    }
  }
  NotifyAll();
  return n;
}

uint64_t Terminal::MasterReadiness(uint64_t mask) {
  absl::MutexLock lock(&mu_);
  uint64_t ready = 0;
  if (ldisc_.OutputQueued() > 0) ready |= EPOLLIN | EPOLLRDNORM;
  if (ldisc_.InputReadable() < LineDiscipline::kInputCap)
    ready |= EPOLLOUT | EPOLLWRNORM;
  if (replica_opened_ && replicas_ == 0) ready |= EPOLLHUP;
  return ready & mask;
}

void Terminal::MasterClosed() {
  {
    absl::MutexLock lock(&mu_);
    hung_up_ = true;
    ldisc_.FlushInput();
  }
  NotifyAll();
}

Result<size_t> Terminal::ReplicaRead(std::span<const iovec> dst) {
  const size_t want = Length(dst);
  if (want == 0) return 0;
  size_t n;
  {
    absl::MutexLock lock(&mu_);
    if (hung_up_) return 0;
    if (ldisc_.canonical()) {
      if (!ldisc_.HasLine()) return Err(EAGAIN);
    } else {
      const KernelTermios& t = ldisc_.termios();
      const size_t vmin = t.c_cc[VMIN], vtime = t.c_cc[VTIME];
      const size_t avail = ldisc_.InputReadable();
      if (avail == 0) {
        if (vmin == 0 && vtime == 0) return 0;
        return Err(EAGAIN);
      }
      // Fewer than VMIN bytes: wait for more, unless VTIME has passed
      // since the last byte came in (the inter-byte timer).
      if (avail < std::min(vmin, want) &&
          (vtime == 0 || absl::Now() - last_input_ < absl::Milliseconds(
                                                         100 * vtime))) {
        return Err(EAGAIN);
      }
    }
    n = ldisc_.ReadInput(dst);
  }
  NotifyAll();
  return n;
}

absl::Time Terminal::ReplicaReadDeadline(absl::Time start) {
  absl::MutexLock lock(&mu_);
  const KernelTermios& t = ldisc_.termios();
  if (ldisc_.canonical() || t.c_cc[VTIME] == 0) return absl::InfiniteFuture();
  const absl::Duration vtime = absl::Milliseconds(100 * t.c_cc[VTIME]);
  if (t.c_cc[VMIN] == 0) return start + vtime;
  if (ldisc_.InputReadable() == 0) return absl::InfiniteFuture();
  return last_input_ + vtime;
}

Result<size_t> Terminal::ReplicaWrite(std::span<const iovec> src) {
  const std::vector<uint8_t> data = Gather(src);
  size_t n;
  {
    absl::MutexLock lock(&mu_);
    if (hung_up_) return Err(EIO);
    if (data.empty()) return 0;
    n = ldisc_.WriteOutput(data);
    if (n == 0) return Err(EAGAIN);
  }
  NotifyAll();
  return n;
}

uint64_t Terminal::ReplicaReadiness(uint64_t mask) {
  absl::MutexLock lock(&mu_);
  if (hung_up_) {
    return mask & (EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM | EPOLLERR |
                   EPOLLHUP);
  }
  uint64_t ready = 0;
  const KernelTermios& t = ldisc_.termios();
  if (ldisc_.canonical()) {
    if (ldisc_.HasLine()) ready |= EPOLLIN | EPOLLRDNORM;
  } else {
    // As n_tty_poll: VMIN bytes when there is no timer.
    const size_t need =
        (t.c_cc[VTIME] == 0 && t.c_cc[VMIN] > 0) ? t.c_cc[VMIN] : 1;
    if (ldisc_.InputReadable() >= need) ready |= EPOLLIN | EPOLLRDNORM;
  }
  if (!ldisc_.OutputFull()) ready |= EPOLLOUT | EPOLLWRNORM;
  return ready & mask;
}

Result<void> Terminal::OpenReplica() {
  absl::MutexLock lock(&mu_);
  if (hung_up_ || locked_) return Err(EIO);
  ++replicas_;
  replica_opened_ = true;
  return {};
}

void Terminal::ReplicaClosed() {
  {
    absl::MutexLock lock(&mu_);
    --replicas_;
  }
  NotifyAll();
}

KernelTermios Terminal::GetTermios() {
  absl::MutexLock lock(&mu_);
  return ldisc_.termios();
}

void Terminal::SetTermios(const KernelTermios& t) {
  {
    absl::MutexLock lock(&mu_);
    ldisc_.SetTermios(t);
  }
  NotifyAll();
}

struct winsize Terminal::GetWinsize() {
  absl::MutexLock lock(&mu_);
  return winsize_;
}

void Terminal::SetWinsize(const struct winsize& ws, Signals* out) {
  absl::MutexLock lock(&mu_);
  if (std::memcmp(&ws, &winsize_, sizeof ws) == 0) return;
  winsize_ = ws;
  out->pgrp = pgrp_;
  out->sigs.push_back(SIGWINCH);
}

size_t Terminal::ReplicaInputQueued() {
  absl::MutexLock lock(&mu_);
  return ldisc_.InputReadable();
}

size_t Terminal::MasterInputQueued() {
  absl::MutexLock lock(&mu_);
  return ldisc_.OutputQueued();
}

Result<void> Terminal::Flush(bool master, int queue) {
  if (queue != TCIFLUSH && queue != TCOFLUSH && queue != TCIOFLUSH)
    return Err(EINVAL);
  {
    absl::MutexLock lock(&mu_);
    // The master's input is the replica's output, and the other way round.
    const bool in = queue != TCOFLUSH, out = queue != TCIFLUSH;
    if (master ? out : in) ldisc_.FlushInput();
    if (master ? in : out) ldisc_.FlushOutput();
  }
  NotifyAll();
  return {};
}

void Terminal::SetLocked(bool locked) {
  absl::MutexLock lock(&mu_);
  locked_ = locked;
}

bool Terminal::locked() {
  absl::MutexLock lock(&mu_);
  return locked_;
}

bool Terminal::hung_up() {
  absl::MutexLock lock(&mu_);
  return hung_up_;
}

void Terminal::SetPacketMode(bool on) {
  absl::MutexLock lock(&mu_);
  packet_mode_ = on;
}

bool Terminal::packet_mode() {
  absl::MutexLock lock(&mu_);
  return packet_mode_;
}

int Terminal::session() {
  absl::MutexLock lock(&mu_);
  return session_;
}

int Terminal::pgrp() {
  absl::MutexLock lock(&mu_);
  return pgrp_;
}

void Terminal::SetSession(int sid, int pgrp) {
  absl::MutexLock lock(&mu_);
  session_ = sid;
  pgrp_ = pgrp;
}

void Terminal::SetPgrp(int pgrp) {
  absl::MutexLock lock(&mu_);
  pgrp_ = pgrp;
}

struct stat Terminal::ReplicaStat(unsigned dev_minor, uint64_t ino) {
  struct stat st {};
  st.st_dev = makedev(0, dev_minor);
  st.st_ino = ino;
  st.st_mode = S_IFCHR | 0620;
  st.st_nlink = 1;
  st.st_uid = uid_;
  st.st_gid = gid_;
  st.st_rdev = makedev(kReplicaMajor, index_);
  st.st_blksize = 1024;
  st.st_atim = st.st_mtim = st.st_ctim = created_;
  return st;
}

}  // namespace tty
