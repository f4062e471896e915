// File system costs: path walks, small opens, bulk reads of the root's
// (gofer-served) files, and small-file churn where the sandbox writes (the
// overlay's memory). Run natively and under runsc by perf/run.sh.
//
// RUNSC_PERF_BIGFILE names a large host file for the throughput test
// (perf/run.sh makes a 1 GiB one); RUNSC_PERF_SCRATCH a directory to
// create files in (default /var/tmp: the host's disk natively, the
// overlay's upper layer in the sandbox).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace {

// Five components: usr, share, doc, libc6, copyright.
constexpr char kDeepPath[] = "/usr/share/doc/libc6/copyright";
// Larger than 4 KiB on every Debian system.
constexpr char kLicense[] = "/usr/share/common-licenses/GPL-3";

void BM_StatFiveDeep(benchmark::State& state) {
  struct stat st;
  for (auto _ : state) {
    if (stat(kDeepPath, &st) != 0) state.SkipWithError("stat failed");
  }
}
BENCHMARK(BM_StatFiveDeep)->Unit(benchmark::kMicrosecond);

// open(2) + close(2) of a file of the root: a path walk and a new file
// description (in the sandbox, a file the gofer serves).
void BM_OpenClose(benchmark::State& state) {
  for (auto _ : state) {
    int fd = open(kLicense, O_RDONLY);
    if (fd < 0) {
      state.SkipWithError("open failed");
      break;
    }
    close(fd);
  }
}
BENCHMARK(BM_OpenClose)->Unit(benchmark::kMicrosecond);

void BM_OpenRead4kClose(benchmark::State& state) {
  static char buf[4096];
  for (auto _ : state) {
    int fd = open(kLicense, O_RDONLY);
    if (fd < 0 || read(fd, buf, sizeof buf) != sizeof buf) {
      state.SkipWithError("open/read failed");
      break;
    }
    close(fd);
  }
}
BENCHMARK(BM_OpenRead4kClose)->Unit(benchmark::kMicrosecond);

void BM_SequentialRead1M(benchmark::State& state) {
  const char* path = getenv("RUNSC_PERF_BIGFILE");
  if (!path) {
    state.SkipWithError("RUNSC_PERF_BIGFILE not set");
    return;
  }
  std::vector<char> buf(1 << 20);
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    state.SkipWithError("cannot open RUNSC_PERF_BIGFILE");
    return;
  }
  int64_t bytes = 0;
  for (auto _ : state) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n <= 0) {  // wrap around: the file is read again and again
      lseek(fd, 0, SEEK_SET);
      n = read(fd, buf.data(), buf.size());
    }
    bytes += n;
  }
  close(fd);
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_SequentialRead1M)->Unit(benchmark::kMicrosecond);

// The scratch directory: the host's disk (/var/tmp) unless
// RUNSC_PERF_SCRATCH names another (perf/report.sh: a tmpfs natively, the
// sandbox's /tmp inside).
std::string ScratchPath(const char* name) {
  const char* dir = getenv("RUNSC_PERF_SCRATCH");
  return std::string(dir ? dir : "/var/tmp") + "/" + name + "." +
         std::to_string(getpid());
}

// pwrite(2) of 4 KiB at offset 0 of a scratch file: dispatch plus a page
// copied in from the app (the write-side twin of BM_ReadDevZero4k).
void BM_Pwrite4k(benchmark::State& state) {
  const std::string path = ScratchPath("runsc-perf-pwrite");
  static char buf[4096] = {1};
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    state.SkipWithError("cannot create the scratch file");
    return;
  }
  for (auto _ : state) {
    if (pwrite(fd, buf, sizeof buf, 0) != sizeof buf) {
      state.SkipWithError("pwrite failed");
      break;
    }
  }
  close(fd);
  unlink(path.c_str());
}
BENCHMARK(BM_Pwrite4k)->Unit(benchmark::kMicrosecond);

void BM_CreateWriteUnlink(benchmark::State& state) {
  const std::string path = ScratchPath("runsc-perf-small");
  static char buf[1024] = {1};
  for (auto _ : state) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, buf, sizeof buf) != sizeof buf) {
      state.SkipWithError("create/write failed");
      break;
    }
    close(fd);
    unlink(path.c_str());
  }
}
BENCHMARK(BM_CreateWriteUnlink)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
