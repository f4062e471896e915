// ImportHostFd: I/O, stat and seek pass through to the host fd, which the
// description owns.
#include <fcntl.h>
#include <unistd.h>

#include "gtest/gtest.h"
#include "sentry/vfs/vfs.h"
#include "sentry/vfs/vfs_test_util.h"

namespace vfs {
namespace {

using testing::ReadSome;
using testing::WriteString;

TEST(HostFdTest, Pipe) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  auto r = ImportHostFd(p[0], O_RDONLY, "pipe:[10]");
  auto w = ImportHostFd(p[1], O_WRONLY, "pipe:[10]");
  EXPECT_EQ(r->path(), "pipe:[10]");
  EXPECT_TRUE(r->readable());
  EXPECT_FALSE(r->writable());
  EXPECT_EQ(WriteString(*w, "ping"), 4u);
  EXPECT_EQ(ReadSome(*r), "ping");
  EXPECT_ERRNO(r->Seek(0, SEEK_SET), ESPIPE);
  char c;
  iovec iov{&c, 1};
  EXPECT_ERRNO(r->PRead({&iov, 1}, 0), ESPIPE);
  ASSERT_OK_AND_ASSIGN(struct stat st, r->Stat());
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(r->mmap_kind(), MmapKind::kNotMappable);
  // The description owns the fd: dropping the writer closes it, so the
  // reader sees EOF.
  w.reset();
  EXPECT_EQ(ReadSome(*r), "");
}

TEST(HostFdTest, RegularFile) {
  char path[] = "/tmp/vfs_host_fd_XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::unlink(path);
  auto f = ImportHostFd(fd, O_RDWR, "/log");
  EXPECT_EQ(f->mmap_kind(), MmapKind::kFile);
  EXPECT_EQ(WriteString(*f, "abcdef"), 6u);
  EXPECT_EQ(f->Seek(2, SEEK_SET), 2);
  EXPECT_EQ(ReadSome(*f), "cdef");
  char buf[2];
  iovec iov{buf, 2};
  EXPECT_EQ(f->PRead({&iov, 1}, 0), 2u);
  EXPECT_EQ(std::string(buf, 2), "ab");
}

}  // namespace
}  // namespace vfs
