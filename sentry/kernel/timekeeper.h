// Timekeeper: the sandbox's wall and monotonic clocks, computed from the
// TSC, and the vDSO's parameter page ([vvar]) that lets apps compute them
// without a trap.
//
// The clocks CLOCK_REALTIME, MONOTONIC, MONOTONIC_RAW, BOOTTIME, TAI and
// the _COARSE ones are straight lines in the TSC (loader/vdso/
// vdso_params.h), calibrated against the host's clocks by a thread of
// their own: each refresh samples the host clock and the TSC together and
// draws the next line from the measured rate. A line never starts below
// where the previous one had got to, so no clock goes back; a line that
// ran ahead of the host slows down to meet it by the next refresh, one
// that fell behind jumps forward to it. Until the second sample (100 ms
// after start) there is no rate, the page says "disabled", and every
// reader uses the host's clock.
//
// The sentry's clock syscalls read the same lines (Now), so a value read
// through the vDSO and one read through clock_gettime(2) come from one
// clock, as on Linux.
#ifndef SENTRY_KERNEL_TIMEKEEPER_H_
#define SENTRY_KERNEL_TIMEKEEPER_H_

#include <time.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/result.h"
#include "sentry/loader/vdso.h"
#include "sentry/loader/vdso/vdso_params.h"
#include "sentry/mm/memory_file.h"

namespace kernel {

class Timekeeper {
 public:
  // Allocates the page in `file` and starts the refresh thread (so: after
  // the platform has forked its helpers). `file` must outlive it.
  static base::Result<std::unique_ptr<Timekeeper>> Create(mm::MemoryFile& file);
  ~Timekeeper();  // stops the thread, frees the page

  const loader::VdsoParamsPage& params_page() const { return page_; }

  // The value of `clock` in nanoseconds, as the vDSO computes it; nullopt
  // for clocks the vDSO does not serve and while the lines are not
  // calibrated (the caller then reads the host's clock).
  std::optional<int64_t> Now(clockid_t clock) const;

  // Returns once the first line is out (2 ms after Create), or at once if
  // there will be none (no invariant TSC).
  void AwaitCalibration();

  // Tests: refresh now, as the thread does.
  void RefreshForTest() { Refresh(); }

 private:
  explicit Timekeeper(mm::MemoryFile& file) : file_(file) {}
  void Run();
  // One refresh: sample the host, publish the next lines. Only the refresh
  // thread (or a test, with the thread idle) calls it.
  void Refresh();

  mm::MemoryFile& file_;
  loader::VdsoParamsPage page_;
  volatile vdso_params* shared_ = nullptr;  // the page, in the sentry's view
  // The sentry's own copy, which Now reads: the app can never change it
  // (it cannot change the page either, but need not be trusted to).
  volatile vdso_params local_{};

  // Refresh state: the refresh thread's alone.
  bool tsc_ok_ = false;  // invariant TSC (CPUID 0x80000007 EDX bit 8)
  vdso_params line_{};   // what was last published
  uint32_t seq_ = 0;
  uint64_t prev_tsc_ = 0;  // the previous sample of each host clock
  int64_t prev_mono_ = 0;
  uint64_t prev_raw_tsc_ = 0;
  int64_t prev_raw_ = 0;
  int64_t period_ns_ = 0;  // until the next refresh

  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool calibrated_ ABSL_GUARDED_BY(mu_) = false;  // a refresh has run
  std::thread thread_;
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_TIMEKEEPER_H_
