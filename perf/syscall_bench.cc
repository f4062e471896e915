// The syscall round trip: the cost the sandbox adds to every system call.
// Run natively and under runsc by perf/run.sh, which prints the ratio.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

namespace {

// getppid does no work in either kernel, so this is the trap's cost.
void BM_Getppid(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(syscall(SYS_getppid));
}
BENCHMARK(BM_Getppid)->Unit(benchmark::kNanosecond);

// The same through glibc's wrapper, which is `mov $110, %eax; syscall`:
// the form systrap patches into its fast path (syscall() above is not).
void BM_GetppidLibc(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(getppid());
}
BENCHMARK(BM_GetppidLibc)->Unit(benchmark::kNanosecond);

// A syscall that copies out to app memory: clock_gettime(2) itself, as a
// raw syscall (no vDSO).
void BM_ClockGettime(benchmark::State& state) {
  timespec ts;
  for (auto _ : state)
    benchmark::DoNotOptimize(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts));
}
BENCHMARK(BM_ClockGettime)->Unit(benchmark::kNanosecond);

// clock_gettime as programs call it: through glibc, which uses the vDSO
// (natively Linux's; in the sandbox the sentry's, computed in the app
// without a trap).
void BM_ClockGettimeVdso(benchmark::State& state) {
  timespec ts;
  for (auto _ : state)
    benchmark::DoNotOptimize(clock_gettime(CLOCK_MONOTONIC, &ts));
}
BENCHMARK(BM_ClockGettimeVdso)->Unit(benchmark::kNanosecond);

// gettimeofday as programs call it: glibc, so the vDSO like
// BM_ClockGettimeVdso.
void BM_GettimeofdayVdso(benchmark::State& state) {
  timeval tv;
  for (auto _ : state) benchmark::DoNotOptimize(gettimeofday(&tv, nullptr));
}
BENCHMARK(BM_GettimeofdayVdso)->Unit(benchmark::kNanosecond);

// read(2) of 4 KiB from /dev/zero: dispatch plus a page of copy.
void BM_ReadDevZero4k(benchmark::State& state) {
  static char buf[4096];
  int fd = open("/dev/zero", O_RDONLY);
  for (auto _ : state) benchmark::DoNotOptimize(read(fd, buf, sizeof(buf)));
  close(fd);
}
BENCHMARK(BM_ReadDevZero4k)->Unit(benchmark::kNanosecond);

}  // namespace

BENCHMARK_MAIN();
