// prctl(PR_SET_MM): Linux's argument checks, EPERM without
// CAP_SYS_RESOURCE, EINVAL for addresses out of range and unknown
// sub-options, PR_SET_MM_MAP_SIZE and PR_SET_MM_MAP's own checks.
#include <linux/capability.h>
#include <linux/prctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cap_util.h"
#include "test_util.h"

namespace {

using syscall_test::DropEffectiveCap;
using syscall_test::HasEffectiveCap;
using syscall_test::SyscallFailsWithErrno;
using syscall_test::SyscallSucceedsWithValue;

int g_somewhere;  // a mapped address in range
unsigned long Somewhere() { return reinterpret_cast<unsigned long>(&g_somewhere); }

long SetMm(unsigned long opt, unsigned long addr, unsigned long arg4 = 0,
           unsigned long arg5 = 0) {
  return prctl(PR_SET_MM, opt, addr, arg4, arg5);
}

constexpr unsigned long kAddressOptions[] = {
    PR_SET_MM_START_CODE, PR_SET_MM_END_CODE,  PR_SET_MM_START_DATA,
    PR_SET_MM_END_DATA,   PR_SET_MM_START_STACK, PR_SET_MM_START_BRK,
    PR_SET_MM_BRK,        PR_SET_MM_ARG_START, PR_SET_MM_ARG_END,
    PR_SET_MM_ENV_START,  PR_SET_MM_ENV_END};

TEST(PrctlMmTest, UnusedArgumentsMustBeZero) {
  // EINVAL before the privilege check: arg5 always, arg4 but for AUXV,
  // MAP and MAP_SIZE.
  EXPECT_THAT(SetMm(PR_SET_MM_START_CODE, Somewhere(), 0, 1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(SetMm(PR_SET_MM_START_CODE, Somewhere(), 1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(SetMm(PR_SET_MM_EXE_FILE, 0, 1), SyscallFailsWithErrno(EINVAL));
  unsigned int size = 0;
  EXPECT_THAT(SetMm(PR_SET_MM_MAP_SIZE, reinterpret_cast<unsigned long>(&size),
                    0, 1),
              SyscallFailsWithErrno(EINVAL));
}

TEST(PrctlMmTest, MapSizeNeedsNoPrivilege) {
  unsigned int size = 0;
  EXPECT_THAT(
      SetMm(PR_SET_MM_MAP_SIZE, reinterpret_cast<unsigned long>(&size)),
      SyscallSucceedsWithValue(0));
  EXPECT_EQ(size, sizeof(prctl_mm_map));
  EXPECT_THAT(SetMm(PR_SET_MM_MAP_SIZE,
                    reinterpret_cast<unsigned long>(
                        syscall_test::BadAddress())),
              SyscallFailsWithErrno(EFAULT));
}

TEST(PrctlMmTest, MapChecksItsSizeAndAddresses) {
  prctl_mm_map map{};
  const auto addr = reinterpret_cast<unsigned long>(&map);
  EXPECT_THAT(SetMm(PR_SET_MM_MAP, addr, sizeof(map) - 8),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(SetMm(PR_SET_MM_MAP, addr, sizeof(map) + 8),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(SetMm(PR_SET_MM_MAP,
                    reinterpret_cast<unsigned long>(
                        syscall_test::BadAddress()),
                    sizeof(map)),
              SyscallFailsWithErrno(EFAULT));
  // Addresses below mmap_min_addr: nothing is changed.
  EXPECT_THAT(SetMm(PR_SET_MM_MAP, addr, sizeof(map)),
              SyscallFailsWithErrno(EINVAL));
}

TEST(PrctlMmTest, WithoutCapSysResourceIsEperm) {
  EXPECT_EQ(syscall_test::InChild([] {
              if (!DropEffectiveCap(CAP_SYS_RESOURCE)) return 1;
              int step = 10;
              for (unsigned long opt : kAddressOptions) {
                ++step;
                if (SetMm(opt, Somewhere()) != -1 || errno != EPERM)
                  return step;
              }
              // Before the sub-option or the address is looked at.
              if (SetMm(1000, Somewhere()) != -1 || errno != EPERM) return 2;
              if (SetMm(PR_SET_MM_START_CODE, 0) != -1 || errno != EPERM)
                return 3;
              if (SetMm(PR_SET_MM_EXE_FILE, 0) != -1 || errno != EPERM)
                return 4;
              if (SetMm(PR_SET_MM_AUXV, Somewhere(), 16) != -1 ||
                  errno != EPERM)
                return 5;
              return 0;
            }),
            0);
}

TEST(PrctlMmTest, BadAddressesAndSubOptionsAreEinval) {
  if (!HasEffectiveCap(CAP_SYS_RESOURCE)) GTEST_SKIP() << "needs CAP_SYS_RESOURCE";
  EXPECT_THAT(SetMm(1000, Somewhere()), SyscallFailsWithErrno(EINVAL));
  for (unsigned long opt : kAddressOptions) {
    SCOPED_TRACE(opt);
    EXPECT_THAT(SetMm(opt, 0), SyscallFailsWithErrno(EINVAL));
    EXPECT_THAT(SetMm(opt, 1ul << 47), SyscallFailsWithErrno(EINVAL));
    EXPECT_THAT(SetMm(opt, ~0ul), SyscallFailsWithErrno(EINVAL));
  }
}

}  // namespace
