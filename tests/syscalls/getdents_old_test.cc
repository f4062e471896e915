// getdents (the old syscall 78): struct linux_dirent with d_type in the
// record's last byte, the same entries, offsets and inode numbers as
// getdents64 on tmpfs, the root, /proc and /dev; buffer and fd errors.
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

// The kernel's records; glibc exports neither.
struct OldDirent {
  unsigned long d_ino;
  unsigned long d_off;
  unsigned short d_reclen;
  char d_name[];  // then NUL, padding, and d_type in the last byte
};
struct Dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  uint16_t d_reclen;
  uint8_t d_type;
  char d_name[];
};

struct Rec {
  std::string name;
  uint64_t ino;
  int64_t off;
  uint8_t type;
  bool operator==(const Rec&) const = default;
};

void PrintTo(const Rec& r, std::ostream* os) {
  *os << r.name << " ino " << r.ino << " off " << r.off << " type "
      << int(r.type);
}

// Lists `path` to the end with getdents (old = true) or getdents64,
// checking each record's layout.
std::vector<Rec> List(const std::string& path, bool old, size_t bufsize) {
  std::vector<Rec> out;
  FileDescriptor fd(open(path.c_str(), O_RDONLY | O_DIRECTORY));
  if (fd.get() < 0) {
    ADD_FAILURE() << path << ": " << ErrnoName(errno);
    return out;
  }
  std::vector<char> buf(bufsize);
  for (;;) {
    const long n = syscall(old ? SYS_getdents : SYS_getdents64, fd.get(),
                           buf.data(), buf.size());
    if (n <= 0) {
      EXPECT_EQ(n, 0) << ErrnoName(errno);
      return out;
    }
    for (long pos = 0; pos < n;) {
      const char* rec = &buf[pos];
      uint16_t reclen;
      if (old) {
        const auto* d = reinterpret_cast<const OldDirent*>(rec);
        reclen = d->d_reclen;
        const size_t len =
            strnlen(d->d_name, reclen - offsetof(OldDirent, d_name));
        // Linux's ALIGN(offsetof(d_name) + len + 2, sizeof(long)).
        EXPECT_EQ(reclen, (offsetof(OldDirent, d_name) + len + 2 + 7) & ~7ul);
        out.push_back({std::string(d->d_name, len), d->d_ino,
                       static_cast<int64_t>(d->d_off),
                       static_cast<uint8_t>(rec[reclen - 1])});
      } else {
        const auto* d = reinterpret_cast<const Dirent64*>(rec);
        reclen = d->d_reclen;
        const size_t len =
            strnlen(d->d_name, reclen - offsetof(Dirent64, d_name));
        out.push_back({std::string(d->d_name, len), d->d_ino, d->d_off,
                       d->d_type});
      }
      EXPECT_LE(pos + reclen, n);
      if (reclen == 0) return out;
      pos += reclen;
    }
  }
}

void ExpectSameAsGetdents64(const std::string& path) {
  SCOPED_TRACE(path);
  // 288 bytes: one 255-byte name fits, so listings take several calls.
  for (size_t bufsize : {size_t{4096}, size_t{288}}) {
    const std::vector<Rec> old = List(path, true, bufsize);
    const std::vector<Rec> new64 = List(path, false, bufsize);
    EXPECT_FALSE(old.empty());
    EXPECT_EQ(old, new64);
  }
}

TEST(GetdentsOld, TmpfsMatchesGetdents64) {
  TempDir dir("/dev/shm");
  MakeFile(dir / "file");
  ASSERT_THAT(mkdir((dir / "subdir").c_str(), 0755), SyscallSucceeds());
  ASSERT_THAT(symlink("file", (dir / "link").c_str()), SyscallSucceeds());
  ASSERT_THAT(mkfifo((dir / "fifo").c_str(), 0644), SyscallSucceeds());
  const std::string long_name(255, 'n');
  MakeFile(dir / long_name);
  ExpectSameAsGetdents64(dir.path());
  const std::vector<Rec> recs = List(dir.path(), true, 4096);
  auto type_of = [&](const std::string& name) -> int {
    for (const Rec& r : recs) {
      if (r.name == name) return r.type;
    }
    return -1;
  };
  EXPECT_EQ(type_of("."), DT_DIR);
  EXPECT_EQ(type_of(".."), DT_DIR);
  EXPECT_EQ(type_of("file"), DT_REG);
  EXPECT_EQ(type_of("subdir"), DT_DIR);
  EXPECT_EQ(type_of("link"), DT_LNK);
  EXPECT_EQ(type_of("fifo"), DT_FIFO);
  EXPECT_EQ(type_of(long_name), DT_REG);
  EXPECT_EQ(Lstat(dir / "file").st_ino,
            [&] {
              for (const Rec& r : recs) {
                if (r.name == "file") return r.ino;
              }
              return uint64_t{0};
            }());
}

TEST(GetdentsOld, RootProcDevMatchGetdents64) {
  ExpectSameAsGetdents64("/");
  ExpectSameAsGetdents64("/dev");
  ExpectSameAsGetdents64("/proc/self");
  ExpectSameAsGetdents64("/proc/sys/kernel");
}

TEST(GetdentsOld, TypeIsTheLastByte) {
  TempDir dir("/dev/shm");
  // "ab": 18 + 2 + 2 = 22 bytes, padded to 24: d_type at byte 23.
  ASSERT_THAT(mkdir((dir / "ab").c_str(), 0755), SyscallSucceeds());
  FileDescriptor fd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_GE(fd.get(), 0);
  alignas(8) char buf[4096];
  const long n = syscall(SYS_getdents, fd.get(), buf, sizeof(buf));
  ASSERT_GT(n, 0);
  bool found = false;
  for (long pos = 0; pos < n;) {
    const auto* d = reinterpret_cast<const OldDirent*>(&buf[pos]);
    if (std::string(d->d_name) == "ab") {
      found = true;
      EXPECT_EQ(d->d_reclen, 24);
      EXPECT_EQ(buf[pos + 20], '\0');  // the name's NUL
      EXPECT_EQ(buf[pos + 23], DT_DIR);
    }
    pos += d->d_reclen;
  }
  EXPECT_TRUE(found);
}

TEST(GetdentsOld, Errors) {
  TempDir dir("/dev/shm");
  FileDescriptor fd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_GE(fd.get(), 0);
  char small[8];
  // Too small for "." (24 bytes).
  EXPECT_THAT(syscall(SYS_getdents, fd.get(), small, sizeof(small)),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_getdents, -1, small, sizeof(small)),
              SyscallFailsWithErrno(EBADF));
  char buf[256];
  EXPECT_THAT(syscall(SYS_getdents, fd.get(), BadAddress(), sizeof(buf)),
              SyscallFailsWithErrno(EFAULT));
  MakeFile(dir / "f");
  FileDescriptor file(open((dir / "f").c_str(), O_RDONLY));
  ASSERT_GE(file.get(), 0);
  EXPECT_THAT(syscall(SYS_getdents, file.get(), buf, sizeof(buf)),
              SyscallFailsWithErrno(ENOTDIR));
  FileDescriptor path(open(dir.path().c_str(), O_PATH));
  ASSERT_GE(path.get(), 0);
  EXPECT_THAT(syscall(SYS_getdents, path.get(), buf, sizeof(buf)),
              SyscallFailsWithErrno(EBADF));
}

TEST(GetdentsOld, ResumesAtOffset) {
  TempDir dir("/dev/shm");
  for (int i = 0; i < 10; ++i) MakeFile(dir / ("f" + std::to_string(i)));
  const std::vector<Rec> all = List(dir.path(), true, 4096);
  ASSERT_GE(all.size(), 12u);
  FileDescriptor fd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_GE(fd.get(), 0);
  // Seek to the d_off of the fifth record: the sixth comes next.
  ASSERT_THAT(lseek(fd.get(), all[4].off, SEEK_SET), SyscallSucceeds());
  alignas(8) char buf[4096];
  const long n = syscall(SYS_getdents, fd.get(), buf, sizeof(buf));
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(reinterpret_cast<OldDirent*>(buf)->d_name),
            all[5].name);
}

}  // namespace
}  // namespace syscall_test
