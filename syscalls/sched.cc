// Scheduling: sched_{get,set}affinity(2), sched_yield(2), the policy and
// priority calls (sched_{set,get}{param,scheduler,attr}(2),
// sched_get_priority_{max,min}(2), sched_rr_get_interval(2)),
// {get,set}priority(2) and getcpu(2).
//
// Policies, priorities and nice values are checked with Linux's rules and
// recorded per thread (sentry/kernel/sched_params.h), but not enforced:
// the host schedules every sandbox thread alike.
#include <linux/capability.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <vector>

#include "syscalls/common.h"

namespace syscalls {
namespace {

using kernel::Credentials;
using kernel::SchedParams;

constexpr int kMaxRtPriority = 99;
constexpr int kMinNice = -20, kMaxNice = 19;
constexpr int kResetOnFork = 0x40000000;  // SCHED_RESET_ON_FORK
// SCHED_RR's time slice (Linux's default sched_rr_timeslice_ms).
constexpr absl::Duration kRrTimeslice = absl::Milliseconds(100);
constexpr uint64_t kSchedFlagAll = 0x7f;  // SCHED_FLAG_ALL
constexpr uint64_t kSchedFlagResetOnFork = 0x01;
constexpr uint64_t kSchedFlagKeepPolicy = 0x08;
constexpr uint64_t kSchedFlagKeepParams = 0x10;
constexpr uint64_t kSchedFlagUtilClamp = 0x60;
constexpr size_t kAttrSizeVer0 = 48;  // SCHED_ATTR_SIZE_VER0
constexpr size_t kPageSize = 4096;

// Linux's struct sched_attr (SCHED_ATTR_SIZE_VER1); glibc 2.36 has none,
// and <linux/sched/types.h> clashes with <sched.h>.
struct sched_attr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};
static_assert(sizeof(sched_attr) == 56);

bool RtPolicy(int policy) { return policy == SCHED_FIFO || policy == SCHED_RR; }
bool FairPolicy(int policy) {
  return policy == SCHED_OTHER || policy == SCHED_BATCH || policy == SCHED_IDLE;
}

// Runs fn on thread `tid` (0: the caller) while it cannot go away. Linux
// finds any task by its id here, threads included. ESRCH if none.
template <class F>
auto WithThread(Task& t, int tid, F fn) -> decltype(fn(t)) {
  if (tid == 0 || tid == t.tid()) return fn(t);
  std::optional<decltype(fn(t))> r;
  t.kernel().WithTask(tid, [&](Task& target) { r = fn(target); });
  if (!r) return Err(ESRCH);
  return *r;
}

// Linux's check_same_owner (and setpriority's set_one_prio_perm).
bool SameOwner(const Credentials& me, const Credentials& them) {
  return me.euid == them.euid || me.euid == them.ruid;
}

// Linux's can_nice: lowering nice to `nice` needs RLIMIT_NICE of the
// target (20 - nice at most) or CAP_SYS_NICE.
bool CanNice(const Credentials& me, Task& target, int nice) {
  const uint64_t allowed =
      target.thread_group().GetRlimit(RLIMIT_NICE).rlim_cur;
  return static_cast<uint64_t>(20 - nice) <= allowed || me.HasCap(CAP_SYS_NICE);
}

// What a sched_set*() call asks for. policy -1 keeps the current policy
// (and its reset-on-fork flag), as Linux's SETPARAM_POLICY.
struct Request {
  int policy = -1;
  int priority = 0;
  int nice = 0;
  bool reset_on_fork = false;
  bool util_clamp = false;
  bool keep_params = false;  // SCHED_FLAG_KEEP_PARAMS
  // SCHED_DEADLINE's parameters.
  uint64_t runtime = 0, deadline = 0, period = 0;
};

// Linux's __checkparam_dl, without the sysctl bounds.
bool ValidDeadline(const Request& r) {
  constexpr uint64_t kDlScale = 1024;  // the smallest runtime, in ns
  constexpr uint64_t kMsb = uint64_t{1} << 63;
  if (r.deadline == 0 || r.runtime < kDlScale) return false;
  if ((r.deadline | r.period) & kMsb) return false;
  if (r.period != 0 && r.period < r.deadline) return false;
  return r.runtime <= r.deadline;
}

// Linux's __sched_setscheduler for a user caller: argument checks, then
// the permission checks an unprivileged caller must pass, then the change.
Result<void> Change(Task& t, Task& target, Request r) {
  const SchedParams old = target.sched.Get();
  if (r.policy < 0) {
    r.policy = old.policy;
    r.reset_on_fork = old.reset_on_fork;
  } else if (!FairPolicy(r.policy) && !RtPolicy(r.policy) &&
             r.policy != SCHED_DEADLINE) {
    return Err(EINVAL);
  }
  if (r.priority < 0 || r.priority > kMaxRtPriority) return Err(EINVAL);
  if (r.policy == SCHED_DEADLINE ? !ValidDeadline(r)
                                 : RtPolicy(r.policy) != (r.priority != 0))
    return Err(EINVAL);

  const Credentials me = t.creds();
  if (!me.HasCap(CAP_SYS_NICE)) {
    if (FairPolicy(r.policy) && r.nice < old.nice &&
        !CanNice(me, target, r.nice))
      return Err(EPERM);
    if (RtPolicy(r.policy)) {
      const uint64_t rtprio =
          target.thread_group().GetRlimit(RLIMIT_RTPRIO).rlim_cur;
      if (r.policy != old.policy && rtprio == 0) return Err(EPERM);
      if (r.priority > old.priority &&
          static_cast<uint64_t>(r.priority) > rtprio)
        return Err(EPERM);
    }
    if (r.policy == SCHED_DEADLINE) return Err(EPERM);
    // Leaving SCHED_IDLE is like lowering nice.
    if (old.policy == SCHED_IDLE && r.policy != SCHED_IDLE &&
        !CanNice(me, target, old.nice))
      return Err(EPERM);
    if (!SameOwner(me, target.creds())) return Err(EPERM);
    if (old.reset_on_fork && !r.reset_on_fork) return Err(EPERM);
  }
  // No utilization clamping (a kernel without CONFIG_UCLAMP_TASK), and
  // no deadline bandwidth to admit a SCHED_DEADLINE thread into.
  if (r.util_clamp) return Err(EOPNOTSUPP);
  if (r.policy == SCHED_DEADLINE) return Err(EBUSY);

  SchedParams p = old;
  p.reset_on_fork = r.reset_on_fork;
  // SCHED_FLAG_KEEP_PARAMS leaves policy and parameters alone (it is
  // meant for utilization clamps, which are not supported).
  if (!r.keep_params) {
    p.policy = r.policy;
    p.priority = r.priority;
    // A real-time policy leaves the nice value alone.
    if (FairPolicy(r.policy)) p.nice = r.nice;
  }
  target.sched.Set(p);
  return {};
}

// sched_setscheduler(2) and sched_setparam(2) (policy -1).
Result<void> SetScheduler(Task& t, int pid, int policy,
                          UserPtr<sched_param> param) {
  if (param.IsNull() || pid < 0) return Err(EINVAL);
  const sched_param sp = TRY(t.mm().CopyInObj(param));
  return WithThread(t, pid, [&](Task& target) -> Result<void> {
    Request r{.priority = sp.sched_priority, .nice = target.sched.Get().nice};
    if (policy >= 0) {
      r.policy = policy & ~kResetOnFork;
      r.reset_on_fork = policy & kResetOnFork;
    }
    return Change(t, target, r);
  });
}

// SchedSetscheduler implements Linux syscall sched_setscheduler(2).
Result<void> SchedSetscheduler(Task& t, int pid, int policy,
                               UserPtr<sched_param> param) {
  if (policy < 0) return Err(EINVAL);
  return SetScheduler(t, pid, policy, param);
}

// SchedSetparam implements Linux syscall sched_setparam(2).
Result<void> SchedSetparam(Task& t, int pid, UserPtr<sched_param> param) {
  return SetScheduler(t, pid, -1, param);
}

// SchedGetscheduler implements Linux syscall sched_getscheduler(2).
Result<int> SchedGetscheduler(Task& t, int pid) {
  if (pid < 0) return Err(EINVAL);
  return WithThread(t, pid, [](Task& target) -> Result<int> {
    SchedParams p = target.sched.Get();
    return p.policy | (p.reset_on_fork ? kResetOnFork : 0);
  });
}

// SchedGetparam implements Linux syscall sched_getparam(2).
Result<void> SchedGetparam(Task& t, int pid, UserPtr<sched_param> param) {
  if (param.IsNull() || pid < 0) return Err(EINVAL);
  const SchedParams p =
      TRY(WithThread(t, pid, [](Task& target) -> Result<SchedParams> {
        return target.sched.Get();
      }));
  return t.mm().CopyOutObj(param, sched_param{.sched_priority = p.priority});
}

// Copies in a struct sched_attr as Linux's sched_copy_attr: size 0 means
// the first version; a size Linux does not know is E2BIG (and the size it
// knows is written back) unless the unknown tail is zero.
Result<sched_attr> CopyInAttr(Task& t, UserPtr<sched_attr> uattr) {
  uint32_t size = TRY(t.mm().CopyInObj(UserPtr<uint32_t>(uattr.addr)));
  if (size == 0) size = kAttrSizeVer0;
  bool too_big = size < kAttrSizeVer0 || size > kPageSize;
  sched_attr attr{};
  if (!too_big) {
    std::vector<uint8_t> buf(size);
    TRY(t.mm().CopyIn(uattr.addr, buf.data(), size));
    memcpy(&attr, buf.data(), std::min<size_t>(size, sizeof(attr)));
    for (size_t i = sizeof(attr); i < size; ++i) too_big |= buf[i] != 0;
  }
  if (too_big) {
    (void)t.mm().CopyOutObj(UserPtr<uint32_t>(uattr.addr),
                            uint32_t{sizeof(sched_attr)});
    return Err(E2BIG);
  }
  if ((attr.sched_flags & kSchedFlagUtilClamp) && size < sizeof(sched_attr))
    return Err(EINVAL);
  attr.sched_nice = std::clamp(attr.sched_nice, kMinNice, kMaxNice);
  return attr;
}

// SchedSetattr implements Linux syscall sched_setattr(2).
Result<void> SchedSetattr(Task& t, int pid, UserPtr<sched_attr> uattr,
                          unsigned flags) {
  if (uattr.IsNull() || pid < 0 || flags != 0) return Err(EINVAL);
  const sched_attr a = TRY(CopyInAttr(t, uattr));
  if (static_cast<int>(a.sched_policy) < 0) return Err(EINVAL);
  if (a.sched_flags & ~kSchedFlagAll) return Err(EINVAL);
  return WithThread(t, pid, [&](Task& target) -> Result<void> {
    Request r{.policy = static_cast<int>(a.sched_policy),
              .priority = static_cast<int>(
                  std::min<uint32_t>(a.sched_priority, kMaxRtPriority + 1)),
              .nice = a.sched_nice,
              .reset_on_fork = (a.sched_flags & kSchedFlagResetOnFork) != 0,
              .util_clamp = (a.sched_flags & kSchedFlagUtilClamp) != 0,
              .runtime = a.sched_runtime,
              .deadline = a.sched_deadline,
              .period = a.sched_period};
    if (a.sched_flags & kSchedFlagKeepPolicy) r.policy = -1;
    if (a.sched_flags & kSchedFlagKeepParams) {
      r.keep_params = true;
      // The current parameters of the current policy (Linux's get_params).
      const SchedParams cur = target.sched.Get();
      if (RtPolicy(cur.policy))
        r.priority = cur.priority;
      else
        r.nice = cur.nice;
    }
    return Change(t, target, r);
  });
}

// SchedGetattr implements Linux syscall sched_getattr(2).
Result<void> SchedGetattr(Task& t, int pid, UserPtr<sched_attr> uattr,
                          unsigned size, unsigned flags) {
  if (uattr.IsNull() || pid < 0 || size > kPageSize || size < kAttrSizeVer0 ||
      flags != 0)
    return Err(EINVAL);
  const SchedParams p =
      TRY(WithThread(t, pid, [](Task& target) -> Result<SchedParams> {
        return target.sched.Get();
      }));
  sched_attr a{};
  a.sched_policy = p.policy;
  if (p.reset_on_fork) a.sched_flags |= kSchedFlagResetOnFork;
  if (RtPolicy(p.policy))
    a.sched_priority = p.priority;
  else
    a.sched_nice = p.nice;
  // A caller with an older, smaller struct gets what fits; a newer,
  // larger one learns from `size` how much the kernel filled in.
  a.size = std::min<uint32_t>(size, sizeof(a));
  return t.mm().CopyOut(uattr.addr, &a, a.size);
}

// SchedGetPriorityMax implements Linux syscall sched_get_priority_max(2).
Result<int> SchedGetPriorityMax(Task& t, int policy) {
  if (RtPolicy(policy)) return kMaxRtPriority;
  if (FairPolicy(policy) || policy == SCHED_DEADLINE) return 0;
  return Err(EINVAL);
}

// SchedGetPriorityMin implements Linux syscall sched_get_priority_min(2).
Result<int> SchedGetPriorityMin(Task& t, int policy) {
  if (RtPolicy(policy)) return 1;
  if (FairPolicy(policy) || policy == SCHED_DEADLINE) return 0;
  return Err(EINVAL);
}

// SchedRrGetInterval implements Linux syscall sched_rr_get_interval(2):
// SCHED_RR's slice, 0 (no slice) for FIFO and, as Linux's EEVDF reports
// a slice shorter than a tick, for the fair policies.
Result<void> SchedRrGetInterval(Task& t, int pid, UserPtr<timespec> out) {
  if (pid < 0) return Err(EINVAL);
  const SchedParams p =
      TRY(WithThread(t, pid, [](Task& target) -> Result<SchedParams> {
        return target.sched.Get();
      }));
  absl::Duration slice =
      p.policy == SCHED_RR ? kRrTimeslice : absl::ZeroDuration();
  return t.mm().CopyOutObj(out, absl::ToTimespec(slice));
}

// The threads getpriority/setpriority act on: thread `who` (0: the
// caller), every thread of process group `who` (0: the caller's), or
// every thread of the processes whose real uid is `who` (0: the
// caller's). Returns their ids; WithThread reaches each.
Result<std::vector<int>> PriorityTargets(Task& t, int which, int who) {
  if (which != PRIO_PROCESS && which != PRIO_PGRP && which != PRIO_USER)
    return Err(EINVAL);
  if (which == PRIO_PROCESS) return std::vector<int>{who == 0 ? t.tid() : who};
  auto& tree = t.kernel().processes();
  std::vector<std::shared_ptr<kernel::ThreadGroup>> procs;
  if (which == PRIO_PGRP) {
    procs = tree.Group(who == 0 ? tree.Pgid(t.thread_group().pid()) : who);
  } else {
    const uint32_t uid =
        who == 0 ? t.creds().ruid : static_cast<uint32_t>(who);
    for (auto& tg : tree.Live())
      if (tg->creds().ruid == uid) procs.push_back(tg);
  }
  std::vector<int> tids;
  for (auto& tg : procs)
    tg->ForEachThread([&](Task* task) { tids.push_back(task->tid()); });
  return tids;
}

// Getpriority implements Linux syscall getpriority(2): the highest
// priority among the targets, as 20 - nice (1..40), so that no success is
// negative.
Result<int> Getpriority(Task& t, int which, int who) {
  int best = -1;
  for (int tid : TRY(PriorityTargets(t, which, who))) {
    auto nice = WithThread(t, tid, [](Task& target) -> Result<int> {
      return target.sched.Get().nice;
    });
    if (nice) best = std::max(best, 20 - *nice);
  }
  if (best < 0) return Err(ESRCH);
  return best;
}

// Setpriority implements Linux syscall setpriority(2): sets every target
// it may; the error is the last target's refusal, or ESRCH if none.
Result<void> Setpriority(Task& t, int which, int who, int nice) {
  nice = std::clamp(nice, kMinNice, kMaxNice);
  const Credentials me = t.creds();
  int error = ESRCH;
  for (int tid : TRY(PriorityTargets(t, which, who))) {
    auto r = WithThread(t, tid, [&](Task& target) -> Result<void> {
      if (!SameOwner(me, target.creds()) &&
          !me.HasCap(CAP_SYS_NICE))
        return Err(EPERM);
      SchedParams p = target.sched.Get();
      if (nice < p.nice && !CanNice(me, target, nice)) return Err(EACCES);
      p.nice = nice;
      target.sched.Set(p);
      return {};
    });
    if (!r && r.error().value != ESRCH)
      error = r.error().value;
    else if (r && error == ESRCH)
      error = 0;
  }
  if (error) return Err(error);
  return {};
}

// The CPUs the sandbox runs on (the sentry's own mask), which every
// thread may use.
cpu_set_t SandboxCpus() {
  cpu_set_t host;
  CPU_ZERO(&host);
  if (sched_getaffinity(0, sizeof(host), &host) != 0) CPU_SET(0, &host);
  return host;
}

// A thread's mask: what it set, limited to the CPUs that exist.
cpu_set_t AffinityOf(const Task& t) {
  const cpu_set_t all = SandboxCpus();
  const std::optional<cpu_set_t> set = t.sched.Affinity();
  if (!set) return all;
  cpu_set_t out;
  CPU_AND(&out, &*set, &all);
  return out;
}

// Getcpu implements Linux syscall getcpu(2): the host CPU the calling
// sentry thread is on if the thread's mask has it, else the first CPU of
// the mask (the app's stub thread may be elsewhere, and the host does not
// pin threads to their masks); node 0.
Result<void> Getcpu(Task& t, UserPtr<unsigned> cpu, UserPtr<unsigned> node,
                    uint64_t tcache) {
  const cpu_set_t mask = AffinityOf(t);
  int c = sched_getcpu();
  if (c < 0 || c >= CPU_SETSIZE || !CPU_ISSET(c, &mask)) {
    c = 0;
    while (c < CPU_SETSIZE - 1 && !CPU_ISSET(c, &mask)) ++c;
  }
  bool fault = false;
  if (!cpu.IsNull()) fault |= !t.mm().CopyOutObj(cpu, unsigned(c));
  if (!node.IsNull()) fault |= !t.mm().CopyOutObj(node, 0u);
  if (fault) return Err(EFAULT);
  return {};
}

// Runs `fn` on the affinity target `pid` (0: the caller; a thread id
// names that thread). Changing another user's needs CAP_SYS_NICE.
Result<void> OnAffinityTarget(Task& t, int pid, bool set,
                              const std::function<Result<void>(Task&)>& fn) {
  if (pid < 0) return Err(ESRCH);  // Linux's find_process_by_pid finds none
  const Credentials me = t.creds();
  return WithThread(t, pid, [&](Task& target) -> Result<void> {
    if (set && !SameOwner(me, target.creds()) && !me.HasCap(CAP_SYS_NICE))
      return Err(EPERM);
    return fn(target);
  });
}

// The size of the kernel's mask (Linux's cpumask_size(): whole longs for
// nr_cpu_ids, here the highest CPU of the sandbox).
size_t MaskSize() {
  const cpu_set_t all = SandboxCpus();
  int highest = 0;
  for (int i = 0; i < CPU_SETSIZE; ++i)
    if (CPU_ISSET(i, &all)) highest = i;
  return ((highest / 64) + 1) * sizeof(uint64_t);
}

// SchedGetaffinity implements Linux syscall sched_getaffinity(2): the
// thread's mask. The length is checked before the target.
Result<size_t> SchedGetaffinity(Task& t, int pid, unsigned len,
                                UserPtr<uint8_t> mask) {
  const size_t size = MaskSize();
  if (len < size || len % sizeof(uint64_t)) return Err(EINVAL);
  cpu_set_t out;
  TRY(OnAffinityTarget(t, pid, /*set=*/false, [&](Task& target) {
    out = AffinityOf(target);
    return Result<void>{};
  }));
  TRY(t.mm().CopyOut(mask.addr, &out, size));
  return size;
}

// SchedSetaffinity implements Linux syscall sched_setaffinity(2): the
// mask is kept for the thread (bits of CPUs that do not exist dropped;
// EINVAL if none is left), not enforced: the host places the threads.
Result<void> SchedSetaffinity(Task& t, int pid, unsigned len,
                              UserPtr<uint8_t> mask) {
  // Linux's get_user_cpu_mask: a short mask is zero-extended, a long one
  // cut to the kernel's size.
  cpu_set_t in;
  CPU_ZERO(&in);
  const size_t n = std::min<size_t>(len, MaskSize());
  TRY(t.mm().CopyIn(mask.addr, &in, n));
  const cpu_set_t all = SandboxCpus();
  cpu_set_t valid;
  CPU_AND(&valid, &in, &all);
  return OnAffinityTarget(t, pid, /*set=*/true,
                          [&](Task& target) -> Result<void> {
                            if (CPU_COUNT(&valid) == 0) return Err(EINVAL);
                            target.sched.SetAffinity(valid);
                            return {};
                          });
}

// SchedYield implements Linux syscall sched_yield(2).
Result<void> SchedYield(Task& t) {
  sched_yield();
  return {};
}

}  // namespace

void RegisterSched(Registrar& r) {
  const char* kRecorded =
      "policy, priority and nice are checked as Linux (EINVAL, EPERM, "
      "RLIMIT_RTPRIO/RLIMIT_NICE, CAP_SYS_NICE) and recorded per thread, "
      "but not enforced: the host schedules every sandbox thread alike";
  r.Partial<&SchedSetscheduler>(SYS_sched_setscheduler, kRecorded);
  r.Partial<&SchedSetparam>(SYS_sched_setparam, kRecorded);
  r.Full<&SchedGetscheduler>(SYS_sched_getscheduler);
  r.Full<&SchedGetparam>(SYS_sched_getparam);
  r.Partial<&SchedSetattr>(
      SYS_sched_setattr,
      "as sched_setscheduler; SCHED_DEADLINE is EBUSY (no bandwidth to "
      "admit) and utilization clamps EOPNOTSUPP");
  r.Full<&SchedGetattr>(SYS_sched_getattr);
  r.Full<&SchedGetPriorityMax>(SYS_sched_get_priority_max);
  r.Full<&SchedGetPriorityMin>(SYS_sched_get_priority_min);
  r.Partial<&SchedRrGetInterval>(
      SYS_sched_rr_get_interval,
      "fixed slices: 100 ms for SCHED_RR, 0 for the other policies");
  r.Partial<&Getpriority>(SYS_getpriority, kRecorded);
  r.Partial<&Setpriority>(SYS_setpriority, kRecorded);
  r.Partial<&Getcpu>(SYS_getcpu,
                     "the host CPU of the sentry thread serving the call "
                     "if the thread's mask has it, else the mask's first; "
                     "node 0");
  r.Full<&SchedGetaffinity>(SYS_sched_getaffinity);
  r.Partial<&SchedSetaffinity>(
      SYS_sched_setaffinity,
      "kept per thread with Linux's checks and read back, inherited by "
      "clone; not enforced: the host places the threads");
  r.Full<&SchedYield>(SYS_sched_yield);
}

}  // namespace syscalls
