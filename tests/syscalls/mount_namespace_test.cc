// Mount namespaces (unshare and clone with CLONE_NEWNS) and pivot_root(2).
// Every test runs in a child that first enters a mount namespace of its
// own with private mounts, so neither the host's nor the sandbox's first
// namespace is changed; mounts are made under a fresh temporary directory.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "mount_util.h"

namespace syscall_test {
namespace {

// Runs `body` in a child with a mount namespace of its own.
int InNewNamespace(const std::function<int()>& body) {
  return InChild([&] {
    if (unshare(CLONE_NEWNS) != 0) return 100;
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      return 101;
    return body();
  });
}

// Whether `mountinfo` (a /proc/<pid>/mountinfo path) lists a mount at
// `point`.
bool Lists(const std::string& mountinfo, const std::string& point) {
  return !MountInfoLineAt(mountinfo, point).empty();
}

std::string NsLink(const std::string& pid) {
  char buf[64] = {};
  ssize_t n = readlink(("/proc/" + pid + "/ns/mnt").c_str(), buf,
                       sizeof buf - 1);
  return n > 0 ? std::string(buf, n) : "";
}

std::string Cwd() {
  char buf[4096];
  return getcwd(buf, sizeof buf) ? std::string(buf) : "";
}

using MountNamespaceTest = MountTestBase;

// A mount made after unshare(CLONE_NEWNS) is seen only in the new
// namespace, by its own /proc/<pid>/mountinfo; the namespace files differ.
TEST_F(MountNamespaceTest, UnshareIsolatesMounts) {
  const std::string d = dir_ / "m";
  ASSERT_THAT(mkdir(d.c_str(), 0755), SyscallSucceeds());
  EXPECT_EQ(InNewNamespace([&] {
              int ready[2], done[2];
              REQUIRE(1, pipe(ready) == 0 && pipe(done) == 0);
              pid_t child = fork();
              if (child == 0) {
                char c = 0;
                if (unshare(CLONE_NEWNS) != 0) _exit(1);
                if (mount("none", d.c_str(), "tmpfs", 0, nullptr) != 0)
                  _exit(2);
                int fd = open((d + "/x").c_str(), O_CREAT | O_WRONLY, 0644);
                if (fd < 0) _exit(3);
                close(fd);
                if (write(ready[1], &c, 1) != 1) _exit(4);
                if (read(done[0], &c, 1) != 1) _exit(5);
                _exit(0);
              }
              REQUIRE(2, child > 0);
              char c;
              REQUIRE(3, read(ready[0], &c, 1) == 1);
              const std::string pid = std::to_string(child);
              REQUIRE(4, Lists("/proc/" + pid + "/mountinfo", d));
              REQUIRE(5, !Lists("/proc/self/mountinfo", d));
              REQUIRE(6, access((d + "/x").c_str(), F_OK) != 0 &&
                             errno == ENOENT);
              REQUIRE(7, !NsLink(pid).empty() && NsLink(pid) != NsLink("self"));
              REQUIRE(8, NsLink("self").starts_with("mnt:["));
              REQUIRE(9, write(done[1], &c, 1) == 1);
              int status;
              REQUIRE(10, waitpid(child, &status, 0) == child);
              REQUIRE(11, WIFEXITED(status) && WEXITSTATUS(status) == 0);
              return 0;
            }),
            0);
}

// Mounts made before the unshare are copied; later ones on either side
// stay there.
TEST_F(MountNamespaceTest, CopyKeepsEarlierMounts) {
  const std::string a = dir_ / "a", b = dir_ / "b";
  ASSERT_THAT(mkdir(a.c_str(), 0755), SyscallSucceeds());
  ASSERT_THAT(mkdir(b.c_str(), 0755), SyscallSucceeds());
  EXPECT_EQ(InNewNamespace([&] {
              REQUIRE(1, mount("none", a.c_str(), "tmpfs", 0, nullptr) == 0);
              int fd = open((a + "/early").c_str(), O_CREAT | O_WRONLY, 0644);
              REQUIRE(2, fd >= 0);
              close(fd);
              REQUIRE(3, unshare(CLONE_NEWNS) == 0);
              // The copy has the mount and (the same filesystem) its file.
              REQUIRE(4, Lists("/proc/self/mountinfo", a));
              REQUIRE(5, access((a + "/early").c_str(), F_OK) == 0);
              REQUIRE(6, umount2(a.c_str(), 0) == 0);
              REQUIRE(7, mount("none", b.c_str(), "tmpfs", 0, nullptr) == 0);
              REQUIRE(8, !Lists("/proc/self/mountinfo", a));
              return 0;
            }),
            0);
}

// clone(CLONE_NEWNS) gives the child its own namespace; with CLONE_FS it
// is EINVAL (the two would share a root in different namespaces).
TEST_F(MountNamespaceTest, CloneNewns) {
  const std::string d = dir_ / "m";
  ASSERT_THAT(mkdir(d.c_str(), 0755), SyscallSucceeds());
  EXPECT_EQ(InNewNamespace([&] {
              long child = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
              if (child == 0) {
                if (mount("none", d.c_str(), "tmpfs", 0, nullptr) != 0)
                  _exit(1);
                _exit(Lists("/proc/self/mountinfo", d) ? 0 : 2);
              }
              REQUIRE(1, child > 0);
              int status;
              REQUIRE(2, waitpid(child, &status, 0) == child);
              REQUIRE(3, WIFEXITED(status) && WEXITSTATUS(status) == 0);
              REQUIRE(4, !Lists("/proc/self/mountinfo", d));
              REQUIRE(5, syscall(SYS_clone, CLONE_NEWNS | CLONE_FS | SIGCHLD,
                                 0, 0, 0, 0) == -1 &&
                             errno == EINVAL);
              return 0;
            }),
            0);
}

TEST_F(MountNamespaceTest, PivotRootErrors) {
  const std::string d = dir_ / "new", e = dir_ / "other";
  ASSERT_THAT(mkdir(d.c_str(), 0755), SyscallSucceeds());
  ASSERT_THAT(mkdir(e.c_str(), 0755), SyscallSucceeds());
  MakeFile(dir_ / "file", "");
  EXPECT_EQ(InNewNamespace([&] {
              REQUIRE(1, chdir("/") == 0);
              REQUIRE(2, mount("none", d.c_str(), "tmpfs", 0, nullptr) == 0);
              REQUIRE(3, mount("none", e.c_str(), "tmpfs", 0, nullptr) == 0);
              REQUIRE(4, mkdir((d + "/sub").c_str(), 0755) == 0);
              auto pivot = [](const std::string& n, const std::string& o) {
                return syscall(SYS_pivot_root, n.c_str(), o.c_str());
              };
              REQUIRE(5, pivot(d + "/missing", d) == -1 && errno == ENOENT);
              REQUIRE(6, pivot(dir_ / "file", d) == -1 && errno == ENOTDIR);
              REQUIRE(7, pivot(d, dir_ / "file") == -1 && errno == ENOTDIR);
              // put_old on the root's own mount.
              REQUIRE(8, pivot(d, "/") == -1 && errno == EBUSY);
              // new_root is not a mount point.
              REQUIRE(9, pivot(d + "/sub", d) == -1 && errno == EINVAL);
              // put_old is not below new_root.
              REQUIRE(10, pivot(d, e) == -1 && errno == EINVAL);
              return 0;
            }),
            0);
}

// pivot_root(new, new/old): "/" is the new root, the old one is at /old
// with its mounts, and a cwd at the old root moves to the new one.
TEST_F(MountNamespaceTest, PivotRootMovesTheRoot) {
  const std::string d = dir_ / "new";
  ASSERT_THAT(mkdir(d.c_str(), 0755), SyscallSucceeds());
  EXPECT_EQ(InNewNamespace([&] {
              REQUIRE(1, chdir("/") == 0);
              REQUIRE(2, mount("none", d.c_str(), "tmpfs", 0, nullptr) == 0);
              REQUIRE(3, mkdir((d + "/old").c_str(), 0755) == 0);
              int fd = open((d + "/marker").c_str(), O_CREAT | O_WRONLY, 0644);
              REQUIRE(4, fd >= 0);
              close(fd);
              REQUIRE(5, syscall(SYS_pivot_root, d.c_str(),
                                 (d + "/old").c_str()) == 0);
              REQUIRE(6, Cwd() == "/");
              REQUIRE(7, access("/marker", F_OK) == 0);
              // The old root, with the temporary directory (now empty: its
              // tmpfs is the root) and the old /proc.
              REQUIRE(8, access(("/old" + d).c_str(), F_OK) == 0);
              REQUIRE(9, access(("/old" + d + "/marker").c_str(), F_OK) != 0);
              REQUIRE(10, Lists("/old/proc/self/mountinfo", "/"));
              REQUIRE(11, Lists("/old/proc/self/mountinfo", "/old"));
              REQUIRE(12, Lists("/old/proc/self/mountinfo", "/old/proc"));
              REQUIRE(13, umount2("/old", MNT_DETACH) == 0);
              REQUIRE(14, access(("/old" + d).c_str(), F_OK) != 0 &&
                              errno == ENOENT);
              REQUIRE(15, access("/marker", F_OK) == 0);
              return 0;
            }),
            0);
}

// The idiom runc uses: pivot_root(".", ".") stacks the old root on the
// new one, and umount2(".", MNT_DETACH) takes it off.
TEST_F(MountNamespaceTest, PivotRootDotDot) {
  const std::string d = dir_ / "new";
  ASSERT_THAT(mkdir(d.c_str(), 0755), SyscallSucceeds());
  EXPECT_EQ(InNewNamespace([&] {
              REQUIRE(1, mount("none", d.c_str(), "tmpfs", 0, nullptr) == 0);
              int fd = open((d + "/marker").c_str(), O_CREAT | O_WRONLY, 0644);
              REQUIRE(2, fd >= 0);
              close(fd);
              REQUIRE(3, mkdir((d + "/proc").c_str(), 0755) == 0);
              REQUIRE(4, chdir(d.c_str()) == 0);
              REQUIRE(5, syscall(SYS_pivot_root, ".", ".") == 0);
              // "." is the old root, on top (runc unmounts it so).
              REQUIRE(7, umount2(".", MNT_DETACH) == 0);
              REQUIRE(8, chdir("/") == 0);
              REQUIRE(9, Cwd() == "/");
              REQUIRE(10, access("/marker", F_OK) == 0);
              REQUIRE(11, access("/proc/self", F_OK) != 0 && errno == ENOENT);
              REQUIRE(12, access(d.c_str(), F_OK) != 0 && errno == ENOENT);
              return 0;
            }),
            0);
}

TEST(MountNamespacePermissionTest, NeedsCapSysAdmin) {
  TempDir dir;
  EXPECT_EQ(InChild([&] {
              if (HasEffectiveCap(CAP_SYS_ADMIN))
                REQUIRE(1, DropEffectiveCap(CAP_SYS_ADMIN));
              REQUIRE(2, unshare(CLONE_NEWNS) != 0 && errno == EPERM);
              REQUIRE(3, syscall(SYS_pivot_root, dir.path().c_str(),
                                 dir.path().c_str()) == -1 &&
                             errno == EPERM);
              return 0;
            }),
            0);
}

}  // namespace
}  // namespace syscall_test
