// The generic file ioctls and syncfs: FIONREAD on regular files (size -
// offset, negative past the end) and pipes, FIOASYNC on a file without
// SIGIO support, FS_IOC_GETFLAGS/SETFLAGS on tmpfs files and directories
// (NODUMP, NOATIME; unsupported flags EOPNOTSUPP; the owner only) and
// ENOTTY elsewhere; syncfs's EBADF rules.
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "ipc_util.h"
#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

TEST(FileIoctl, FionreadRegularFile) {
  TempDir dir("/dev/shm");
  MakeFile(dir / "f", "hello world");
  FileDescriptor fd(open((dir / "f").c_str(), O_RDONLY));
  ASSERT_GE(fd.get(), 0);
  int n = -1;
  ASSERT_THAT(ioctl(fd.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 11);
  ASSERT_THAT(lseek(fd.get(), 6, SEEK_SET), SyscallSucceeds());
  ASSERT_THAT(ioctl(fd.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 5);
  // Past the end: negative, as Linux's i_size - f_pos.
  ASSERT_THAT(lseek(fd.get(), 20, SEEK_SET), SyscallSucceeds());
  ASSERT_THAT(ioctl(fd.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, -9);
  EXPECT_THAT(ioctl(fd.get(), FIONREAD, BadAddress()),
              SyscallFailsWithErrno(EFAULT));
  // A file of the root filesystem too.
  FileDescriptor os(open("/proc/self/exe", O_RDONLY));
  ASSERT_GE(os.get(), 0);
  struct stat st;
  ASSERT_THAT(fstat(os.get(), &st), SyscallSucceeds());
  ASSERT_THAT(ioctl(os.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, static_cast<int>(st.st_size));
}

TEST(FileIoctl, FionreadPipeDirectoryAndOPath) {
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  FileDescriptor r(fds[0]), w(fds[1]);
  ASSERT_THAT(write(w.get(), "abc", 3), SyscallSucceeds());
  int n = -1;
  ASSERT_THAT(ioctl(r.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 3);
  TempDir dir("/dev/shm");
  FileDescriptor d(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_GE(d.get(), 0);
  EXPECT_THAT(ioctl(d.get(), FIONREAD, &n), SyscallFailsWithErrno(ENOTTY));
  FileDescriptor p(open(dir.path().c_str(), O_PATH));
  ASSERT_GE(p.get(), 0);
  EXPECT_THAT(ioctl(p.get(), FIONREAD, &n), SyscallFailsWithErrno(EBADF));
}

TEST(FileIoctl, FioasyncOnARegularFile) {
  TempDir dir("/dev/shm");
  MakeFile(dir / "f");
  FileDescriptor fd(open((dir / "f").c_str(), O_RDWR));
  ASSERT_GE(fd.get(), 0);
  // Turning it off when off is a no-op; a file without ->fasync cannot
  // turn it on.
  int off = 0, on = 1;
  EXPECT_THAT(ioctl(fd.get(), FIOASYNC, &off), SyscallSucceeds());
  EXPECT_THAT(ioctl(fd.get(), FIOASYNC, &on), SyscallFailsWithErrno(ENOTTY));
  EXPECT_FALSE(fcntl(fd.get(), F_GETFL) & O_ASYNC);
  EXPECT_THAT(ioctl(fd.get(), FIOASYNC, BadAddress()),
              SyscallFailsWithErrno(EFAULT));
}

TEST(FileIoctl, TmpfsFlags) {
  TempDir dir("/dev/shm");
  MakeFile(dir / "f");
  FileDescriptor fd(open((dir / "f").c_str(), O_RDONLY));
  ASSERT_GE(fd.get(), 0);
  int flags = -1;
  ASSERT_THAT(ioctl(fd.get(), FS_IOC_GETFLAGS, &flags), SyscallSucceeds());
  EXPECT_EQ(flags, 0);
  for (int set : {FS_NODUMP_FL, FS_NOATIME_FL, FS_NODUMP_FL | FS_NOATIME_FL,
                  0}) {
    ASSERT_THAT(ioctl(fd.get(), FS_IOC_SETFLAGS, &set), SyscallSucceeds());
    ASSERT_THAT(ioctl(fd.get(), FS_IOC_GETFLAGS, &flags), SyscallSucceeds());
    EXPECT_EQ(flags, set);
  }
  // Flags tmpfs does not keep.
  for (int bad : {FS_SYNC_FL, FS_COMPR_FL, FS_DIRSYNC_FL}) {
    EXPECT_THAT(ioctl(fd.get(), FS_IOC_SETFLAGS, &bad),
                SyscallFailsWithErrno(EOPNOTSUPP));
  }
  ASSERT_THAT(ioctl(fd.get(), FS_IOC_GETFLAGS, &flags), SyscallSucceeds());
  EXPECT_EQ(flags, 0);
  // Directories have flags too.
  FileDescriptor d(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_GE(d.get(), 0);
  ASSERT_THAT(ioctl(d.get(), FS_IOC_GETFLAGS, &flags), SyscallSucceeds());
  EXPECT_EQ(flags, 0);
  EXPECT_THAT(ioctl(d.get(), FS_IOC_GETFLAGS, BadAddress()),
              SyscallFailsWithErrno(EFAULT));
}

TEST(FileIoctl, NoatimeFlagStopsAtimeUpdates) {
  TempDir dir("/dev/shm");
  MakeFile(dir / "f", "data");
  FileDescriptor fd(open((dir / "f").c_str(), O_RDONLY));
  ASSERT_GE(fd.get(), 0);
  int set = FS_NOATIME_FL;
  ASSERT_THAT(ioctl(fd.get(), FS_IOC_SETFLAGS, &set), SyscallSucceeds());
  // An old atime would move on the next read (relatime), but not now.
  struct timespec times[2] = {{1000, 0}, {UTIME_OMIT, UTIME_OMIT}};
  ASSERT_THAT(futimens(fd.get(), times), SyscallSucceeds());
  char buf[4];
  ASSERT_THAT(read(fd.get(), buf, sizeof(buf)), SyscallSucceeds());
  EXPECT_EQ(Lstat(dir / "f").st_atime, 1000);
}

TEST(FileIoctl, SetflagsOnlyByTheOwner) {
  TempDir dir("/dev/shm");
  MakeFile(dir / "f");
  ASSERT_THAT(chmod((dir / "f").c_str(), 0666), SyscallSucceeds());
  ASSERT_THAT(chmod(dir.path().c_str(), 0755), SyscallSucceeds());
  if (geteuid() != 0) GTEST_SKIP() << "needs a file of another user";
  const std::string path = dir / "f";
  const int status = AsNobody([&] {
    const int fd = open(path.c_str(), O_RDWR);
    if (fd < 0) return 1;
    int flags = -1;
    if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0 || flags != 0) return 2;
    flags = FS_NODUMP_FL;
    if (ioctl(fd, FS_IOC_SETFLAGS, &flags) != -1 || errno != EPERM) return 3;
    return 0;
  });
  EXPECT_EXIT_OK(status);
}

TEST(FileIoctl, FlagsEnottyElsewhere) {
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  FileDescriptor r(fds[0]), w(fds[1]);
  int flags;
  EXPECT_THAT(ioctl(r.get(), FS_IOC_GETFLAGS, &flags),
              SyscallFailsWithErrno(ENOTTY));
  FileDescriptor proc(open("/proc/self/stat", O_RDONLY));
  ASSERT_GE(proc.get(), 0);
  EXPECT_THAT(ioctl(proc.get(), FS_IOC_GETFLAGS, &flags),
              SyscallFailsWithErrno(ENOTTY));
  FileDescriptor path(open("/dev/shm", O_PATH));
  ASSERT_GE(path.get(), 0);
  EXPECT_THAT(ioctl(path.get(), FS_IOC_GETFLAGS, &flags),
              SyscallFailsWithErrno(EBADF));
}

TEST(Syncfs, Rules) {
  TempDir dir("/dev/shm");
  MakeFile(dir / "f");
  FileDescriptor fd(open((dir / "f").c_str(), O_RDONLY));
  ASSERT_GE(fd.get(), 0);
  EXPECT_THAT(syncfs(fd.get()), SyscallSucceeds());
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  FileDescriptor r(fds[0]), w(fds[1]);
  EXPECT_THAT(syncfs(r.get()), SyscallSucceeds());
  FileDescriptor root(open("/", O_RDONLY | O_DIRECTORY));
  ASSERT_GE(root.get(), 0);
  EXPECT_THAT(syncfs(root.get()), SyscallSucceeds());
  EXPECT_THAT(syncfs(-1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(syncfs(1 << 20), SyscallFailsWithErrno(EBADF));
  FileDescriptor path(open((dir / "f").c_str(), O_PATH));
  ASSERT_GE(path.get(), 0);
  EXPECT_THAT(syncfs(path.get()), SyscallFailsWithErrno(EBADF));
}

}  // namespace
}  // namespace syscall_test
