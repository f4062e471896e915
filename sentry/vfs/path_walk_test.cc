// Path resolution over a host tree served as "/": ".", "..", symlinks and
// the errors of a walk, as Linux gives them.
#include "sentry/vfs/path_walk.h"

#include "gtest/gtest.h"
#include "sentry/vfs/vfs_test_util.h"

namespace vfs {
namespace {

using testing::TempTree;

class PathWalkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_.Dir("a");
    tree_.File("a/file", "hello");
    tree_.Dir("b");
    tree_.Dir("dir");
    tree_.Dir("dir/sub");
    tree_.Dir("etc");
    tree_.File("etc/marker", "");
    tree_.Symlink("link_rel", "a/file");
    tree_.Symlink("link_abs", "/a/file");
    tree_.Symlink("dirlink", "dir");
    tree_.Symlink("dir/sub/up", "../..");
    tree_.Symlink("escape", "../../../../etc");
    tree_.Symlink("loop1", "loop2");
    tree_.Symlink("loop2", "loop1");
    tree_.Symlink("self_loop", "self_loop");
    tree_.Symlink("dangling", "nowhere");
    // c0 -> c1 -> ... -> c40 -> a/file: from c1 that is 40 links (the
    // most Linux follows), from c0 one too many.
    for (int i = 0; i < kMaxSymlinks; ++i) {
      tree_.Symlink("c" + std::to_string(i), "c" + std::to_string(i + 1));
    }
    tree_.Symlink("c" + std::to_string(kMaxSymlinks), "a/file");
    auto vfs = Vfs::Create({.host_root = tree_.root()});
    ASSERT_TRUE(vfs.has_value());
    vfs_ = std::move(vfs).value();
  }

  base::Result<std::string> Dir(std::string_view path,
                                std::string start = "/") {
    return vfs_->ResolveDirectory({.start = start}, path);
  }
  base::Result<struct stat> Stat(std::string_view path, bool follow = true,
                                 std::string start = "/") {
    return vfs_->Stat({.start = start}, path, follow);
  }

  TempTree tree_;
  std::unique_ptr<Vfs> vfs_;
};

TEST_F(PathWalkTest, DotAndDotDot) {
  EXPECT_EQ(Dir("/"), "/");
  EXPECT_EQ(Dir("."), "/");
  EXPECT_EQ(Dir("/.."), "/");
  EXPECT_EQ(Dir("/../../a/.."), "/");
  EXPECT_EQ(Dir("a/../b"), "/b");
  EXPECT_EQ(Dir("//a///./"), "/a");
  EXPECT_EQ(Dir(".", "/a"), "/a");
  EXPECT_EQ(Dir("..", "/a"), "/");
  EXPECT_EQ(Dir("../b", "/a"), "/b");
  EXPECT_EQ(Dir("/b", "/a"), "/b");
  EXPECT_TRUE(Stat("file", true, "/a").has_value());
}

TEST_F(PathWalkTest, Symlinks) {
  ASSERT_OK_AND_ASSIGN(struct stat st, Stat("link_rel"));
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, 5);
  ASSERT_OK_AND_ASSIGN(st, Stat("link_rel", /*follow=*/false));
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  ASSERT_OK_AND_ASSIGN(st, Stat("/link_abs"));
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(vfs_->Readlink({.start = "/"}, "link_abs"), "/a/file");
  EXPECT_ERRNO(vfs_->Readlink({.start = "/"}, "a"), EINVAL);
  // A link resolves from its own directory, and the result is canonical.
  EXPECT_EQ(Dir("dirlink"), "/dir");
  EXPECT_EQ(Dir("dirlink/sub"), "/dir/sub");
  EXPECT_EQ(Dir("/dir/sub/up/a"), "/a");
  EXPECT_EQ(Dir("dirlink/sub/up/b"), "/b");
}

TEST_F(PathWalkTest, SymlinkCannotEscapeTheRoot) {
  EXPECT_EQ(Dir("/escape"), "/etc");
  EXPECT_TRUE(Stat("/escape/marker").has_value());
  // The host's /etc/passwd exists; ours does not.
  EXPECT_ERRNO(Stat("/escape/passwd"), ENOENT);
  EXPECT_EQ(Dir("dir/sub/../../escape/../../.."), "/");
}

TEST_F(PathWalkTest, Loops) {
  EXPECT_ERRNO(Stat("loop1"), ELOOP);
  EXPECT_ERRNO(Stat("self_loop/x"), ELOOP);
  EXPECT_TRUE(Stat("loop1", /*follow=*/false).has_value());
  EXPECT_TRUE(Stat("c1").has_value());
  EXPECT_ERRNO(Stat("c0"), ELOOP);
}

TEST_F(PathWalkTest, NotADirectory) {
  EXPECT_ERRNO(Stat("a/file/x"), ENOTDIR);
  EXPECT_ERRNO(Stat("a/file/"), ENOTDIR);
  EXPECT_ERRNO(Stat("a/file/.."), ENOTDIR);
  EXPECT_ERRNO(Stat("link_rel/"), ENOTDIR);
  EXPECT_ERRNO(Dir("a/file"), ENOTDIR);
  EXPECT_ERRNO(Stat("x", true, "/a/file"), ENOTDIR);  // start is a file
}

TEST_F(PathWalkTest, NoEntry) {
  EXPECT_ERRNO(Stat(""), ENOENT);
  EXPECT_ERRNO(Stat("missing"), ENOENT);
  EXPECT_ERRNO(Stat("missing/x"), ENOENT);
  EXPECT_ERRNO(Stat("a/missing/.."), ENOENT);
  EXPECT_ERRNO(Stat("dangling"), ENOENT);
  EXPECT_TRUE(Stat("dangling", /*follow=*/false).has_value());
}

TEST_F(PathWalkTest, NameTooLong) {
  EXPECT_ERRNO(Stat(std::string(kNameMax + 1, 'x')), ENAMETOOLONG);
  EXPECT_ERRNO(Stat(std::string(kNameMax, 'x')), ENOENT);
  EXPECT_ERRNO(Stat("missing/" + std::string(kNameMax + 1, 'x')), ENOENT);
  std::string longest;  // 4095 bytes: the longest path Linux takes
  while (longest.size() < kPathMax - 2) longest += "./";
  longest += "a";
  ASSERT_EQ(longest.size(), kPathMax - 1);
  EXPECT_EQ(Dir(longest), "/a");
  EXPECT_ERRNO(Stat("/" + longest), ENAMETOOLONG);
}

TEST_F(PathWalkTest, PathEndsAtNul) {
  using std::string_literals::operator""s;
  EXPECT_EQ(Dir("..\0/x"s, "/a"), "/");
  EXPECT_EQ(Dir("/..\0x"s), "/");
  EXPECT_ERRNO(Stat("\0a"s), ENOENT);
}

TEST_F(PathWalkTest, TrailingSlashFollowsFinalLink) {
  ASSERT_OK_AND_ASSIGN(struct stat st, Stat("dirlink/", /*follow=*/false));
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  ASSERT_OK_AND_ASSIGN(st, Stat("dirlink", /*follow=*/false));
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_ERRNO(vfs_->Readlink({.start = "/"}, "dirlink/"), EINVAL);
}

TEST_F(PathWalkTest, MountsNeedNoMountPoint) {
  // The host tree has no dev/ or proc/; the mounts are there anyway.
  ASSERT_OK_AND_ASSIGN(struct stat st, Stat("/dev/null"));
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(Dir("/dev/.."), "/");
  EXPECT_EQ(Dir("/proc/../a"), "/a");
  EXPECT_EQ(Dir("..", "/dev"), "/");
}

}  // namespace
}  // namespace vfs
