// procfs through a fake process: self, exe, the fd directory and its
// magic links, and host links that lead into it.
#include "sentry/vfs/procfs.h"

#include "gtest/gtest.h"
#include "sentry/vfs/vfs_test_util.h"

namespace vfs {
namespace {

using testing::FakeProcess;
using testing::ListDir;
using testing::ReadSome;
using testing::TempTree;

class ProcFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_.Dir("a");
    tree_.File("a/file", "hello");
    tree_.Dir("dir");
    tree_.Dir("dir/sub");
    tree_.Symlink("pfd", "../proc/self/fd");
    auto vfs = Vfs::Create({.host_root = tree_.root()});
    ASSERT_TRUE(vfs.has_value());
    vfs_ = std::move(vfs).value();

    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    ::close(p[1]);
    process_.fds_[0] = ImportHostFd(p[0], O_RDONLY, "pipe:[1]");
    ASSERT_OK_AND_ASSIGN(process_.fds_[3], Open("/a/file", O_RDONLY));
    ASSERT_OK_AND_ASSIGN(process_.fds_[4], Open("/dir", O_RDONLY));
  }

  base::Result<std::shared_ptr<FileDescription>> Open(std::string_view path,
                                                      int flags) {
    return vfs_->Open(ctx_, path, flags, 0);
  }
  base::Result<struct stat> Stat(std::string_view path, bool follow = true) {
    return vfs_->Stat(ctx_, path, follow);
  }

  TempTree tree_;
  std::unique_ptr<Vfs> vfs_;
  FakeProcess process_;
  PathContext ctx_{.start = "/", .process = &process_};
};

TEST_F(ProcFsTest, SelfAndExe) {
  EXPECT_EQ(vfs_->Readlink(ctx_, "/proc/self"), "7");
  EXPECT_EQ(vfs_->Readlink(ctx_, "/proc/self/exe"), "/bin/app");
  EXPECT_EQ(vfs_->ResolveDirectory(ctx_, "/proc/self"), "/proc/7");
  ASSERT_OK_AND_ASSIGN(struct stat st, Stat("/proc/self", false));
  EXPECT_EQ(st.st_mode, S_IFLNK | 0777);
  ASSERT_OK_AND_ASSIGN(st, Stat("/proc"));
  EXPECT_EQ(st.st_mode, S_IFDIR | 0555);
  ASSERT_OK_AND_ASSIGN(st, Stat("/proc/self"));
  EXPECT_EQ(st.st_mode, S_IFDIR | 0555);
  ASSERT_OK_AND_ASSIGN(st, Stat("/proc/self/fd"));
  EXPECT_EQ(st.st_mode, S_IFDIR | 0500);
  EXPECT_ERRNO(Stat("/proc/8"), ENOENT);
  EXPECT_ERRNO(Stat("/proc/self/nothing"), ENOENT);
  EXPECT_ERRNO(Open("/proc/new", O_WRONLY | O_CREAT), ENOENT);
  // Without a process there is no "self".
  EXPECT_ERRNO(vfs_->Stat({.start = "/"}, "/proc/self", false), ENOENT);
}

TEST_F(ProcFsTest, FdLinks) {
  EXPECT_EQ(vfs_->Readlink(ctx_, "/proc/self/fd/3"), "/a/file");
  EXPECT_EQ(vfs_->Readlink(ctx_, "/proc/7/fd/0"), "pipe:[1]");
  ASSERT_OK_AND_ASSIGN(struct stat st, Stat("/proc/self/fd/0", false));
  EXPECT_EQ(st.st_mode, S_IFLNK | 0500);  // lr-x------: a read-only fd
  // Following an fd link lands on the open file, even a pipe.
  ASSERT_OK_AND_ASSIGN(st, Stat("/proc/self/fd/0"));
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  ASSERT_OK_AND_ASSIGN(auto f, Open("/proc/self/fd/3", O_RDONLY));
  EXPECT_EQ(f, process_.fds_[3]);
  ASSERT_OK_AND_ASSIGN(auto in, Open("/dev/stdin", O_RDONLY));
  EXPECT_EQ(in, process_.fds_[0]);
  ASSERT_OK_AND_ASSIGN(auto p, Open("/proc/self/fd/3", O_PATH));
  EXPECT_EQ(p->path(), "/a/file");
  EXPECT_NE(p, process_.fds_[3]);
  EXPECT_ERRNO(Stat("/proc/self/fd/0/"), ENOTDIR);
  EXPECT_ERRNO(Stat("/proc/self/fd/9"), ENOENT);
  EXPECT_ERRNO(Stat("/proc/self/fd/03"), ENOENT);
  // A directory fd can be walked through.
  EXPECT_EQ(vfs_->ResolveDirectory(ctx_, "/proc/self/fd/4"), "/dir");
  EXPECT_EQ(vfs_->ResolveDirectory(ctx_, "/dev/fd/4/sub"), "/dir/sub");
}

TEST_F(ProcFsTest, Lists) {
  ASSERT_OK_AND_ASSIGN(auto root, Open("/proc", O_RDONLY | O_DIRECTORY));
  auto names = ListDir(*root);
  EXPECT_EQ(names["self"], DT_LNK);
  EXPECT_EQ(names["thread-self"], DT_LNK);
  EXPECT_EQ(names["meminfo"], DT_REG);
  EXPECT_EQ(names["sys"], DT_DIR);
  EXPECT_EQ(names.count("8"), 0u);
  EXPECT_EQ(names["7"], DT_DIR);
  ASSERT_OK_AND_ASSIGN(auto pid, Open("/proc/self/", O_RDONLY));
  names = ListDir(*pid);
  EXPECT_EQ(names["exe"], DT_LNK);
  EXPECT_EQ(names["fd"], DT_DIR);
  ASSERT_OK_AND_ASSIGN(auto fds, Open("/proc/self/fd", O_RDONLY));
  EXPECT_EQ(fds->path(), "/proc/7/fd");
  names = ListDir(*fds);
  EXPECT_EQ(names.size(), 5u);  // . .. 0 3 4
  EXPECT_EQ(names["3"], DT_LNK);
}

TEST_F(ProcFsTest, HostLinksLandInOurProcfs) {
  EXPECT_EQ(vfs_->ResolveDirectory(ctx_, "/pfd"), "/proc/7/fd");
  EXPECT_EQ(vfs_->ResolveDirectory(ctx_, "/dev/fd"), "/proc/7/fd");
  ASSERT_OK_AND_ASSIGN(auto f, Open("/pfd/3", O_RDONLY));
  EXPECT_EQ(ReadSome(*f), "hello");
}

}  // namespace
}  // namespace vfs
