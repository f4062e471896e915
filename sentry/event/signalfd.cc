#include "sentry/event/signalfd.h"

#include <sys/epoll.h>

#include "absl/strings/str_format.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/vfs/anon_inode.h"
#include "sentry/vfs/iov_cursor.h"

namespace event {
namespace {

using kernel::SigBit;
using kernel::SigSet;

// Linux's siginfo_layout, for x86-64.
enum class Layout { kKill, kTimer, kPoll, kFault, kFaultMceerr, kChld, kRt, kSys };

Layout LayoutOf(int sig, int code) {
  if (code > SI_USER && code < SI_KERNEL) {
    // The last si_code each signal defines (NSIGILL ... NSIGSYS).
    struct Codes {
      int sig, limit;
      Layout layout;
    };
    static constexpr Codes kCodes[] = {
        {SIGILL, 11, Layout::kFault},  {SIGFPE, 15, Layout::kFault},
        {SIGSEGV, 10, Layout::kFault}, {SIGBUS, 5, Layout::kFault},
        {SIGTRAP, 6, Layout::kFault},  {SIGCHLD, 6, Layout::kChld},
        {SIGPOLL, 6, Layout::kPoll},   {SIGSYS, 2, Layout::kSys},
    };
    for (const Codes& c : kCodes) {
      if (c.sig != sig || code > c.limit) continue;
      if (sig == SIGBUS && (code == BUS_MCEERR_AR || code == BUS_MCEERR_AO))
        return Layout::kFaultMceerr;
      return c.layout;
    }
    return code <= 6 ? Layout::kPoll : Layout::kKill;  // NSIGPOLL
  }
  if (code == SI_TIMER) return Layout::kTimer;
  if (code == SI_SIGIO) return Layout::kPoll;
  if (code < 0) return Layout::kRt;
  return Layout::kKill;
}

size_t TotalLen(std::span<const iovec> iov) {
  size_t n = 0;
  for (const iovec& v : iov) n += v.iov_len;
  return n;
}

}  // namespace

SignalfdSiginfo SignalfdInfoOf(const siginfo_t& info) {
  SignalfdSiginfo out{};
  out.ssi_signo = info.si_signo;
  out.ssi_errno = info.si_errno;
  out.ssi_code = info.si_code;
  switch (LayoutOf(info.si_signo, info.si_code)) {
    case Layout::kKill:
      out.ssi_pid = info.si_pid;
      out.ssi_uid = info.si_uid;
      break;
    case Layout::kTimer:
      out.ssi_tid = info.si_timerid;
      out.ssi_overrun = info.si_overrun;
      out.ssi_ptr = reinterpret_cast<uint64_t>(info.si_ptr);
      out.ssi_int = info.si_int;
      break;
    case Layout::kPoll:
      out.ssi_band = static_cast<uint32_t>(info.si_band);
      out.ssi_fd = info.si_fd;
      break;
    case Layout::kFault:
      out.ssi_addr = reinterpret_cast<uint64_t>(info.si_addr);
      break;
    case Layout::kFaultMceerr:
      out.ssi_addr = reinterpret_cast<uint64_t>(info.si_addr);
      out.ssi_addr_lsb = static_cast<uint16_t>(info.si_addr_lsb);
      break;
    case Layout::kChld:
      out.ssi_pid = info.si_pid;
      out.ssi_uid = info.si_uid;
      out.ssi_status = info.si_status;
      out.ssi_utime = static_cast<uint64_t>(info.si_utime);
      out.ssi_stime = static_cast<uint64_t>(info.si_stime);
      break;
    case Layout::kRt:
      out.ssi_pid = info.si_pid;
      out.ssi_uid = info.si_uid;
      out.ssi_ptr = reinterpret_cast<uint64_t>(info.si_ptr);
      out.ssi_int = info.si_int;
      break;
    case Layout::kSys:
      out.ssi_call_addr = reinterpret_cast<uint64_t>(info.si_call_addr);
      out.ssi_syscall = info.si_syscall;
      out.ssi_arch = info.si_arch;
      break;
  }
  return out;
}

std::shared_ptr<SignalFd> SignalFd::Create(SigSet mask, int flags) {
  return std::shared_ptr<SignalFd>(
      new SignalFd(mask & ~kernel::kUnblockable, O_RDWR | (flags & O_NONBLOCK)));
}

SignalFd::~SignalFd() {
  absl::MutexLock lock(&mu_);
  for (auto& [entry, queue] : registered_) queue->Unregister(entry);
}

void SignalFd::SetMask(SigSet mask) {
  mask_.store(mask & ~kernel::kUnblockable);
  // Waiters look again with the new mask (Linux wakes signalfd_wqh).
  absl::MutexLock lock(&mu_);
  for (auto& [entry, queue] : registered_) queue->Notify(EPOLLIN | EPOLLRDNORM);
}

base::Result<size_t> SignalFd::Read(std::span<const iovec> dst) {
  const size_t room = TotalLen(dst) / sizeof(SignalfdSiginfo);
  if (room == 0) return base::Err(EINVAL);
  kernel::Task* t = kernel::Task::Current();
  if (t == nullptr) return base::Err(EAGAIN);
  vfs::IovCursor cursor(dst);
  size_t n = 0;
  for (; n < room; ++n) {
    auto info = t->thread_group().signals().Dequeue(*t, mask_.load());
    if (!info) break;
    const SignalfdSiginfo out = SignalfdInfoOf(*info);
    cursor.Scatter(reinterpret_cast<const uint8_t*>(&out), sizeof out);
  }
  if (n == 0) return base::Err(EAGAIN);
  return n * sizeof(SignalfdSiginfo);
}

base::Result<struct stat> SignalFd::Stat() { return vfs::AnonInodeStat(); }

uint64_t SignalFd::Readiness(uint64_t mask) {
  kernel::Task* t = kernel::Task::Current();
  if (t == nullptr) return 0;
  // Pending for the task or its process, blocked or not (Linux's
  // next_signal over both queues).
  kernel::SignalState& ss = t->thread_group().signals();
  const SigSet pending = ss.PendingFor(*t);
  return (pending & mask_.load()) ? mask & (EPOLLIN | EPOLLRDNORM) : 0;
}

void SignalFd::EventRegister(waiter::Entry* e) {
  kernel::Task* t = kernel::Task::Current();
  if (t == nullptr) return;
  std::shared_ptr<waiter::Queue> queue =
      t->thread_group().signals().signalfd_queue();
  queue->Register(e);
  absl::MutexLock lock(&mu_);
  registered_[e] = std::move(queue);
}

void SignalFd::EventUnregister(waiter::Entry* e) {
  std::shared_ptr<waiter::Queue> queue;
  {
    absl::MutexLock lock(&mu_);
    auto it = registered_.find(e);
    if (it == registered_.end()) return;
    queue = std::move(it->second);
    registered_.erase(it);
  }
  queue->Unregister(e);
}

std::string SignalFd::FdInfo() {
  return absl::StrFormat("sigmask:\t%016x\n", mask_.load());
}

}  // namespace event
