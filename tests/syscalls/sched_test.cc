// sched_{get,set}{scheduler,param,attr}, sched_get_priority_{max,min},
// sched_rr_get_interval, {get,set}priority, getcpu, sched_setaffinity on
// other processes. Changes that cannot be undone run in forked children.
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <functional>

#include "test_util.h"

namespace {

using syscall_test::BadAddress;
using syscall_test::SyscallFailsWithErrno;
using syscall_test::SyscallSucceeds;
using syscall_test::SyscallSucceedsWithValue;

constexpr int kResetOnFork = 0x40000000;  // SCHED_RESET_ON_FORK
constexpr int kSchedDeadline = 6;
constexpr uint32_t kUnprivileged = 65534;

// Linux's struct sched_attr (glibc 2.36 does not have it).
struct SchedAttr {
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
static_assert(sizeof(SchedAttr) == 56);

long GetScheduler(pid_t pid) { return syscall(SYS_sched_getscheduler, pid); }
long SetScheduler(pid_t pid, int policy, int prio) {
  sched_param p{.sched_priority = prio};
  return syscall(SYS_sched_setscheduler, pid, policy, &p);
}
int GetParam(pid_t pid) {
  sched_param p{.sched_priority = -1};
  if (syscall(SYS_sched_getparam, pid, &p) != 0) return -1;
  return p.sched_priority;
}
// The raw getpriority value: 20 - nice.
long RawGetpriority(int which, int who) {
  return syscall(SYS_getpriority, which, who);
}
long SetAttr(pid_t pid, SchedAttr a) {
  return syscall(SYS_sched_setattr, pid, &a, 0);
}

// Runs `body` in a forked child and returns what it returned (0 means
// success; tests use the step number that went wrong). With `drop`, the
// child first becomes an unprivileged user (if it is root).
int InChild(const std::function<int()>& body, bool drop = false) {
  pid_t pid = fork();
  if (pid == 0) {
    if (drop && getuid() == 0 &&
        setresuid(kUnprivileged, kUnprivileged, kUnprivileged) != 0)
      _exit(100);
    _exit(body());
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A pid nobody has: a reaped child's (pids are not reused at once).
pid_t DeadPid() {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  return pid;
}

TEST(SchedTest, DefaultsAreSchedOtherPriorityZeroNiceZero) {
  EXPECT_THAT(GetScheduler(0), SyscallSucceedsWithValue(SCHED_OTHER));
  EXPECT_THAT(GetScheduler(getpid()), SyscallSucceedsWithValue(SCHED_OTHER));
  EXPECT_EQ(GetParam(0), 0);
  EXPECT_THAT(RawGetpriority(PRIO_PROCESS, 0), SyscallSucceedsWithValue(20));
}

TEST(SchedTest, PriorityRanges) {
  for (int policy : {SCHED_FIFO, SCHED_RR}) {
    EXPECT_THAT(syscall(SYS_sched_get_priority_max, policy),
                SyscallSucceedsWithValue(99));
    EXPECT_THAT(syscall(SYS_sched_get_priority_min, policy),
                SyscallSucceedsWithValue(1));
  }
  for (int policy : {SCHED_OTHER, SCHED_BATCH, SCHED_IDLE, kSchedDeadline}) {
    EXPECT_THAT(syscall(SYS_sched_get_priority_max, policy),
                SyscallSucceedsWithValue(0));
    EXPECT_THAT(syscall(SYS_sched_get_priority_min, policy),
                SyscallSucceedsWithValue(0));
  }
  // (7 is SCHED_EXT since Linux 6.12.)
  for (int policy : {-1, 4, 1000}) {
    EXPECT_THAT(syscall(SYS_sched_get_priority_max, policy),
                SyscallFailsWithErrno(EINVAL));
    EXPECT_THAT(syscall(SYS_sched_get_priority_min, policy),
                SyscallFailsWithErrno(EINVAL));
  }
}

TEST(SchedTest, GetterErrors) {
  sched_param p{};
  EXPECT_THAT(GetScheduler(-1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_getparam, -1, &p),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_getparam, 0, nullptr),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_getparam, 0, BadAddress()),
              SyscallFailsWithErrno(EFAULT));
  const pid_t dead = DeadPid();
  EXPECT_THAT(GetScheduler(dead), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(syscall(SYS_sched_getparam, dead, &p),
              SyscallFailsWithErrno(ESRCH));
  timespec ts;
  EXPECT_THAT(syscall(SYS_sched_rr_get_interval, dead, &ts),
              SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(syscall(SYS_sched_rr_get_interval, -1, &ts),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_rr_get_interval, 0, BadAddress()),
              SyscallFailsWithErrno(EFAULT));
}

TEST(SchedTest, SetschedulerErrors) {
  sched_param p{.sched_priority = 0};
  EXPECT_THAT(syscall(SYS_sched_setscheduler, 0, -1, &p),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_setscheduler, 0, 4, &p),  // no SCHED_ISO
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_setscheduler, -1, SCHED_OTHER, &p),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, nullptr),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, BadAddress()),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(syscall(SYS_sched_setparam, 0, nullptr),
              SyscallFailsWithErrno(EINVAL));
  // The priority must fit the policy: 0 for the fair ones, 1..99 for RT.
  EXPECT_THAT(SetScheduler(0, SCHED_OTHER, 1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(SetScheduler(0, SCHED_BATCH, -1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(SetScheduler(0, SCHED_FIFO, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(SetScheduler(0, SCHED_RR, 100), SyscallFailsWithErrno(EINVAL));
  // SCHED_DEADLINE needs sched_setattr's parameters.
  EXPECT_THAT(SetScheduler(0, kSchedDeadline, 0),
              SyscallFailsWithErrno(EINVAL));
  // sched_setparam keeps SCHED_OTHER, which takes only priority 0.
  EXPECT_THAT(syscall(SYS_sched_setparam, 0, &(p = {.sched_priority = 5})),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(SetScheduler(DeadPid(), SCHED_OTHER, 0),
              SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(GetScheduler(0), SyscallSucceedsWithValue(SCHED_OTHER));
}

TEST(SchedTest, BatchRoundTrip) {
  ASSERT_THAT(SetScheduler(0, SCHED_BATCH, 0), SyscallSucceeds());
  EXPECT_THAT(GetScheduler(0), SyscallSucceedsWithValue(SCHED_BATCH));
  EXPECT_EQ(GetParam(0), 0);
  ASSERT_THAT(SetScheduler(getpid(), SCHED_OTHER, 0), SyscallSucceeds());
  EXPECT_THAT(GetScheduler(0), SyscallSucceedsWithValue(SCHED_OTHER));
}

TEST(SchedTest, LeavingIdleNeedsNicePrivilege) {
  // Leaving SCHED_IDLE counts as lowering nice: with RLIMIT_NICE 0 only
  // CAP_SYS_NICE may.
  const bool privileged = getuid() == 0;
  EXPECT_EQ(InChild([&] {
              rlimit none{0, 0};
              if (setrlimit(RLIMIT_NICE, &none) != 0) return 1;
              if (SetScheduler(0, SCHED_IDLE, 0) != 0) return 2;
              if (GetScheduler(0) != SCHED_IDLE) return 3;
              long r = SetScheduler(0, SCHED_OTHER, 0);
              if (privileged) return r == 0 && GetScheduler(0) == 0 ? 0 : 4;
              return r == -1 && errno == EPERM ? 0 : 5;
            }),
            0);
}

TEST(SchedTest, RealTimePoliciesAsRoot) {
  if (getuid() != 0) GTEST_SKIP() << "needs CAP_SYS_NICE";
  EXPECT_EQ(InChild([] {
              if (SetScheduler(0, SCHED_FIFO, 10) != 0) return 1;
              if (GetScheduler(0) != SCHED_FIFO || GetParam(0) != 10) return 2;
              timespec ts{1, 1};
              if (syscall(SYS_sched_rr_get_interval, 0, &ts) != 0) return 3;
              if (ts.tv_sec != 0 || ts.tv_nsec != 0) return 4;  // FIFO: none
              sched_param p{.sched_priority = 20};
              if (syscall(SYS_sched_setparam, 0, &p) != 0) return 5;
              if (GetScheduler(0) != SCHED_FIFO || GetParam(0) != 20) return 6;
              p.sched_priority = 0;
              if (syscall(SYS_sched_setparam, 0, &p) != -1 || errno != EINVAL)
                return 7;
              if (SetScheduler(0, SCHED_RR, 5) != 0) return 8;
              if (syscall(SYS_sched_rr_get_interval, 0, &ts) != 0) return 9;
              if (ts.tv_sec == 0 && ts.tv_nsec == 0) return 10;  // RR: a slice
              if (SetScheduler(0, SCHED_OTHER, 0) != 0) return 11;
              return GetParam(0) == 0 ? 0 : 12;
            }),
            0);
}

TEST(SchedTest, RealTimeNeedsRtprioOrPrivilege) {
  EXPECT_EQ(InChild(
                [] {
                  rlimit none{0, 0};
                  if (setrlimit(RLIMIT_RTPRIO, &none) != 0) return 1;
                  if (SetScheduler(0, SCHED_FIFO, 1) != -1 || errno != EPERM)
                    return 2;
                  if (SetScheduler(0, SCHED_RR, 1) != -1 || errno != EPERM)
                    return 3;
                  // Argument errors come before permission errors.
                  if (SetScheduler(0, SCHED_RR, 0) != -1 || errno != EINVAL)
                    return 4;
                  return GetScheduler(0) == SCHED_OTHER ? 0 : 5;
                },
                /*drop=*/true),
            0);
}

TEST(SchedTest, OtherUsersThreadsAreOffLimits) {
  if (getuid() != 0) GTEST_SKIP() << "needs root to become another user";
  const pid_t parent = getpid();
  EXPECT_EQ(
      InChild(
          [parent] {
            // Reading is allowed, changing is not.
            if (GetScheduler(parent) != SCHED_OTHER) return 1;
            if (SetScheduler(parent, SCHED_BATCH, 0) != -1 || errno != EPERM)
              return 2;
            if (setpriority(PRIO_PROCESS, parent, 1) != -1 || errno != EPERM)
              return 3;
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(0, &set);
            if (sched_setaffinity(parent, sizeof(set), &set) != -1 ||
                errno != EPERM)
              return 4;
            return RawGetpriority(PRIO_PROCESS, parent) == 20 ? 0 : 5;
          },
          /*drop=*/true),
      0);
  EXPECT_THAT(GetScheduler(0), SyscallSucceedsWithValue(SCHED_OTHER));
}

TEST(SchedTest, ResetOnForkIsReportedAndNotInherited) {
  EXPECT_EQ(
      InChild([] {
        if (SetScheduler(0, SCHED_BATCH | kResetOnFork, 0) != 0) return 1;
        if (GetScheduler(0) != (SCHED_BATCH | kResetOnFork)) return 2;
        // The child keeps a fair policy but not the flag.
        int r = InChild([] { return GetScheduler(0) == SCHED_BATCH ? 0 : 1; });
        if (r != 0) return 3;
        // Unprivileged callers cannot drop the flag again.
        if (getuid() != 0 &&
            (SetScheduler(0, SCHED_BATCH, 0) != -1 || errno != EPERM))
          return 4;
        return 0;
      }),
      0);
}

TEST(SchedTest, ChildInheritsPolicyAndNice) {
  EXPECT_EQ(InChild([] {
              if (SetScheduler(0, SCHED_BATCH, 0) != 0) return 1;
              if (setpriority(PRIO_PROCESS, 0, 7) != 0) return 2;
              return InChild([] {
                return GetScheduler(0) == SCHED_BATCH &&
                               RawGetpriority(PRIO_PROCESS, 0) == 13
                           ? 0
                           : 3;
              });
            }),
            0);
}

TEST(SchedAttrTest, GetattrReportsTheDefaults) {
  SchedAttr a;
  memset(&a, 0xff, sizeof(a));
  ASSERT_THAT(syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0),
              SyscallSucceeds());
  EXPECT_EQ(a.size, sizeof(a));
  EXPECT_EQ(a.sched_policy, SCHED_OTHER);
  EXPECT_EQ(a.sched_flags, 0u);
  EXPECT_EQ(a.sched_nice, 0);
  EXPECT_EQ(a.sched_priority, 0u);
  EXPECT_EQ(a.sched_deadline, 0u);
}

TEST(SchedAttrTest, GetattrSizes) {
  // An older, smaller struct gets only what fits; a larger one is told
  // the kernel's size.
  uint8_t buf[128];
  memset(buf, 0xab, sizeof(buf));
  ASSERT_THAT(syscall(SYS_sched_getattr, 0, buf, 48, 0), SyscallSucceeds());
  uint32_t size;
  memcpy(&size, buf, sizeof(size));
  EXPECT_EQ(size, 48u);
  EXPECT_EQ(buf[48], 0xab);
  ASSERT_THAT(syscall(SYS_sched_getattr, 0, buf, sizeof(buf), 0),
              SyscallSucceeds());
  memcpy(&size, buf, sizeof(size));
  EXPECT_EQ(size, sizeof(SchedAttr));
}

TEST(SchedAttrTest, GetattrErrors) {
  SchedAttr a{};
  EXPECT_THAT(syscall(SYS_sched_getattr, 0, &a, 47, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_getattr, 0, &a, 8192, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_getattr, 0, &a, sizeof(a), 1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_getattr, 0, nullptr, sizeof(a), 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_getattr, -1, &a, sizeof(a), 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_getattr, 0, BadAddress(), sizeof(a), 0),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(syscall(SYS_sched_getattr, DeadPid(), &a, sizeof(a), 0),
              SyscallFailsWithErrno(ESRCH));
}

TEST(SchedAttrTest, SetattrPolicyAndNice) {
  EXPECT_EQ(InChild([] {
              SchedAttr a{.size = sizeof(SchedAttr),
                          .sched_policy = SCHED_BATCH,
                          .sched_nice = 5};
              if (SetAttr(0, a) != 0) return 1;
              SchedAttr got{};
              if (syscall(SYS_sched_getattr, 0, &got, sizeof(got), 0) != 0)
                return 2;
              if (got.sched_policy != SCHED_BATCH || got.sched_nice != 5)
                return 3;
              if (GetScheduler(0) != SCHED_BATCH) return 4;
              if (RawGetpriority(PRIO_PROCESS, 0) != 15) return 5;
              // KEEP_POLICY changes only the parameters.
              a = {.size = sizeof(SchedAttr),
                   .sched_policy = SCHED_FIFO,
                   .sched_flags = 0x08 /*KEEP_POLICY*/,
                   .sched_nice = 8};
              if (SetAttr(0, a) != 0) return 6;
              if (GetScheduler(0) != SCHED_BATCH) return 7;
              if (RawGetpriority(PRIO_PROCESS, 0) != 12) return 8;
              // KEEP_PARAMS changes neither policy nor parameters (it is
              // for utilization clamps alone).
              a = {.size = 0,  // 0 means the first version's size
                   .sched_policy = SCHED_OTHER,
                   .sched_flags = 0x10 /*KEEP_PARAMS*/};
              if (SetAttr(0, a) != 0) return 9;
              if (GetScheduler(0) != SCHED_BATCH) return 10;
              if (RawGetpriority(PRIO_PROCESS, 0) != 12) return 11;
              // Out-of-range nice values are clamped, not refused.
              a = {.size = sizeof(SchedAttr),
                   .sched_policy = SCHED_OTHER,
                   .sched_nice = 100};
              if (SetAttr(0, a) != 0) return 12;
              if (RawGetpriority(PRIO_PROCESS, 0) != 1) return 13;
              return GetScheduler(0) == SCHED_OTHER ? 0 : 14;
            }),
            0);
}

TEST(SchedAttrTest, SetattrErrors) {
  SchedAttr a{.size = sizeof(SchedAttr), .sched_policy = SCHED_OTHER};
  EXPECT_THAT(syscall(SYS_sched_setattr, 0, &a, 1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_setattr, 0, nullptr, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_setattr, -1, &a, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_setattr, 0, BadAddress(), 0),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(SetAttr(DeadPid(), a), SyscallFailsWithErrno(ESRCH));
  SchedAttr bad = a;
  bad.sched_policy = static_cast<uint32_t>(-1);
  EXPECT_THAT(SetAttr(0, bad), SyscallFailsWithErrno(EINVAL));
  bad = a;
  bad.sched_flags = 0x80;  // unknown flag
  EXPECT_THAT(SetAttr(0, bad), SyscallFailsWithErrno(EINVAL));
  bad = a;
  bad.sched_priority = 1;  // not for SCHED_OTHER
  EXPECT_THAT(SetAttr(0, bad), SyscallFailsWithErrno(EINVAL));
  bad = a;
  bad.sched_policy = kSchedDeadline;  // deadline 0
  EXPECT_THAT(SetAttr(0, bad), SyscallFailsWithErrno(EINVAL));
  // A size below the first version: E2BIG, and the kernel's size back.
  bad = a;
  bad.size = 8;
  EXPECT_THAT(syscall(SYS_sched_setattr, 0, &bad, 0),
              SyscallFailsWithErrno(E2BIG));
  EXPECT_EQ(bad.size, sizeof(SchedAttr));
  EXPECT_THAT(GetScheduler(0), SyscallSucceedsWithValue(SCHED_OTHER));
}

TEST(SchedAttrTest, LargerStructNeedsAZeroTail) {
  uint8_t buf[80] = {};
  SchedAttr a{.size = sizeof(buf), .sched_policy = SCHED_OTHER};
  memcpy(buf, &a, sizeof(a));
  EXPECT_THAT(syscall(SYS_sched_setattr, 0, buf, 0), SyscallSucceeds());
  buf[70] = 1;
  EXPECT_THAT(syscall(SYS_sched_setattr, 0, buf, 0),
              SyscallFailsWithErrno(E2BIG));
  uint32_t size;
  memcpy(&size, buf, sizeof(size));
  EXPECT_EQ(size, sizeof(SchedAttr));
}

TEST(PriorityTest, SetAndGetOwnNice) {
  const bool privileged = getuid() == 0;
  EXPECT_EQ(InChild([&] {
              rlimit none{0, 0};
              if (setrlimit(RLIMIT_NICE, &none) != 0) return 1;
              if (setpriority(PRIO_PROCESS, 0, 5) != 0) return 2;
              if (RawGetpriority(PRIO_PROCESS, 0) != 15) return 3;
              if (RawGetpriority(PRIO_PROCESS, getpid()) != 15) return 4;
              // Clamped to 19.
              if (setpriority(PRIO_PROCESS, 0, 50) != 0) return 5;
              if (RawGetpriority(PRIO_PROCESS, 0) != 1) return 6;
              // Lowering nice needs RLIMIT_NICE or CAP_SYS_NICE.
              long r = setpriority(PRIO_PROCESS, 0, -3);
              if (privileged)
                return r == 0 && RawGetpriority(PRIO_PROCESS, 0) == 23 ? 0 : 7;
              return r == -1 && errno == EACCES ? 0 : 8;
            }),
            0);
}

TEST(PriorityTest, NiceRlimitAllowsLowering) {
  constexpr int kCannotRaise = 99;
  int r = InChild([] {
    // RLIMIT_NICE 15 allows nice down to 20 - 15 = 5. Raising the hard
    // limit needs CAP_SYS_RESOURCE, which the caller may lack.
    rlimit lim{15, 15};
    if (setrlimit(RLIMIT_NICE, &lim) != 0) return kCannotRaise;
    if (getuid() == 0 &&
        setresuid(kUnprivileged, kUnprivileged, kUnprivileged) != 0)
      return 1;
    if (setpriority(PRIO_PROCESS, 0, 10) != 0) return 2;
    if (setpriority(PRIO_PROCESS, 0, 5) != 0) return 3;
    if (setpriority(PRIO_PROCESS, 0, 4) != -1 || errno != EACCES) return 4;
    return RawGetpriority(PRIO_PROCESS, 0) == 15 ? 0 : 5;
  });
  if (r == kCannotRaise) GTEST_SKIP() << "cannot raise RLIMIT_NICE";
  EXPECT_EQ(r, 0);
}

TEST(PriorityTest, ProcessGroupAndUser) {
  EXPECT_EQ(InChild([] {
              // A new group holding this process and one child.
              if (setpgid(0, 0) != 0) return 1;
              int pipefd[2];
              if (pipe(pipefd) != 0) return 2;
              pid_t child = fork();
              if (child == 0) {
                char c;
                close(pipefd[1]);
                _exit(read(pipefd[0], &c, 1) == 0 ? 0 : 1);
              }
              close(pipefd[0]);
              if (setpriority(PRIO_PROCESS, child, 10) != 0) return 3;
              if (setpriority(PRIO_PROCESS, 0, 5) != 0) return 4;
              // The highest priority (lowest nice) of the group: nice 5.
              if (RawGetpriority(PRIO_PGRP, 0) != 15) return 5;
              if (RawGetpriority(PRIO_PGRP, getpid()) != 15) return 6;
              // Setting the group sets both.
              if (setpriority(PRIO_PGRP, 0, 12) != 0) return 7;
              if (RawGetpriority(PRIO_PROCESS, child) != 8) return 8;
              if (RawGetpriority(PRIO_PROCESS, 0) != 8) return 9;
              // PRIO_USER 0 is the caller's real uid: at least these two.
              if (RawGetpriority(PRIO_USER, 0) < 8) return 10;
              close(pipefd[1]);
              int status;
              if (waitpid(child, &status, 0) != child || status != 0) return 11;
              return 0;
            }),
            0);
}

TEST(PriorityTest, Errors) {
  EXPECT_THAT(RawGetpriority(3, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(RawGetpriority(-1, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(setpriority(static_cast<__priority_which_t>(3), 0, 0),
              SyscallFailsWithErrno(EINVAL));
  const pid_t dead = DeadPid();
  EXPECT_THAT(RawGetpriority(PRIO_PROCESS, dead), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(RawGetpriority(PRIO_PGRP, dead), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(setpriority(PRIO_PROCESS, dead, 0), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(RawGetpriority(PRIO_PROCESS, -5), SyscallFailsWithErrno(ESRCH));
}

TEST(GetcpuTest, ReportsAnAllowedCpuAndNodeZero) {
  unsigned cpu = ~0u, node = ~0u;
  ASSERT_THAT(syscall(SYS_getcpu, &cpu, &node, nullptr), SyscallSucceeds());
  EXPECT_LT(cpu, static_cast<unsigned>(CPU_SETSIZE));
  EXPECT_EQ(node, 0u);
  EXPECT_THAT(syscall(SYS_getcpu, nullptr, nullptr, nullptr),
              SyscallSucceeds());
  EXPECT_THAT(syscall(SYS_getcpu, BadAddress(), nullptr, nullptr),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(syscall(SYS_getcpu, &cpu, BadAddress(), nullptr),
              SyscallFailsWithErrno(EFAULT));
}

TEST(AffinityTest, OtherProcessesByPid) {
  int pipefd[2];
  ASSERT_THAT(pipe(pipefd), SyscallSucceeds());
  pid_t child = fork();
  if (child == 0) {
    char c;
    close(pipefd[1]);
    _exit(read(pipefd[0], &c, 1) == 0 ? 0 : 1);
  }
  close(pipefd[0]);
  cpu_set_t set;
  EXPECT_THAT(sched_getaffinity(child, sizeof(set), &set), SyscallSucceeds());
  EXPECT_GT(CPU_COUNT(&set), 0);
  EXPECT_THAT(sched_setaffinity(child, sizeof(set), &set), SyscallSucceeds());
  close(pipefd[1]);
  int status;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_THAT(sched_getaffinity(child, sizeof(set), &set),
              SyscallFailsWithErrno(ESRCH));
}

}  // namespace
