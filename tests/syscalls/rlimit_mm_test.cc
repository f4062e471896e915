// Memory rlimits: RLIMIT_AS (mmap, mremap, brk), RLIMIT_DATA (brk, private
// writable mappings, mprotect to writable) and RLIMIT_MEMLOCK (mlock,
// mlock2, mlockall, MAP_LOCKED) with Linux's errors. Each test changes its
// limits (and drops CAP_IPC_LOCK) in a forked child only.
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "test_util.h"

namespace syscall_test {
namespace {

const size_t kPage = PageSize();
constexpr size_t kMiB = 1 << 20;
constexpr int kRW = PROT_READ | PROT_WRITE;
constexpr int kPrivate = MAP_PRIVATE | MAP_ANONYMOUS;

bool SetLimit(int resource, rlim_t v) {
  rlimit rl{v, v};
  return setrlimit(resource, &rl) == 0;
}

// Whether mmap of `len` bytes fails with `err` (0: succeeds; the mapping
// is removed again).
bool MmapGives(size_t len, int prot, int flags, int err) {
  void* p = mmap(nullptr, len, prot, flags, -1, 0);
  if (p != MAP_FAILED) {
    munmap(p, len);
    return err == 0;
  }
  return errno == err;
}

uint64_t Brk(uint64_t addr) { return syscall(SYS_brk, addr); }

// Drops CAP_IPC_LOCK, which lets root lock memory beyond RLIMIT_MEMLOCK.
bool DropIpcLock() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &hdr, data) != 0) return false;
  data[0].effective &= ~(1u << CAP_IPC_LOCK);
  data[0].permitted &= ~(1u << CAP_IPC_LOCK);
  return syscall(SYS_capset, &hdr, data) == 0;
}

TEST(RlimitAsTest, MappingsBeyondTheLimitFail) {
  EXPECT_EQ(
      InChild([] {
        if (!SetLimit(RLIMIT_AS, 256 * kMiB)) return 100;
        if (!MmapGives(512 * kMiB, PROT_NONE, kPrivate, ENOMEM)) return 1;
        if (!MmapGives(512 * kMiB, kRW, MAP_SHARED | MAP_ANONYMOUS, ENOMEM))
          return 2;
        if (!MmapGives(kMiB, kRW, kPrivate, 0)) return 3;
        // Growth by mremap counts too.
        void* p = mmap(nullptr, kMiB, kRW, kPrivate, -1, 0);
        if (p == MAP_FAILED) return 4;
        if (mremap(p, kMiB, 512 * kMiB, MREMAP_MAYMOVE) != MAP_FAILED ||
            errno != ENOMEM)
          return 5;
        if (mremap(p, kMiB, 2 * kMiB, MREMAP_MAYMOVE) == MAP_FAILED) return 6;
        // And brk: a failed brk returns the old break.
        uint64_t cur = Brk(0);
        if (Brk(cur + 512 * kMiB) != cur) return 7;
        return 0;
      }),
      0);
}

TEST(RlimitAsTest, MapFixedCountsWhatItReplaces) {
  EXPECT_EQ(InChild([] {
              void* p = mmap(nullptr, 128 * kMiB, PROT_NONE, kPrivate, -1, 0);
              if (p == MAP_FAILED) return 1;
              // The address space is just below the limit now.
              if (!SetLimit(RLIMIT_AS, 160 * kMiB)) return 100;
              if (mmap(p, 128 * kMiB, kRW, kPrivate | MAP_FIXED, -1, 0) != p)
                return 2;
              return MmapGives(128 * kMiB, PROT_NONE, kPrivate, ENOMEM) ? 0 : 3;
            }),
            0);
}

TEST(RlimitDataTest, PrivateWritableMemoryAndBrk) {
  EXPECT_EQ(InChild([] {
              if (!SetLimit(RLIMIT_DATA, 64 * kMiB)) return 100;
              if (!MmapGives(128 * kMiB, kRW, kPrivate, ENOMEM)) return 1;
              if (!MmapGives(kMiB, kRW, kPrivate, 0)) return 2;
              // Not data: read-only, shared, or a stack.
              if (!MmapGives(128 * kMiB, PROT_READ, kPrivate, 0)) return 3;
              if (!MmapGives(128 * kMiB, kRW, MAP_SHARED | MAP_ANONYMOUS, 0))
                return 4;
              if (!MmapGives(128 * kMiB, kRW, kPrivate | MAP_GROWSDOWN, 0))
                return 5;
              // Turning memory into data counts.
              void* p = mmap(nullptr, 128 * kMiB, PROT_READ, kPrivate, -1, 0);
              if (p == MAP_FAILED) return 6;
              if (mprotect(p, 128 * kMiB, kRW) == 0 || errno != ENOMEM)
                return 7;
              if (mprotect(p, kMiB, kRW) != 0) return 8;
              uint64_t cur = Brk(0);
              if (Brk(cur + 128 * kMiB) != cur) return 9;
              if (Brk(cur + kPage) != cur + kPage) return 10;
              return Brk(cur) == cur ? 0 : 11;
            }),
            0);
}

TEST(RlimitMemlockTest, ZeroLimitIsEperm) {
  EXPECT_EQ(InChild([] {
              if (!DropIpcLock()) return 100;
              if (!SetLimit(RLIMIT_MEMLOCK, 0)) return 101;
              void* p = mmap(nullptr, kPage, kRW, kPrivate, -1, 0);
              if (p == MAP_FAILED) return 102;
              if (mlock(p, kPage) == 0 || errno != EPERM) return 1;
              if (mlockall(MCL_CURRENT) == 0 || errno != EPERM) return 2;
              if (!MmapGives(kPage, kRW, kPrivate | MAP_LOCKED, EPERM))
                return 3;
              // Unlocking needs no right.
              if (munlock(p, kPage) != 0) return 4;
              return munlockall() == 0 ? 0 : 5;
            }),
            0);
}

TEST(RlimitMemlockTest, LockingBeyondTheLimit) {
  EXPECT_EQ(InChild([] {
              if (!DropIpcLock()) return 100;
              if (!SetLimit(RLIMIT_MEMLOCK, 16 * kPage)) return 101;
              char* p = static_cast<char*>(
                  mmap(nullptr, 32 * kPage, kRW, kPrivate, -1, 0));
              if (p == MAP_FAILED) return 102;
              if (mlock(p, 8 * kPage) != 0) return 1;
              // Pages locked already do not count twice.
              if (mlock(p, 8 * kPage) != 0) return 2;
              if (mlock(p + 8 * kPage, 16 * kPage) == 0 || errno != ENOMEM)
                return 3;
              if (mlock(p + 8 * kPage, 8 * kPage) != 0) return 4;
              if (!MmapGives(kPage, kRW, kPrivate | MAP_LOCKED, EAGAIN))
                return 5;
              if (munlock(p, 8 * kPage) != 0) return 6;
              if (!MmapGives(4 * kPage, kRW, kPrivate | MAP_LOCKED, 0))
                return 7;
              // Everything mapped is far more than 16 pages.
              if (mlockall(MCL_CURRENT) == 0 || errno != ENOMEM) return 8;
              if (munlockall() != 0) return 9;
              // MCL_FUTURE locks new mappings, within the limit.
              if (mlockall(MCL_FUTURE) != 0) return 10;
              if (!MmapGives(32 * kPage, kRW, kPrivate, EAGAIN)) return 11;
              if (!MmapGives(4 * kPage, kRW, kPrivate, 0)) return 12;
              if (munlockall() != 0) return 13;
              if (!MmapGives(32 * kPage, kRW, kPrivate, 0)) return 14;
              return 0;
            }),
            0);
}

TEST(MlockTest, ArgumentErrors) {
  char* p = static_cast<char*>(mmap(nullptr, 3 * kPage, kRW, kPrivate, -1, 0));
  ASSERT_NE(p, MAP_FAILED);
  ASSERT_THAT(munmap(p + kPage, kPage), SyscallSucceeds());
  EXPECT_THAT(mlock(p, 3 * kPage), SyscallFailsWithErrno(ENOMEM));
  EXPECT_THAT(munlock(p, 3 * kPage), SyscallFailsWithErrno(ENOMEM));
  EXPECT_THAT(syscall(SYS_mlock2, p, kPage, 0x100),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mlockall(0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mlockall(MCL_ONFAULT), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mlockall(0x100), SyscallFailsWithErrno(EINVAL));
  // Unaligned: the pages touched are locked.
  EXPECT_THAT(mlock(p + 100, 10), SyscallSucceeds());
  EXPECT_THAT(syscall(SYS_mlock2, p, kPage, MLOCK_ONFAULT), SyscallSucceeds());
  EXPECT_THAT(munlock(p + 100, 10), SyscallSucceeds());
  EXPECT_THAT(mlock(p, 0), SyscallSucceeds());
  EXPECT_THAT(munmap(p, 3 * kPage), SyscallSucceeds());
}

}  // namespace
}  // namespace syscall_test
