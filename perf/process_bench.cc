// Process, thread and IPC costs: fork, exec, thread creation, futex and
// pipe round trips, signal delivery. Run natively and under runsc by perf/run.sh, which
// prints the ratio.
//
// Every benchmark here measures wall time (UseRealTime): the work happens
// in other processes and threads, and in the sandbox the sentry's own time
// is not charged to the app's CPU clocks at all.
#include <benchmark/benchmark.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>

extern char** environ;

namespace {

// Waits for `pid` and reports an error unless it exited with status 0.
// Returns false on error, so the caller stops timing.
bool WaitOk(benchmark::State& state, pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) {
    state.SkipWithError("waitpid failed");
    return false;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    state.SkipWithError("child did not exit with status 0");
    return false;
  }
  return true;
}

// fork + _exit + waitpid of a small process: address-space copy, a new
// task (in the sandbox, a new stub process), exit and reaping.
void BM_ForkExitWait(benchmark::State& state) {
  for (auto _ : state) {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    if (pid < 0) {
      state.SkipWithError("fork failed");
      break;
    }
    if (!WaitOk(state, pid)) break;
  }
}
BENCHMARK(BM_ForkExitWait)->Unit(benchmark::kMicrosecond)->UseRealTime();

// vfork + execve("/bin/true") + waitpid: how a shell or posix_spawn starts
// a program, including the dynamic loader's start-up of /bin/true.
void BM_VforkExecTrue(benchmark::State& state) {
  char path[] = "/bin/true";
  char* argv[] = {path, nullptr};
  for (auto _ : state) {
    pid_t pid = vfork();
    if (pid == 0) {
      // Only execve and _exit are safe in a vfork child.
      execve(path, argv, environ);
      _exit(127);
    }
    if (pid < 0) {
      state.SkipWithError("vfork failed");
      break;
    }
    if (!WaitOk(state, pid)) break;
  }
}
BENCHMARK(BM_VforkExecTrue)->Unit(benchmark::kMicrosecond)->UseRealTime();

void* ReturnNull(void*) { return nullptr; }

// pthread_create + pthread_join of a thread that returns at once: clone
// with CLONE_THREAD, the thread's stack mmap (cached by glibc after the
// first one) and the CLONE_CHILD_CLEARTID futex wake on exit.
void BM_PthreadCreateJoin(benchmark::State& state) {
  for (auto _ : state) {
    pthread_t thread;
    if (pthread_create(&thread, nullptr, ReturnNull, nullptr) != 0) {
      state.SkipWithError("pthread_create failed");
      break;
    }
    pthread_join(thread, nullptr);
  }
}
BENCHMARK(BM_PthreadCreateJoin)->Unit(benchmark::kMicrosecond)->UseRealTime();

long Futex(std::atomic<uint32_t>* word, int op, uint32_t val) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), op, val, nullptr,
                 nullptr, 0);
}

// Sleeps while *word == val. Returns at once if it already differs.
void FutexWaitWhile(std::atomic<uint32_t>* word, uint32_t val) {
  while (word->load(std::memory_order_acquire) == val)
    Futex(word, FUTEX_WAIT_PRIVATE, val);
}

// The word two threads pass a turn through: odd means it is the responder's
// turn, even the benchmark thread's. Each hand-off is a store and a
// FUTEX_WAKE, so a round trip is two wakes and (usually) two sleeps.
struct PingPong {
  std::atomic<uint32_t> turn{0};
  std::atomic<bool> stop{false};
};

void* FutexResponder(void* arg) {
  auto* pp = static_cast<PingPong*>(arg);
  uint32_t seen = 0;
  for (;;) {
    FutexWaitWhile(&pp->turn, seen);  // seen is even: wait for an odd turn.
    if (pp->stop.load(std::memory_order_acquire)) return nullptr;
    seen = pp->turn.load(std::memory_order_acquire) + 1;
    pp->turn.store(seen, std::memory_order_release);
    Futex(&pp->turn, FUTEX_WAKE_PRIVATE, 1);
  }
}

// A futex wake round trip between two threads of one process: A wakes B,
// B wakes A. Time is per round trip.
void BM_FutexRoundTrip(benchmark::State& state) {
  PingPong pp;
  pthread_t responder;
  if (pthread_create(&responder, nullptr, FutexResponder, &pp) != 0) {
    state.SkipWithError("pthread_create failed");
    return;
  }
  uint32_t turn = 0;
  for (auto _ : state) {
    pp.turn.store(turn + 1, std::memory_order_release);
    Futex(&pp.turn, FUTEX_WAKE_PRIVATE, 1);
    FutexWaitWhile(&pp.turn, turn + 1);
    turn += 2;
  }
  pp.stop.store(true, std::memory_order_release);
  pp.turn.store(turn + 1, std::memory_order_release);
  Futex(&pp.turn, FUTEX_WAKE_PRIVATE, 1);
  pthread_join(responder, nullptr);
}
BENCHMARK(BM_FutexRoundTrip)->Unit(benchmark::kMicrosecond)->UseRealTime();

// One byte back and forth between two processes over two pipes. Time is
// per round trip (two writes, two reads, two wake-ups).
void BM_PipePingPong(benchmark::State& state) {
  int to_child[2], to_parent[2];
  if (pipe(to_child) != 0 || pipe(to_parent) != 0) {
    state.SkipWithError("pipe failed");
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(to_child[1]);
    close(to_parent[0]);
    char c;
    // Echo until the parent closes its end.
    while (read(to_child[0], &c, 1) == 1)
      if (write(to_parent[1], &c, 1) != 1) _exit(1);
    _exit(0);
  }
  close(to_child[0]);
  close(to_parent[1]);
  if (pid < 0) {
    state.SkipWithError("fork failed");
  } else {
    char c = 'x';
    for (auto _ : state) {
      if (write(to_child[1], &c, 1) != 1 || read(to_parent[0], &c, 1) != 1) {
        state.SkipWithError("pipe round trip failed");
        break;
      }
    }
  }
  close(to_child[1]);
  close(to_parent[0]);
  if (pid > 0) WaitOk(state, pid);
}
BENCHMARK(BM_PipePingPong)->Unit(benchmark::kMicrosecond)->UseRealTime();

volatile sig_atomic_t signals_caught = 0;

void CountSignal(int) { signals_caught = signals_caught + 1; }

// A signal sent to the thread itself (tgkill), delivered to a handler
// that returns through rt_sigreturn: the whole round trip of a signal,
// frame set-up on the app's stack included.
void BM_SignalRoundTrip(benchmark::State& state) {
  struct sigaction sa = {}, old = {};
  sa.sa_handler = CountSignal;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGUSR1, &sa, &old) != 0) {
    state.SkipWithError("sigaction failed");
    return;
  }
  const pid_t pid = getpid();
  const pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
  signals_caught = 0;
  int64_t sent = 0;
  for (auto _ : state) {
    syscall(SYS_tgkill, pid, tid, SIGUSR1);
    ++sent;
  }
  // A signal to the thread itself is delivered before tgkill returns.
  if (signals_caught != sent) state.SkipWithError("a signal was not caught");
  sigaction(SIGUSR1, &old, nullptr);
}
BENCHMARK(BM_SignalRoundTrip)->Unit(benchmark::kMicrosecond)->UseRealTime();

// A process with 256 MiB of written private memory. The memory is touched
// in SetUp, outside the timed loop; the benchmark has a fixed iteration
// count so that SetUp runs once per repetition, not once per trial run.
class Touched256MiB : public benchmark::Fixture {
 public:
  static constexpr size_t kSize = size_t{256} << 20;

  void SetUp(const benchmark::State&) override {
    void* p = mmap(nullptr, kSize, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    mem_ = static_cast<char*>(p);
    // Non-zero data on every page, so every page really has a copy.
    for (size_t off = 0; off < kSize; off += 4096) mem_[off] = 1;
  }

  void TearDown(const benchmark::State&) override {
    if (mem_ != nullptr) munmap(mem_, kSize);
    mem_ = nullptr;
  }

 protected:
  char* mem_ = nullptr;
};

// fork + _exit + waitpid of that process: a fork that copied the memory up
// front would take the time of copying 256 MiB; copy-on-write only shares
// it (Linux copies the page tables).
BENCHMARK_DEFINE_F(Touched256MiB, ForkExitWait)(benchmark::State& state) {
  if (mem_ == nullptr) {
    state.SkipWithError("mmap of 256 MiB failed");
    return;
  }
  for (auto _ : state) {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    if (pid < 0) {
      state.SkipWithError("fork failed");
      break;
    }
    if (!WaitOk(state, pid)) break;
  }
  benchmark::DoNotOptimize(mem_[0]);
}
BENCHMARK_REGISTER_F(Touched256MiB, ForkExitWait)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime()
    ->Iterations(40);

}  // namespace

BENCHMARK_MAIN();
