// Unit tests for the TimerService's alarms, deadline arithmetic, TaskCpu
// accounting, and the pending queue's treatment of forged timer signals.
#include "sentry/kernel/timer_service.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <climits>
#include <cstring>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "sentry/kernel/cpu_time.h"
#include "sentry/kernel/signal_state.h"

namespace kernel {
namespace {

constexpr int64_t kMs = 1'000'000;
// How long a test waits for something that should happen much sooner.
constexpr absl::Duration kPatience = absl::Seconds(20);

int64_t Monotonic() { return TimerClock{}.Now().value(); }

TEST(TimerArithmeticTest, SaturatesInsteadOfOverflowing) {
  EXPECT_EQ(AddNs(INT64_MAX - 1, 5), INT64_MAX);
  EXPECT_EQ(AddNs(3, 4), 7);
  EXPECT_EQ(TimespecNs({1, 5}), 1'000'000'005);
  EXPECT_EQ(TimespecNs({LONG_MAX, 999'999'999}), INT64_MAX);
}

TEST(TimerArithmeticTest, ForwardMovesPastNowByWholeIntervals) {
  int64_t deadline = 100;
  EXPECT_EQ(Forward(&deadline, 10, 99), 0);  // not expired
  EXPECT_EQ(deadline, 100);
  EXPECT_EQ(Forward(&deadline, 10, 100), 1);
  EXPECT_EQ(deadline, 110);
  EXPECT_EQ(Forward(&deadline, 10, 135), 3);
  EXPECT_EQ(deadline, 140);
  deadline = 0;
  EXPECT_EQ(Forward(&deadline, INT64_MAX, INT64_MAX - 1), 1);
  EXPECT_EQ(deadline, INT64_MAX);
}

TEST(AlarmTest, RingsOnceNotBeforeItsDeadline) {
  std::atomic<int> rings{0};
  std::atomic<int64_t> rang_at{0};
  absl::Notification rung;
  Alarm a([&] {
    rang_at = Monotonic();
    if (++rings == 1) rung.Notify();
  });
  const int64_t deadline = Monotonic() + 20 * kMs;
  a.Set(TimerClock{}, deadline);
  ASSERT_TRUE(rung.WaitForNotificationWithTimeout(kPatience));
  EXPECT_GE(rang_at.load(), deadline);
  absl::SleepFor(absl::Milliseconds(30));
  EXPECT_EQ(rings.load(), 1);
}

// A fake CPU clock keeps these deterministic: nothing is due until the
// test moves the clock.
TEST(AlarmTest, SetReplacesAndUnsetStops) {
  std::atomic<int64_t> cpu{0};
  TimerClock clock{
      .cpu = [&cpu]() -> std::optional<int64_t> { return cpu.load(); }};
  std::atomic<int> rings{0};
  absl::Notification rung;
  Alarm a([&] {
    ++rings;
    rung.Notify();
  });
  a.Set(clock, 100);
  a.Set(clock, 200);  // replaces the first
  cpu = 150;
  absl::SleepFor(absl::Milliseconds(3 * kCpuTickNs / kMs));
  EXPECT_EQ(rings.load(), 0);
  cpu = 200;
  ASSERT_TRUE(rung.WaitForNotificationWithTimeout(kPatience));
  a.Set(clock, 300);
  a.Unset();
  cpu = 400;
  absl::SleepFor(absl::Milliseconds(3 * kCpuTickNs / kMs));
  EXPECT_EQ(rings.load(), 1);
}

TEST(AlarmTest, CpuClocksAreSampledUntilTheyReachTheDeadline) {
  std::atomic<int64_t> cpu{0};
  absl::Notification rung;
  Alarm a([&] { rung.Notify(); });
  TimerClock clock{
      .cpu = [&cpu]() -> std::optional<int64_t> { return cpu.load(); }};
  a.Set(clock, 1000);
  absl::SleepFor(absl::Milliseconds(3 * kCpuTickNs / kMs));
  EXPECT_FALSE(rung.HasBeenNotified());  // the clock did not move
  cpu = 1000;
  EXPECT_TRUE(rung.WaitForNotificationWithTimeout(kPatience));
}

TEST(AlarmTest, AGoneClockNeverRings) {
  std::atomic<bool> rang{false};
  Alarm a([&] { rang = true; });
  a.Set(TimerClock{.cpu = [] { return std::optional<int64_t>(); }}, 0);
  absl::SleepFor(absl::Milliseconds(3 * kCpuTickNs / kMs));
  EXPECT_FALSE(rang);
}

TEST(AlarmTest, CancelWaitsForARingUnderWay) {
  absl::Notification entered, release;
  std::atomic<bool> finished{false};
  Alarm a([&] {
    entered.Notify();
    release.WaitForNotification();
    finished = true;
  });
  a.Set(TimerClock{}, 0);
  ASSERT_TRUE(entered.WaitForNotificationWithTimeout(kPatience));
  std::thread releaser([&] {
    absl::SleepFor(absl::Milliseconds(20));
    release.Notify();
  });
  a.Cancel();
  EXPECT_TRUE(finished);  // Cancel returned only after the ring
  releaser.join();
}

TEST(TaskCpuTest, CountsUserAndSystemButNotIdle) {
  TaskCpu cpu;
  cpu.Enter(TaskCpu::State::kUser);
  absl::SleepFor(absl::Milliseconds(20));
  cpu.Enter(TaskCpu::State::kSys);
  absl::SleepFor(absl::Milliseconds(10));
  {
    TaskCpu::IdleScope idle(cpu);
    CpuTimes before = cpu.Sample();
    absl::SleepFor(absl::Milliseconds(20));
    CpuTimes after = cpu.Sample();
    EXPECT_EQ(before.total_ns(), after.total_ns());
  }
  const CpuTimes t = cpu.Sample();
  EXPECT_GE(t.user_ns, 20 * kMs);
  EXPECT_GE(t.sys_ns, 10 * kMs);
  EXPECT_FALSE(cpu.finished());
  cpu.Finish();
  EXPECT_TRUE(cpu.finished());
  absl::SleepFor(absl::Milliseconds(5));
  EXPECT_EQ(cpu.Sample().total_ns(), cpu.Sample().total_ns());
}

// A forged SI_TIMER siginfo (rt_sigqueueinfo can send one) carries no
// registered cookie: it is an ordinary signal, and the sentry's mark bytes
// come out zero.
TEST(TimerSignalTest, ForgedTimerSignalIsOrdinary) {
  siginfo_t forged = MakeSigInfo(SIGUSR1, SI_TIMER);
  std::memset(reinterpret_cast<char*>(&forged) + sizeof(forged) - 8, 0xab, 8);
  PendingQueue q;
  EXPECT_TRUE(q.Enqueue(forged));
  EXPECT_FALSE(q.Enqueue(forged));  // a standard signal: coalesced
  auto out = q.Dequeue(~0ull);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->si_code, SI_TIMER);
  uint64_t mark;
  std::memcpy(&mark, reinterpret_cast<char*>(&*out) + sizeof(*out) - 8, 8);
  EXPECT_EQ(mark, 0u);
  EXPECT_FALSE(q.Dequeue(~0ull));
}

}  // namespace
}  // namespace kernel
