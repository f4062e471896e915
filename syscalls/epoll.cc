// epoll_create(2), epoll_create1(2), epoll_ctl(2), epoll_wait(2),
// epoll_pwait(2), epoll_pwait2(2). The instance is sentry/event's
// (epoll.h).
#include <linux/capability.h>
#include <sys/epoll.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/time/time.h"
#include "sentry/event/epoll.h"
#include "syscalls/common.h"
#include "syscalls/wait_sigmask.h"

namespace syscalls {
namespace {

using event::Epoll;

static_assert(sizeof(epoll_event) == 12);  // packed on x86-64
// Linux's EP_MAX_EVENTS.
constexpr int kEpMaxEvents = INT32_MAX / sizeof(epoll_event);
// The events epoll_wait gathers per step (the sentry's buffer).
constexpr size_t kBatch = 1024;
// What EPOLLEXCLUSIVE may come with (Linux's EPOLLEXCLUSIVE_OK_BITS).
constexpr uint32_t kExclusiveOk = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP |
                                  EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;

Result<int> DoEpollCreate(Task& t, int flags) {
  auto ep = Epoll::Create(0);
  return t.fds().Install(std::move(ep), flags & EPOLL_CLOEXEC, 0,
                         NofileLimit(t));
}

// EpollCreate implements Linux syscall epoll_create(2).
Result<int> EpollCreate(Task& t, int size) {
  if (size <= 0) return Err(EINVAL);
  return DoEpollCreate(t, 0);
}

// EpollCreate1 implements Linux syscall epoll_create1(2).
Result<int> EpollCreate1(Task& t, int flags) {
  if (flags & ~EPOLL_CLOEXEC) return Err(EINVAL);
  return DoEpollCreate(t, flags);
}

// EpollCtl implements Linux syscall epoll_ctl(2).
Result<int> EpollCtl(Task& t, int epfd, int op, int fd,
                     UserPtr<epoll_event> event) {
  // Linux's order (do_epoll_ctl): the event, both fds, the target's
  // poll support, the instance, EPOLLEXCLUSIVE, then the interest list.
  const bool has_event = op != EPOLL_CTL_DEL;
  epoll_event ev{};
  if (has_event) ev = TRY(t.mm().CopyInObj(event));
  FilePtr epf = TRY(GetFile(t, Fd{epfd}));
  FilePtr target = TRY(GetFile(t, Fd{fd}));
  if (!target->pollable() || target->is_path()) return Err(EPERM);
  // EPOLLWAKEUP without CAP_BLOCK_SUSPEND is dropped silently, as Linux.
  if (has_event && (ev.events & EPOLLWAKEUP) &&
      !t.creds().HasCap(CAP_BLOCK_SUSPEND))
    ev.events &= ~EPOLLWAKEUP;
  auto* ep = dynamic_cast<Epoll*>(epf.get());
  if (ep == nullptr || epf == target) return Err(EINVAL);
  if (has_event && (ev.events & EPOLLEXCLUSIVE)) {
    if (op == EPOLL_CTL_MOD) return Err(EINVAL);
    if (op == EPOLL_CTL_ADD && (dynamic_cast<Epoll*>(target.get()) ||
                                (ev.events & ~kExclusiveOk)))
      return Err(EINVAL);
  }
  switch (op) {
    case EPOLL_CTL_ADD:
      TRY(ep->Add(target, fd, ev));
      return 0;
    case EPOLL_CTL_MOD:
      TRY(ep->Modify(target.get(), fd, ev));
      return 0;
    case EPOLL_CTL_DEL:
      TRY(ep->Delete(target.get(), fd));
      return 0;
    default:
      return Err(EINVAL);
  }
}

// Gathers ready events into the app's array, a batch at a time.
Result<int> CollectInto(Task& t, Epoll& ep, uint64_t addr, int maxevents) {
  std::vector<epoll_event> buf(std::min<size_t>(maxevents, kBatch));
  size_t total = 0;
  while (total < static_cast<size_t>(maxevents)) {
    const size_t want =
        std::min<size_t>(buf.size(), static_cast<size_t>(maxevents) - total);
    const size_t n = ep.Collect(std::span(buf.data(), want));
    if (n == 0) break;
    const uint64_t at = addr + total * sizeof(epoll_event);
    if (auto r = t.mm().CopyOut(at, buf.data(), n * sizeof(epoll_event)); !r) {
      // TODO(epoll): Linux puts the events it could not copy back on the
      // ready list; here edge-triggered and one-shot ones are lost.
      if (total == 0) return std::unexpected(r.error());
      break;
    }
    total += n;
    if (n < want) break;
  }
  return static_cast<int>(total);
}

// Linux's do_epoll_wait, until `deadline`: EINTR when interrupted.
Result<int> DoEpollWait(Task& t, int epfd, uint64_t events, int maxevents,
                        absl::Time deadline) {
  if (maxevents <= 0 || maxevents > kEpMaxEvents) return Err(EINVAL);
  // access_ok: the whole array below the end of user space.
  const uint64_t len = static_cast<uint64_t>(maxevents) * sizeof(epoll_event);
  if (events > mm::kTaskSizeMax || len > mm::kTaskSizeMax - events)
    return Err(EFAULT);
  FilePtr f = TRY(GetFile(t, Fd{epfd}));
  auto* ep = dynamic_cast<Epoll*>(f.get());
  if (ep == nullptr) return Err(EINVAL);
  int n = TRY(CollectInto(t, *ep, events, maxevents));
  if (n > 0 || deadline <= absl::Now()) return n;
  Task::WaitEntry entry(t, EPOLLIN | EPOLLRDNORM);
  ep->EventRegister(&entry);
  Result<int> result = 0;
  bool timed_out = false;
  for (;;) {
    // Registered before this look, so a notification after it wakes us.
    auto r = CollectInto(t, *ep, events, maxevents);
    if (!r || *r > 0 || timed_out) {
      result = r;
      break;
    }
    const Task::WakeReason why = t.Block(deadline, &entry.ready);
    entry.ready.store(false);
    if (why == Task::WakeReason::kInterrupted) {
      result = Err(EINTR);  // epoll_wait is never restarted
      break;
    }
    timed_out = why == Task::WakeReason::kTimeout;
  }
  ep->EventUnregister(&entry);
  return result;
}

absl::Time DeadlineAfterMs(int timeout_ms) {
  return timeout_ms < 0 ? absl::InfiniteFuture()
                        : absl::Now() + absl::Milliseconds(timeout_ms);
}

// EpollWait implements Linux syscall epoll_wait(2).
Result<int> EpollWait(Task& t, int epfd, UserPtr<epoll_event> events,
                      int maxevents, int timeout) {
  return DoEpollWait(t, epfd, events.addr, maxevents, DeadlineAfterMs(timeout));
}

// EpollPwait implements Linux syscall epoll_pwait(2).
Result<int> EpollPwait(Task& t, int epfd, UserPtr<epoll_event> events,
                       int maxevents, int timeout, UserPtr<uint64_t> sigmask,
                       size_t sigsetsize) {
  TRY(ApplySigmask(t, sigmask.addr, sigsetsize));
  return RestoreSigmask(t, DoEpollWait(t, epfd, events.addr, maxevents,
                                       DeadlineAfterMs(timeout)));
}

// EpollPwait2 implements Linux syscall epoll_pwait2(2).
Result<int> EpollPwait2(Task& t, int epfd, UserPtr<epoll_event> events,
                        int maxevents, UserPtr<timespec> timeout,
                        UserPtr<uint64_t> sigmask, size_t sigsetsize) {
  absl::Time deadline = absl::InfiniteFuture();
  if (!timeout.IsNull()) {
    const timespec ts = TRY(t.mm().CopyInObj(timeout));
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1'000'000'000)
      return Err(EINVAL);
    deadline = absl::Now() + absl::DurationFromTimespec(ts);
  }
  TRY(ApplySigmask(t, sigmask.addr, sigsetsize));
  return RestoreSigmask(
      t, DoEpollWait(t, epfd, events.addr, maxevents, deadline));
}

}  // namespace

void RegisterEpoll(Registrar& r) {
  constexpr const char* kNote =
      "EPOLLEXCLUSIVE wakes every instance waiting on the file (allowed: "
      "'one or more'); an event that cannot be copied out is lost unless "
      "level-triggered";
  r.Full<&EpollCreate>(SYS_epoll_create);
  r.Full<&EpollCreate1>(SYS_epoll_create1);
  r.Partial<&EpollCtl>(SYS_epoll_ctl, kNote);
  r.Full<&EpollWait>(SYS_epoll_wait);
  r.Full<&EpollPwait>(SYS_epoll_pwait);
  r.Full<&EpollPwait2>(SYS_epoll_pwait2);
}

}  // namespace syscalls
