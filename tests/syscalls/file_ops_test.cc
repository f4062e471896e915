// Names and attributes in a fresh directory under /tmp: mkdir/rmdir,
// unlink, link, symlink, rename(at2), mknod, chmod/chown, umask, the
// utime family, truncate/ftruncate, fallocate, fsync.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <unistd.h>
#include <utime.h>

#include <string>

#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

bool IsRoot() { return geteuid() == 0; }

class FileOpsTest : public ::testing::Test {
 protected:
  std::string P(const std::string& name) const { return dir_ / name; }
  const char* C(const std::string& name) {
    last_ = P(name);
    return last_.c_str();
  }
  TempDir dir_;
  std::string last_;
};

TEST_F(FileOpsTest, MkdirAppliesUmaskAndRmdirChecksContents) {
  ScopedUmask mask(022);
  ASSERT_THAT(syscall(SYS_mkdir, C("d"), 0777), SyscallSucceeds());
  EXPECT_EQ(Lstat(P("d")).st_mode, S_IFDIR | 0755u);
  EXPECT_THAT(mkdir(C("d"), 0755), SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(mkdir(C("d/."), 0755), SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(mkdir(C("no/d"), 0755), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(mkdir(C("e/"), 0700), SyscallSucceeds());  // trailing slash
  FileDescriptor dfd(open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(mkdirat(dfd.get(), "d/sub", 0700), SyscallSucceeds());
  EXPECT_EQ(Lstat(P("d")).st_nlink, 3u);
  EXPECT_THAT(syscall(SYS_rmdir, C("d")), SyscallFailsWithErrno(ENOTEMPTY));
  EXPECT_THAT(rmdir(C("d/sub/.")), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(rmdir(C("d/sub/..")), SyscallFailsWithErrno(ENOTEMPTY));
  EXPECT_THAT(rmdir(C("d/sub")), SyscallSucceeds());
  EXPECT_THAT(rmdir(C("d/")), SyscallSucceeds());
  EXPECT_THAT(rmdir(C("d")), SyscallFailsWithErrno(ENOENT));
  MakeFile(P("f"));
  EXPECT_THAT(rmdir(C("f")), SyscallFailsWithErrno(ENOTDIR));
}

TEST_F(FileOpsTest, UnlinkRemovesNamesNotDirectories) {
  MakeFile(P("f"));
  ASSERT_THAT(mkdir(C("d"), 0755), SyscallSucceeds());
  EXPECT_THAT(syscall(SYS_unlink, C("d")), SyscallFailsWithErrno(EISDIR));
  EXPECT_THAT(unlink(C("f/")), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(unlink(C("missing")), SyscallFailsWithErrno(ENOENT));
  FileDescriptor dfd(open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY));
  EXPECT_THAT(unlinkat(dfd.get(), "f", 0x1000), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(unlinkat(dfd.get(), "f", AT_REMOVEDIR),
              SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(unlinkat(dfd.get(), "f", 0), SyscallSucceeds());
  EXPECT_THAT(unlinkat(dfd.get(), "d", AT_REMOVEDIR), SyscallSucceeds());
  EXPECT_THAT(access(C("f"), F_OK), SyscallFailsWithErrno(ENOENT));
}

TEST_F(FileOpsTest, HardLinksShareTheInode) {
  MakeFile(P("f"), "data");
  ASSERT_THAT(syscall(SYS_link, C("f"), P("g").c_str()), SyscallSucceeds());
  struct stat f = Lstat(P("f")), g = Lstat(P("g"));
  EXPECT_EQ(f.st_ino, g.st_ino);
  EXPECT_EQ(f.st_nlink, 2u);
  EXPECT_THAT(link(C("f"), P("g").c_str()), SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(link(C("missing"), P("h").c_str()),
              SyscallFailsWithErrno(ENOENT));
  ASSERT_THAT(mkdir(C("d"), 0755), SyscallSucceeds());
  EXPECT_THAT(link(C("d"), P("d2").c_str()), SyscallFailsWithErrno(EPERM));
  // linkat links a symlink itself unless told to follow it.
  ASSERT_THAT(symlink("f", C("l")), SyscallSucceeds());
  ASSERT_THAT(linkat(AT_FDCWD, C("l"), AT_FDCWD, P("l2").c_str(), 0),
              SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(Lstat(P("l2")).st_mode));
  ASSERT_THAT(
      linkat(AT_FDCWD, C("l"), AT_FDCWD, P("f3").c_str(), AT_SYMLINK_FOLLOW),
      SyscallSucceeds());
  EXPECT_EQ(Lstat(P("f3")).st_ino, f.st_ino);
  EXPECT_EQ(Lstat(P("f")).st_nlink, 3u);
  EXPECT_THAT(linkat(AT_FDCWD, C("f"), AT_FDCWD, P("x").c_str(), 0x8000),
              SyscallFailsWithErrno(EINVAL));
  ASSERT_THAT(unlink(C("f")), SyscallSucceeds());
  EXPECT_EQ(Lstat(P("g")).st_nlink, 2u);
}

TEST_F(FileOpsTest, SymlinksStoreTheirTarget) {
  ASSERT_THAT(syscall(SYS_symlink, "no/such/target", C("dangling")),
              SyscallSucceeds());
  struct stat st = Lstat(P("dangling"));
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(st.st_size, 14);
  char buf[64] = {};
  EXPECT_THAT(readlink(C("dangling"), buf, sizeof buf),
              SyscallSucceedsWithValue(14));
  EXPECT_STREQ(buf, "no/such/target");
  EXPECT_THAT(symlink("x", C("dangling")), SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(symlink("", C("empty")), SyscallFailsWithErrno(ENOENT));
  FileDescriptor dfd(open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(symlinkat(".", dfd.get(), "self"), SyscallSucceeds());
  EXPECT_TRUE(S_ISDIR(Lstat(P("self/self/.")).st_mode));
  // O_CREAT through a dangling link creates its target.
  ASSERT_THAT(symlink("made", C("to_made")), SyscallSucceeds());
  FileDescriptor fd(open(C("to_made"), O_CREAT | O_WRONLY, 0600));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(Lstat(P("made")).st_mode));
}

TEST_F(FileOpsTest, RenameReplacesAndRefusesLoops) {
  MakeFile(P("a"), "A");
  MakeFile(P("b"), "B");
  ASSERT_THAT(syscall(SYS_rename, C("a"), P("b").c_str()), SyscallSucceeds());
  EXPECT_THAT(access(C("a"), F_OK), SyscallFailsWithErrno(ENOENT));
  EXPECT_EQ(ReadFileContents(C("b")), "A");
  ASSERT_THAT(mkdir(C("d"), 0755), SyscallSucceeds());
  ASSERT_THAT(mkdir(C("d/sub"), 0755), SyscallSucceeds());
  ASSERT_THAT(mkdir(C("empty"), 0755), SyscallSucceeds());
  EXPECT_THAT(rename(C("d"), P("d/sub/x").c_str()),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(rename(C("d/sub"), P("d").c_str()),
              SyscallFailsWithErrno(ENOTEMPTY));
  EXPECT_THAT(rename(C("b"), P("d").c_str()), SyscallFailsWithErrno(EISDIR));
  EXPECT_THAT(rename(C("d"), P("b").c_str()), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(rename(C("b/"), P("c").c_str()), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(rename(C("missing"), P("c").c_str()),
              SyscallFailsWithErrno(ENOENT));
  // An empty directory can be replaced; the moved one keeps its contents.
  ASSERT_THAT(renameat(AT_FDCWD, C("d"), AT_FDCWD, P("empty").c_str()),
              SyscallSucceeds());
  EXPECT_TRUE(S_ISDIR(Lstat(P("empty/sub")).st_mode));
  // Two names of one file: nothing happens.
  ASSERT_THAT(link(C("b"), P("b2").c_str()), SyscallSucceeds());
  ASSERT_THAT(rename(C("b"), P("b2").c_str()), SyscallSucceeds());
  EXPECT_EQ(Lstat(P("b")).st_nlink, 2u);
}

TEST_F(FileOpsTest, Renameat2NoReplaceAndExchange) {
  MakeFile(P("a"), "A");
  MakeFile(P("b"), "B");
  ASSERT_THAT(mkdir(C("d"), 0755), SyscallSucceeds());
  EXPECT_THAT(
      renameat2(AT_FDCWD, C("a"), AT_FDCWD, P("b").c_str(), RENAME_NOREPLACE),
      SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(renameat2(AT_FDCWD, C("a"), AT_FDCWD, P("b").c_str(),
                        RENAME_NOREPLACE | RENAME_EXCHANGE),
              SyscallFailsWithErrno(EINVAL));
  ASSERT_THAT(
      renameat2(AT_FDCWD, C("a"), AT_FDCWD, P("c").c_str(), RENAME_NOREPLACE),
      SyscallSucceeds());
  ASSERT_THAT(
      renameat2(AT_FDCWD, C("c"), AT_FDCWD, P("d").c_str(), RENAME_EXCHANGE),
      SyscallSucceeds());
  EXPECT_TRUE(S_ISDIR(Lstat(P("c")).st_mode));
  EXPECT_EQ(ReadFileContents(C("d")), "A");
  EXPECT_THAT(
      renameat2(AT_FDCWD, C("d"), AT_FDCWD, P("nope").c_str(), RENAME_EXCHANGE),
      SyscallFailsWithErrno(ENOENT));
}

TEST_F(FileOpsTest, MknodMakesRegularFilesOnly) {
  ScopedUmask mask(0);
  ASSERT_THAT(syscall(SYS_mknod, C("r"), S_IFREG | 0640, 0), SyscallSucceeds());
  EXPECT_EQ(Lstat(P("r")).st_mode, S_IFREG | 0640u);
  ASSERT_THAT(mknodat(AT_FDCWD, C("r0"), 0600, 0), SyscallSucceeds());
  EXPECT_EQ(Lstat(P("r0")).st_mode, S_IFREG | 0600u);
  EXPECT_THAT(mknod(C("r"), S_IFREG | 0600, 0), SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(mknod(C("d"), S_IFDIR | 0700, 0), SyscallFailsWithErrno(EPERM));
  if (!IsRoot()) {
    EXPECT_THAT(mknod(C("c"), S_IFCHR | 0600, makedev(1, 3)),
                SyscallFailsWithErrno(EPERM));
  }
  // FIFOs need no privilege (fifo_test.cc covers them).
  ASSERT_THAT(mknod(C("p"), S_IFIFO | 0600, 0), SyscallSucceeds());
  EXPECT_TRUE(S_ISFIFO(Lstat(P("p")).st_mode));
}

TEST_F(FileOpsTest, ChmodFamily) {
  MakeFile(P("f"), "", 0600);
  ASSERT_THAT(syscall(SYS_chmod, C("f"), 0751), SyscallSucceeds());
  EXPECT_EQ(Lstat(P("f")).st_mode & 07777, 0751u);
  FileDescriptor fd(open(C("f"), O_RDONLY));
  ASSERT_THAT(fchmod(fd.get(), 0640), SyscallSucceeds());
  EXPECT_EQ(Lstat(P("f")).st_mode & 07777, 0640u);
  FileDescriptor dfd(open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(syscall(SYS_fchmodat, dfd.get(), "f", 01604), SyscallSucceeds());
  EXPECT_EQ(Lstat(P("f")).st_mode & 07777, 01604u);
  FileDescriptor path_fd(open(C("f"), O_PATH));
  EXPECT_THAT(fchmod(path_fd.get(), 0600), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(chmod(C("missing"), 0600), SyscallFailsWithErrno(ENOENT));
  // chmod follows symlinks.
  ASSERT_THAT(symlink("f", C("l")), SyscallSucceeds());
  ASSERT_THAT(chmod(C("l"), 0644), SyscallSucceeds());
  EXPECT_EQ(Lstat(P("f")).st_mode & 07777, 0644u);
}

TEST_F(FileOpsTest, ChownFamily) {
  MakeFile(P("f"));
  ASSERT_THAT(symlink("f", C("l")), SyscallSucceeds());
  const uid_t me = geteuid();
  const gid_t my_group = getegid();
  // Keeping the owner and one's own group is always allowed.
  EXPECT_THAT(syscall(SYS_chown, C("f"), me, my_group), SyscallSucceeds());
  EXPECT_THAT(chown(C("f"), -1, -1), SyscallSucceeds());
  if (!IsRoot()) {
    EXPECT_THAT(chown(C("f"), 0, -1), SyscallFailsWithErrno(EPERM));
    EXPECT_THAT(chown(C("f"), -1, 0), SyscallFailsWithErrno(EPERM));
    return;
  }
  ASSERT_THAT(syscall(SYS_lchown, C("l"), 1234, 5678), SyscallSucceeds());
  EXPECT_EQ(Lstat(P("l")).st_uid, 1234u);
  EXPECT_EQ(Lstat(P("f")).st_uid, me);
  FileDescriptor fd(open(C("f"), O_RDONLY));
  ASSERT_THAT(fchown(fd.get(), 42, 43), SyscallSucceeds());
  EXPECT_EQ(Lstat(P("f")).st_gid, 43u);
  ASSERT_THAT(fchownat(AT_FDCWD, C("l"), 7, -1, 0), SyscallSucceeds());
  EXPECT_EQ(Lstat(P("f")).st_uid, 7u);
  EXPECT_EQ(Lstat(P("f")).st_gid, 43u);
  FileDescriptor path_fd(open(C("f"), O_PATH));
  ASSERT_THAT(fchownat(path_fd.get(), "", 8, 9, AT_EMPTY_PATH),
              SyscallSucceeds());
  EXPECT_EQ(Lstat(P("f")).st_uid, 8u);
  EXPECT_THAT(fchownat(AT_FDCWD, C("f"), 1, 1, 0x4),
              SyscallFailsWithErrno(EINVAL));
  // Giving a program away drops its set-user-ID bit.
  ASSERT_THAT(chmod(C("f"), 04755), SyscallSucceeds());
  ASSERT_THAT(chown(C("f"), 10, 10), SyscallSucceeds());
  EXPECT_EQ(Lstat(P("f")).st_mode & 07777, 0755u);
}

TEST_F(FileOpsTest, UmaskReturnsThePreviousMask) {
  const mode_t old = umask(027);
  EXPECT_EQ(syscall(SYS_umask, 0777 | 01000), 027);
  EXPECT_EQ(umask(027), 0777);
  FileDescriptor fd(open(C("f"), O_CREAT | O_WRONLY, 0777));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_EQ(Lstat(P("f")).st_mode & 0777, 0750u);
  umask(old);
}

TEST_F(FileOpsTest, UtimensatSetsOmitsAndNows) {
  MakeFile(P("f"));
  const timespec times[2] = {{1000, 5}, {2000, 6}};
  ASSERT_THAT(utimensat(AT_FDCWD, C("f"), times, 0), SyscallSucceeds());
  struct stat st = Lstat(P("f"));
  EXPECT_EQ(st.st_atim.tv_sec, 1000);
  EXPECT_EQ(st.st_atim.tv_nsec, 5);
  EXPECT_EQ(st.st_mtim.tv_sec, 2000);
  const timespec omit_now[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
  ASSERT_THAT(utimensat(AT_FDCWD, C("f"), omit_now, 0), SyscallSucceeds());
  st = Lstat(P("f"));
  EXPECT_EQ(st.st_atim.tv_sec, 1000);
  EXPECT_GT(st.st_mtim.tv_sec, 2000);
  // Both omitted: success without even looking at the path.
  const timespec omit[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
  EXPECT_THAT(utimensat(AT_FDCWD, C("missing"), omit, 0), SyscallSucceeds());
  const timespec bad[2] = {{0, 1'000'000'000}, {0, 0}};
  EXPECT_THAT(utimensat(AT_FDCWD, C("f"), bad, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(utimensat(AT_FDCWD, C("f"), times, 0x1),
              SyscallFailsWithErrno(EINVAL));
  // futimens is utimensat(fd, NULL, ...).
  FileDescriptor fd(open(C("f"), O_RDONLY));
  ASSERT_THAT(futimens(fd.get(), times), SyscallSucceeds());
  EXPECT_EQ(Lstat(P("f")).st_mtim.tv_sec, 2000);
  // AT_SYMLINK_NOFOLLOW changes the link, not its target.
  ASSERT_THAT(symlink("f", C("l")), SyscallSucceeds());
  const timespec old[2] = {{10, 0}, {20, 0}};
  ASSERT_THAT(utimensat(AT_FDCWD, C("l"), old, AT_SYMLINK_NOFOLLOW),
              SyscallSucceeds());
  EXPECT_EQ(Lstat(P("l")).st_mtim.tv_sec, 20);
  EXPECT_EQ(Lstat(P("f")).st_mtim.tv_sec, 2000);
  ASSERT_THAT(utimensat(AT_FDCWD, C("l"), nullptr, 0), SyscallSucceeds());
  EXPECT_GT(Lstat(P("f")).st_mtim.tv_sec, 2000);
}

TEST_F(FileOpsTest, MicrosecondAndSecondTimes) {
  MakeFile(P("f"));
  const timeval tv[2] = {{300, 7}, {400, 8}};
  ASSERT_THAT(syscall(SYS_utimes, C("f"), tv), SyscallSucceeds());
  struct stat st = Lstat(P("f"));
  EXPECT_EQ(st.st_atim.tv_nsec, 7000);
  EXPECT_EQ(st.st_mtim.tv_sec, 400);
  FileDescriptor dfd(open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY));
  const timeval tv2[2] = {{500, 0}, {600, 0}};
  ASSERT_THAT(syscall(SYS_futimesat, dfd.get(), "f", tv2), SyscallSucceeds());
  EXPECT_EQ(Lstat(P("f")).st_mtim.tv_sec, 600);
  const timeval bad[2] = {{0, 1'000'000}, {0, 0}};
  EXPECT_THAT(syscall(SYS_utimes, C("f"), bad), SyscallFailsWithErrno(EINVAL));
  const utimbuf ub = {700, 800};
  ASSERT_THAT(syscall(SYS_utime, C("f"), &ub), SyscallSucceeds());
  EXPECT_EQ(Lstat(P("f")).st_atim.tv_sec, 700);
  EXPECT_EQ(Lstat(P("f")).st_mtim.tv_sec, 800);
  ASSERT_THAT(syscall(SYS_utime, C("f"), nullptr), SyscallSucceeds());
  EXPECT_GT(Lstat(P("f")).st_mtim.tv_sec, 800);
}

TEST_F(FileOpsTest, TruncateAndFtruncate) {
  MakeFile(P("f"), "0123456789");
  ASSERT_THAT(syscall(SYS_truncate, C("f"), 4), SyscallSucceeds());
  EXPECT_EQ(ReadFileContents(C("f")), "0123");
  ASSERT_THAT(truncate(C("f"), 6), SyscallSucceeds());
  EXPECT_EQ(ReadFileContents(C("f")), std::string("0123\0\0", 6));
  EXPECT_THAT(truncate(C("f"), -1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(truncate(dir_.path().c_str(), 0), SyscallFailsWithErrno(EISDIR));
  FileDescriptor rw(open(C("f"), O_RDWR));
  ASSERT_THAT(ftruncate(rw.get(), 2), SyscallSucceeds());
  EXPECT_EQ(Lstat(P("f")).st_size, 2);
  FileDescriptor ro(open(C("f"), O_RDONLY));
  EXPECT_THAT(ftruncate(ro.get(), 0), SyscallFailsWithErrno(EINVAL));
  FileDescriptor dir(open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY));
  EXPECT_THAT(ftruncate(dir.get(), 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(ftruncate(rw.get(), -1), SyscallFailsWithErrno(EINVAL));
  // truncate(2) needs write permission on the file (root has it anyway).
  ASSERT_THAT(chmod(C("f"), 0444), SyscallSucceeds());
  if (IsRoot()) {
    EXPECT_THAT(truncate(C("f"), 0), SyscallSucceeds());
  } else {
    EXPECT_THAT(truncate(C("f"), 0), SyscallFailsWithErrno(EACCES));
  }
}

TEST_F(FileOpsTest, FallocateAndSync) {
  FileDescriptor fd(open(C("f"), O_CREAT | O_RDWR, 0644));
  ASSERT_THAT(fallocate(fd.get(), 0, 0, 10000), SyscallSucceeds());
  EXPECT_EQ(Lstat(P("f")).st_size, 10000);
  EXPECT_GE(Lstat(P("f")).st_blocks, 10000 / 512);
  ASSERT_THAT(fallocate(fd.get(), 0, 100, 10), SyscallSucceeds());
  EXPECT_EQ(Lstat(P("f")).st_size, 10000);  // never shrinks
  EXPECT_THAT(fallocate(fd.get(), 0, 0, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(fallocate(fd.get(), 0, -1, 10), SyscallFailsWithErrno(EINVAL));
  FileDescriptor ro(open(C("f"), O_RDONLY));
  EXPECT_THAT(fallocate(ro.get(), 0, 0, 10), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fsync(fd.get()), SyscallSucceeds());
  EXPECT_THAT(fdatasync(ro.get()), SyscallSucceeds());
  FileDescriptor dir(open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY));
  EXPECT_THAT(fsync(dir.get()), SyscallSucceeds());
  FileDescriptor null(open("/dev/null", O_WRONLY));
  EXPECT_THAT(fsync(null.get()), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(fsync(-1), SyscallFailsWithErrno(EBADF));
}

TEST_F(FileOpsTest, WritePermissionOnTheParent) {
  ASSERT_THAT(mkdir(C("ro"), 0755), SyscallSucceeds());
  MakeFile(P("ro/f"));
  ASSERT_THAT(chmod(C("ro"), 0555), SyscallSucceeds());
  const int want = IsRoot() ? 0 : EACCES;
  auto expect = [&](long r) {
    if (want == 0) {
      EXPECT_THAT(r, SyscallSucceeds());
    } else {
      EXPECT_THAT(r, SyscallFailsWithErrno(want));
    }
  };
  expect(mkdir(C("ro/d"), 0755));
  expect(symlink("x", C("ro/l")));
  expect(rename(C("ro/f"), P("ro/g").c_str()));
  expect(unlink(IsRoot() ? C("ro/g") : C("ro/f")));
  FileDescriptor fd(open(C("ro/new"), O_CREAT | O_WRONLY, 0644));
  expect(fd.get());
}

}  // namespace
}  // namespace syscall_test
