// getdents64: record layout, listing of / and /etc, buffer-size and fd
// errors, EOF behaviour, and rewinding/resuming via lseek and d_off.
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "test_util.h"

namespace syscall_test {
namespace {

using ::testing::Contains;
using ::testing::IsSupersetOf;

// The kernel's record; glibc does not export it.
struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  uint16_t d_reclen;
  uint8_t d_type;
  char d_name[];
};

struct Entry {
  std::string name;
  uint64_t ino;
  int64_t off;
  uint8_t type;
};

long Getdents64(int fd, void* buf, size_t len) {
  return syscall(SYS_getdents64, fd, buf, len);
}

// Reads entries until getdents64 returns 0, checking every record's layout.
std::vector<Entry> ReadEntries(int fd, size_t bufsize = 4096) {
  std::vector<Entry> entries;
  std::vector<char> buf(bufsize);  // operator new aligns to 16.
  for (;;) {
    const long n = Getdents64(fd, buf.data(), buf.size());
    if (n < 0) {
      ADD_FAILURE() << "getdents64: " << ErrnoName(errno);
      return entries;
    }
    if (n == 0) return entries;
    EXPECT_LE(static_cast<size_t>(n), bufsize);
    for (long pos = 0; pos < n;) {
      const auto* d = reinterpret_cast<const LinuxDirent64*>(&buf[pos]);
      const size_t name_len =
          strnlen(d->d_name, d->d_reclen - offsetof(LinuxDirent64, d_name));
      EXPECT_EQ(d->d_reclen % 8, 0u);
      EXPECT_GE(d->d_reclen, offsetof(LinuxDirent64, d_name) + name_len + 1);
      EXPECT_LE(pos + d->d_reclen, n);
      if (d->d_reclen == 0) return entries;  // Avoid looping forever.
      entries.push_back(
          {std::string(d->d_name, name_len), d->d_ino, d->d_off, d->d_type});
      pos += d->d_reclen;
    }
  }
}

std::vector<std::string> Names(const std::vector<Entry>& entries) {
  std::vector<std::string> names;
  for (const Entry& e : entries) names.push_back(e.name);
  return names;
}

const Entry* Find(const std::vector<Entry>& entries, const std::string& name) {
  for (const Entry& e : entries) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

TEST(Getdents64Test, RootListsDotsAndStandardDirectories) {
  FileDescriptor fd = OpenOrFail("/", O_RDONLY | O_DIRECTORY);
  const std::vector<Entry> entries = ReadEntries(fd.get());
  EXPECT_THAT(Names(entries),
              IsSupersetOf({".", "..", "etc", "usr", "dev", "proc"}));
  std::vector<std::string> sorted = Names(entries);
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end())
      << "duplicate entries";
}

TEST(Getdents64Test, TypeAndInodeMatchLstat) {
  FileDescriptor fd = OpenOrFail("/", O_RDONLY | O_DIRECTORY);
  const std::vector<Entry> entries = ReadEntries(fd.get());
  for (const char* name : {"etc", "usr", "bin"}) {
    SCOPED_TRACE(name);
    const Entry* e = Find(entries, name);
    ASSERT_NE(e, nullptr);
    struct stat st;
    ASSERT_THAT(lstat((std::string("/") + name).c_str(), &st),
                SyscallSucceeds());
    EXPECT_EQ(e->ino, st.st_ino);
    if (e->type != DT_UNKNOWN) {
      EXPECT_EQ(e->type, IFTODT(st.st_mode));
    }
  }
}

TEST(Getdents64Test, EtcContainsOsRelease) {
  FileDescriptor fd = OpenOrFail("/etc", O_RDONLY | O_DIRECTORY);
  EXPECT_THAT(Names(ReadEntries(fd.get())), Contains("os-release"));
}

TEST(Getdents64Test, SmallBufferNeedsMoreCallsButSameEntries) {
  FileDescriptor a = OpenOrFail("/etc", O_RDONLY | O_DIRECTORY);
  FileDescriptor b = OpenOrFail("/etc", O_RDONLY | O_DIRECTORY);
  // 128 bytes holds a few records (names up to 108 characters) at a time.
  EXPECT_EQ(Names(ReadEntries(a.get(), 128)), Names(ReadEntries(b.get())));
}

TEST(Getdents64Test, BufferTooSmallForOneRecordIsEinval) {
  FileDescriptor fd = OpenOrFail("/", O_RDONLY | O_DIRECTORY);
  alignas(8) char buf[8];
  EXPECT_THAT(Getdents64(fd.get(), buf, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Getdents64(fd.get(), buf, 1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Getdents64(fd.get(), buf, sizeof(buf)),
              SyscallFailsWithErrno(EINVAL));
  // Nothing was consumed: a large enough buffer still starts at the top.
  EXPECT_EQ(ReadEntries(fd.get()).size(),
            ReadEntries(OpenOrFail("/", O_RDONLY).get()).size());
}

TEST(Getdents64Test, Errors) {
  FileDescriptor file = OpenOrFail(kRegularFile, O_RDONLY);
  FileDescriptor dir = OpenOrFail("/", O_RDONLY | O_DIRECTORY);
  alignas(8) char buf[4096];
  EXPECT_THAT(Getdents64(file.get(), buf, sizeof(buf)),
              SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(Getdents64(-1, buf, sizeof(buf)), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(Getdents64(dir.get(), BadAddress(), 4096),
              SyscallFailsWithErrno(EFAULT));
}

TEST(Getdents64Test, EndOfDirectoryRepeatsZero) {
  FileDescriptor fd = OpenOrFail("/", O_RDONLY | O_DIRECTORY);
  ASSERT_FALSE(ReadEntries(fd.get()).empty());
  alignas(8) char buf[4096];
  EXPECT_THAT(Getdents64(fd.get(), buf, sizeof(buf)),
              SyscallSucceedsWithValue(0));
  EXPECT_THAT(Getdents64(fd.get(), buf, sizeof(buf)),
              SyscallSucceedsWithValue(0));
}

TEST(Getdents64Test, LseekToZeroRewinds) {
  FileDescriptor fd = OpenOrFail("/", O_RDONLY | O_DIRECTORY);
  const std::vector<std::string> first = Names(ReadEntries(fd.get()));
  ASSERT_FALSE(first.empty());
  ASSERT_THAT(lseek(fd.get(), 0, SEEK_SET), SyscallSucceedsWithValue(0));
  EXPECT_EQ(Names(ReadEntries(fd.get())), first);
}

TEST(Getdents64Test, LseekToDoffResumesAfterThatEntry) {
  FileDescriptor fd = OpenOrFail("/", O_RDONLY | O_DIRECTORY);
  const std::vector<Entry> all = ReadEntries(fd.get());
  ASSERT_GE(all.size(), 4u);
  // d_off is the position of the *next* entry.
  ASSERT_THAT(lseek(fd.get(), all[1].off, SEEK_SET),
              SyscallSucceedsWithValue(all[1].off));
  const std::vector<std::string> rest = Names(ReadEntries(fd.get()));
  const std::vector<std::string> names = Names(all);
  EXPECT_EQ(rest, std::vector<std::string>(names.begin() + 2, names.end()));
}

}  // namespace
}  // namespace syscall_test
