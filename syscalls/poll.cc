// poll(2), ppoll(2), select(2), pselect6(2).
#include <poll.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <type_traits>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "syscalls/common.h"
#include "syscalls/wait_sigmask.h"

namespace syscalls {
namespace {

// What select(2) reports in each set, as Linux's POLLIN_SET, POLLOUT_SET
// and POLLEX_SET: errors and hangups make an fd readable (and writable).
constexpr std::array<uint64_t, 3> kSelectSets = {
    EPOLLRDNORM | EPOLLRDBAND | EPOLLIN | EPOLLHUP | EPOLLERR,
    EPOLLWRBAND | EPOLLWRNORM | EPOLLOUT | EPOLLERR,
    EPOLLPRI,
};
constexpr uint64_t kSelectAll =
    kSelectSets[0] | kSelectSets[1] | kSelectSets[2];

// Linux's default fs.nr_open, which RLIMIT_NOFILE cannot exceed there: it
// bounds the pollfd array we copy in, whatever our rlimit says.
constexpr uint64_t kNrOpen = 1 << 20;

// Looks at every file through `scan` (which returns how many are ready)
// until one is, `deadline` passes (0) or the task is interrupted
// (ERESTARTNOHAND), in the order of Linux's do_poll: a wakeup, even by a
// signal or the timeout, is followed by one more look.
Result<int> WaitReady(Task& t, std::span<const FilePtr> files, uint64_t events,
                      absl::Time deadline, absl::FunctionRef<int()> scan) {
  int n = scan();
  if (n > 0 || deadline <= absl::Now()) return n;
  // One entry on every file's queue; a queue shared by two of the files
  // (both ends of a pipe) just notifies it twice.
  Task::WaitEntry entry(t, events | EPOLLERR | EPOLLHUP);
  for (const FilePtr& f : files)
    if (f) f->EventRegister(&entry);
  Result<int> result = 0;
  bool timed_out = false;
  bool interrupted = false;
  for (;;) {
    // Registered before this look, so a change after it sets entry.ready.
    n = scan();
    if (n > 0 || timed_out) {
      result = n;
      break;
    }
    if (interrupted) {
      result = Err(base::kERESTARTNOHAND);
      break;
    }
    const Task::WakeReason why = t.Block(deadline, &entry.ready);
    entry.ready.store(false);
    timed_out = why == Task::WakeReason::kTimeout;
    interrupted = why == Task::WakeReason::kInterrupted;
  }
  for (const FilePtr& f : files)
    if (f) f->EventUnregister(&entry);
  return result;
}

// poll(2) on an array in sentry memory; fills in revents.
Result<int> DoPoll(Task& t, std::vector<struct pollfd>& pfds,
                   absl::Time deadline) {
  std::vector<FilePtr> files(pfds.size());  // null: fd < 0 or POLLNVAL
  uint64_t events = 0;
  for (size_t i = 0; i < pfds.size(); ++i) {
    if (pfds[i].fd < 0) continue;
    auto f = GetFile(t, Fd{pfds[i].fd});
    if (f && !(*f)->is_path()) files[i] = *f;  // O_PATH: POLLNVAL, as Linux
    events |= static_cast<uint16_t>(pfds[i].events);
  }
  auto scan = [&] {
    int n = 0;
    for (size_t i = 0; i < pfds.size(); ++i) {
      struct pollfd& p = pfds[i];
      if (p.fd < 0) {
        p.revents = 0;
      } else if (!files[i]) {
        p.revents = POLLNVAL;
      } else {
        // Errors and hangups are reported even when not asked for.
        const uint64_t want =
            static_cast<uint16_t>(p.events) | POLLERR | POLLHUP;
        p.revents = static_cast<short>(files[i]->Readiness(want) & want);
      }
      n += p.revents != 0;
    }
    return n;
  };
  return WaitReady(t, files, events, deadline, scan);
}

Result<int> PollUser(Task& t, UserPtr<struct pollfd> ufds, unsigned nfds,
                     absl::Time deadline) {
  if (nfds > NofileLimit(t) || nfds > kNrOpen) return Err(EINVAL);
  std::vector<struct pollfd> pfds(nfds);
  TRY(t.mm().CopyIn(ufds.addr, pfds.data(), nfds * sizeof(struct pollfd)));
  Result<int> r = DoPoll(t, pfds, deadline);
  // Linux writes back every revents (only revents), even when interrupted.
  for (unsigned i = 0; i < nfds; ++i) {
    const uint64_t at = ufds.addr + i * sizeof(struct pollfd) +
                        offsetof(struct pollfd, revents);
    TRY(t.mm().CopyOut(at, &pfds[i].revents, sizeof(short)));
  }
  return r;
}

// A timeout argument of ppoll, select or pselect6.
struct Timeout {
  absl::Time deadline = absl::InfiniteFuture();
  bool zero = false;  // a zero timeout is not written back
};

Result<Timeout> TimeoutFrom(const timespec& ts) {
  if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
    return Err(EINVAL);
  return Timeout{.deadline = absl::Now() + absl::DurationFromTimespec(ts),
                 .zero = ts.tv_sec == 0 && ts.tv_nsec == 0};
}

// Linux writes the time left back into a non-zero timeout (its
// poll_select_finish). If it cannot, a restart would start the timeout
// over, so an interrupted call says EINTR instead.
template <class T>
Result<int> WriteBackTimeout(Task& t, UserPtr<T> p, const Timeout& to,
                             Result<int> r) {
  if (p.addr == 0 || to.zero) return r;
  const absl::Duration left =
      std::max(to.deadline - absl::Now(), absl::ZeroDuration());
  T v;
  if constexpr (std::is_same_v<T, timeval>)
    v = absl::ToTimeval(left);
  else
    v = absl::ToTimespec(left);
  if (!t.mm().CopyOutObj(p, v) && !r &&
      r.error().value == base::kERESTARTNOHAND)
    return Err(EINTR);
  return r;
}

// Linux's fdtable size for the fds open now (its max_fds, which never
// shrinks there): select(2) looks at no fd beyond it.
int FdTableSize(Task& t) {
  const std::vector<int> fds = t.fds().Fds();
  const int top = fds.empty() ? 0 : fds.back();
  if (top < 64) return 64;  // NR_OPEN_DEFAULT
  // expand_fdtable: a power of two times 128 (1 KiB of pointers) entries.
  return 128 *
         static_cast<int>(std::bit_ceil(static_cast<unsigned>(top) / 128 + 1));
}

// select(2) on the fd sets at `addrs` (read, write, except; 0 if absent).
Result<int> DoSelect(Task& t, int nfds, const std::array<uint64_t, 3>& addrs,
                     absl::Time deadline) {
  if (nfds < 0) return Err(EINVAL);
  nfds = std::min(nfds, FdTableSize(t));
  const size_t words = (static_cast<size_t>(nfds) + 63) / 64;
  std::array<std::vector<uint64_t>, 3> in, out;
  for (int k = 0; k < 3; ++k) {
    in[k].assign(words, 0);
    out[k].assign(words, 0);
    if (addrs[k]) TRY(t.mm().CopyIn(addrs[k], in[k].data(), words * 8));
  }
  struct Selected {
    int fd;
    std::array<bool, 3> want;
  };
  std::vector<Selected> selected;
  std::vector<FilePtr> files;
  uint64_t events = 0;
  for (int fd = 0; fd < nfds; ++fd) {
    const uint64_t bit = uint64_t{1} << (fd % 64);
    Selected s{fd, {}};
    bool any = false;
    for (int k = 0; k < 3; ++k) {
      s.want[k] = in[k][fd / 64] & bit;
      if (s.want[k]) events |= kSelectSets[k];
      any |= s.want[k];
    }
    if (!any) continue;
    files.push_back(TRY(GetFile(t, Fd{fd})));  // EBADF for a closed fd
    selected.push_back(s);
  }
  auto scan = [&] {
    int n = 0;
    for (size_t i = 0; i < selected.size(); ++i) {
      const Selected& s = selected[i];
      const uint64_t ready = files[i]->Readiness(kSelectAll);
      for (int k = 0; k < 3; ++k) {
        const uint64_t bit = uint64_t{1} << (s.fd % 64);
        out[k][s.fd / 64] &= ~bit;
        if (s.want[k] && (ready & kSelectSets[k])) {
          out[k][s.fd / 64] |= bit;
          ++n;  // an fd counts once per set it is ready in
        }
      }
    }
    return n;
  };
  const int n = TRY(WaitReady(t, files, events, deadline, scan));
  for (int k = 0; k < 3; ++k)
    if (addrs[k]) TRY(t.mm().CopyOut(addrs[k], out[k].data(), words * 8));
  return n;
}

// Poll implements Linux syscall poll(2).
Result<int> Poll(Task& t, UserPtr<struct pollfd> fds, unsigned nfds,
                 int timeout_ms) {
  const absl::Time deadline =
      timeout_ms < 0 ? absl::InfiniteFuture()
                     : absl::Now() + absl::Milliseconds(timeout_ms);
  // TODO(signals): Linux restarts an interrupted poll with the time left
  // (ERESTART_RESTARTBLOCK); PollUser's ERESTARTNOHAND starts it over.
  return PollUser(t, fds, nfds, deadline);
}

// Ppoll implements Linux syscall ppoll(2).
Result<int> Ppoll(Task& t, UserPtr<struct pollfd> fds, unsigned nfds,
                  UserPtr<timespec> tsp, UserPtr<uint64_t> sigmask,
                  size_t sigsetsize) {
  Timeout to;
  if (tsp.addr) to = TRY(TimeoutFrom(TRY(t.mm().CopyInObj(tsp))));
  TRY(ApplySigmask(t, sigmask.addr, sigsetsize));
  return RestoreSigmask(
      t, WriteBackTimeout(t, tsp, to, PollUser(t, fds, nfds, to.deadline)));
}

// Select implements Linux syscall select(2).
Result<int> Select(Task& t, int nfds, UserPtr<uint64_t> readfds,
                   UserPtr<uint64_t> writefds, UserPtr<uint64_t> exceptfds,
                   UserPtr<timeval> tvp) {
  Timeout to;
  if (tvp.addr) {
    const timeval tv = TRY(t.mm().CopyInObj(tvp));
    // As Linux: whole seconds in tv_usec count; what is left negative is
    // EINVAL (and so is an overflow, which wraps negative there).
    timespec ts{};
    if (__builtin_add_overflow(tv.tv_sec, tv.tv_usec / 1000000, &ts.tv_sec))
      return Err(EINVAL);
    ts.tv_nsec = (tv.tv_usec % 1000000) * 1000;
    to = TRY(TimeoutFrom(ts));
  }
  Result<int> r = DoSelect(
      t, nfds, {readfds.addr, writefds.addr, exceptfds.addr}, to.deadline);
  return WriteBackTimeout(t, tvp, to, r);
}

// Pselect6 implements Linux syscall pselect6(2).
Result<int> Pselect6(Task& t, int nfds, UserPtr<uint64_t> readfds,
                     UserPtr<uint64_t> writefds, UserPtr<uint64_t> exceptfds,
                     UserPtr<timespec> tsp, UserPtr<uint64_t> sig) {
  Timeout to;
  if (tsp.addr) to = TRY(TimeoutFrom(TRY(t.mm().CopyInObj(tsp))));
  if (sig.addr) {
    // { const sigset_t *ss; size_t ss_len; }
    uint64_t mask_and_size[2];
    TRY(t.mm().CopyIn(sig.addr, mask_and_size, sizeof mask_and_size));
    TRY(ApplySigmask(t, mask_and_size[0], mask_and_size[1]));
  }
  Result<int> r = DoSelect(
      t, nfds, {readfds.addr, writefds.addr, exceptfds.addr}, to.deadline);
  return RestoreSigmask(t, WriteBackTimeout(t, tsp, to, r));
}

}  // namespace

void RegisterPoll(Registrar& r) {
  r.Full<&Poll>(SYS_poll);
  r.Full<&Ppoll>(SYS_ppoll);
  r.Full<&Select>(SYS_select);
  r.Full<&Pselect6>(SYS_pselect6);
}

}  // namespace syscalls
