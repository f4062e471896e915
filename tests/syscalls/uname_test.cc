// uname: sysname/machine values, NUL termination of every field, stability
// across calls, and EFAULT.
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cctype>
#include <string>

#include "test_util.h"

namespace syscall_test {
namespace {

long RawUname(struct utsname* u) { return syscall(SYS_uname, u); }

// Fills with a non-zero byte first so termination must come from the call.
struct utsname UnameOrFail() {
  struct utsname u;
  memset(&u, 0xff, sizeof(u));
  EXPECT_THAT(RawUname(&u), SyscallSucceeds());
  return u;
}

TEST(UnameTest, SysnameAndMachine) {
  const struct utsname u = UnameOrFail();
  EXPECT_STREQ(u.sysname, "Linux");
  EXPECT_STREQ(u.machine, "x86_64");
}

TEST(UnameTest, EveryFieldIsNulTerminated) {
  const struct utsname u = UnameOrFail();
  for (const char* field :
       {u.sysname, u.nodename, u.release, u.version, u.machine, u.domainname}) {
    EXPECT_NE(memchr(field, '\0', sizeof(u.sysname)), nullptr);
  }
}

TEST(UnameTest, ReleaseAndVersionLookLikeAKernel) {
  const struct utsname u = UnameOrFail();
  // "6.1.0-18-amd64": major.minor first.
  ASSERT_TRUE(isdigit(static_cast<unsigned char>(u.release[0])));
  EXPECT_NE(strchr(u.release, '.'), nullptr);
  EXPECT_GT(strlen(u.version), 0u);
}

TEST(UnameTest, StableAcrossCallsAndMatchesLibc) {
  const struct utsname a = UnameOrFail();
  struct utsname b;
  ASSERT_THAT(uname(&b), SyscallSucceeds());
  EXPECT_STREQ(a.sysname, b.sysname);
  EXPECT_STREQ(a.nodename, b.nodename);
  EXPECT_STREQ(a.release, b.release);
  EXPECT_STREQ(a.version, b.version);
  EXPECT_STREQ(a.machine, b.machine);
  EXPECT_STREQ(a.domainname, b.domainname);
}

TEST(UnameTest, BadPointerIsEfault) {
  EXPECT_THAT(RawUname(BadAddress<struct utsname>()),
              SyscallFailsWithErrno(EFAULT));
}

}  // namespace
}  // namespace syscall_test
