// signalfd(2): reading dequeues the caller's pending signals of a mask as
// struct signalfd_siginfo records, as Linux's fs/signalfd.c.
//
// Like Linux, a signalfd answers for whoever uses it (`current`): a read
// takes the signals pending for the reading thread and its process, poll
// reports those, and a waiter registers on the waiting process's
// signalfd queue (SignalState::signalfd_queue). A description shared
// across fork therefore reads each process's own signals.
//
// Lock order: SignalFd::mu_ -> the waiter queue's. Signals are dequeued
// without mu_ held.
#ifndef SENTRY_EVENT_SIGNALFD_H_
#define SENTRY_EVENT_SIGNALFD_H_

#include <signal.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/kernel/signal_state.h"
#include "sentry/vfs/file_description.h"

namespace event {

// Linux's struct signalfd_siginfo (128 bytes), from a queued siginfo_t
// (signalfd_copyinfo: which fields depend on the siginfo's layout).
struct SignalfdSiginfo {
  uint32_t ssi_signo;
  int32_t ssi_errno;
  int32_t ssi_code;
  uint32_t ssi_pid;
  uint32_t ssi_uid;
  int32_t ssi_fd;
  uint32_t ssi_tid;
  uint32_t ssi_band;
  uint32_t ssi_overrun;
  uint32_t ssi_trapno;
  int32_t ssi_status;
  int32_t ssi_int;
  uint64_t ssi_ptr;
  uint64_t ssi_utime;
  uint64_t ssi_stime;
  uint64_t ssi_addr;
  uint16_t ssi_addr_lsb;
  uint16_t pad2;
  int32_t ssi_syscall;
  uint64_t ssi_call_addr;
  uint32_t ssi_arch;
  uint8_t pad[28];
};
static_assert(sizeof(SignalfdSiginfo) == 128);

SignalfdSiginfo SignalfdInfoOf(const siginfo_t& info);

class SignalFd final : public vfs::FileDescription {
 public:
  // `mask`: the signals to read (SIGKILL and SIGSTOP are dropped);
  // `flags`: O_NONBLOCK only.
  static std::shared_ptr<SignalFd> Create(kernel::SigSet mask, int flags);
  // Leaves the process queues its waiters are on (an epoll registration's
  // entry, whose instance learns of the release afterwards).
  ~SignalFd() override;

  // signalfd(2) on an existing descriptor.
  void SetMask(kernel::SigSet mask);
  kernel::SigSet mask() const { return mask_.load(); }

  // As many whole records as fit (EINVAL for less than one), taken from
  // the calling task's queue and its process's; EAGAIN if none is
  // pending.
  base::Result<size_t> Read(std::span<const iovec> dst) override;
  base::Result<struct stat> Stat() override;
  // lseek(2) succeeds and moves nothing (Linux's noop_llseek).
  base::Result<int64_t> Seek(int64_t, int) override { return 0; }
  uint64_t Readiness(uint64_t mask) override;
  void EventRegister(waiter::Entry* e) override;
  bool pollable() const override { return true; }
  void EventUnregister(waiter::Entry* e) override;
  std::string path() const override { return "anon_inode:[signalfd]"; }
  std::string FdInfo() override;

 private:
  SignalFd(kernel::SigSet mask, int flags)
      : FileDescription(flags), mask_(mask) {}

  std::atomic<kernel::SigSet> mask_;
  absl::Mutex mu_;
  // Where each registered entry waits: the signalfd queue of the process
  // that registered it.
  std::map<waiter::Entry*, std::shared_ptr<waiter::Queue>> registered_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace event

#endif  // SENTRY_EVENT_SIGNALFD_H_
