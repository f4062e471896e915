// mount(2), umount2(2) and chroot(2). Natively each test runs in a child
// with a private mount namespace (so the host's mounts are never touched),
// and in the sandbox too (mount_namespace_test.cc tests the namespaces). Every mount is made under a fresh temporary
// directory and undone before the child exits.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "mount_util.h"

namespace syscall_test {
namespace {

bool EnterPrivateMounts() {
  if (unshare(CLONE_NEWNS) != 0) return errno == EPERM || errno == EINVAL;
  return mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
}

// Runs `body` as a child in its own mount namespace (natively).
int InMountChild(const std::function<int()>& body) {
  return InChild([&] {
    if (!EnterPrivateMounts()) return 100;
    return body();
  });
}

bool IsMountPoint(const std::string& path) {
  return !MountInfoLineAt("/proc/self/mountinfo", path).empty();
}

// The mountinfo line of the topmost mount at `path` ("" if none).
std::string MountInfoLine(const std::string& path) {
  return MountInfoLineAt("/proc/self/mountinfo", path);
}

using MountTest = MountTestBase;

TEST_F(MountTest, TmpfsMountAndUmount) {
  const std::string d = dir_ / "m";
  ASSERT_THAT(mkdir(d.c_str(), 0755), SyscallSucceeds());
  EXPECT_EQ(InMountChild([&] {
              struct stat before, after;
              REQUIRE(1, stat(d.c_str(), &before) == 0);
              REQUIRE(2, mount("none", d.c_str(), "tmpfs", 0, nullptr) == 0);
              REQUIRE(3, stat(d.c_str(), &after) == 0);
              REQUIRE(4, after.st_dev != before.st_dev);
              REQUIRE(5, (after.st_mode & 07777) == 01777);
              REQUIRE(6, IsMountPoint(d));
              REQUIRE(7, MountInfoLine(d).find(" - tmpfs ") != std::string::npos);
              const std::string f = d + "/file";
              int fd = open(f.c_str(), O_CREAT | O_WRONLY, 0644);
              REQUIRE(8, fd >= 0);
              close(fd);
              REQUIRE(9, umount2(d.c_str(), 0) == 0);
              REQUIRE(10, !IsMountPoint(d));
              REQUIRE(11, access(f.c_str(), F_OK) != 0 && errno == ENOENT);
              return 0;
            }),
            0);
}

TEST_F(MountTest, ReadOnlyRemount) {
  const std::string d = dir_ / "ro";
  ASSERT_THAT(mkdir(d.c_str(), 0755), SyscallSucceeds());
  EXPECT_EQ(InMountChild([&] {
              REQUIRE(1, mount("none", d.c_str(), "tmpfs", 0, nullptr) == 0);
              const std::string f = d + "/f";
              int fd = open(f.c_str(), O_CREAT | O_WRONLY, 0644);
              REQUIRE(2, fd >= 0);
              close(fd);
              REQUIRE(3, mount(nullptr, d.c_str(), nullptr,
                               MS_REMOUNT | MS_RDONLY, nullptr) == 0);
              REQUIRE(4, open(f.c_str(), O_WRONLY) < 0 && errno == EROFS);
              REQUIRE(5, mkdir((d + "/x").c_str(), 0755) != 0 && errno == EROFS);
              REQUIRE(6, unlink(f.c_str()) != 0 && errno == EROFS);
              REQUIRE(7, chmod(f.c_str(), 0600) != 0 && errno == EROFS);
              REQUIRE(8, access(f.c_str(), W_OK) != 0 && errno == EROFS);
              fd = open(f.c_str(), O_RDONLY);
              REQUIRE(9, fd >= 0);
              close(fd);
              REQUIRE(10, MountInfoLine(d).find(" ro,") != std::string::npos);
              REQUIRE(11, mount(nullptr, d.c_str(), nullptr, MS_REMOUNT,
                                nullptr) == 0);
              REQUIRE(12, unlink(f.c_str()) == 0);
              REQUIRE(13, umount2(d.c_str(), 0) == 0);
              return 0;
            }),
            0);
}

TEST_F(MountTest, BindMountSharesTheFiles) {
  const std::string a = dir_ / "a", b = dir_ / "b";
  ASSERT_THAT(mkdir(a.c_str(), 0755), SyscallSucceeds());
  ASSERT_THAT(mkdir(b.c_str(), 0755), SyscallSucceeds());
  MakeFile(a + "/x", "bound");
  EXPECT_EQ(InMountChild([&] {
              REQUIRE(1, mount(a.c_str(), b.c_str(), nullptr, MS_BIND,
                               nullptr) == 0);
              REQUIRE(2, ReadFileContents((b + "/x").c_str()) == "bound");
              MakeFile(b + "/y", "back");
              REQUIRE(3, ReadFileContents((a + "/y").c_str()) == "back");
              REQUIRE(4, IsMountPoint(b));
              REQUIRE(5, umount2(b.c_str(), 0) == 0);
              REQUIRE(6, access((b + "/x").c_str(), F_OK) != 0);
              return 0;
            }),
            0);
}

TEST_F(MountTest, UmountErrors) {
  const std::string d = dir_ / "u";
  ASSERT_THAT(mkdir(d.c_str(), 0755), SyscallSucceeds());
  EXPECT_EQ(InMountChild([&] {
              // Not a mount point.
              REQUIRE(1, umount2(d.c_str(), 0) != 0 && errno == EINVAL);
              REQUIRE(2, umount2(d.c_str(), 0x100) != 0 && errno == EINVAL);
              REQUIRE(3, umount2((d + "/missing").c_str(), 0) != 0 &&
                             errno == ENOENT);
              REQUIRE(4, mount("none", d.c_str(), "tmpfs", 0, nullptr) == 0);
              const std::string inner = d + "/inner";
              REQUIRE(5, mkdir(inner.c_str(), 0755) == 0);
              REQUIRE(6, mount("none", inner.c_str(), "tmpfs", 0, nullptr) == 0);
              // A mount with a mount below it is busy; MNT_DETACH takes both.
              REQUIRE(7, umount2(d.c_str(), 0) != 0 && errno == EBUSY);
              REQUIRE(8, umount2(d.c_str(), MNT_DETACH) == 0);
              REQUIRE(9, !IsMountPoint(d) && !IsMountPoint(inner));
              // MNT_EXPIRE: EAGAIN first, then it goes.
              REQUIRE(10, mount("none", d.c_str(), "tmpfs", 0, nullptr) == 0);
              REQUIRE(11, umount2(d.c_str(), MNT_EXPIRE) != 0 && errno == EAGAIN);
              REQUIRE(12, umount2(d.c_str(), MNT_EXPIRE) == 0);
              REQUIRE(13, umount2(d.c_str(), MNT_EXPIRE | MNT_DETACH) != 0 &&
                              errno == EINVAL);
              return 0;
            }),
            0);
}

TEST_F(MountTest, StackedMountsUncover) {
  const std::string d = dir_ / "s";
  ASSERT_THAT(mkdir(d.c_str(), 0755), SyscallSucceeds());
  EXPECT_EQ(InMountChild([&] {
              REQUIRE(1, mount("none", d.c_str(), "tmpfs", 0, nullptr) == 0);
              MakeFile(d + "/lower", "1");
              REQUIRE(2, mount("none", d.c_str(), "tmpfs", 0, nullptr) == 0);
              REQUIRE(3, access((d + "/lower").c_str(), F_OK) != 0);
              REQUIRE(4, umount2(d.c_str(), 0) == 0);
              REQUIRE(5, ReadFileContents((d + "/lower").c_str()) == "1");
              REQUIRE(6, umount2(d.c_str(), 0) == 0);
              return 0;
            }),
            0);
}

TEST_F(MountTest, BadTypesAndTargets) {
  const std::string d = dir_ / "t";
  ASSERT_THAT(mkdir(d.c_str(), 0755), SyscallSucceeds());
  MakeFile(dir_ / "file", "");
  EXPECT_EQ(InMountChild([&] {
              REQUIRE(1, mount("none", d.c_str(), "nosuchfs", 0, nullptr) != 0 &&
                             errno == ENODEV);
              REQUIRE(2, mount("none", (dir_ / "file").c_str(), "tmpfs", 0,
                               nullptr) != 0 &&
                             errno == ENOTDIR);
              REQUIRE(3, mount("none", (d + "/missing").c_str(), "tmpfs", 0,
                               nullptr) != 0 &&
                             errno == ENOENT);
              // Propagation changes need a mount point.
              REQUIRE(4, mount(nullptr, d.c_str(), nullptr, MS_PRIVATE,
                               nullptr) != 0 &&
                             errno == EINVAL);
              REQUIRE(5, mount("none", d.c_str(), "tmpfs", 0, nullptr) == 0);
              REQUIRE(6, mount(nullptr, d.c_str(), nullptr, MS_PRIVATE,
                               nullptr) == 0);
              REQUIRE(7, mount(nullptr, d.c_str(), nullptr,
                               MS_PRIVATE | MS_SHARED, nullptr) != 0 &&
                             errno == EINVAL);
              REQUIRE(8, umount2(d.c_str(), 0) == 0);
              return 0;
            }),
            0);
}

TEST_F(MountTest, MoveMount) {
  const std::string a = dir_ / "from", b = dir_ / "to";
  ASSERT_THAT(mkdir(a.c_str(), 0755), SyscallSucceeds());
  ASSERT_THAT(mkdir(b.c_str(), 0755), SyscallSucceeds());
  EXPECT_EQ(InMountChild([&] {
              REQUIRE(1, mount("none", a.c_str(), "tmpfs", 0, nullptr) == 0);
              MakeFile(a + "/moved", "m");
              REQUIRE(2, mount(a.c_str(), b.c_str(), nullptr, MS_MOVE,
                               nullptr) == 0);
              REQUIRE(3, ReadFileContents((b + "/moved").c_str()) == "m");
              REQUIRE(4, !IsMountPoint(a) && IsMountPoint(b));
              REQUIRE(5, umount2(b.c_str(), 0) == 0);
              return 0;
            }),
            0);
}

TEST_F(MountTest, NoexecRefusesExec) {
  const std::string d = dir_ / "nx";
  ASSERT_THAT(mkdir(d.c_str(), 0755), SyscallSucceeds());
  const std::string self = ReadFileContents("/proc/self/exe");
  ASSERT_FALSE(self.empty());
  EXPECT_EQ(InMountChild([&] {
              REQUIRE(1, mount("none", d.c_str(), "tmpfs", MS_NOEXEC, nullptr) == 0);
              const std::string exe = d + "/prog";
              int fd = open(exe.c_str(), O_CREAT | O_WRONLY, 0755);
              REQUIRE(2, fd >= 0);
              REQUIRE(3, write(fd, self.data(), self.size()) ==
                             static_cast<ssize_t>(self.size()));
              close(fd);
              char* const argv[] = {const_cast<char*>(exe.c_str()),
                                    const_cast<char*>("--gtest_list_tests"),
                                    nullptr};
              execv(exe.c_str(), argv);
              REQUIRE(4, errno == EACCES);
              REQUIRE(5, MountInfoLine(d).find("noexec") != std::string::npos);
              REQUIRE(6, umount2(d.c_str(), 0) == 0);
              return 0;
            }),
            0);
}

TEST(MountPermissionTest, NeedsCapSysAdmin) {
  TempDir dir;
  EXPECT_EQ(InChild([&] {
              if (HasEffectiveCap(CAP_SYS_ADMIN))
                REQUIRE(1, DropEffectiveCap(CAP_SYS_ADMIN));
              REQUIRE(2, mount("none", dir.path().c_str(), "tmpfs", 0,
                               nullptr) != 0 &&
                             errno == EPERM);
              REQUIRE(3, mount("none", (dir / "missing").c_str(), "tmpfs", 0,
                               nullptr) != 0 &&
                             errno == ENOENT);
              REQUIRE(4, umount2(dir.path().c_str(), 0) != 0 && errno == EPERM);
              return 0;
            }),
            0);
}

TEST(ChrootTest, RootMovesAndDotDotStops) {
  if (!HasEffectiveCap(CAP_SYS_CHROOT)) GTEST_SKIP() << "needs CAP_SYS_CHROOT";
  TempDir dir;
  ASSERT_THAT(mkdir((dir / "sub").c_str(), 0755), SyscallSucceeds());
  MakeFile(dir / "inside", "in");
  EXPECT_EQ(InChild([&] {
              REQUIRE(1, chdir("/") == 0);
              REQUIRE(2, chroot(dir.path().c_str()) == 0);
              // The cwd is still the old "/", outside the new root.
              char buf[4096];
              REQUIRE(3, getcwd(buf, sizeof buf) == nullptr || 
                             std::string(buf).starts_with("(unreachable)"));
              REQUIRE(4, chdir("/") == 0);
              REQUIRE(5, getcwd(buf, sizeof buf) != nullptr &&
                             std::string(buf) == "/");
              REQUIRE(6, ReadFileContents("/inside") == "in");
              REQUIRE(7, ReadFileContents("/../../inside") == "in");
              REQUIRE(8, chdir("/sub") == 0);
              REQUIRE(9, getcwd(buf, sizeof buf) != nullptr &&
                             std::string(buf) == "/sub");
              REQUIRE(10, ReadFileContents("../inside") == "in");
              REQUIRE(11, symlink("/inside", "/sub/abs") == 0);
              REQUIRE(12, ReadFileContents("/sub/abs") == "in");
              REQUIRE(13, chroot("/missing") != 0 && errno == ENOENT);
              REQUIRE(14, chroot("/inside") != 0 && errno == ENOTDIR);
              return 0;
            }),
            0);
}

TEST(ChrootTest, NeedsCapSysChroot) {
  TempDir dir;
  EXPECT_EQ(InChild([&] {
              if (HasEffectiveCap(CAP_SYS_CHROOT))
                REQUIRE(1, DropEffectiveCap(CAP_SYS_CHROOT));
              REQUIRE(2, chroot(dir.path().c_str()) != 0 && errno == EPERM);
              return 0;
            }),
            0);
}

}  // namespace
}  // namespace syscall_test
