// Memory-management costs: a short-lived mapping (mmap, a write fault on
// every page, munmap) and a storm of page faults on a mapping that stays.
// Run natively and in the sandbox by perf/run.sh and perf/report.sh.
//
// Wall time (UseRealTime): in the sandbox the faults are served by the
// sentry, whose time the app's CPU clocks do not see.
#include <benchmark/benchmark.h>
#include <sys/mman.h>

#include <cstddef>

namespace {

constexpr size_t kPage = 4096;

// Writes one byte to every page of [p, p + size): one write fault each.
void TouchPages(char* p, size_t size) {
  for (size_t off = 0; off < size; off += kPage) p[off] = 1;
  benchmark::ClobberMemory();
}

// mmap of 1 MiB of anonymous memory, a write to each of its 256 pages,
// munmap: what a malloc of a large buffer costs.
void BM_MmapTouchMunmap1M(benchmark::State& state) {
  constexpr size_t kSize = size_t{1} << 20;
  for (auto _ : state) {
    void* p = mmap(nullptr, kSize, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      state.SkipWithError("mmap failed");
      break;
    }
    TouchPages(static_cast<char*>(p), kSize);
    munmap(p, kSize);
  }
}
BENCHMARK(BM_MmapTouchMunmap1M)->Unit(benchmark::kMicrosecond)->UseRealTime();

// 1024 write faults in a row on a 4 MiB mapping made once:
// MADV_DONTNEED (outside the timed part) drops its pages, so every touch
// faults in a fresh zero page. Time is per storm of 1024 faults.
void BM_PageFaultStorm4M(benchmark::State& state) {
  constexpr size_t kSize = size_t{4} << 20;
  void* p = mmap(nullptr, kSize, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    state.SkipWithError("mmap failed");
    return;
  }
  char* mem = static_cast<char*>(p);
  for (auto _ : state) {
    state.PauseTiming();
    if (madvise(mem, kSize, MADV_DONTNEED) != 0) {
      state.SkipWithError("madvise(MADV_DONTNEED) failed");
      break;
    }
    state.ResumeTiming();
    TouchPages(mem, kSize);
  }
  munmap(mem, kSize);
}
BENCHMARK(BM_PageFaultStorm4M)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
