// capget/capset: versions, the version probe, capset's rules, and how the
// setuid family changes the capability sets. Changes run in forked
// children (capabilities once dropped cannot come back).
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <functional>

#include "test_util.h"

namespace {

using syscall_test::BadAddress;
using syscall_test::SyscallFailsWithErrno;
using syscall_test::SyscallSucceeds;

constexpr uint32_t kUser = 65534;

struct Caps {
  uint64_t effective = 0, permitted = 0, inheritable = 0;
};

uint64_t Bit(int cap) { return uint64_t{1} << cap; }

long Capget(uint32_t version, int pid, __user_cap_data_struct* data) {
  __user_cap_header_struct h{version, pid};
  return syscall(SYS_capget, &h, data);
}

// The caller's (or `pid`'s) sets, through version 3.
Caps Get(int pid = 0) {
  __user_cap_data_struct d[2] = {};
  if (Capget(_LINUX_CAPABILITY_VERSION_3, pid, d) != 0) return {~0ull, 0, 0};
  Caps c;
  c.effective = d[0].effective | uint64_t{d[1].effective} << 32;
  c.permitted = d[0].permitted | uint64_t{d[1].permitted} << 32;
  c.inheritable = d[0].inheritable | uint64_t{d[1].inheritable} << 32;
  return c;
}

long Set(const Caps& c, int pid = 0) {
  __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, pid};
  __user_cap_data_struct d[2] = {};
  for (int i = 0; i < 2; ++i) {
    d[i].effective = static_cast<uint32_t>(c.effective >> (32 * i));
    d[i].permitted = static_cast<uint32_t>(c.permitted >> (32 * i));
    d[i].inheritable = static_cast<uint32_t>(c.inheritable >> (32 * i));
  }
  return syscall(SYS_capset, &h, d);
}

using syscall_test::InChild;

bool IsRoot() {
  return getuid() == 0 && (Get().effective & Bit(CAP_SETUID)) != 0;
}
#define REQUIRE_ROOT() \
  if (!IsRoot()) GTEST_SKIP() << "needs root with CAP_SETUID"

TEST(CapgetTest, VersionProbeWritesThePreferredVersion) {
  // libcap asks with version 0 and no data: success, and version 3 back.
  __user_cap_header_struct h{0, 0};
  EXPECT_THAT(syscall(SYS_capget, &h, nullptr), SyscallSucceeds());
  EXPECT_EQ(h.version, _LINUX_CAPABILITY_VERSION_3);
  // With data, a bad version is EINVAL (and the version is written too).
  __user_cap_data_struct d[2];
  h = {0x12345678, 0};
  EXPECT_THAT(syscall(SYS_capget, &h, d), SyscallFailsWithErrno(EINVAL));
  EXPECT_EQ(h.version, _LINUX_CAPABILITY_VERSION_3);
  h = {0x12345678, 0};
  EXPECT_THAT(syscall(SYS_capset, &h, d), SyscallFailsWithErrno(EINVAL));
  EXPECT_EQ(h.version, _LINUX_CAPABILITY_VERSION_3);
  // A good version without data is fine too.
  h = {_LINUX_CAPABILITY_VERSION_3, 0};
  EXPECT_THAT(syscall(SYS_capget, &h, nullptr), SyscallSucceeds());
}

TEST(CapgetTest, RootHasEffectiveEqualPermittedAndNonRootNothing) {
  Caps c = Get();
  if (geteuid() == 0) {
    EXPECT_EQ(c.effective, c.permitted);
    EXPECT_NE(c.permitted & Bit(CAP_SETUID), 0u);
    EXPECT_NE(c.permitted & Bit(CAP_KILL), 0u);
  } else {
    EXPECT_EQ(c.effective, 0u);
    EXPECT_EQ(c.permitted, 0u);
  }
  // Nothing above the last capability (40 since Linux 5.9).
  EXPECT_EQ(c.permitted >> 41, 0u);
  EXPECT_EQ(c.inheritable, 0u);
}

TEST(CapgetTest, VersionsOneAndTwo) {
  const Caps c = Get();
  __user_cap_data_struct d[2];
  memset(d, 0xee, sizeof(d));
  // Version 1 carries 32 bits: one struct, the second one untouched.
  ASSERT_THAT(Capget(_LINUX_CAPABILITY_VERSION_1, 0, d), SyscallSucceeds());
  EXPECT_EQ(d[0].effective, static_cast<uint32_t>(c.effective));
  EXPECT_EQ(d[0].permitted, static_cast<uint32_t>(c.permitted));
  EXPECT_EQ(d[1].effective, 0xeeeeeeeeu);
  // Version 2 is laid out as version 3.
  ASSERT_THAT(Capget(_LINUX_CAPABILITY_VERSION_2, 0, d), SyscallSucceeds());
  EXPECT_EQ(d[1].permitted, static_cast<uint32_t>(c.permitted >> 32));
}

TEST(CapgetTest, OtherProcessesAndErrors) {
  int pipefd[2];
  ASSERT_THAT(pipe(pipefd), SyscallSucceeds());
  pid_t child = fork();
  if (child == 0) {
    char ch;
    close(pipefd[1]);
    _exit(read(pipefd[0], &ch, 1) == 0 ? 0 : 1);
  }
  close(pipefd[0]);
  const Caps mine = Get(), theirs = Get(child);
  EXPECT_EQ(theirs.permitted, mine.permitted);
  EXPECT_EQ(theirs.effective, mine.effective);
  // capset may change only the caller.
  EXPECT_THAT(Set(mine, child), SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(Set(mine, getpid()), SyscallSucceeds());
  close(pipefd[1]);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);

  __user_cap_data_struct d[2];
  EXPECT_THAT(Capget(_LINUX_CAPABILITY_VERSION_3, child, d),
              SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(Capget(_LINUX_CAPABILITY_VERSION_3, -1, d),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_capget, BadAddress(), d),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(Capget(_LINUX_CAPABILITY_VERSION_3, 0,
                     reinterpret_cast<__user_cap_data_struct*>(BadAddress())),
              SyscallFailsWithErrno(EFAULT));
  __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
  EXPECT_THAT(syscall(SYS_capset, &h, BadAddress()),
              SyscallFailsWithErrno(EFAULT));
}

TEST(CapsetTest, Rules) {
  REQUIRE_ROOT();
  EXPECT_EQ(InChild([] {
              const Caps start = Get();
              const uint64_t nice = Bit(CAP_SYS_NICE);
              // Effective may drop and come back while permitted.
              Caps c = start;
              c.effective &= ~nice;
              if (Set(c) != 0) return 1;
              if (Get().effective != c.effective) return 2;
              if (Set(start) != 0) return 3;
              // Effective must stay within permitted.
              c = start;
              c.permitted &= ~nice;
              if (Set(c) != -1 || errno != EPERM) return 4;
              c.effective &= ~nice;
              if (Set(c) != 0) return 5;
              // What left permitted cannot come back.
              if (Set(start) != -1 || errno != EPERM) return 6;
              // Inheritable may gain bits in the bounding set with
              // CAP_SETPCAP, even outside permitted...
              c.inheritable = nice;
              if (Set(c) != 0) return 7;
              if (Get().inheritable != nice) return 8;
              // ... but not without it.
              c.inheritable = 0;
              c.effective &= ~Bit(CAP_SETPCAP);
              if (Set(c) != 0) return 9;
              c.inheritable = nice;
              if (Set(c) != -1 || errno != EPERM) return 10;
              return 0;
            }),
            0);
}

TEST(CapsetTest, VersionOneClearsTheUpperHalf) {
  REQUIRE_ROOT();
  EXPECT_EQ(InChild([] {
              const Caps start = Get();
              __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_1, 0};
              __user_cap_data_struct d{static_cast<uint32_t>(start.effective),
                                       static_cast<uint32_t>(start.permitted),
                                       0};
              if (syscall(SYS_capset, &h, &d) != 0) return 1;
              Caps now = Get();
              if (now.permitted != (start.permitted & 0xffffffffu)) return 2;
              return now.effective == (start.effective & 0xffffffffu) ? 0 : 3;
            }),
            0);
}

TEST(CapsetTest, DroppedCapSetuidIsEnforced) {
  REQUIRE_ROOT();
  EXPECT_EQ(InChild([] {
              Caps c = Get();
              c.effective &= ~Bit(CAP_SETUID);
              if (Set(c) != 0) return 1;
              if (setuid(kUser) != -1 || errno != EPERM) return 2;
              return getuid() == 0 ? 0 : 3;
            }),
            0);
}

TEST(SetuidCapsTest, LeavingRootClearsEverything) {
  REQUIRE_ROOT();
  EXPECT_EQ(InChild([] {
              if (setresuid(kUser, kUser, kUser) != 0) return 1;
              Caps c = Get();
              if (c.effective != 0 || c.permitted != 0) return 2;
              // And there is no way back.
              if (setuid(0) != -1 || errno != EPERM) return 3;
              return 0;
            }),
            0);
}

// PR_SET_KEEPCAPS keeps the permitted set when the uids leave root (the
// effective set still goes); execve would clear the flag.
TEST(SetuidCapsTest, KeepCapsKeepsPermitted) {
  REQUIRE_ROOT();
  EXPECT_EQ(InChild([] {
              const Caps start = Get();
              if (prctl(PR_GET_KEEPCAPS) != 0) return 1;
              if (prctl(PR_SET_KEEPCAPS, 2) != -1 || errno != EINVAL) return 2;
              if (prctl(PR_SET_KEEPCAPS, 1) != 0) return 3;
              if (prctl(PR_GET_KEEPCAPS) != 1) return 4;
              if (!(prctl(PR_GET_SECUREBITS) & (1 << 4))) return 5;
              if (syscall(SYS_setresuid, kUser, kUser, kUser) != 0) return 6;
              Caps c = Get();
              if (c.effective != 0 || c.permitted != start.permitted) return 7;
              // Set again from the permitted set, the capability works.
              c.effective = Bit(CAP_SETUID);
              if (Set(c) != 0) return 8;
              if (syscall(SYS_setresuid, 0, 0, 0) != 0) return 9;
              if (prctl(PR_SET_KEEPCAPS, 0) != 0) return 10;
              return prctl(PR_GET_KEEPCAPS) == 0 ? 0 : 11;
            }),
            0);
}

TEST(SetuidCapsTest, EffectiveUidFollowsEffectiveSet) {
  REQUIRE_ROOT();
  EXPECT_EQ(InChild([] {
              const Caps start = Get();
              // The real and saved uids stay 0: permitted stays.
              if (seteuid(kUser) != 0) return 1;
              Caps c = Get();
              if (c.effective != 0 || c.permitted != start.permitted) return 2;
              if (seteuid(0) != 0) return 3;
              c = Get();
              return c.effective == start.permitted ? 0 : 4;
            }),
            0);
}

TEST(SetuidCapsTest, SetreuidAndSetuidTransitions) {
  REQUIRE_ROOT();
  EXPECT_EQ(InChild([] {
              const Caps start = Get();
              // setreuid(-1, u) keeps the real uid 0 but sets the saved
              // uid to u: permitted stays (ruid 0), effective goes.
              if (setreuid(-1, kUser) != 0) return 1;
              Caps c = Get();
              if (c.effective != 0 || c.permitted != start.permitted) return 2;
              uid_t r, e, s;
              if (getresuid(&r, &e, &s) != 0 || r != 0 || s != kUser) return 3;
              // Still privileged through permitted? No: CAP_SETUID must be
              // effective, and unprivileged rules allow going back to 0.
              if (setuid(0) != 0) return 4;
              if (Get().effective != start.permitted) return 5;
              return 0;
            }),
            0);
}

TEST(SetuidCapsTest, FsuidDropsOnlyFilesystemCaps) {
  REQUIRE_ROOT();
  EXPECT_EQ(InChild([] {
              const Caps start = Get();
              const uint64_t fs = Bit(CAP_CHOWN) | Bit(CAP_DAC_OVERRIDE) |
                                  Bit(CAP_DAC_READ_SEARCH) | Bit(CAP_FOWNER) |
                                  Bit(CAP_FSETID) | Bit(CAP_LINUX_IMMUTABLE) |
                                  Bit(CAP_MKNOD) | Bit(CAP_MAC_OVERRIDE);
              if (setfsuid(kUser) != 0) return 1;  // returns the old fsuid
              Caps c = Get();
              if (c.effective != (start.effective & ~fs)) return 2;
              if (c.permitted != start.permitted) return 3;
              if (static_cast<uid_t>(setfsuid(0)) != kUser) return 4;
              if (Get().effective != start.effective) return 5;
              // -1 only reads the fsuid.
              if (setfsuid(-1) != 0) return 6;
              return Get().effective == start.effective ? 0 : 7;
            }),
            0);
}

TEST(SetuidCapsTest, SetgroupsNeedsCapSetgid) {
  REQUIRE_ROOT();
  EXPECT_EQ(InChild([] {
              gid_t groups[] = {1, 2};
              if (setgroups(2, groups) != 0) return 1;
              Caps c = Get();
              c.effective &= ~Bit(CAP_SETGID);
              if (Set(c) != 0) return 2;
              if (setgroups(1, groups) != -1 || errno != EPERM) return 3;
              if (setgid(5) != -1 || errno != EPERM) return 4;
              return 0;
            }),
            0);
}

}  // namespace
