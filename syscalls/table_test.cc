#include "syscalls/table.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>

#include <string>

namespace syscalls {
namespace {

using kernel::Support;

TEST(SyscallTableTest, EveryNumberHasItsLinuxName) {
  const auto& t = Table();
  EXPECT_STREQ(t.entries[SYS_read].name, "read");
  EXPECT_STREQ(t.entries[SYS_exit_group].name, "exit_group");
  EXPECT_STREQ(t.entries[SYS_clone3].name, "clone3");
  int named = 0;
  for (const auto& e : t.entries) named += e.name != nullptr;
  EXPECT_GE(named, 360);
}

TEST(SyscallTableTest, SupportLevelsAreConsistent) {
  for (const auto& e : Table().entries) {
    if (!e.name) {
      EXPECT_EQ(e.handler, nullptr);
      continue;
    }
    switch (e.support) {
      case Support::kFull:
        EXPECT_NE(e.handler, nullptr) << e.name;
        break;
      case Support::kPartial:
        EXPECT_NE(e.handler, nullptr) << e.name;
        EXPECT_STRNE(e.note, "") << e.name << " is partial: say why";
        break;
      case Support::kError:
        EXPECT_EQ(e.handler, nullptr) << e.name;
        EXPECT_STRNE(e.note, "") << e.name;
        break;
      case Support::kUnimplemented:
        EXPECT_EQ(e.handler, nullptr) << e.name;
        break;
    }
  }
}

TEST(SyscallTableTest, WalkingSkeletonSetIsImplemented) {
  const int required[] = {
      SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_pread64, SYS_pwrite64,
      SYS_open, SYS_openat, SYS_close, SYS_fstat, SYS_newfstatat, SYS_statx,
      SYS_lseek, SYS_getdents64, SYS_readlink, SYS_readlinkat, SYS_access,
      SYS_faccessat, SYS_getcwd, SYS_chdir, SYS_ioctl, SYS_fcntl, SYS_dup,
      SYS_dup2, SYS_dup3, SYS_mmap, SYS_munmap, SYS_mprotect, SYS_brk,
      SYS_mremap, SYS_madvise, SYS_arch_prctl, SYS_set_tid_address,
      SYS_set_robust_list, SYS_prlimit64, SYS_getrlimit, SYS_getpid,
      SYS_getppid, SYS_gettid, SYS_getuid, SYS_geteuid, SYS_getgid,
      SYS_getegid, SYS_uname, SYS_getrandom, SYS_clock_gettime,
      SYS_gettimeofday, SYS_time, SYS_nanosleep, SYS_clock_nanosleep,
      SYS_sysinfo, SYS_sched_getaffinity, SYS_sched_yield, SYS_rt_sigaction,
      SYS_rt_sigprocmask, SYS_exit, SYS_exit_group};
  for (int nr : required) {
    EXPECT_NE(Table().entries[nr].handler, nullptr) << Table().entries[nr].name;
  }
  EXPECT_EQ(Table().entries[SYS_rseq].support, Support::kError);
  EXPECT_EQ(Table().entries[SYS_rseq].error, ENOSYS);
}

}  // namespace
}  // namespace syscalls
