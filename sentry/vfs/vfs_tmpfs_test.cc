// The VFS with tmpfs mounts: creating and changing names by path, the
// checks Linux makes before a filesystem acts (EROFS on the host root,
// EXDEV, EBUSY, permissions, the sticky bit), attributes and statfs.
#include <stdio.h>  // RENAME_*
#include <sys/statvfs.h>

#include "gtest/gtest.h"
#include "sentry/mm/memory_file.h"
#include "sentry/vfs/tmpfs.h"
#include "sentry/vfs/vfs_test_util.h"

namespace vfs {
namespace {

using testing::FakeProcess;
using testing::ListDir;
using testing::ReadSome;
using testing::TempTree;
using testing::WriteString;

class VfsTmpfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_.Dir("etc");
    tree_.File("etc/file", "host data");
    mf_ = *mm::MemoryFile::Create(1024 * mm::kPageSize);
    auto vfs = Vfs::Create({.host_root = tree_.root(),
                            .tmpfs_mounts = {"/tmp", "/tmp/m", "/mnt"},
                            .memory_file = mf_.get()});
    ASSERT_TRUE(vfs.has_value());
    vfs_ = std::move(*vfs);
    root_ = Ctx({.uid = 0, .gid = 0});
    alice_ = Ctx({.uid = 1000, .gid = 1000});
    bob_ = Ctx({.uid = 1001, .gid = 1001});
  }
  PathContext Ctx(Creds c) {
    return PathContext{.start = "/", .process = &process_, .creds = c};
  }
  base::Result<std::shared_ptr<FileDescription>> Open(const PathContext& ctx,
                                                      const std::string& path,
                                                      int flags,
                                                      mode_t mode = 0644) {
    return vfs_->Open(ctx, path, flags, mode);
  }
  void Touch(const PathContext& ctx, const std::string& path,
             mode_t mode = 0644) {
    ASSERT_TRUE(Open(ctx, path, O_CREAT | O_WRONLY, mode).has_value()) << path;
  }
  struct stat Lstat(const std::string& path) {
    return vfs_->Stat(root_, path, false).value();
  }

  // Declared first: open files (process_ holds some) need it to the end.
  std::unique_ptr<mm::MemoryFile> mf_;
  TempTree tree_;
  FakeProcess process_;
  std::unique_ptr<Vfs> vfs_;
  PathContext root_, alice_, bob_;
};

TEST_F(VfsTmpfsTest, CreateWriteReadThroughPaths) {
  ASSERT_OK_AND_ASSIGN(auto f, Open(alice_, "/tmp/f", O_CREAT | O_RDWR, 0640));
  ASSERT_EQ(WriteString(*f, "hello").value(), 5u);
  ASSERT_OK_AND_ASSIGN(auto g, Open(alice_, "/tmp/f", O_RDONLY));
  EXPECT_EQ(ReadSome(*g), "hello");
  struct stat st = Lstat("/tmp/f");
  EXPECT_EQ(st.st_mode, S_IFREG | 0640u);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 1000u);
  EXPECT_EQ(g->path(), "/tmp/f");
  EXPECT_ERRNO(Open(alice_, "/tmp/f", O_CREAT | O_EXCL | O_RDWR), EEXIST);
  ASSERT_TRUE(Open(alice_, "/tmp/f", O_WRONLY | O_TRUNC).has_value());
  EXPECT_EQ(Lstat("/tmp/f").st_size, 0);
  // Nothing reached the host tree.
  EXPECT_NE(::access(tree_.Host("tmp").c_str(), F_OK), 0);
}

TEST_F(VfsTmpfsTest, OpenChecksModeBits) {
  Touch(alice_, "/tmp/ro", 0444);
  EXPECT_ERRNO(Open(alice_, "/tmp/ro", O_WRONLY), EACCES);
  EXPECT_ERRNO(Open(alice_, "/tmp/ro", O_RDONLY | O_TRUNC), EACCES);
  EXPECT_TRUE(Open(alice_, "/tmp/ro", O_RDONLY).has_value());
  EXPECT_TRUE(Open(root_, "/tmp/ro", O_RDWR).has_value());  // root bypasses
  Touch(alice_, "/tmp/private", 0600);
  EXPECT_ERRNO(Open(bob_, "/tmp/private", O_RDONLY), EACCES);
}

TEST_F(VfsTmpfsTest, HostRootIsReadOnlyForEveryChange) {
  const AttrChange chmod{.mode = 0777};
  EXPECT_ERRNO(vfs_->Mkdir(root_, "/etc/d", 0755), EROFS);
  EXPECT_ERRNO(vfs_->Mknod(root_, "/etc/n", S_IFREG | 0644, 0), EROFS);
  EXPECT_ERRNO(vfs_->Symlink(root_, "x", "/etc/l"), EROFS);
  EXPECT_ERRNO(vfs_->Link(root_, "/etc/file", root_, "/etc/l", false), EROFS);
  EXPECT_ERRNO(vfs_->Unlink(root_, "/etc/file"), EROFS);
  EXPECT_ERRNO(vfs_->Unlink(root_, "/etc/missing"), EROFS);
  EXPECT_ERRNO(vfs_->Rmdir(root_, "/etc"), EROFS);
  EXPECT_ERRNO(vfs_->Rename(root_, "/etc/file", root_, "/etc/g", 0), EROFS);
  EXPECT_ERRNO(vfs_->SetAttr(root_, "/etc/file", true, chmod), EROFS);
  EXPECT_ERRNO(vfs_->SetAttr(root_, "/etc/file", true, {.uid = 5}), EROFS);
  EXPECT_ERRNO(vfs_->SetAttr(root_, "/etc/file", true, {.size = 0}), EROFS);
  EXPECT_ERRNO(vfs_->SetAttr(root_, "/etc", true, {.size = 0}), EISDIR);
  ASSERT_OK_AND_ASSIGN(auto f, Open(root_, "/etc/file", O_RDONLY));
  EXPECT_ERRNO(vfs_->SetAttr(*f, root_.creds, chmod), EROFS);
  // The mount points' parent is the host root.
  EXPECT_ERRNO(vfs_->Rmdir(root_, "/tmp"), EROFS);
  // EEXIST comes before EROFS, as Linux's filename_create.
  EXPECT_ERRNO(vfs_->Mkdir(root_, "/etc", 0755), EEXIST);
  struct stat st;
  ASSERT_EQ(::stat(tree_.Host("etc/file").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(VfsTmpfsTest, MountsBoundRenameLinkAndRmdir) {
  Touch(root_, "/tmp/f");
  EXPECT_ERRNO(vfs_->Rename(root_, "/tmp/f", root_, "/mnt/f", 0), EXDEV);
  EXPECT_ERRNO(vfs_->Link(root_, "/tmp/f", root_, "/mnt/f", false), EXDEV);
  EXPECT_ERRNO(vfs_->Link(root_, "/etc/file", root_, "/tmp/g", false), EXDEV);
  EXPECT_ERRNO(vfs_->Rename(root_, "/tmp/f", root_, "/tmp/m/f", 0), EXDEV);
  EXPECT_ERRNO(vfs_->Rmdir(root_, "/tmp/m"), EBUSY);
  EXPECT_ERRNO(vfs_->Rename(root_, "/tmp/m", root_, "/tmp/n", 0), EBUSY);
  EXPECT_ERRNO(vfs_->Unlink(root_, "/tmp/m"), EISDIR);
  EXPECT_ERRNO(vfs_->Rmdir(root_, "/"), EBUSY);
}

TEST_F(VfsTmpfsTest, NamespaceCallsFollowLinuxErrors) {
  ASSERT_TRUE(vfs_->Mkdir(alice_, "/tmp/d/", 0755).has_value());
  EXPECT_ERRNO(vfs_->Mkdir(alice_, "/tmp/d", 0755), EEXIST);
  EXPECT_ERRNO(vfs_->Mkdir(alice_, "/tmp/d/.", 0755), EEXIST);
  EXPECT_ERRNO(vfs_->Mkdir(alice_, "/tmp/no/d", 0755), ENOENT);
  EXPECT_ERRNO(vfs_->Rmdir(alice_, "/tmp/d/."), EINVAL);
  EXPECT_ERRNO(vfs_->Rmdir(alice_, "/tmp/d/.."), ENOTEMPTY);
  Touch(alice_, "/tmp/d/f");
  EXPECT_ERRNO(vfs_->Rmdir(alice_, "/tmp/d"), ENOTEMPTY);
  EXPECT_ERRNO(vfs_->Rmdir(alice_, "/tmp/d/f"), ENOTDIR);
  EXPECT_ERRNO(vfs_->Unlink(alice_, "/tmp/d"), EISDIR);
  EXPECT_ERRNO(vfs_->Unlink(alice_, "/tmp/d/f/"), ENOTDIR);
  EXPECT_ERRNO(vfs_->Symlink(alice_, "", "/tmp/l"), ENOENT);
  EXPECT_ERRNO(vfs_->Symlink(alice_, "x", "/tmp/l/"), ENOENT);
  ASSERT_TRUE(vfs_->Symlink(alice_, "d", "/tmp/l").has_value());
  EXPECT_EQ(vfs_->Readlink(alice_, "/tmp/l").value(), "d");
  EXPECT_EQ(vfs_->Stat(alice_, "/tmp/l/f", true)->st_size, 0);
  EXPECT_ERRNO(vfs_->Rmdir(alice_, "/tmp/l"), ENOTDIR);
  EXPECT_ERRNO(vfs_->Link(alice_, "/tmp/d", alice_, "/tmp/d2", false), EPERM);
  ASSERT_TRUE(vfs_->Link(alice_, "/tmp/l", alice_, "/tmp/l2", false));
  EXPECT_EQ(Lstat("/tmp/l2").st_mode & S_IFMT, S_IFLNK);
  ASSERT_TRUE(vfs_->Symlink(alice_, "d/f", "/tmp/lf"));
  ASSERT_TRUE(vfs_->Link(alice_, "/tmp/lf", alice_, "/tmp/f2", true));
  EXPECT_EQ(Lstat("/tmp/f2").st_nlink, 2u);
  EXPECT_EQ(Lstat("/tmp/f2").st_ino, Lstat("/tmp/d/f").st_ino);
  EXPECT_ERRNO(vfs_->Mknod(alice_, "/tmp/c", S_IFCHR | 0600, 0x103), EPERM);
  EXPECT_ERRNO(vfs_->Mknod(alice_, "/tmp/c", S_IFDIR | 0600, 0), EPERM);
  ASSERT_TRUE(vfs_->Mknod(alice_, "/tmp/r", 0600, 0));
  EXPECT_EQ(Lstat("/tmp/r").st_mode, S_IFREG | 0600u);
  ASSERT_TRUE(vfs_->Unlink(alice_, "/tmp/r"));
  EXPECT_ERRNO(vfs_->Unlink(alice_, "/tmp/r"), ENOENT);
}

TEST_F(VfsTmpfsTest, RenameChecksPathsBeforeTheFilesystem) {
  ASSERT_TRUE(vfs_->Mkdir(root_, "/tmp/a", 0755));
  ASSERT_TRUE(vfs_->Mkdir(root_, "/tmp/a/b", 0755));
  Touch(root_, "/tmp/f");
  EXPECT_ERRNO(vfs_->Rename(root_, "/tmp/a", root_, "/tmp/a/b/c", 0), EINVAL);
  EXPECT_ERRNO(vfs_->Rename(root_, "/tmp/a/b", root_, "/tmp/a", 0), ENOTEMPTY);
  EXPECT_ERRNO(vfs_->Rename(root_, "/tmp/f/", root_, "/tmp/g", 0), ENOTDIR);
  EXPECT_ERRNO(vfs_->Rename(root_, "/tmp/f", root_, "/tmp/g/", 0), ENOTDIR);
  EXPECT_ERRNO(vfs_->Rename(root_, "/tmp/a/.", root_, "/tmp/x", 0), EBUSY);
  EXPECT_ERRNO(vfs_->Rename(root_, "/tmp/f", root_, "/tmp/a", 0), EISDIR);
  EXPECT_ERRNO(vfs_->Rename(root_, "/tmp/a", root_, "/tmp/f", 0), ENOTDIR);
  EXPECT_ERRNO(vfs_->Rename(root_, "/tmp/f", root_, "/tmp/a",
                            RENAME_NOREPLACE | RENAME_EXCHANGE),
               EINVAL);
  ASSERT_TRUE(vfs_->Rename(root_, "/tmp/a/", root_, "/tmp/c/", 0));
  EXPECT_EQ(Lstat("/tmp/c/b").st_mode & S_IFMT, S_IFDIR);
  ASSERT_TRUE(vfs_->Rename(root_, "/tmp/f", root_, "/tmp/c", RENAME_EXCHANGE));
  EXPECT_EQ(Lstat("/tmp/f/b").st_mode & S_IFMT, S_IFDIR);
}

TEST_F(VfsTmpfsTest, WritePermissionOnTheParentAndTheStickyBit) {
  ASSERT_TRUE(vfs_->Mkdir(root_, "/tmp/rootdir", 0755));
  EXPECT_ERRNO(Open(alice_, "/tmp/rootdir/f", O_CREAT | O_WRONLY), EACCES);
  EXPECT_ERRNO(vfs_->Mkdir(alice_, "/tmp/rootdir/d", 0755), EACCES);
  Touch(root_, "/tmp/rootdir/f");
  EXPECT_ERRNO(vfs_->Unlink(alice_, "/tmp/rootdir/f"), EACCES);
  // /tmp is 1777: anyone creates, only the owner removes or renames.
  Touch(alice_, "/tmp/alices");
  EXPECT_ERRNO(vfs_->Unlink(bob_, "/tmp/alices"), EPERM);
  EXPECT_ERRNO(vfs_->Rename(bob_, "/tmp/alices", bob_, "/tmp/bobs", 0), EPERM);
  Touch(bob_, "/tmp/bobs");
  EXPECT_ERRNO(vfs_->Rename(alice_, "/tmp/alices", alice_, "/tmp/bobs", 0),
               EPERM);
  // Hard links to others' files need read and write permission.
  EXPECT_ERRNO(vfs_->Link(bob_, "/tmp/alices", bob_, "/tmp/mine", false),
               EPERM);
  EXPECT_TRUE(vfs_->Unlink(alice_, "/tmp/alices").has_value());
  EXPECT_TRUE(vfs_->Unlink(root_, "/tmp/bobs").has_value());
}

TEST_F(VfsTmpfsTest, PrivateDirectoriesCannotBeSearched) {
  ASSERT_TRUE(vfs_->Mkdir(alice_, "/tmp/priv", 0700));
  Touch(alice_, "/tmp/priv/f", 0666);
  EXPECT_TRUE(vfs_->Stat(alice_, "/tmp/priv/f", true).has_value());
  EXPECT_TRUE(vfs_->Stat(root_, "/tmp/priv/f", true).has_value());
  EXPECT_ERRNO(vfs_->Stat(bob_, "/tmp/priv/f", true), EACCES);
  EXPECT_ERRNO(Open(bob_, "/tmp/priv/f", O_RDWR), EACCES);
  EXPECT_ERRNO(vfs_->Unlink(bob_, "/tmp/priv/f"), EACCES);
  EXPECT_ERRNO(vfs_->Stat(bob_, "/tmp/priv/..", true), EACCES);
  // The directory itself is still visible from its parent.
  EXPECT_TRUE(vfs_->Stat(bob_, "/tmp/priv", true).has_value());
}

TEST_F(VfsTmpfsTest, AttributeChangesFollowOwnership) {
  Touch(alice_, "/tmp/f", 04755);
  EXPECT_ERRNO(vfs_->SetAttr(bob_, "/tmp/f", true, {.mode = 0777}), EPERM);
  ASSERT_TRUE(vfs_->SetAttr(alice_, "/tmp/f", true, {.mode = 04750}));
  EXPECT_EQ(Lstat("/tmp/f").st_mode & 07777, 04750u);
  // chown: only root gives files away; the owner picks its own groups.
  EXPECT_ERRNO(vfs_->SetAttr(alice_, "/tmp/f", true, {.uid = 1001}), EPERM);
  EXPECT_ERRNO(vfs_->SetAttr(alice_, "/tmp/f", true, {.gid = 1001}), EPERM);
  PathContext alice_in_1001 = Ctx({.uid = 1000, .gid = 1000, .groups = {1001}});
  ASSERT_TRUE(vfs_->SetAttr(alice_in_1001, "/tmp/f", true, {.gid = 1001}));
  EXPECT_EQ(Lstat("/tmp/f").st_gid, 1001u);
  EXPECT_EQ(Lstat("/tmp/f").st_mode & 07777, 0750u);  // set-user-ID gone
  ASSERT_TRUE(vfs_->SetAttr(root_, "/tmp/f", true, {.uid = 7, .gid = 8}));
  EXPECT_EQ(Lstat("/tmp/f").st_uid, 7u);
  // Times: "now" needs write permission, explicit times ownership.
  Touch(alice_, "/tmp/w", 0666);
  const AttrChange now{.atime = timespec{0, UTIME_NOW},
                       .mtime = timespec{0, UTIME_NOW}};
  const AttrChange past{.atime = timespec{5, 0}, .mtime = timespec{6, 0}};
  EXPECT_TRUE(vfs_->SetAttr(bob_, "/tmp/w", true, now).has_value());
  EXPECT_ERRNO(vfs_->SetAttr(bob_, "/tmp/w", true, past), EPERM);
  ASSERT_TRUE(vfs_->SetAttr(alice_, "/tmp/w", true, past));
  EXPECT_EQ(Lstat("/tmp/w").st_mtim.tv_sec, 6);
  EXPECT_ERRNO(vfs_->SetAttr(bob_, "/tmp/f", true, now), EACCES);
  // truncate(2) needs write permission on the file.
  EXPECT_ERRNO(vfs_->SetAttr(bob_, "/tmp/f", true, {.size = 0}), EACCES);
  ASSERT_TRUE(vfs_->SetAttr(bob_, "/tmp/w", true, {.size = 3}));
  EXPECT_EQ(Lstat("/tmp/w").st_size, 3);
  // Through a description, which survives a rename.
  ASSERT_OK_AND_ASSIGN(auto f, Open(alice_, "/tmp/w", O_RDWR));
  ASSERT_TRUE(vfs_->Rename(alice_, "/tmp/w", alice_, "/tmp/w2", 0));
  ASSERT_TRUE(vfs_->SetAttr(*f, alice_.creds, {.mode = 0600}));
  ASSERT_TRUE(vfs_->SetAttr(*f, alice_.creds, {.size = 100}));
  EXPECT_EQ(Lstat("/tmp/w2").st_mode & 07777, 0600u);
  EXPECT_EQ(Lstat("/tmp/w2").st_size, 100);
  EXPECT_TRUE(vfs_->Allocate(*f, 0, 8192, 0).has_value());
  EXPECT_EQ(Lstat("/tmp/w2").st_size, 8192);
  EXPECT_TRUE(vfs_->Sync(*f).has_value());
}

TEST_F(VfsTmpfsTest, StatfsByMount) {
  EXPECT_EQ(vfs_->Statfs(root_, "/tmp")->f_type, kTmpfsMagic);
  EXPECT_EQ(vfs_->Statfs(root_, "/mnt")->f_type, kTmpfsMagic);
  EXPECT_EQ(vfs_->Statfs(root_, "/proc")->f_type, 0x9fa0);
  EXPECT_EQ(vfs_->Statfs(root_, "/dev/null")->f_type, kTmpfsMagic);
  ASSERT_OK_AND_ASSIGN(struct statfs host, vfs_->Statfs(root_, "/etc/file"));
  EXPECT_TRUE(host.f_flags & ST_RDONLY);
  Touch(root_, "/tmp/f");
  ASSERT_OK_AND_ASSIGN(auto f, Open(root_, "/tmp/f", O_RDONLY));
  EXPECT_EQ(vfs_->Statfs(*f)->f_type, kTmpfsMagic);
  ASSERT_OK_AND_ASSIGN(auto e, Open(root_, "/etc/file", O_RDONLY));
  EXPECT_TRUE(vfs_->Statfs(*e)->f_flags & ST_RDONLY);
  EXPECT_ERRNO(vfs_->Sync(*Open(root_, "/dev/null", O_RDONLY).value()), EINVAL);
}

TEST_F(VfsTmpfsTest, MagicLinksReopenTmpfsFiles) {
  Touch(root_, "/tmp/f");
  ASSERT_OK_AND_ASSIGN(auto ro, Open(root_, "/tmp/f", O_RDONLY));
  process_.fds_[3] = ro;
  ASSERT_OK_AND_ASSIGN(auto rw, Open(root_, "/proc/self/fd/3", O_RDWR));
  EXPECT_NE(rw, ro);  // a new description, as Linux
  ASSERT_TRUE(WriteString(*rw, "via fd").has_value());
  EXPECT_EQ(ReadSome(*ro), "via fd");
  ASSERT_TRUE(vfs_->SetAttr(root_, "/proc/self/fd/3", true, {.mode = 0600}));
  EXPECT_EQ(Lstat("/tmp/f").st_mode & 07777, 0600u);
  ASSERT_TRUE(vfs_->Link(root_, "/proc/self/fd/3", root_, "/tmp/g", true));
  EXPECT_EQ(Lstat("/tmp/g").st_nlink, 2u);
}

TEST_F(VfsTmpfsTest, WithoutAMemoryFileThereIsNoTmpfs) {
  auto vfs = Vfs::Create({.host_root = tree_.root()});
  ASSERT_TRUE(vfs.has_value());
  EXPECT_ERRNO((*vfs)->Stat(root_, "/tmp", true), ENOENT);
  EXPECT_ERRNO(Vfs::Create({.host_root = tree_.root(),
                            .tmpfs_mounts = {"tmp"},
                            .memory_file = mf_.get()}),
               EINVAL);
}

}  // namespace
}  // namespace vfs
