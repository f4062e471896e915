// sethostname/setdomainname (privilege, lengths, EFAULT, what uname shows),
// UTS and IPC namespaces (clone and unshare: new names private to the
// namespace, shared with children), unshare's other flags and checks, and
// setns without namespace files. Every change happens in a child, in a new
// UTS namespace: the host's (or sandbox's) names are never touched.
#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "test_util.h"

namespace syscall_test {
namespace {

bool HaveCapSysAdmin() {
  __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2] = {};
  if (syscall(SYS_capget, &h, d) != 0) return false;
  return d[0].effective & (1u << CAP_SYS_ADMIN);
}

// Drops CAP_SYS_ADMIN from the effective set (kept in the permitted one).
bool DropCapSysAdmin() {
  __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2] = {};
  if (syscall(SYS_capget, &h, d) != 0) return false;
  d[0].effective &= ~(1u << CAP_SYS_ADMIN);
  return syscall(SYS_capset, &h, d) == 0;
}

std::string Nodename() {
  struct utsname u;
  if (syscall(SYS_uname, &u) != 0) return "<uname failed>";
  return u.nodename;
}

std::string Domainname() {
  struct utsname u;
  if (syscall(SYS_uname, &u) != 0) return "<uname failed>";
  return u.domainname;
}

int SetHost(const std::string& s) {
  return syscall(SYS_sethostname, s.data(), s.size());
}

#define REQUIRE_CAP_SYS_ADMIN() \
  if (!HaveCapSysAdmin()) GTEST_SKIP() << "needs CAP_SYS_ADMIN"

// Checks in a child; the child's exit code is the first check that failed.
#define CHILD_CHECK(n, cond) \
  if (!(cond)) return n

TEST(UtsTest, SethostnameNeedsCapSysAdmin) {
  EXPECT_EQ(InChild([] {
              if (HaveCapSysAdmin() && !DropCapSysAdmin()) return 1;
              const std::string before = Nodename();
              // The privilege is checked before the length and the copy.
              CHILD_CHECK(2, SetHost("x") == -1 && errno == EPERM);
              CHILD_CHECK(3, syscall(SYS_sethostname, nullptr, 100) == -1 &&
                                 errno == EPERM);
              CHILD_CHECK(4, syscall(SYS_setdomainname, "x", 1) == -1 &&
                                 errno == EPERM);
              CHILD_CHECK(5, Nodename() == before);
              // And namespaces need it too.
              CHILD_CHECK(6, unshare(CLONE_NEWUTS) == -1 && errno == EPERM);
              CHILD_CHECK(7, unshare(CLONE_NEWIPC) == -1 && errno == EPERM);
              CHILD_CHECK(8, unshare(CLONE_NEWNS) == -1 && errno == EPERM);
              CHILD_CHECK(9, syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0,
                                     0) == -1 &&
                                 errno == EPERM);
              return 0;
            }),
            0);
}

TEST(UtsTest, SethostnameInNewNamespace) {
  REQUIRE_CAP_SYS_ADMIN();
  const std::string outside = Nodename();
  const std::string outside_domain = Domainname();
  EXPECT_EQ(
      InChild([&] {
        CHILD_CHECK(1, unshare(CLONE_NEWUTS) == 0);
        // A copy: the names it had.
        CHILD_CHECK(2, Nodename() == outside);
        CHILD_CHECK(3, Domainname() == outside_domain);
        CHILD_CHECK(4, SetHost("uts-test-host") == 0);
        CHILD_CHECK(5, Nodename() == "uts-test-host");
        CHILD_CHECK(6, syscall(SYS_setdomainname, "uts.example", 11) == 0);
        CHILD_CHECK(7, Domainname() == "uts.example");
        // 64 bytes fit exactly (no NUL needed), 65 do not.
        const std::string max(64, 'h');
        CHILD_CHECK(8, SetHost(max) == 0 && Nodename() == max);
        CHILD_CHECK(9, SetHost(max + "h") == -1 && errno == EINVAL);
        CHILD_CHECK(10,
                    syscall(SYS_sethostname, "x", -1) == -1 && errno == EINVAL);
        CHILD_CHECK(
            11, syscall(SYS_setdomainname, "x", 65) == -1 && errno == EINVAL);
        CHILD_CHECK(12, syscall(SYS_sethostname, BadAddress(), 4) == -1 &&
                            errno == EFAULT);
        CHILD_CHECK(13, Nodename() == max);  // failures changed nothing
        // The name is len bytes: an embedded NUL ends it for uname.
        CHILD_CHECK(14, syscall(SYS_sethostname, "ab\0cd", 5) == 0 &&
                            Nodename() == "ab");
        CHILD_CHECK(15, SetHost("") == 0 && Nodename().empty());
        return 0;
      }),
      0);
  // Nothing leaked out of the child's namespace.
  EXPECT_EQ(Nodename(), outside);
  EXPECT_EQ(Domainname(), outside_domain);
}

// Children share the namespace they are born in: a grandchild's change is
// seen by its parent; the parent's namespace sees none of it.
TEST(UtsTest, ChildrenShareTheNamespace) {
  REQUIRE_CAP_SYS_ADMIN();
  const std::string outside = Nodename();
  EXPECT_EQ(InChild([] {
              CHILD_CHECK(1, unshare(CLONE_NEWUTS) == 0);
              CHILD_CHECK(2, SetHost("uts-parent") == 0);
              const int code = InChild([] {
                if (Nodename() != "uts-parent") return 1;
                return SetHost("uts-child") == 0 ? 0 : 2;
              });
              CHILD_CHECK(3, code == 0);
              CHILD_CHECK(4, Nodename() == "uts-child");
              return 0;
            }),
            0);
  EXPECT_EQ(Nodename(), outside);
}

// clone(CLONE_NEWUTS) gives the child a copy; its changes stay there.
TEST(UtsTest, CloneNewUts) {
  REQUIRE_CAP_SYS_ADMIN();
  EXPECT_EQ(InChild([] {
              CHILD_CHECK(1, unshare(CLONE_NEWUTS) == 0);
              CHILD_CHECK(2, SetHost("uts-before-clone") == 0);
              const long pid =
                  syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0);
              if (pid == 0) {
                if (Nodename() != "uts-before-clone") _exit(1);
                _exit(SetHost("uts-cloned") == 0 ? 0 : 2);
              }
              CHILD_CHECK(3, pid > 0);
              int status;
              CHILD_CHECK(4, waitpid(pid, &status, 0) == pid);
              CHILD_CHECK(5, WIFEXITED(status) && WEXITSTATUS(status) == 0);
              CHILD_CHECK(6, Nodename() == "uts-before-clone");
              return 0;
            }),
            0);
}

// A new IPC namespace: allowed with the privilege, but not together with
// a shared SEM_UNDO list (CLONE_SYSVSEM).
TEST(UtsTest, IpcNamespace) {
  REQUIRE_CAP_SYS_ADMIN();
  EXPECT_EQ(InChild([] {
              CHILD_CHECK(1, unshare(CLONE_NEWIPC) == 0);
              CHILD_CHECK(2, unshare(CLONE_NEWIPC | CLONE_SYSVSEM) == 0);
              CHILD_CHECK(
                  3, syscall(SYS_clone, CLONE_NEWIPC | CLONE_SYSVSEM | SIGCHLD,
                             0, 0, 0, 0) == -1 &&
                         errno == EINVAL);
              const long pid = syscall(
                  SYS_clone, CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0);
              if (pid == 0) _exit(0);
              CHILD_CHECK(4, pid > 0);
              int status;
              CHILD_CHECK(5, waitpid(pid, &status, 0) == pid);
              CHILD_CHECK(6, WIFEXITED(status) && WEXITSTATUS(status) == 0);
              return 0;
            }),
            0);
}

TEST(UnshareTest, NothingToUnshare) {
  EXPECT_THAT(unshare(0), SyscallSucceeds());
  // A process of one thread shares nothing of these: fine.
  EXPECT_EQ(InChild([] {
              return unshare(CLONE_THREAD | CLONE_SIGHAND | CLONE_VM |
                             CLONE_FS | CLONE_FILES | CLONE_SYSVSEM) == 0
                         ? 0
                         : 1;
            }),
            0);
}

TEST(UnshareTest, UnknownFlagsAreEinval) {
  EXPECT_THAT(syscall(SYS_unshare, CLONE_PTRACE),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_unshare, CLONE_SETTLS),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_unshare, 1ul << 40), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_unshare, SIGCHLD), SyscallFailsWithErrno(EINVAL));
}

void* Park(void* arg) {
  char c;
  (void)!read(*static_cast<int*>(arg), &c, 1);
  return nullptr;
}

// A thread group cannot be split: CLONE_THREAD, CLONE_SIGHAND and CLONE_VM
// (which imply it) fail with a second thread.
TEST(UnshareTest, ThreadFlagsWithThreadsAreEinval) {
  EXPECT_EQ(InChild([] {
              int fds[2];
              CHILD_CHECK(1, pipe(fds) == 0);
              pthread_t thread;
              CHILD_CHECK(2,
                          pthread_create(&thread, nullptr, Park, &fds[0]) == 0);
              const bool thread_fails =
                  unshare(CLONE_THREAD) == -1 && errno == EINVAL;
              const bool sighand_fails =
                  unshare(CLONE_SIGHAND) == -1 && errno == EINVAL;
              const bool vm_fails = unshare(CLONE_VM) == -1 && errno == EINVAL;
              // Fine: the thread keeps the table this thread leaves.
              const bool files_ok = unshare(CLONE_FILES | CLONE_FS) == 0;
              (void)!write(fds[1], "x", 1);
              pthread_join(thread, nullptr);
              CHILD_CHECK(3, thread_fails);
              CHILD_CHECK(4, sighand_fails);
              CHILD_CHECK(5, vm_fails);
              CHILD_CHECK(6, files_ok);
              return 0;
            }),
            0);
}

// A child sharing the parent's fd table (CLONE_FILES) gets its own copy:
// what it closes afterwards stays open in the parent.
TEST(UnshareTest, Files) {
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  const long pid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) {
    if (syscall(SYS_unshare, CLONE_FILES) != 0) _exit(1);
    syscall(SYS_close, fds[0]);
    _exit(0);
  }
  ASSERT_THAT(pid, SyscallSucceeds());
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_THAT(fcntl(fds[0], F_GETFD), SyscallSucceeds());
  close(fds[0]);
  close(fds[1]);
}

// The same for the cwd and umask shared by CLONE_FS.
TEST(UnshareTest, Fs) {
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  const mode_t mask = umask(022);
  umask(mask);
  const long pid = syscall(SYS_clone, CLONE_FS | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) {
    if (syscall(SYS_unshare, CLONE_FS) != 0) _exit(1);
    syscall(SYS_umask, 077);
    // "/" itself may be closed to a non-root user (0700 on some hosts).
    if (syscall(SYS_chdir, "/") != 0 && errno != EACCES) _exit(2);
    _exit(0);
  }
  ASSERT_THAT(pid, SyscallSucceeds());
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  char now[4096];
  ASSERT_NE(getcwd(now, sizeof(now)), nullptr);
  EXPECT_STREQ(now, cwd);
  EXPECT_EQ(umask(mask), mask);
}

// Without namespace files (there are no /proc/PID/ns links in the sandbox
// yet), setns can only refuse: a bad fd, or an fd of the wrong kind.
TEST(SetnsTest, NotANamespace) {
  EXPECT_THAT(syscall(SYS_setns, -1, 0), SyscallFailsWithErrno(EBADF));
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  EXPECT_THAT(syscall(SYS_setns, fds[0], 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_setns, fds[0], CLONE_NEWUTS),
              SyscallFailsWithErrno(EINVAL));
  close(fds[0]);
  close(fds[1]);
}

}  // namespace
}  // namespace syscall_test
