// Files under /tmp as a program sees them: I/O on created files (O_CREAT,
// O_EXCL, O_TRUNC, O_APPEND, pread/pwrite, lseek, holes), unlinked files
// kept by their fd, link counts and inode numbers, times, directory
// listings across unlinks, mmap, permissions at open, statfs.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

constexpr long kTmpfsMagic = 0x01021994;

class TmpfsTest : public ::testing::Test {
 protected:
  std::string P(const std::string& name) const { return dir_ / name; }
  TempDir dir_;
};

std::string PRead(int fd, size_t n, off_t off) {
  std::string buf(n, '?');
  const ssize_t r = pread(fd, buf.data(), n, off);
  EXPECT_GE(r, 0) << ErrnoName(errno);
  buf.resize(r < 0 ? 0 : r);
  return buf;
}

TEST_F(TmpfsTest, CreateExclTruncAppend) {
  const std::string f = P("f");
  FileDescriptor fd(open(f.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(open(f.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600),
              SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(write(fd.get(), "hello world", 11), SyscallSucceedsWithValue(11));
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(11));
  EXPECT_EQ(PRead(fd.get(), 5, 6), "world");
  EXPECT_THAT(pwrite(fd.get(), "W", 1, 6), SyscallSucceedsWithValue(1));
  EXPECT_EQ(ReadFileContents(f.c_str()), "hello World");
  EXPECT_THAT(lseek(fd.get(), -5, SEEK_END), SyscallSucceedsWithValue(6));
  EXPECT_THAT(lseek(fd.get(), -100, SEEK_CUR), SyscallFailsWithErrno(EINVAL));
  // O_CREAT without O_EXCL opens the existing file; O_TRUNC empties it.
  FileDescriptor again(open(f.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600));
  ASSERT_THAT(again.get(), SyscallSucceeds());
  EXPECT_EQ(Lstat(f).st_size, 0);
  FileDescriptor app(open(f.c_str(), O_WRONLY | O_APPEND));
  ASSERT_THAT(write(app.get(), "ab", 2), SyscallSucceeds());
  ASSERT_THAT(lseek(app.get(), 0, SEEK_SET), SyscallSucceeds());
  ASSERT_THAT(write(app.get(), "cd", 2), SyscallSucceeds());
  EXPECT_EQ(ReadFileContents(f.c_str()), "abcd");
  EXPECT_THAT(lseek(app.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(4));
  EXPECT_THAT(open(P("nodir/x").c_str(), O_CREAT | O_WRONLY, 0600),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(open(P("dir/").c_str(), O_CREAT | O_WRONLY, 0600),
              SyscallFailsWithErrno(EISDIR));
}

TEST_F(TmpfsTest, HolesReadAsZeros) {
  FileDescriptor fd(open(P("sparse").c_str(), O_CREAT | O_RDWR, 0600));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  const off_t far = 1 << 20;
  ASSERT_THAT(pwrite(fd.get(), "x", 1, far), SyscallSucceedsWithValue(1));
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, far + 1);
  EXPECT_LT(st.st_blocks, 64);  // the hole takes no space
  EXPECT_EQ(PRead(fd.get(), 3, 4096), std::string(3, '\0'));
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_HOLE), SyscallSucceedsWithValue(0));
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_DATA),
              SyscallSucceedsWithValue(
                  testing::AllOf(testing::Gt(0), testing::Le(far))));
  EXPECT_THAT(lseek(fd.get(), far + 1, SEEK_DATA),
              SyscallFailsWithErrno(ENXIO));
  // Reads stop at the end; a read past it returns 0.
  EXPECT_EQ(PRead(fd.get(), 10, far), "x");
  EXPECT_EQ(PRead(fd.get(), 10, far + 100), "");
}

TEST_F(TmpfsTest, AnUnlinkedFileLivesWhileOpen) {
  const std::string f = P("f");
  FileDescriptor fd(open(f.c_str(), O_CREAT | O_RDWR, 0600));
  ASSERT_THAT(write(fd.get(), "still here", 10), SyscallSucceeds());
  ASSERT_THAT(unlink(f.c_str()), SyscallSucceeds());
  EXPECT_THAT(access(f.c_str(), F_OK), SyscallFailsWithErrno(ENOENT));
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_nlink, 0u);
  EXPECT_EQ(PRead(fd.get(), 10, 0), "still here");
  ASSERT_THAT(write(fd.get(), "!", 1), SyscallSucceeds());
  EXPECT_EQ(PRead(fd.get(), 20, 0), "still here!");
  // A rename over an open file likewise keeps the old data for its fd.
  MakeFile(P("a"), "old");
  MakeFile(P("b"), "new");
  FileDescriptor old(open(P("a").c_str(), O_RDONLY));
  ASSERT_THAT(rename(P("b").c_str(), P("a").c_str()), SyscallSucceeds());
  EXPECT_EQ(ReadToEnd(old.get()), "old");
  EXPECT_EQ(ReadFileContents(P("a").c_str()), "new");
}

TEST_F(TmpfsTest, InodeNumbersAndLinkCounts) {
  MakeFile(P("a"));
  MakeFile(P("b"));
  EXPECT_NE(Lstat(P("a")).st_ino, Lstat(P("b")).st_ino);
  EXPECT_EQ(Lstat(P("a")).st_dev, Lstat(dir_.path()).st_dev);
  const nlink_t before = Lstat(dir_.path()).st_nlink;
  ASSERT_THAT(mkdir(P("sub").c_str(), 0755), SyscallSucceeds());
  EXPECT_EQ(Lstat(dir_.path()).st_nlink, before + 1);
  EXPECT_EQ(Lstat(P("sub")).st_nlink, 2u);
  ASSERT_THAT(rmdir(P("sub").c_str()), SyscallSucceeds());
  EXPECT_EQ(Lstat(dir_.path()).st_nlink, before);
  // fstat of a removed directory still works, with no links left.
  ASSERT_THAT(mkdir(P("gone").c_str(), 0755), SyscallSucceeds());
  FileDescriptor gone(open(P("gone").c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(rmdir(P("gone").c_str()), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstat(gone.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_nlink, 0u);
}

TEST_F(TmpfsTest, TimesFollowChanges) {
  MakeFile(P("f"), "x");
  const timespec past[2] = {{100, 0}, {100, 0}};
  ASSERT_THAT(utimensat(AT_FDCWD, P("f").c_str(), past, 0), SyscallSucceeds());
  ASSERT_THAT(utimensat(AT_FDCWD, dir_.path().c_str(), past, 0),
              SyscallSucceeds());
  struct stat st = Lstat(P("f"));
  const time_t ctime = st.st_ctim.tv_sec;
  EXPECT_GT(ctime, 100);  // utimensat itself moves ctime
  // A write moves mtime and ctime; chmod only ctime.
  FileDescriptor fd(open(P("f").c_str(), O_WRONLY));
  ASSERT_THAT(write(fd.get(), "y", 1), SyscallSucceeds());
  EXPECT_GT(Lstat(P("f")).st_mtim.tv_sec, 100);
  ASSERT_THAT(utimensat(AT_FDCWD, P("f").c_str(), past, 0), SyscallSucceeds());
  ASSERT_THAT(chmod(P("f").c_str(), 0600), SyscallSucceeds());
  EXPECT_EQ(Lstat(P("f")).st_mtim.tv_sec, 100);
  EXPECT_GE(Lstat(P("f")).st_ctim.tv_sec, ctime);
  // A read moves an atime older than mtime (relatime), unless the host
  // mounted /tmp noatime.
  struct statfs sfs;
  ASSERT_THAT(statfs(dir_.path().c_str(), &sfs), SyscallSucceeds());
  if (sfs.f_flags & ST_NOATIME) GTEST_SKIP() << "noatime";
  const timespec old_atime[2] = {{50, 0}, {100, 0}};
  ASSERT_THAT(utimensat(AT_FDCWD, P("f").c_str(), old_atime, 0),
              SyscallSucceeds());
  EXPECT_EQ(ReadFileContents(P("f").c_str()), "y");
  EXPECT_GT(Lstat(P("f")).st_atim.tv_sec, 100);
}

TEST_F(TmpfsTest, CreatingANameMovesTheDirectoryTimes) {
  const timespec past[2] = {{100, 0}, {100, 0}};
  ASSERT_THAT(utimensat(AT_FDCWD, dir_.path().c_str(), past, 0),
              SyscallSucceeds());
  MakeFile(P("g"));
  EXPECT_GT(Lstat(dir_.path()).st_mtim.tv_sec, 100);
  ASSERT_THAT(utimensat(AT_FDCWD, dir_.path().c_str(), past, 0),
              SyscallSucceeds());
  ASSERT_THAT(unlink(P("g").c_str()), SyscallSucceeds());
  EXPECT_GT(Lstat(dir_.path()).st_mtim.tv_sec, 100);
}

// Names in a directory listing of `fd` from its current offset, reading a
// few records at a time.
std::vector<std::string> ListSome(int fd, size_t max_records) {
  std::vector<std::string> names;
  char buf[128];
  while (names.size() < max_records) {
    const long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      uint16_t reclen;
      memcpy(&reclen, buf + off + 16, 2);
      names.emplace_back(buf + off + 19);
      off += reclen;
    }
  }
  return names;
}

TEST_F(TmpfsTest, ListingSurvivesUnlinks) {
  std::set<std::string> all;
  for (int i = 0; i < 40; ++i) {
    const std::string name = "file" + std::to_string(i);
    MakeFile(P(name));
    all.insert(name);
  }
  FileDescriptor fd(open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY));
  std::vector<std::string> seen = ListSome(fd.get(), 10);
  ASSERT_GE(seen.size(), 10u);
  // Remove every name already listed and a few not yet listed.
  std::set<std::string> removed;
  for (const std::string& n : seen) {
    if (all.erase(n)) removed.insert(n);
  }
  for (const std::string& n : {"file5", "file25", "file39"}) {
    if (all.erase(n)) removed.insert(n);
  }
  for (const std::string& n : removed) {
    ASSERT_THAT(unlink(P(n).c_str()), SyscallSucceeds());
  }
  std::vector<std::string> rest = ListSome(fd.get(), 1000);
  std::multiset<std::string> got(seen.begin(), seen.end());
  got.insert(rest.begin(), rest.end());
  for (const std::string& n : got) EXPECT_EQ(got.count(n), 1u) << n;
  for (const std::string& n : all) EXPECT_EQ(got.count(n), 1u) << n;
  // A rewind lists exactly what is left.
  ASSERT_THAT(lseek(fd.get(), 0, SEEK_SET), SyscallSucceeds());
  std::vector<std::string> again = ListSome(fd.get(), 1000);
  std::set<std::string> expect = all;
  expect.insert(".");
  expect.insert("..");
  EXPECT_EQ(std::set<std::string>(again.begin(), again.end()), expect);
  EXPECT_EQ(again.size(), expect.size());
}

TEST_F(TmpfsTest, PrivateMappingsSeeTheFile) {
  const size_t page = PageSize();
  FileDescriptor fd(open(P("m").c_str(), O_CREAT | O_RDWR, 0600));
  std::string data(page + 100, 'q');
  data[page] = 'Z';
  ASSERT_THAT(write(fd.get(), data.data(), data.size()),
              SyscallSucceedsWithValue(data.size()));
  void* p =
      mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd.get(), 0);
  ASSERT_NE(p, MAP_FAILED) << ErrnoName(errno);
  const char* c = static_cast<const char*>(p);
  EXPECT_EQ(c[0], 'q');
  EXPECT_EQ(c[page], 'Z');
  EXPECT_EQ(c[page + 100], '\0');  // past the end of file, within the page
  static_cast<char*>(p)[0] = 'w';  // private: the file does not change
  EXPECT_EQ(PRead(fd.get(), 1, 0), "q");
  EXPECT_THAT(munmap(p, 2 * page), SyscallSucceeds());
}

TEST_F(TmpfsTest, OpenChecksModeBits) {
  MakeFile(P("ro"), "r", 0444);
  MakeFile(P("none"), "n", 0000);
  if (geteuid() == 0) {
    EXPECT_THAT(FileDescriptor(open(P("ro").c_str(), O_WRONLY)).get(),
                SyscallSucceeds());
    EXPECT_THAT(FileDescriptor(open(P("none").c_str(), O_RDWR)).get(),
                SyscallSucceeds());
    return;
  }
  EXPECT_THAT(open(P("ro").c_str(), O_WRONLY), SyscallFailsWithErrno(EACCES));
  EXPECT_THAT(open(P("ro").c_str(), O_RDONLY | O_TRUNC),
              SyscallFailsWithErrno(EACCES));
  EXPECT_THAT(open(P("none").c_str(), O_RDONLY), SyscallFailsWithErrno(EACCES));
  EXPECT_THAT(FileDescriptor(open(P("ro").c_str(), O_RDONLY)).get(),
              SyscallSucceeds());
  EXPECT_THAT(access(P("ro").c_str(), W_OK), SyscallFailsWithErrno(EACCES));
}

TEST_F(TmpfsTest, LookupsNeedSearchPermission) {
  ASSERT_THAT(mkdir(P("d").c_str(), 0700), SyscallSucceeds());
  MakeFile(P("d/f"));
  ASSERT_THAT(chmod(P("d").c_str(), 0600), SyscallSucceeds());
  struct stat st;
  if (geteuid() == 0) {
    EXPECT_THAT(stat(P("d/f").c_str(), &st), SyscallSucceeds());
  } else {
    EXPECT_THAT(stat(P("d/f").c_str(), &st), SyscallFailsWithErrno(EACCES));
    EXPECT_THAT(open(P("d/f").c_str(), O_RDONLY),
                SyscallFailsWithErrno(EACCES));
  }
  EXPECT_THAT(stat(P("d").c_str(), &st), SyscallSucceeds());
}

TEST_F(TmpfsTest, NewFilesBelongToTheirCreator) {
  MakeFile(P("f"));
  ASSERT_THAT(mkdir(P("d").c_str(), 0700), SyscallSucceeds());
  ASSERT_THAT(symlink("f", P("l").c_str()), SyscallSucceeds());
  for (const char* name : {"f", "d", "l"}) {
    const struct stat st = Lstat(P(name));
    EXPECT_EQ(st.st_uid, geteuid()) << name;
    EXPECT_EQ(st.st_gid, getegid()) << name;
  }
  EXPECT_EQ(Lstat(P("l")).st_mode, S_IFLNK | 0777u);
}

TEST_F(TmpfsTest, Statfs) {
  struct statfs dir_fs, file_fs, tmp_fs;
  ASSERT_THAT(statfs(dir_.path().c_str(), &dir_fs), SyscallSucceeds());
  ASSERT_THAT(statfs("/tmp", &tmp_fs), SyscallSucceeds());
  EXPECT_EQ(dir_fs.f_type, tmp_fs.f_type);
  EXPECT_GT(dir_fs.f_bsize, 0);
  EXPECT_GT(dir_fs.f_namelen, 0);
  MakeFile(P("f"));
  FileDescriptor fd(open(P("f").c_str(), O_RDONLY));
  ASSERT_THAT(fstatfs(fd.get(), &file_fs), SyscallSucceeds());
  EXPECT_EQ(file_fs.f_type, dir_fs.f_type);
  FileDescriptor path_fd(open(P("f").c_str(), O_PATH));
  EXPECT_THAT(fstatfs(path_fd.get(), &file_fs), SyscallSucceeds());
  EXPECT_THAT(statfs(P("missing").c_str(), &file_fs),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(fstatfs(-1, &file_fs), SyscallFailsWithErrno(EBADF));
  struct statfs root_fs;
  EXPECT_THAT(statfs("/", &root_fs), SyscallSucceeds());
  // The host's /tmp need not be a tmpfs; the sandbox's always is.
  if (tmp_fs.f_type != kTmpfsMagic) GTEST_SKIP() << "/tmp is not a tmpfs";
  EXPECT_EQ(dir_fs.f_type, kTmpfsMagic);
}

}  // namespace
}  // namespace syscall_test
