// The syscall round trip: the cost the sandbox adds to every system call.
// Run natively and under runsc by perf/run.sh, which prints the ratio.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

// getppid does no work in either kernel, so this is the trap's cost.
void BM_Getppid(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(syscall(SYS_getppid));
}
BENCHMARK(BM_Getppid)->Unit(benchmark::kNanosecond);

// A syscall that copies out to app memory: clock_gettime without a vDSO.
void BM_ClockGettime(benchmark::State& state) {
  timespec ts;
  for (auto _ : state)
    benchmark::DoNotOptimize(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts));
}
BENCHMARK(BM_ClockGettime)->Unit(benchmark::kNanosecond);

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
