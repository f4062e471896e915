// devfs: the devices' numbers, modes and behaviour, the listing, and that
// nothing can be created in /dev.
#include "sentry/vfs/devfs.h"

#include <sys/sysmacros.h>

#include "gtest/gtest.h"
#include "sentry/vfs/vfs_test_util.h"

namespace vfs {
namespace {

using testing::ListDir;
using testing::ReadSome;
using testing::TempTree;
using testing::WriteString;

class DevFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto vfs = Vfs::Create({.host_root = tree_.root()});
    ASSERT_TRUE(vfs.has_value());
    vfs_ = std::move(vfs).value();
  }
  base::Result<std::shared_ptr<FileDescription>> Open(std::string_view path,
                                                      int flags) {
    return vfs_->Open(ctx_, path, flags, 0644);
  }

  TempTree tree_;  // an empty "/": /dev exists only as a mount
  std::unique_ptr<Vfs> vfs_;
  PathContext ctx_{.start = "/"};
};

TEST_F(DevFsTest, StatLikeLinux) {
  const std::pair<const char*, unsigned> devices[] = {
      {"null", 3}, {"zero", 5}, {"full", 7}, {"random", 8}, {"urandom", 9}};
  for (const auto& [name, minor] : devices) {
    ASSERT_OK_AND_ASSIGN(struct stat st,
                         vfs_->Stat(ctx_, std::string("/dev/") + name, true));
    EXPECT_EQ(st.st_mode, S_IFCHR | 0666) << name;
    EXPECT_EQ(st.st_rdev, makedev(1, minor)) << name;
  }
  ASSERT_OK_AND_ASSIGN(struct stat dir, vfs_->Stat(ctx_, "/dev", true));
  EXPECT_EQ(dir.st_mode, S_IFDIR | 0755);
  ASSERT_OK_AND_ASSIGN(struct stat fd, vfs_->Stat(ctx_, "/dev/fd", false));
  EXPECT_EQ(fd.st_mode, S_IFLNK | 0777);
  EXPECT_EQ(fd.st_size, 13);
  EXPECT_EQ(vfs_->Readlink(ctx_, "/dev/fd"), "/proc/self/fd");
  EXPECT_EQ(vfs_->Readlink(ctx_, "/dev/stderr"), "/proc/self/fd/2");
}

TEST_F(DevFsTest, Null) {
  ASSERT_OK_AND_ASSIGN(auto f, Open("/dev/null", O_RDWR));
  EXPECT_EQ(f->path(), "/dev/null");
  EXPECT_EQ(ReadSome(*f), "");
  EXPECT_EQ(WriteString(*f, "abc"), 3u);
  EXPECT_EQ(f->Seek(10, SEEK_SET), 0);
  EXPECT_EQ(f->mmap_kind(), MmapKind::kNotMappable);
}

TEST_F(DevFsTest, Zero) {
  ASSERT_OK_AND_ASSIGN(auto f, Open("/dev/zero", O_RDWR));
  EXPECT_EQ(ReadSome(*f, 16), std::string(16, '\0'));
  EXPECT_EQ(WriteString(*f, "abc"), 3u);
  EXPECT_EQ(f->mmap_kind(), MmapKind::kAnonymous);
}

TEST_F(DevFsTest, Full) {
  ASSERT_OK_AND_ASSIGN(auto f, Open("/dev/full", O_RDWR));
  EXPECT_EQ(ReadSome(*f, 8), std::string(8, '\0'));
  EXPECT_ERRNO(WriteString(*f, "abc"), ENOSPC);
}

TEST_F(DevFsTest, Random) {
  for (const char* path : {"/dev/random", "/dev/urandom"}) {
    ASSERT_OK_AND_ASSIGN(auto f, Open(path, O_RDONLY));
    const std::string a = ReadSome(*f, 64), b = ReadSome(*f, 64);
    EXPECT_EQ(a.size(), 64u);
    EXPECT_NE(a, b) << path;
    EXPECT_NE(a, std::string(64, '\0')) << path;
  }
}

TEST_F(DevFsTest, Lists) {
  ASSERT_OK_AND_ASSIGN(auto d, Open("/dev", O_RDONLY | O_DIRECTORY));
  auto names = ListDir(*d);
  // . .. 5 devices 4 links, tty console ptmx, pts shm
  EXPECT_EQ(names.size(), 16u);
  EXPECT_EQ(names["null"], DT_CHR);
  EXPECT_EQ(names["urandom"], DT_CHR);
  EXPECT_EQ(names["fd"], DT_LNK);
  EXPECT_EQ(names["stdout"], DT_LNK);
  EXPECT_EQ(d->Seek(0, SEEK_SET), 0);
  EXPECT_EQ(ListDir(*d).size(), 16u);
  EXPECT_EQ(names["ptmx"], DT_CHR);
  EXPECT_EQ(names["pts"], DT_DIR);
  std::vector<uint8_t> tiny(8);
  EXPECT_EQ(d->Seek(0, SEEK_SET), 0);
  EXPECT_ERRNO(d->Getdents64(tiny), EINVAL);
}

TEST_F(DevFsTest, TerminalsWithoutATask) {
  // The sentry's own walks have no session: no controlling terminal, no
  // console; a new pseudo-terminal still works.
  EXPECT_ERRNO(Open("/dev/tty", O_RDWR), ENXIO);
  EXPECT_ERRNO(Open("/dev/console", O_RDWR), ENODEV);
  ASSERT_OK_AND_ASSIGN(auto m, Open("/dev/ptmx", O_RDWR));
  ASSERT_OK_AND_ASSIGN(auto st, vfs_->Stat(ctx_, "/dev/pts/0", true));
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_ERRNO(Open("/dev/pts/0", O_RDWR), EIO);  // locked
  m.reset();
  EXPECT_ERRNO(vfs_->Stat(ctx_, "/dev/pts/0", true), ENOENT);
}

TEST_F(DevFsTest, NoCreation) {
  EXPECT_ERRNO(Open("/dev/new", O_WRONLY | O_CREAT), EROFS);
  EXPECT_ERRNO(Open("/dev/null", O_WRONLY | O_CREAT | O_EXCL), EEXIST);
  EXPECT_TRUE(Open("/dev/null", O_WRONLY | O_CREAT | O_TRUNC).has_value());
  EXPECT_ERRNO(Open("/dev", O_WRONLY), EISDIR);
  EXPECT_TRUE(vfs_->Access(ctx_, "/dev/null", W_OK, true, 0, 0).has_value());
  EXPECT_TRUE(vfs_->Access(ctx_, "/dev/null", R_OK | W_OK, true, 1000, 1000)
                  .has_value());
}

}  // namespace
}  // namespace vfs
