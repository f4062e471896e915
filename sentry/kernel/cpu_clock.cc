#include "sentry/kernel/cpu_clock.h"

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"

namespace kernel {
namespace {

constexpr int kPerThreadBit = 4;
constexpr int kKindMask = 3;
constexpr int kFdClockKind = 3;

int64_t Pick(CpuClockKind kind, const CpuTimes& t) {
  return kind == CpuClockKind::kVirt ? t.user_ns : t.total_ns();
}

TimerClock ThreadClock(std::shared_ptr<TaskCpu> cpu, CpuClockKind kind) {
  return TimerClock{.cpu = [cpu, kind]() -> std::optional<int64_t> {
    if (cpu->finished()) return std::nullopt;
    return Pick(kind, cpu->Sample());
  }};
}

TimerClock ProcessClock(std::shared_ptr<ProcessCpu> cpu, CpuClockKind kind) {
  return TimerClock{.cpu = [cpu, kind]() -> std::optional<int64_t> {
    std::optional<CpuTimes> t = cpu->Sample();
    if (!t) return std::nullopt;
    return Pick(kind, *t);
  }};
}

}  // namespace

bool IsCpuClockId(clockid_t id) {
  return id == CLOCK_PROCESS_CPUTIME_ID || id == CLOCK_THREAD_CPUTIME_ID ||
         id < 0;
}

std::optional<CpuClockId> DecodeCpuClockId(clockid_t id) {
  if (id == CLOCK_PROCESS_CPUTIME_ID) return CpuClockId{};
  if (id == CLOCK_THREAD_CPUTIME_ID) return CpuClockId{.per_thread = true};
  if (id >= 0 || (id & kKindMask) == kFdClockKind) return std::nullopt;
  return CpuClockId{
      .pid = ~(id >> 3),  // an arithmetic shift, as Linux's CPUCLOCK_PID
      .per_thread = (id & kPerThreadBit) != 0,
      .kind = static_cast<CpuClockKind>(id & kKindMask),
  };
}

base::Result<TimerClock> CpuClockFor(Task& t, clockid_t id, bool gettime) {
  std::optional<CpuClockId> c = DecodeCpuClockId(id);
  if (!c) return base::Err(EINVAL);
  ThreadGroup& self = t.thread_group();
  if (c->per_thread) {
    if (c->pid == 0 || c->pid == t.tid())
      return ThreadClock(t.cpu_ptr(), c->kind);
    // Only threads of the caller's own process.
    std::shared_ptr<TaskCpu> cpu;
    self.ForEachThread([&](Task* other) {
      if (other->tid() == c->pid) cpu = other->cpu_ptr();
    });
    if (!cpu) return base::Err(EINVAL);
    return ThreadClock(std::move(cpu), c->kind);
  }
  if (c->pid == 0 || c->pid == self.pid() || (gettime && c->pid == t.tid()))
    return ProcessClock(self.cpu_clock(), c->kind);
  // Any process, but a process id: a thread's id names no process clock.
  std::shared_ptr<ThreadGroup> other = t.kernel().processes().Find(c->pid);
  if (!other) return base::Err(EINVAL);
  return ProcessClock(other->cpu_clock(), c->kind);
}

int64_t CpuClockResolutionNs(const CpuClockId& id) {
  return id.kind == CpuClockKind::kSched ? 1 : kCpuTickNs;
}

}  // namespace kernel
