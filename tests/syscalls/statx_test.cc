// statx beyond stat: btime on tmpfs (kept across writes, only when asked),
// stx_mask, the sync flags, attributes and attributes_mask as Linux's
// tmpfs and VFS report them (MOUNT_ROOT, NODUMP), stx_mnt_id against
// /proc/self/fdinfo, AT_EMPTY_PATH and AT_SYMLINK_NOFOLLOW.
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

long RawStatx(int dirfd, const char* path, int flags, unsigned mask,
              struct statx* stx) {
  return syscall(SYS_statx, dirfd, path, flags, mask, stx);
}

// The attribute bits Linux's VFS reports for any file.
constexpr uint64_t kGenericMask =
    STATX_ATTR_MOUNT_ROOT | STATX_ATTR_AUTOMOUNT | STATX_ATTR_DAX;
// What tmpfs adds (shmem_getattr).
constexpr uint64_t kTmpfsMask =
    STATX_ATTR_IMMUTABLE | STATX_ATTR_APPEND | STATX_ATTR_NODUMP;

bool NotAfter(const statx_timestamp& a, const timespec& b) {
  return a.tv_sec < b.tv_sec ||
         (a.tv_sec == b.tv_sec && a.tv_nsec <= static_cast<uint32_t>(b.tv_nsec));
}

TEST(StatxExtra, TmpfsBirthTime) {
  TempDir dir("/dev/shm");
  timespec before;
  ASSERT_THAT(clock_gettime(CLOCK_REALTIME, &before), SyscallSucceeds());
  const std::string f = dir / "f";
  MakeFile(f, "x");
  timespec after;
  ASSERT_THAT(clock_gettime(CLOCK_REALTIME, &after), SyscallSucceeds());
  struct statx stx{};
  ASSERT_THAT(RawStatx(AT_FDCWD, f.c_str(), 0, STATX_BTIME, &stx),
              SyscallSucceeds());
  ASSERT_TRUE(stx.stx_mask & STATX_BTIME);
  // Coarse clocks may lag by a tick: compare seconds.
  EXPECT_GE(stx.stx_btime.tv_sec, before.tv_sec - 1);
  EXPECT_LE(stx.stx_btime.tv_sec, after.tv_sec);
  const statx_timestamp btime = stx.stx_btime;

  // Writes, chmod and renames move mtime/ctime, never btime.
  {
    FileDescriptor fd(open(f.c_str(), O_WRONLY | O_APPEND));
    ASSERT_GE(fd.get(), 0);
    ASSERT_THAT(write(fd.get(), "y", 1), SyscallSucceeds());
  }
  ASSERT_THAT(chmod(f.c_str(), 0600), SyscallSucceeds());
  ASSERT_THAT(rename(f.c_str(), (dir / "g").c_str()), SyscallSucceeds());
  ASSERT_THAT(RawStatx(AT_FDCWD, (dir / "g").c_str(), 0,
                       STATX_BTIME | STATX_BASIC_STATS, &stx),
              SyscallSucceeds());
  ASSERT_TRUE(stx.stx_mask & STATX_BTIME);
  EXPECT_EQ(stx.stx_btime.tv_sec, btime.tv_sec);
  EXPECT_EQ(stx.stx_btime.tv_nsec, btime.tv_nsec);
  EXPECT_TRUE(NotAfter(stx.stx_btime, {stx.stx_ctime.tv_sec,
                                        static_cast<long>(stx.stx_ctime.tv_nsec)}));

  // A directory has one too.
  ASSERT_THAT(RawStatx(AT_FDCWD, dir.path().c_str(), 0, STATX_BTIME, &stx),
              SyscallSucceeds());
  EXPECT_TRUE(stx.stx_mask & STATX_BTIME);
}

TEST(StatxExtra, MaskReportsWhatIsFilled) {
  TempDir dir("/dev/shm");
  MakeFile(dir / "f");
  struct statx stx{};
  ASSERT_THAT(RawStatx(AT_FDCWD, (dir / "f").c_str(), 0, STATX_BASIC_STATS,
                       &stx),
              SyscallSucceeds());
  EXPECT_EQ(stx.stx_mask & STATX_BASIC_STATS, STATX_BASIC_STATS);
  // tmpfs reports btime only when asked.
  EXPECT_FALSE(stx.stx_mask & STATX_BTIME);
  // The mount id comes whatever was asked.
  EXPECT_TRUE(stx.stx_mask & STATX_MNT_ID);
  // A mask of 0 still gets the type, mode, ids, size...
  ASSERT_THAT(RawStatx(AT_FDCWD, (dir / "f").c_str(), 0, 0, &stx),
              SyscallSucceeds());
  constexpr unsigned kAlways = STATX_TYPE | STATX_MODE | STATX_NLINK |
                               STATX_UID | STATX_GID | STATX_INO |
                               STATX_SIZE | STATX_BLOCKS;
  EXPECT_EQ(stx.stx_mask & kAlways, kAlways);
  EXPECT_FALSE(stx.stx_mask & STATX_BTIME);
  // Unknown (not reserved) bits are ignored.
  ASSERT_THAT(RawStatx(AT_FDCWD, (dir / "f").c_str(), 0, 0x7f000000u, &stx),
              SyscallSucceeds());
}

TEST(StatxExtra, SyncFlagsAccepted) {
  TempDir dir("/dev/shm");
  MakeFile(dir / "f", "abc");
  for (int flags : {AT_STATX_SYNC_AS_STAT, AT_STATX_FORCE_SYNC,
                    AT_STATX_DONT_SYNC}) {
    struct statx stx{};
    ASSERT_THAT(RawStatx(AT_FDCWD, (dir / "f").c_str(), flags,
                         STATX_BASIC_STATS, &stx),
                SyscallSucceeds());
    EXPECT_EQ(stx.stx_size, 3u);
  }
}

TEST(StatxExtra, TmpfsAttributes) {
  TempDir dir("/dev/shm");
  const std::string f = dir / "f";
  MakeFile(f);
  struct statx stx{};
  ASSERT_THAT(RawStatx(AT_FDCWD, f.c_str(), 0, STATX_BASIC_STATS, &stx),
              SyscallSucceeds());
  EXPECT_EQ(stx.stx_attributes_mask & (kGenericMask | kTmpfsMask),
            kGenericMask | kTmpfsMask);
  EXPECT_EQ(stx.stx_attributes & kTmpfsMask, 0u);
  EXPECT_FALSE(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
  // chattr +d shows as STATX_ATTR_NODUMP.
  FileDescriptor fd(open(f.c_str(), O_RDONLY));
  ASSERT_GE(fd.get(), 0);
  int flags = FS_NODUMP_FL;
  ASSERT_THAT(ioctl(fd.get(), FS_IOC_SETFLAGS, &flags), SyscallSucceeds());
  ASSERT_THAT(RawStatx(fd.get(), "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx),
              SyscallSucceeds());
  EXPECT_EQ(stx.stx_attributes & kTmpfsMask, uint64_t{STATX_ATTR_NODUMP});
}

TEST(StatxExtra, MountRoot) {
  struct statx stx{};
  ASSERT_THAT(RawStatx(AT_FDCWD, "/dev/shm", 0, STATX_BASIC_STATS, &stx),
              SyscallSucceeds());
  EXPECT_TRUE(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
  ASSERT_THAT(RawStatx(AT_FDCWD, "/proc", 0, STATX_BASIC_STATS, &stx),
              SyscallSucceeds());
  EXPECT_TRUE(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
  EXPECT_TRUE(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT);
  ASSERT_THAT(RawStatx(AT_FDCWD, "/proc/self/stat", 0, STATX_BASIC_STATS, &stx),
              SyscallSucceeds());
  EXPECT_FALSE(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
  EXPECT_TRUE(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT);
}

// The mnt_id line of /proc/self/fdinfo/<fd>.
uint64_t FdinfoMountId(int fd) {
  std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
  std::string key;
  uint64_t value;
  while (in >> key) {
    if (key == "mnt_id:" && in >> value) return value;
  }
  ADD_FAILURE() << "no mnt_id in fdinfo";
  return 0;
}

TEST(StatxExtra, MountIdMatchesFdinfo) {
  TempDir dir("/dev/shm");
  MakeFile(dir / "f");
  for (const std::string& path :
       {dir / "f", std::string("/proc/self/stat"), std::string("/dev/null"),
        std::string("/")}) {
    SCOPED_TRACE(path);
    FileDescriptor fd(open(path.c_str(), O_RDONLY));
    ASSERT_GE(fd.get(), 0);
    struct statx by_path{}, by_fd{};
    ASSERT_THAT(RawStatx(AT_FDCWD, path.c_str(), 0, STATX_MNT_ID, &by_path),
                SyscallSucceeds());
    ASSERT_THAT(RawStatx(fd.get(), "", AT_EMPTY_PATH, STATX_MNT_ID, &by_fd),
                SyscallSucceeds());
    ASSERT_TRUE(by_path.stx_mask & STATX_MNT_ID);
    EXPECT_EQ(by_path.stx_mnt_id, by_fd.stx_mnt_id);
    EXPECT_EQ(by_fd.stx_mnt_id, FdinfoMountId(fd.get()));
  }
  // Two mounts, two ids.
  struct statx shm{}, proc{};
  ASSERT_THAT(RawStatx(AT_FDCWD, "/dev/shm", 0, STATX_MNT_ID, &shm),
              SyscallSucceeds());
  ASSERT_THAT(RawStatx(AT_FDCWD, "/proc", 0, STATX_MNT_ID, &proc),
              SyscallSucceeds());
  EXPECT_NE(shm.stx_mnt_id, proc.stx_mnt_id);
}

TEST(StatxExtra, EmptyPathAndNofollowOnTmpfs) {
  TempDir dir("/dev/shm");
  MakeFile(dir / "f", "hello");
  ASSERT_THAT(symlink("f", (dir / "l").c_str()), SyscallSucceeds());
  struct statx stx{};
  ASSERT_THAT(RawStatx(AT_FDCWD, (dir / "l").c_str(), AT_SYMLINK_NOFOLLOW,
                       STATX_BASIC_STATS | STATX_BTIME, &stx),
              SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(stx.stx_mode));
  EXPECT_EQ(stx.stx_size, 1u);  // "f"
  EXPECT_TRUE(stx.stx_mask & STATX_BTIME);
  const uint64_t link_ino = stx.stx_ino;
  ASSERT_THAT(RawStatx(AT_FDCWD, (dir / "l").c_str(), 0, STATX_BASIC_STATS,
                       &stx),
              SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(stx.stx_mode));
  EXPECT_EQ(stx.stx_size, 5u);
  EXPECT_NE(stx.stx_ino, link_ino);
  // AT_EMPTY_PATH: the fd itself (O_PATH too), or the cwd for AT_FDCWD.
  FileDescriptor path_fd(open((dir / "l").c_str(), O_PATH | O_NOFOLLOW));
  ASSERT_GE(path_fd.get(), 0);
  ASSERT_THAT(RawStatx(path_fd.get(), "", AT_EMPTY_PATH,
                       STATX_BASIC_STATS | STATX_BTIME, &stx),
              SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(stx.stx_mode));
  EXPECT_EQ(stx.stx_ino, link_ino);
  EXPECT_TRUE(stx.stx_mask & STATX_BTIME);
  FileDescriptor dir_fd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_GE(dir_fd.get(), 0);
  ASSERT_THAT(RawStatx(dir_fd.get(), "f", 0, STATX_BASIC_STATS, &stx),
              SyscallSucceeds());
  EXPECT_EQ(stx.stx_size, 5u);
  EXPECT_THAT(RawStatx(dir_fd.get(), "", 0, STATX_BASIC_STATS, &stx),
              SyscallFailsWithErrno(ENOENT));
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_THAT(chdir(dir.path().c_str()), SyscallSucceeds());
  const long rc =
      RawStatx(AT_FDCWD, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx);
  const int err = errno;
  ASSERT_THAT(chdir(cwd), SyscallSucceeds());
  ASSERT_EQ(rc, 0) << ErrnoName(err);
  EXPECT_TRUE(S_ISDIR(stx.stx_mode));
  EXPECT_EQ(stx.stx_ino, Lstat(dir.path()).st_ino);
}

TEST(StatxExtra, PipeHasNoBirthTime) {
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  FileDescriptor r(fds[0]), w(fds[1]);
  struct statx stx{};
  ASSERT_THAT(RawStatx(r.get(), "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME,
                       &stx),
              SyscallSucceeds());
  EXPECT_TRUE(S_ISFIFO(stx.stx_mode));
  EXPECT_FALSE(stx.stx_mask & STATX_BTIME);
  EXPECT_EQ(stx.stx_attributes_mask & kTmpfsMask, 0u);
}

}  // namespace
}  // namespace syscall_test
