// The setuid family's id rules (root and not), getres[ug]id, setfs[ug]id,
// setgroups/getgroups, that the sentry checks files against the new ids,
// and what an id change resets (death signal, dumpable). capability_test.cc
// covers the capability sets. Changes run in forked children.
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "temp_dir.h"
#include "test_util.h"

namespace {

using syscall_test::BadAddress;
using syscall_test::MakeFile;
using syscall_test::SyscallFailsWithErrno;
using syscall_test::SyscallSucceeds;
using syscall_test::SyscallSucceedsWithValue;
using syscall_test::TempDir;

constexpr uid_t kNobody = 65534;

using syscall_test::InChild;

bool HasCapSetuid() {
  __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2] = {};
  return syscall(SYS_capget, &h, d) == 0 &&
         (d[0].effective & (1u << CAP_SETUID)) &&
         (d[0].effective & (1u << CAP_SETGID));
}
#define REQUIRE_ROOT()                         \
  if (getuid() != 0 || !HasCapSetuid())        \
  GTEST_SKIP() << "needs root with CAP_SETUID and CAP_SETGID"

bool UidsAre(uid_t r, uid_t e, uid_t s) {
  uid_t gr, ge, gs;
  return getresuid(&gr, &ge, &gs) == 0 && gr == r && ge == e && gs == s;
}
bool GidsAre(gid_t r, gid_t e, gid_t s) {
  gid_t gr, ge, gs;
  return getresgid(&gr, &ge, &gs) == 0 && gr == r && ge == e && gs == s;
}
// setfs[ug]id(-1) only reads.
uid_t Fsuid() { return static_cast<uid_t>(setfsuid(-1)); }
gid_t Fsgid() { return static_cast<gid_t>(setfsgid(-1)); }

std::vector<gid_t> Groups() {
  int n = getgroups(0, nullptr);
  std::vector<gid_t> g(std::max(n, 0));
  if (n > 0 && getgroups(n, g.data()) != n) g.clear();
  return g;
}

TEST(GetresuidTest, AgreesWithTheGetters) {
  uid_t r, e, s;
  ASSERT_THAT(getresuid(&r, &e, &s), SyscallSucceeds());
  EXPECT_EQ(r, getuid());
  EXPECT_EQ(e, geteuid());
  gid_t gr, ge, gs;
  ASSERT_THAT(getresgid(&gr, &ge, &gs), SyscallSucceeds());
  EXPECT_EQ(gr, getgid());
  EXPECT_EQ(ge, getegid());
  EXPECT_THAT(syscall(SYS_getresuid, &r, BadAddress(), &s),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(syscall(SYS_getresgid, &gr, &ge, BadAddress()),
              SyscallFailsWithErrno(EFAULT));
}

TEST(GetgroupsTest, SizeZeroCountsAndTooSmallIsEinval) {
  const int n = getgroups(0, nullptr);
  ASSERT_GE(n, 0);
  std::vector<gid_t> g(n + 1);
  EXPECT_THAT(getgroups(n + 1, g.data()), SyscallSucceedsWithValue(n));
  EXPECT_THAT(getgroups(-1, g.data()), SyscallFailsWithErrno(EINVAL));
  if (n > 0)
    EXPECT_THAT(getgroups(n - 1, g.data()), SyscallFailsWithErrno(EINVAL));
}

TEST(SetgroupsTest, RootSetsSortedGroups) {
  REQUIRE_ROOT();
  EXPECT_EQ(InChild([] {
              gid_t set[] = {5, 3, 3, 1};
              if (setgroups(4, set) != 0) return 1;
              // Linux keeps them sorted, duplicates and all.
              if (Groups() != std::vector<gid_t>{1, 3, 3, 5}) return 2;
              gid_t small[3];
              if (getgroups(3, small) != -1 || errno != EINVAL) return 3;
              if (setgroups(0, nullptr) != 0 || getgroups(0, nullptr) != 0)
                return 4;
              if (syscall(SYS_setgroups, 2, BadAddress()) != -1 ||
                  errno != EFAULT)
                return 5;
              if (syscall(SYS_setgroups, -1, set) != -1 || errno != EINVAL)
                return 6;
              std::vector<gid_t> many(NGROUPS_MAX + 1, 7);
              if (setgroups(NGROUPS_MAX + 1, many.data()) != -1 ||
                  errno != EINVAL)
                return 7;
              if (setgroups(NGROUPS_MAX, many.data()) != 0) return 8;
              return getgroups(0, nullptr) == NGROUPS_MAX ? 0 : 9;
            }),
            0);
}

TEST(SetgroupsTest, WithoutCapSetgidIsEpermBeforeAnythingElse) {
  EXPECT_EQ(InChild([] {
              if (getuid() == 0 && setresuid(kNobody, kNobody, kNobody) != 0)
                return 1;
              if (setgroups(0, nullptr) != -1 || errno != EPERM) return 2;
              if (syscall(SYS_setgroups, -1, nullptr) != -1 || errno != EPERM)
                return 3;
              return 0;
            }),
            0);
}

// Runs as anyone: root first becomes nobody.
TEST(UnprivilegedTest, CannotTakeOtherIds) {
  EXPECT_EQ(InChild([] {
              if (getuid() == 0 && (setgroups(0, nullptr) != 0 ||
                                    setresgid(kNobody, kNobody, kNobody) != 0 ||
                                    setresuid(kNobody, kNobody, kNobody) != 0))
                return 1;
              const uid_t u = getuid();
              const gid_t g = getgid();
              if (!UidsAre(u, u, u) || !GidsAre(g, g, g)) return 0;  // mixed
              const uid_t other = u + 1;
              if (setuid(other) != -1 || errno != EPERM) return 2;
              if (setresuid(-1, other, -1) != -1 || errno != EPERM) return 3;
              if (setreuid(other, -1) != -1 || errno != EPERM) return 4;
              if (setgid(g + 1) != -1 || errno != EPERM) return 5;
              if (setresgid(-1, -1, g + 1) != -1 || errno != EPERM) return 6;
              if (setregid(-1, g + 1) != -1 || errno != EPERM) return 7;
              // Its own ids are fine, and -1 changes nothing.
              if (setuid(u) != 0 || setresuid(-1, -1, -1) != 0) return 8;
              if (setreuid(u, u) != 0 || setgid(g) != 0) return 9;
              if (static_cast<uid_t>(setfsuid(other)) != u || Fsuid() != u)
                return 10;
              if (static_cast<gid_t>(setfsgid(g + 1)) != g || Fsgid() != g)
                return 11;
              return UidsAre(u, u, u) && GidsAre(g, g, g) ? 0 : 12;
            }),
            0);
}

TEST(SetuidTest, RootSetsAllThreeAndCannotComeBack) {
  REQUIRE_ROOT();
  EXPECT_EQ(InChild([] {
              if (syscall(SYS_setuid, -1) != -1 || errno != EINVAL) return 1;
              if (setuid(1000) != 0 || !UidsAre(1000, 1000, 1000)) return 2;
              if (Fsuid() != 1000) return 3;
              if (setuid(0) != -1 || errno != EPERM) return 4;
              return setuid(1000) == 0 ? 0 : 5;
            }),
            0);
}

TEST(SetuidTest, UnprivilegedMaySwitchToTheRealOrSavedUid) {
  REQUIRE_ROOT();
  EXPECT_EQ(InChild([] {
              if (setresuid(1000, 1001, 1002) != 0) return 1;
              // Only the effective (and filesystem) uid changes.
              if (setuid(1002) != 0 || !UidsAre(1000, 1002, 1002)) return 2;
              if (Fsuid() != 1002) return 3;
              if (setuid(1000) != 0 || !UidsAre(1000, 1000, 1002)) return 4;
              if (setuid(1001) != -1 || errno != EPERM) return 5;
              return UidsAre(1000, 1000, 1002) ? 0 : 6;
            }),
            0);
}

TEST(SetresuidTest, MinusOneKeepsAndUnprivilegedPermutes) {
  REQUIRE_ROOT();
  EXPECT_EQ(InChild([] {
              if (setresuid(1000, 1001, 1002) != 0) return 1;
              if (!UidsAre(1000, 1001, 1002) || Fsuid() != 1001) return 2;
              if (setresuid(-1, -1, -1) != 0 || !UidsAre(1000, 1001, 1002))
                return 3;
              if (setresuid(1002, 1000, 1001) != 0) return 4;
              if (!UidsAre(1002, 1000, 1001) || Fsuid() != 1000) return 5;
              if (setresuid(-1, 1003, -1) != -1 || errno != EPERM) return 6;
              if (setresuid(1003, -1, -1) != -1 || errno != EPERM) return 7;
              if (setresuid(-1, -1, 0) != -1 || errno != EPERM) return 8;
              return UidsAre(1002, 1000, 1001) ? 0 : 9;
            }),
            0);
}

TEST(SetreuidTest, SavedUidFollowsTheEffectiveOne) {
  REQUIRE_ROOT();
  EXPECT_EQ(InChild([] {
              // Setting the real uid makes saved = the new effective uid.
              if (setreuid(1000, 1001) != 0 || !UidsAre(1000, 1001, 1001))
                return 1;
              // Back to the real uid: saved stays.
              if (setreuid(-1, 1000) != 0 || !UidsAre(1000, 1000, 1001))
                return 2;
              // To the saved uid, away from the real one: saved follows.
              if (setreuid(-1, 1001) != 0 || !UidsAre(1000, 1001, 1001))
                return 3;
              // Swapping real and effective is allowed.
              if (setreuid(1001, 1000) != 0 || !UidsAre(1001, 1000, 1000))
                return 4;
              if (Fsuid() != 1000) return 5;
              // The real uid may only become the real or effective one.
              if (setreuid(1002, -1) != -1 || errno != EPERM) return 6;
              if (setreuid(-1, 1002) != -1 || errno != EPERM) return 7;
              return UidsAre(1001, 1000, 1000) ? 0 : 8;
            }),
            0);
}

TEST(SetgidTest, UnprivilegedGidRules) {
  REQUIRE_ROOT();
  EXPECT_EQ(InChild([] {
              if (setgroups(0, nullptr) != 0) return 1;
              if (setresgid(100, 101, 102) != 0 || !GidsAre(100, 101, 102))
                return 2;
              if (Fsgid() != 101) return 3;
              // Leaving uid 0 drops CAP_SETGID.
              if (setresuid(1000, 1000, 1000) != 0) return 4;
              if (setresgid(102, 100, 101) != 0 || !GidsAre(102, 100, 101))
                return 5;
              if (setresgid(-1, -1, -1) != 0 || !GidsAre(102, 100, 101))
                return 6;
              if (setgid(101) != 0 || !GidsAre(102, 101, 101)) return 7;
              if (Fsgid() != 101) return 8;
              if (setgid(103) != -1 || errno != EPERM) return 9;
              if (setregid(-1, 103) != -1 || errno != EPERM) return 10;
              if (setresgid(103, -1, -1) != -1 || errno != EPERM) return 11;
              if (setregid(101, -1) != 0 || !GidsAre(101, 101, 101)) return 12;
              // setfsgid to a gid it may not use is ignored.
              if (static_cast<gid_t>(setfsgid(103)) != 101) return 13;
              return Fsgid() == 101 ? 0 : 14;
            }),
            0);
}

TEST(SetfsuidTest, FollowsTheEffectiveUidAndReturnsTheOldOne) {
  REQUIRE_ROOT();
  EXPECT_EQ(InChild([] {
              if (setfsuid(1000) != 0 || Fsuid() != 1000) return 1;
              if (!UidsAre(0, 0, 0)) return 2;
              // Any change of the effective uid resets it.
              if (seteuid(1001) != 0 || Fsuid() != 1001) return 3;
              // Without CAP_SETUID, a foreign fsuid is silently refused.
              if (static_cast<uid_t>(setfsuid(2000)) != 1001) return 4;
              if (Fsuid() != 1001) return 5;
              // The real (or saved) uid is allowed.
              if (static_cast<uid_t>(setfsuid(0)) != 1001 || Fsuid() != 0)
                return 6;
              // Nor is a foreign fsgid without CAP_SETGID.
              const gid_t g = getegid();
              if (static_cast<gid_t>(setfsgid(200)) != g || Fsgid() != g)
                return 7;
              if (seteuid(0) != 0 || static_cast<gid_t>(setfsgid(200)) != g ||
                  Fsgid() != 200)
                return 8;
              return setegid(300) == 0 && Fsgid() == 300 ? 0 : 9;
            }),
            0);
}

// A root-only file in a directory anyone may search.
class PermissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (getuid() != 0 || !HasCapSetuid())
      GTEST_SKIP() << "needs root with CAP_SETUID and CAP_SETGID";
    ASSERT_THAT(chmod(dir_.path().c_str(), 0755), SyscallSucceeds());
    ASSERT_NO_FATAL_FAILURE(MakeFile(file_, "secret", 0600));
    ASSERT_THAT(chown(file_.c_str(), 0, 0), SyscallSucceeds());
    ASSERT_THAT(chmod(file_.c_str(), 0600), SyscallSucceeds());
  }
  bool CanRead() const {
    int fd = open(file_.c_str(), O_RDONLY);
    if (fd >= 0) close(fd);
    return fd >= 0;
  }
  TempDir dir_;
  const std::string file_ = dir_ / "f";
};

TEST_F(PermissionTest, NobodyCannotOpenARootOnlyFile) {
  EXPECT_EQ(InChild([&] {
              if (!CanRead()) return 1;
              if (setresuid(kNobody, kNobody, kNobody) != 0) return 2;
              if (open(file_.c_str(), O_RDONLY) != -1 || errno != EACCES)
                return 3;
              struct stat st;
              return stat(file_.c_str(), &st) == 0 ? 0 : 4;
            }),
            0);
}

TEST_F(PermissionTest, EffectiveAndFilesystemUidsDecide) {
  EXPECT_EQ(InChild([&] {
              if (seteuid(kNobody) != 0) return 1;
              if (CanRead() || errno != EACCES) return 2;
              // access(2) asks with the real uid, AT_EACCESS the effective.
              if (syscall(SYS_access, file_.c_str(), R_OK) != 0) return 3;
              if (syscall(SYS_faccessat2, AT_FDCWD, file_.c_str(), R_OK,
                          AT_EACCESS) != -1 ||
                  errno != EACCES)
                return 4;
              if (seteuid(0) != 0 || !CanRead()) return 5;
              setfsuid(kNobody);
              if (CanRead() || errno != EACCES) return 6;
              setfsuid(0);
              return CanRead() ? 0 : 7;
            }),
            0);
}

TEST_F(PermissionTest, GroupsGrantGroupAccess) {
  ASSERT_THAT(chown(file_.c_str(), 0, 4242), SyscallSucceeds());
  ASSERT_THAT(chmod(file_.c_str(), 0640), SyscallSucceeds());
  auto as_nobody = [&](std::vector<gid_t> groups, gid_t gid) {
    return InChild([&] {
      if (setgroups(groups.size(), groups.data()) != 0) return 1;
      if (setresgid(gid, gid, gid) != 0) return 2;
      if (setresuid(kNobody, kNobody, kNobody) != 0) return 3;
      return CanRead() ? 0 : errno == EACCES ? 4 : 5;
    });
  };
  EXPECT_EQ(as_nobody({}, kNobody), 4);
  EXPECT_EQ(as_nobody({1, 4242}, kNobody), 0);
  EXPECT_EQ(as_nobody({}, 4242), 0);
}

// Linux's commit_creds: a change of the effective or filesystem ids clears
// the death signal and sets dumpable to the suid_dumpable sysctl (0 by
// default).
TEST(CredentialChangeTest, ResetsDeathSignalAndDumpable) {
  REQUIRE_ROOT();
  int suid_dumpable = 0;
  if (FILE* f = fopen("/proc/sys/fs/suid_dumpable", "r")) {
    if (fscanf(f, "%d", &suid_dumpable) != 1) suid_dumpable = 0;
    fclose(f);
  }
  EXPECT_EQ(InChild([&] {
              auto death_signal = [] {
                int sig = -1;
                prctl(PR_GET_PDEATHSIG, &sig);
                return sig;
              };
              if (prctl(PR_SET_PDEATHSIG, SIGUSR1) != 0) return 1;
              // Only the real uid changes: both stay.
              if (setresuid(1000, -1, -1) != 0) return 2;
              if (death_signal() != SIGUSR1) return 3;
              if (prctl(PR_GET_DUMPABLE) != 1) return 4;
              if (setfsuid(1000) != 0) return 5;
              if (death_signal() != 0) return 6;
              if (prctl(PR_GET_DUMPABLE) != suid_dumpable) return 7;
              if (prctl(PR_SET_DUMPABLE, 1) != 0) return 8;
              prctl(PR_SET_PDEATHSIG, SIGUSR1);
              if (setresgid(-1, 100, -1) != 0) return 9;
              if (death_signal() != 0) return 10;
              return prctl(PR_GET_DUMPABLE) == suid_dumpable ? 0 : 11;
            }),
            0);
}

}  // namespace
