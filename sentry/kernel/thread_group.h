// ThreadGroup: a process. Holds what its threads share: pid, limits,
// signal dispositions, credentials, the exit status.
//
// Lock order: ThreadGroup::mu_ is a leaf (nothing is locked under it).
#ifndef SENTRY_KERNEL_THREAD_GROUP_H_
#define SENTRY_KERNEL_THREAD_GROUP_H_

#include <sys/resource.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/kernel/credentials.h"

namespace kernel {

// The kernel's struct sigaction layout (rt_sigaction(2) ABI).
struct KernelSigaction {
  uint64_t handler = 0;  // SIG_DFL (0), SIG_IGN (1) or an address
  uint64_t flags = 0;
  uint64_t restorer = 0;
  uint64_t mask = 0;
};
inline constexpr int kNumSignals = 64;

// How a process ended, as wait(2) reports it.
struct ExitStatus {
  int code = 0;    // exit(2) status when signal == 0
  int signal = 0;  // the terminating signal, or 0
  // The shell convention runsc do uses: code, or 128 + signal.
  int ShellStatus() const { return signal ? 128 + signal : code; }
};

class ThreadGroup {
 public:
  ThreadGroup(int pid, int ppid, Credentials creds);

  int pid() const { return pid_; }
  int ppid() const { return ppid_; }

  rlimit GetRlimit(int resource) const;
  void SetRlimit(int resource, rlimit value);

  KernelSigaction GetSigaction(int sig) const;
  void SetSigaction(int sig, const KernelSigaction& act);

  Credentials creds() const;
  void set_creds(Credentials c);

  std::string exe_path() const;
  void set_exe_path(std::string path);

  // The first call decides the status; later calls (other threads dying)
  // do not change it. Returns true if this call began the exit.
  bool BeginExit(ExitStatus status);
  bool exiting() const { return exiting_.load(std::memory_order_acquire); }
  ExitStatus exit_status() const;

 private:
  const int pid_;
  const int ppid_;
  std::atomic<bool> exiting_{false};

  mutable absl::Mutex mu_;
  std::array<rlimit, RLIM_NLIMITS> rlimits_ ABSL_GUARDED_BY(mu_);
  std::array<KernelSigaction, kNumSignals + 1> sigactions_ ABSL_GUARDED_BY(mu_);
  Credentials creds_ ABSL_GUARDED_BY(mu_);
  std::string exe_path_ ABSL_GUARDED_BY(mu_);
  ExitStatus exit_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_THREAD_GROUP_H_
