// The Timekeeper's lines against the host's clocks, and its page against
// its own reads.
#include "sentry/kernel/timekeeper.h"

#include <time.h>

#include "gtest/gtest.h"

namespace kernel {
namespace {

int64_t HostNs(clockid_t c) {
  timespec ts{};
  clock_gettime(c, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

class TimekeeperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = *mm::MemoryFile::Create(uint64_t{1} << 30);
    auto tk = Timekeeper::Create(*file_);
    ASSERT_TRUE(tk.has_value());
    tk_ = std::move(*tk);
    tk_->AwaitCalibration();
  }
  const volatile vdso_params* Page() const {
    return reinterpret_cast<const volatile vdso_params*>(
        file_->base() + tk_->params_page().offset);
  }

  std::unique_ptr<mm::MemoryFile> file_;
  std::unique_ptr<Timekeeper> tk_;
};

// After calibration each served clock reads within a millisecond of the
// host's (a bound on the calibration's error, far above what it is: the
// TSC rate comes from readings a few milliseconds apart at first).
TEST_F(TimekeeperTest, AgreesWithTheHost) {
  if (!Page()->enabled) GTEST_SKIP() << "no invariant TSC on this host";
  constexpr int64_t kSlack = 1000000;
  for (clockid_t c :
       {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME,
        CLOCK_TAI, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE}) {
    const clockid_t host = c == CLOCK_REALTIME_COARSE    ? CLOCK_REALTIME
                           : c == CLOCK_MONOTONIC_COARSE ? CLOCK_MONOTONIC
                                                         : c;
    for (int i = 0; i < 100; ++i) {
      const int64_t before = HostNs(host);
      std::optional<int64_t> v = tk_->Now(c);
      const int64_t after = HostNs(host);
      ASSERT_TRUE(v.has_value()) << c;
      EXPECT_GE(*v, before - kSlack) << c;
      EXPECT_LE(*v, after + kSlack) << c;
    }
  }
  EXPECT_FALSE(tk_->Now(CLOCK_PROCESS_CPUTIME_ID).has_value());
  EXPECT_FALSE(tk_->Now(CLOCK_REALTIME_ALARM).has_value());
}

// Across the refreshes of the first ~130 ms (at 2, 6, 14, 30, 62, 126 ms)
// no clock goes back, read from the sentry's copy or from the page.
TEST_F(TimekeeperTest, NeverGoesBackAcrossRefreshes) {
  if (!Page()->enabled) GTEST_SKIP() << "no invariant TSC on this host";
  const int64_t end = HostNs(CLOCK_MONOTONIC) + 150000000;
  int64_t last_mono = 0, last_raw = 0;
  while (HostNs(CLOCK_MONOTONIC) < end) {
    const int64_t a = *tk_->Now(CLOCK_MONOTONIC);
    int64_t b = 0;
    ASSERT_TRUE(vdso_read_clock(Page(), VDSO_CLOCK_MONOTONIC, &b));
    const int64_t c = *tk_->Now(CLOCK_MONOTONIC);
    ASSERT_LE(last_mono, a);
    ASSERT_LE(a, b);
    ASSERT_LE(b, c);
    last_mono = c;
    const int64_t raw = *tk_->Now(CLOCK_MONOTONIC_RAW);
    ASSERT_LE(last_raw, raw);
    last_raw = raw;
  }
}

}  // namespace
}  // namespace kernel
