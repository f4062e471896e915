// The host root: reading files and directories, EROFS on every write,
// O_PATH, refused host devices, access(2).
#include "sentry/vfs/host_fs.h"

#include <sys/sysmacros.h>

#include "gtest/gtest.h"
#include "sentry/vfs/vfs_test_util.h"

namespace vfs {
namespace {

using testing::ListDir;
using testing::ReadSome;
using testing::TempTree;

class HostFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_.Dir("a");
    tree_.File("a/file", "hello");
    tree_.File("exe", "#!/bin/sh\n", 0755);
    tree_.File("secret", "s", 0600);
    tree_.File("group_readable", "g", 0640);
    tree_.Symlink("link_rel", "a/file");
    tree_.Symlink("link_abs", "/a/file");
    tree_.Symlink("dangling", "nowhere");
    ASSERT_EQ(::mkfifo(tree_.Host("fifo").c_str(), 0644), 0);
    auto vfs = Vfs::Create({.host_root = tree_.root()});
    ASSERT_TRUE(vfs.has_value());
    vfs_ = std::move(vfs).value();
  }

  base::Result<std::shared_ptr<FileDescription>> Open(std::string_view path,
                                                      int flags) {
    return vfs_->Open(ctx_, path, flags, 0644);
  }
  base::Result<void> Access(std::string_view path, int mode, uint32_t uid = 0,
                            uint32_t gid = 0) {
    return vfs_->Access(ctx_, path, mode, true, uid, gid);
  }

  TempTree tree_;
  std::unique_ptr<Vfs> vfs_;
  PathContext ctx_{.start = "/"};
};

TEST_F(HostFsTest, ReadsAFile) {
  ASSERT_OK_AND_ASSIGN(auto f, Open("/a/file", O_RDONLY));
  EXPECT_EQ(f->path(), "/a/file");
  EXPECT_EQ(f->mmap_kind(), MmapKind::kFile);
  EXPECT_TRUE(f->readable());
  EXPECT_FALSE(f->writable());
  EXPECT_EQ(ReadSome(*f), "hello");
  EXPECT_EQ(ReadSome(*f), "");
  EXPECT_EQ(f->Seek(1, SEEK_SET), 1);
  EXPECT_EQ(ReadSome(*f, 2), "el");
  EXPECT_EQ(f->Seek(1, SEEK_CUR), 4);
  EXPECT_EQ(ReadSome(*f), "o");
  EXPECT_EQ(f->Seek(-2, SEEK_END), 3);
  EXPECT_ERRNO(f->Seek(-1, SEEK_SET), EINVAL);
  char buf[8] = {};
  iovec iov{buf, 3};
  EXPECT_EQ(f->PRead({&iov, 1}, 2), 3u);
  EXPECT_EQ(std::string(buf), "llo");
  ASSERT_OK_AND_ASSIGN(struct stat st, f->Stat());
  EXPECT_EQ(st.st_size, 5);
  // Reached through an absolute link, the path is still the file's.
  ASSERT_OK_AND_ASSIGN(auto g, Open("link_abs", O_RDONLY));
  EXPECT_EQ(g->path(), "/a/file");
}

TEST_F(HostFsTest, WritesAreReadOnly) {
  EXPECT_ERRNO(Open("/a/file", O_WRONLY), EROFS);
  EXPECT_ERRNO(Open("/a/file", O_RDWR), EROFS);
  EXPECT_ERRNO(Open("/a/file", O_RDONLY | O_TRUNC), EROFS);
  EXPECT_ERRNO(Open("/a/new", O_WRONLY | O_CREAT), EROFS);
  EXPECT_ERRNO(Open("dangling", O_RDONLY | O_CREAT), EROFS);
  EXPECT_ERRNO(Open("/a/file", O_RDONLY | O_CREAT | O_EXCL), EEXIST);
  EXPECT_ERRNO(Open("dangling", O_RDONLY | O_CREAT | O_EXCL), EEXIST);
  EXPECT_ERRNO(Open("/newdir/", O_RDONLY | O_CREAT), EISDIR);
  EXPECT_ERRNO(Open("/missing/new/", O_RDONLY | O_CREAT), ENOENT);
  EXPECT_ERRNO(Open("/a", O_WRONLY), EISDIR);
  EXPECT_ERRNO(Open("/a", O_RDONLY | O_TRUNC), EISDIR);
  EXPECT_ERRNO(Open("/a", O_TMPFILE | O_RDWR), EROFS);
  EXPECT_ERRNO(Access("/a/file", W_OK), EROFS);
  // O_CREAT of an existing file without O_EXCL is a plain open.
  ASSERT_OK_AND_ASSIGN(auto f, Open("/a/file", O_RDONLY | O_CREAT));
  EXPECT_EQ(ReadSome(*f), "hello");
}

TEST_F(HostFsTest, OpenChecks) {
  EXPECT_ERRNO(Open("/a/file", O_RDONLY | O_DIRECTORY), ENOTDIR);
  EXPECT_ERRNO(Open("link_rel", O_RDONLY | O_NOFOLLOW), ELOOP);
  EXPECT_ERRNO(Open("fifo", O_RDONLY), EACCES);
  if (::geteuid() == 0) {
    ASSERT_EQ(
        ::mknod(tree_.Host("null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    EXPECT_ERRNO(Open("null", O_RDONLY), EACCES);
  }
}

TEST_F(HostFsTest, ListsADirectory) {
  ASSERT_OK_AND_ASSIGN(auto d, Open("/a", O_RDONLY | O_DIRECTORY));
  EXPECT_EQ(d->path(), "/a");
  char c;
  iovec iov{&c, 1};
  EXPECT_ERRNO(d->Read({&iov, 1}), EISDIR);
  auto names = ListDir(*d);
  EXPECT_EQ(names.size(), 3u);
  EXPECT_EQ(names["file"], DT_REG);
  EXPECT_EQ(names["."], DT_DIR);
  EXPECT_TRUE(ListDir(*d).empty());
  EXPECT_EQ(d->Seek(0, SEEK_SET), 0);
  EXPECT_EQ(ListDir(*d).size(), 3u);
  ASSERT_OK_AND_ASSIGN(struct stat st, d->Stat());
  EXPECT_TRUE(S_ISDIR(st.st_mode));
}

TEST_F(HostFsTest, PathDescriptions) {
  ASSERT_OK_AND_ASSIGN(auto p, Open("/a/file", O_PATH | O_RDWR | O_CREAT));
  EXPECT_TRUE(p->is_path());
  EXPECT_FALSE(p->readable());
  char c;
  iovec iov{&c, 1};
  EXPECT_ERRNO(p->Read({&iov, 1}), EBADF);
  ASSERT_OK_AND_ASSIGN(struct stat st, p->Stat());
  EXPECT_TRUE(S_ISREG(st.st_mode));
  ASSERT_OK_AND_ASSIGN(auto l, Open("link_rel", O_PATH | O_NOFOLLOW));
  EXPECT_EQ(l->path(), "/link_rel");
  ASSERT_OK_AND_ASSIGN(st, l->Stat());
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  // O_PATH reaches what cannot be opened.
  EXPECT_TRUE(Open("fifo", O_PATH).has_value());
}

// What F_GETFL shows on Linux: creation flags and O_CLOEXEC dropped,
// O_LARGEFILE added (except for O_PATH).
TEST_F(HostFsTest, DescriptionFlags) {
  constexpr int kLargefile = 0100000;
  ASSERT_OK_AND_ASSIGN(
      auto f, Open("/a/file", O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_CREAT));
  EXPECT_EQ(f->flags(), O_RDONLY | O_NONBLOCK | kLargefile);
  ASSERT_OK_AND_ASSIGN(auto d, Open("/a", O_RDONLY | O_DIRECTORY));
  EXPECT_EQ(d->flags(), O_DIRECTORY | kLargefile);
  ASSERT_OK_AND_ASSIGN(auto p, Open("/a", O_PATH | O_NOFOLLOW | O_CLOEXEC));
  EXPECT_EQ(p->flags(), O_PATH | O_NOFOLLOW);
  // F_SETFL changes only the status flags.
  f->SetStatusFlags(O_RDWR | O_APPEND | O_TRUNC);
  EXPECT_EQ(f->flags(), O_RDONLY | O_APPEND | kLargefile);
}

TEST_F(HostFsTest, Access) {
  EXPECT_TRUE(Access("/a/file", F_OK).has_value());
  EXPECT_ERRNO(Access("/missing", F_OK), ENOENT);
  EXPECT_ERRNO(Access("/a/file", 8), EINVAL);
  // Root: reads anything, executes what has an x bit, searches any dir.
  EXPECT_TRUE(Access("/secret", R_OK).has_value());
  EXPECT_ERRNO(Access("/a/file", X_OK), EACCES);
  EXPECT_TRUE(Access("/exe", X_OK).has_value());
  EXPECT_TRUE(Access("/a", R_OK | X_OK).has_value());
  // Others: the owner, group or other bits, whichever class matches.
  if (::geteuid() == 0) {
    EXPECT_ERRNO(Access("/secret", R_OK, 1000, 1000), EACCES);
    EXPECT_TRUE(Access("/a/file", R_OK, 1000, 1000).has_value());
    EXPECT_ERRNO(Access("/group_readable", R_OK, 1000, 1000), EACCES);
    EXPECT_TRUE(Access("/group_readable", R_OK, 1000, 0).has_value());
    EXPECT_TRUE(Access("/exe", R_OK | X_OK, 1000, 1000).has_value());
  }
}

TEST(HostFsCreateTest, MissingRoot) {
  EXPECT_ERRNO(Vfs::Create({.host_root = "/nonexistent/root"}), ENOENT);
}

}  // namespace
}  // namespace vfs
