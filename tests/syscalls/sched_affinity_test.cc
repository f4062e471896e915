// sched_setaffinity/sched_getaffinity keep a mask per thread, as Linux:
// what is set is read back (only CPUs that exist), an empty or
// out-of-range mask is EINVAL, threads and children inherit it, and
// getcpu(2) answers a CPU of the mask. Changes run in forked children.
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <thread>

#include "test_util.h"

namespace {

using syscall_test::BadAddress;
using syscall_test::InChild;
using syscall_test::SyscallFailsWithErrno;
using syscall_test::SyscallSucceeds;

cpu_set_t Mask(int tid = 0) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(tid, sizeof(set), &set) != 0) CPU_ZERO(&set);
  return set;
}

cpu_set_t Only(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return set;
}

int FirstCpu(const cpu_set_t& set) {
  for (int i = 0; i < CPU_SETSIZE; ++i)
    if (CPU_ISSET(i, &set)) return i;
  return -1;
}
int LastCpu(const cpu_set_t& set) {
  for (int i = CPU_SETSIZE - 1; i >= 0; --i)
    if (CPU_ISSET(i, &set)) return i;
  return -1;
}

unsigned Getcpu() {
  unsigned cpu = ~0u;
  syscall(SYS_getcpu, &cpu, nullptr, nullptr);
  return cpu;
}

int Settid(int tid, const cpu_set_t& set) {
  return sched_setaffinity(tid, sizeof(set), &set);
}

#define REQUIRE_TWO_CPUS(set) \
  if (CPU_COUNT(&set) < 2) GTEST_SKIP() << "needs two CPUs"

TEST(AffinityMaskTest, WhatIsSetIsReadBackAndGetcpuIsInIt) {
  const cpu_set_t all = Mask();
  REQUIRE_TWO_CPUS(all);
  EXPECT_EQ(InChild([&] {
              for (int cpu : {FirstCpu(all), LastCpu(all)}) {
                const cpu_set_t one = Only(cpu);
                if (Settid(0, one) != 0) return 1;
                const cpu_set_t got = Mask();
                if (!CPU_EQUAL(&got, &one)) return 2;
                if (Getcpu() != static_cast<unsigned>(cpu)) return 3;
              }
              if (Settid(0, all) != 0) return 4;
              const cpu_set_t got = Mask();
              return CPU_EQUAL(&got, &all) ? 0 : 5;
            }),
            0);
}

TEST(AffinityMaskTest, EmptyOrOutOfRangeIsEinval) {
  const cpu_set_t all = Mask();
  ASSERT_GT(CPU_COUNT(&all), 0);
  EXPECT_EQ(InChild([&] {
              cpu_set_t none;
              CPU_ZERO(&none);
              if (Settid(0, none) != -1 || errno != EINVAL) return 1;
              // A CPU that does not exist, alone: nothing to run on.
              const cpu_set_t beyond = Only(CPU_SETSIZE - 1);
              if (CPU_ISSET(CPU_SETSIZE - 1, &all)) return 0;
              if (Settid(0, beyond) != -1 || errno != EINVAL) return 2;
              // Length 0 is an empty mask.
              if (syscall(SYS_sched_setaffinity, 0, 0, &all) != -1 ||
                  errno != EINVAL)
                return 3;
              // Nothing changed.
              const cpu_set_t got = Mask();
              return CPU_EQUAL(&got, &all) ? 0 : 4;
            }),
            0);
}

TEST(AffinityMaskTest, CpusThatDoNotExistAreDropped) {
  const cpu_set_t all = Mask();
  ASSERT_GT(CPU_COUNT(&all), 0);
  const int last = LastCpu(all);
  if (last >= 62) GTEST_SKIP() << "needs a CPU number below 62";
  EXPECT_EQ(InChild([&] {
              cpu_set_t mixed = Only(FirstCpu(all));
              CPU_SET(63, &mixed);
              CPU_SET(CPU_SETSIZE - 1, &mixed);
              if (Settid(0, mixed) != 0) return 1;
              const cpu_set_t got = Mask();
              const cpu_set_t want = Only(FirstCpu(all));
              return CPU_EQUAL(&got, &want) ? 0 : 2;
            }),
            0);
}

TEST(AffinityMaskTest, ShortMasksAreZeroExtended) {
  const cpu_set_t all = Mask();
  const int first = FirstCpu(all);
  ASSERT_GE(first, 0);
  if (first >= 8) GTEST_SKIP() << "needs a CPU number below 8";
  EXPECT_EQ(InChild([&] {
              const unsigned char byte = 1u << first;
              if (syscall(SYS_sched_setaffinity, 0, 1, &byte) != 0) return 1;
              const cpu_set_t got = Mask();
              const cpu_set_t want = Only(first);
              return CPU_EQUAL(&got, &want) ? 0 : 2;
            }),
            0);
}

TEST(AffinityMaskTest, BadPointersAreEfault) {
  EXPECT_THAT(syscall(SYS_sched_setaffinity, 0, sizeof(cpu_set_t),
                      BadAddress()),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(syscall(SYS_sched_getaffinity, 0, sizeof(cpu_set_t),
                      BadAddress()),
              SyscallFailsWithErrno(EFAULT));
}

TEST(AffinityMaskTest, GetaffinitySizeRules) {
  cpu_set_t set;
  // The raw call returns the kernel's mask size: whole longs.
  const long size =
      syscall(SYS_sched_getaffinity, 0, sizeof(set), &set);
  ASSERT_GT(size, 0);
  EXPECT_EQ(size % sizeof(long), 0u);
  EXPECT_THAT(syscall(SYS_sched_getaffinity, 0, size - 1, &set),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_getaffinity, 0, size, &set),
              syscall_test::SyscallSucceedsWithValue(size));
}

TEST(AffinityMaskTest, PerThreadAndInherited) {
  const cpu_set_t all = Mask();
  REQUIRE_TWO_CPUS(all);
  const int first = FirstCpu(all), last = LastCpu(all);
  EXPECT_EQ(InChild([&] {
              const int main_tid = syscall(SYS_gettid);
              int result = -1;
              std::thread th([&] {
                const cpu_set_t one = Only(last);
                if (Settid(0, one) != 0) return void(result = 1);
                cpu_set_t got = Mask();
                if (!CPU_EQUAL(&got, &one)) return void(result = 2);
                // The main thread, by its tid, kept the whole mask.
                got = Mask(main_tid);
                if (!CPU_EQUAL(&got, &all)) return void(result = 3);
                if (Getcpu() != static_cast<unsigned>(last))
                  return void(result = 4);
                // A thread made here starts with this thread's mask.
                int inner = -1;
                std::thread t2([&] {
                  const cpu_set_t m = Mask();
                  inner = CPU_EQUAL(&m, &one) ? 0 : 5;
                });
                t2.join();
                if (inner != 0) return void(result = inner);
                // So does a child process.
                const int forked = InChild([&] {
                  const cpu_set_t m = Mask();
                  return CPU_EQUAL(&m, &one) ? 0 : 1;
                });
                result = forked == 0 ? 0 : 6;
              });
              th.join();
              if (result != 0) return result;
              const cpu_set_t mine = Mask();
              if (!CPU_EQUAL(&mine, &all)) return 7;
              // A thread's, set by its tid.
              const cpu_set_t one = Only(first);
              if (Settid(main_tid, one) != 0) return 8;
              const cpu_set_t got = Mask();
              return CPU_EQUAL(&got, &one) ? 0 : 9;
            }),
            0);
}

}  // namespace
