// Timekeeper: TSC lines for the sandbox's clocks, refreshed against the
// host's (see timekeeper.h).
#include "sentry/kernel/timekeeper.h"

#include <cpuid.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>

#include "base/log.h"

namespace kernel {
namespace {

constexpr int64_t kNanosPerSecond = 1000000000;
// The first refresh (and with it the first rate) comes this long after
// start; each later one twice as long after the one before, up to a
// second.
constexpr int64_t kFirstPeriodMs = 2;
constexpr int64_t kMaxPeriodMs = 1000;
// A host clock that moved against CLOCK_MONOTONIC by more than this was
// set (settimeofday, a suspend): the line follows it. Smaller differences
// are the measurement's own jitter, which must not make REALTIME wobble.
constexpr int64_t kStepNs = 100000;

int64_t HostNs(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return int64_t{ts.tv_sec} * kNanosPerSecond + ts.tv_nsec;
}

struct Sample {
  uint64_t tsc;
  int64_t ns;
};

// A host clock and the TSC at (nearly) one instant: of a few readings, the
// one with the fewest cycles around it.
Sample SampleHost(clockid_t clock) {
  Sample best{};
  uint64_t best_window = ~uint64_t{0};
  for (int i = 0; i < 8; ++i) {
    const uint64_t t1 = vdso_rdtsc();
    const int64_t ns = HostNs(clock);
    const uint64_t t2 = vdso_rdtsc();
    if (t2 - t1 < best_window) {
      best_window = t2 - t1;
      best = {t1 + (t2 - t1) / 2, ns};
    }
  }
  return best;
}

// Host clock `a` minus host clock `b` at one instant, the same way.
int64_t HostOffset(clockid_t a, clockid_t b) {
  int64_t best = 0, best_window = INT64_MAX;
  for (int i = 0; i < 8; ++i) {
    const int64_t b1 = HostNs(b);
    const int64_t v = HostNs(a);
    const int64_t b2 = HostNs(b);
    if (b2 - b1 < best_window) {
      best_window = b2 - b1;
      best = v - (b1 + (b2 - b1) / 2);
    }
  }
  return best;
}

// ns / cycles as 32.32 fixed point; 0 if implausible (a TSC between
// 100 MHz and 100 GHz is plausible).
uint64_t MultOf(int64_t ns, uint64_t cycles) {
  if (ns <= 0 || cycles == 0) return 0;
  const unsigned __int128 m = ((unsigned __int128)ns << 32) / cycles;
  if (m < (uint64_t{1} << 32) / 100 || m > (uint64_t{10} << 32)) return 0;
  return static_cast<uint64_t>(m);
}

bool InvariantTsc() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx)) return false;
  return edx & (1u << 8);
}

void Barrier() { __asm__ __volatile__("" ::: "memory"); }

// The next line of one clock from the last one (`old` at the new reference
// point, if there was a line) and the host's (`target` there): never
// below the old line, and meeting the host within `period_ns` if it ran
// ahead. Returns the new start and sets *mult.
int64_t NextLine(std::optional<int64_t> old, int64_t target, uint64_t rate,
                 int64_t period_ns, uint64_t* mult) {
  *mult = rate;
  if (!old || *old <= target) return target;  // behind: jump forward
  const int64_t ahead = std::min(*old - target, period_ns / 2);
  *mult = static_cast<uint64_t>((unsigned __int128)rate *
                                uint64_t(period_ns - ahead) / period_ns);
  return *old;
}

}  // namespace

base::Result<std::unique_ptr<Timekeeper>> Timekeeper::Create(
    mm::MemoryFile& file) {
  std::unique_ptr<Timekeeper> tk(new Timekeeper(file));
  const uint64_t offset = TRY(file.Allocate(mm::kPageSize));
  tk->page_ = {.file = &file, .offset = offset};
  tk->shared_ = reinterpret_cast<volatile vdso_params*>(file.base() + offset);
  tk->tsc_ok_ = InvariantTsc();
  if (!tk->tsc_ok_)
    LOG(Info) << "timekeeper: no invariant TSC; the vDSO uses syscalls";
  // A variable for measurements: RUNSC_VDSO_CLOCK=syscall keeps the page
  // disabled, so every clock read traps.
  if (const char* v = getenv("RUNSC_VDSO_CLOCK");
      v && v == std::string("syscall"))
    tk->tsc_ok_ = false;
  tk->Refresh();  // the first sample; the rate needs a second
  tk->thread_ = std::thread([t = tk.get()] { t->Run(); });
  return tk;
}

Timekeeper::~Timekeeper() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
  file_.Free(page_.offset, mm::kPageSize);
}

std::optional<int64_t> Timekeeper::Now(clockid_t clock) const {
  if (!vdso_clock_served(clock)) return std::nullopt;
  for (int tries = 0;; ++tries) {
    const uint32_t seq = local_.seq;
    Barrier();
    if (seq & 1) {
      // The refresh thread is writing: wait for it rather than read the
      // host, whose clock may be a hair behind the line.
      if (tries > 100) std::this_thread::yield();
      continue;
    }
    if (!local_.enabled) return std::nullopt;
    const int64_t v = vdso_clock_at(&local_, clock, vdso_rdtsc());
    Barrier();
    if (local_.seq == seq) return v;
  }
}

void Timekeeper::Run() {
  int64_t wait_ms = kFirstPeriodMs;
  absl::MutexLock lock(&mu_);
  while (!mu_.AwaitWithTimeout(absl::Condition(&stop_),
                               absl::Milliseconds(wait_ms))) {
    wait_ms = std::min(wait_ms * 2, kMaxPeriodMs);
    period_ns_ = wait_ms * 1000000;
    mu_.Unlock();
    Refresh();
    mu_.Lock();
    calibrated_ = true;
  }
}

void Timekeeper::AwaitCalibration() {
  if (!tsc_ok_) return;
  absl::MutexLock lock(&mu_);
  // Bounded: a sentry too starved to run the thread starts the app with
  // the syscalls, which is only slower.
  mu_.AwaitWithTimeout(absl::Condition(&calibrated_), absl::Seconds(1));
}

void Timekeeper::Refresh() {
  if (!tsc_ok_) return;  // the page stays disabled
  const Sample mono = SampleHost(CLOCK_MONOTONIC);
  const Sample raw = SampleHost(CLOCK_MONOTONIC_RAW);
  const int64_t realtime_offset = HostOffset(CLOCK_REALTIME, CLOCK_MONOTONIC);
  const int64_t boottime_offset = HostOffset(CLOCK_BOOTTIME, CLOCK_MONOTONIC);
  // TAI - UTC is whole seconds.
  const int64_t tai_offset =
      (HostOffset(CLOCK_TAI, CLOCK_REALTIME) + kNanosPerSecond / 2) /
      kNanosPerSecond * kNanosPerSecond;
  uint64_t rate = 0, raw_rate = 0;
  if (prev_tsc_ != 0 && mono.tsc > prev_tsc_ && raw.tsc > prev_raw_tsc_) {
    rate = MultOf(mono.ns - prev_mono_, mono.tsc - prev_tsc_);
    raw_rate = MultOf(raw.ns - prev_raw_, raw.tsc - prev_raw_tsc_);
  }
  const bool first = prev_tsc_ == 0;
  prev_tsc_ = mono.tsc;
  prev_mono_ = mono.ns;
  prev_raw_tsc_ = raw.tsc;
  prev_raw_ = raw.ns;
  if (first) return;
  if (rate == 0 || raw_rate == 0)
    LOG(Warning) << "timekeeper: the TSC does not follow the host clock; "
                    "clocks use syscalls until it does";

  // Readers see an odd counter from here on and wait (or, in the vDSO,
  // use the syscall, which waits): so every value read with the old line
  // was read before `now`, and every value read with the new one after.
  seq_ += 1;
  shared_->seq = seq_;
  local_.seq = seq_;
  Barrier();
  vdso_params next = line_;
  next.enabled = rate != 0 && raw_rate != 0;
  if (next.enabled) {
    const uint64_t now = vdso_rdtsc();
    std::optional<int64_t> old_mono, old_raw;
    if (line_.enabled) {
      old_mono = vdso_clock_at(&line_, VDSO_CLOCK_MONOTONIC, now);
      old_raw = vdso_clock_at(&line_, VDSO_CLOCK_MONOTONIC_RAW, now);
    }
    const int64_t period = period_ns_ > 0 ? period_ns_ : kNanosPerSecond;
    next.tsc_ref = now;
    next.mono_ns =
        NextLine(old_mono, mono.ns + vdso_scale(now - mono.tsc, rate), rate,
                 period, &next.mult);
    next.raw_ns =
        NextLine(old_raw, raw.ns + vdso_scale(now - raw.tsc, raw_rate),
                 raw_rate, period, &next.raw_mult);
    auto follow = [&](int64_t& kept, int64_t measured) {
      if (!line_.enabled || std::abs(measured - kept) > kStepNs)
        kept = measured;
    };
    follow(next.realtime_offset, realtime_offset);
    follow(next.boottime_offset, boottime_offset);
    next.tai_offset = tai_offset;
    timespec res{};
    clock_getres(CLOCK_MONOTONIC_COARSE, &res);
    next.coarse_res_ns = int64_t{res.tv_sec} * kNanosPerSecond + res.tv_nsec;
  }
  line_ = next;
  for (volatile vdso_params* p : {shared_, &local_}) {
    p->enabled = next.enabled;
    p->tsc_ref = next.tsc_ref;
    p->mult = next.mult;
    p->raw_mult = next.raw_mult;
    p->mono_ns = next.mono_ns;
    p->raw_ns = next.raw_ns;
    p->realtime_offset = next.realtime_offset;
    p->boottime_offset = next.boottime_offset;
    p->tai_offset = next.tai_offset;
    p->coarse_res_ns = next.coarse_res_ns;
  }
  Barrier();
  seq_ += 1;
  shared_->seq = seq_;
  local_.seq = seq_;
}

}  // namespace kernel
