// The overlay root through the VFS: copy-up on every kind of change,
// whiteouts, opaque directories, rename rules, hard links, merged
// listings, inode numbers, permissions; and the host tree never changes.
#include <linux/falloc.h>
#include <stdio.h>  // RENAME_*
#include <sys/sysmacros.h>

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "sentry/mm/memory_file.h"
#include "sentry/vfs/overlay.h"
#include "sentry/vfs/vfs_test_util.h"

namespace vfs {
namespace {

using testing::FakeProcess;
using testing::ListDir;
using testing::ReadSome;
using testing::TempTree;
using testing::WriteString;

class OverlayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_.Dir("etc");
    tree_.File("etc/passwd", "root:x:0:0\n");
    tree_.File("etc/ro", "read only\n", 0444);
    tree_.Dir("etc/sub");
    tree_.File("etc/sub/a", "a");
    tree_.Dir("empty");
    tree_.Symlink("etc/link", "passwd");
    tree_.Dir("private");
    ASSERT_EQ(::chmod(tree_.Host("private").c_str(), 0700), 0);
    ASSERT_EQ(::chmod(tree_.root().c_str(), 0755), 0);  // mkdtemp's is 0700
    mf_ = *mm::MemoryFile::Create(1024 * mm::kPageSize);
    auto vfs = Vfs::Create({.host_root = tree_.root(),
                            .overlay_root = true,
                            .memory_file = mf_.get()});
    ASSERT_TRUE(vfs.has_value());
    vfs_ = std::move(*vfs);
    root_ = Ctx({.uid = 0, .gid = 0});
    alice_ = Ctx({.uid = 1000, .gid = 1000});
  }
  PathContext Ctx(Creds c) {
    return PathContext{.start = "/", .process = &process_, .creds = c};
  }
  base::Result<std::shared_ptr<FileDescription>> Open(const std::string& path,
                                                      int flags) {
    return vfs_->Open(root_, path, flags, 0644);
  }
  std::string Read(const std::string& path) {
    auto f = Open(path, O_RDONLY);
    if (!f) return "<" + std::string(base::ErrnoName(f.error().value)) + ">";
    return ReadSome(**f);
  }
  void Write(const std::string& path, const std::string& data, int flags) {
    auto f = Open(path, O_WRONLY | flags);
    ASSERT_TRUE(f.has_value()) << path;
    ASSERT_EQ(WriteString(**f, data).value(), data.size());
  }
  std::string Host(const std::string& rel) {
    std::ifstream f(tree_.Host(rel));
    if (!f) return "<missing>";
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  struct stat Lstat(const std::string& path) {
    return vfs_->Stat(root_, path, false).value();
  }
  std::map<std::string, int> List(const std::string& path) {
    auto f = Open(path, O_RDONLY | O_DIRECTORY);
    EXPECT_TRUE(f.has_value()) << path;
    if (!f) return {};
    return ListDir(**f);
  }
  bool Exists(const std::string& path) {
    return vfs_->Stat(root_, path, false).has_value();
  }

  std::unique_ptr<mm::MemoryFile> mf_;
  TempTree tree_;
  FakeProcess process_;
  std::unique_ptr<Vfs> vfs_;
  PathContext root_, alice_;
};

TEST_F(OverlayTest, ReadsTheLowerLayer) {
  EXPECT_EQ(Read("/etc/passwd"), "root:x:0:0\n");
  EXPECT_EQ(Read("/etc/link"), "root:x:0:0\n");
  EXPECT_EQ(vfs_->Readlink(root_, "/etc/link").value(), "passwd");
  struct stat st = Lstat("/etc/passwd");
  EXPECT_EQ(st.st_dev, makedev(0, kOverlayMinor));
  EXPECT_EQ(st.st_mode, S_IFREG | 0644u);
  EXPECT_EQ(st.st_size, 11);
}

TEST_F(OverlayTest, WriteCopiesUpAndLeavesTheHostAlone) {
  const struct stat before = Lstat("/etc/passwd");
  Write("/etc/passwd", "ROOT", 0);
  EXPECT_EQ(Read("/etc/passwd"), "ROOT:x:0:0\n");  // data came along
  EXPECT_EQ(Host("etc/passwd"), "root:x:0:0\n");
  const struct stat after = Lstat("/etc/passwd");
  EXPECT_EQ(after.st_ino, before.st_ino);  // stable across copy-up
  EXPECT_EQ(after.st_dev, before.st_dev);
  EXPECT_EQ(after.st_mode, before.st_mode);
  EXPECT_EQ(after.st_uid, before.st_uid);
}

TEST_F(OverlayTest, TruncateAndAppendCopyUp) {
  Write("/etc/passwd", "new\n", O_TRUNC);
  EXPECT_EQ(Read("/etc/passwd"), "new\n");
  Write("/etc/sub/a", "b", O_APPEND);
  EXPECT_EQ(Read("/etc/sub/a"), "ab");
  ASSERT_TRUE(vfs_->SetAttr(root_, "/etc/ro", true, {.size = 4}).has_value());
  EXPECT_EQ(Read("/etc/ro"), "read");
  EXPECT_EQ(Host("etc/passwd"), "root:x:0:0\n");
  EXPECT_EQ(Host("etc/sub/a"), "a");
  EXPECT_EQ(Host("etc/ro"), "read only\n");
}

TEST_F(OverlayTest, CreateInLowerDirectory) {
  Write("/etc/x", "x\n", O_CREAT);
  EXPECT_EQ(Read("/etc/x"), "x\n");
  EXPECT_EQ(Host("etc/x"), "<missing>");
  ASSERT_TRUE(vfs_->Mkdir(root_, "/etc/sub/deep", 0755).has_value());
  Write("/etc/sub/deep/f", "f", O_CREAT);
  EXPECT_EQ(Read("/etc/sub/deep/f"), "f");
  EXPECT_NE(::access(tree_.Host("etc/sub/deep").c_str(), F_OK), 0);
}

TEST_F(OverlayTest, AttributesCopyUp) {
  ASSERT_TRUE(
      vfs_->SetAttr(root_, "/etc/passwd", true, {.mode = 0600}).has_value());
  ASSERT_TRUE(
      vfs_->SetAttr(root_, "/etc/sub", false, {.uid = 5, .gid = 6}).has_value());
  const timespec t{.tv_sec = 1000, .tv_nsec = 0};
  ASSERT_TRUE(vfs_->SetAttr(root_, "/etc/sub/a", true, {.atime = t, .mtime = t})
                  .has_value());
  EXPECT_EQ(Lstat("/etc/passwd").st_mode, S_IFREG | 0600u);
  EXPECT_EQ(Lstat("/etc/sub").st_uid, 5u);
  EXPECT_EQ(Lstat("/etc/sub/a").st_mtime, 1000);
  EXPECT_EQ(Read("/etc/passwd"), "root:x:0:0\n");
  struct stat host;
  ASSERT_EQ(::stat(tree_.Host("etc/passwd").c_str(), &host), 0);
  EXPECT_EQ(host.st_mode & 07777, 0644u);
  ASSERT_EQ(::stat(tree_.Host("etc/sub/a").c_str(), &host), 0);
  EXPECT_NE(host.st_mtime, 1000);
}

TEST_F(OverlayTest, UnlinkLeavesAWhiteout) {
  ASSERT_TRUE(vfs_->Unlink(root_, "/etc/passwd").has_value());
  EXPECT_ERRNO(Open("/etc/passwd", O_RDONLY), ENOENT);
  EXPECT_EQ(List("/etc").count("passwd"), 0u);
  EXPECT_EQ(Host("etc/passwd"), "root:x:0:0\n");
  // A new file of the same name is new.
  Write("/etc/passwd", "again", O_CREAT);
  EXPECT_EQ(Read("/etc/passwd"), "again");
  EXPECT_EQ(List("/etc").count("passwd"), 1u);
  ASSERT_TRUE(vfs_->Unlink(root_, "/etc/passwd").has_value());
  EXPECT_FALSE(Exists("/etc/passwd"));
  // A renamed-away copy leaves a whiteout too.
  Write("/etc/sub/a", "A", 0);
  ASSERT_TRUE(vfs_->Rename(root_, "/etc/sub/a", root_, "/a", 0).has_value());
  EXPECT_FALSE(Exists("/etc/sub/a"));
  EXPECT_EQ(Read("/a"), "A");
}

TEST_F(OverlayTest, RmdirAndOpaqueDirectories) {
  EXPECT_ERRNO(vfs_->Rmdir(root_, "/etc/sub"), ENOTEMPTY);
  ASSERT_TRUE(vfs_->Unlink(root_, "/etc/sub/a").has_value());
  EXPECT_TRUE(List("/etc/sub").size() == 2u);  // . and ..
  ASSERT_TRUE(vfs_->Rmdir(root_, "/etc/sub").has_value());
  EXPECT_FALSE(Exists("/etc/sub"));
  EXPECT_EQ(List("/etc").count("sub"), 0u);
  // mkdir over the whiteout: an empty directory, not the lower one.
  ASSERT_TRUE(vfs_->Mkdir(root_, "/etc/sub", 0700).has_value());
  EXPECT_FALSE(Exists("/etc/sub/a"));
  EXPECT_EQ(List("/etc/sub").size(), 2u);
  EXPECT_EQ(Lstat("/etc/sub").st_mode, S_IFDIR | 0700u);
  EXPECT_EQ(Host("etc/sub/a"), "a");
  ASSERT_TRUE(vfs_->Rmdir(root_, "/empty").has_value());
  EXPECT_ERRNO(vfs_->Rmdir(root_, "/empty"), ENOENT);
}

TEST_F(OverlayTest, ReaddirMergesLayers) {
  Write("/etc/new", "n", O_CREAT);
  ASSERT_TRUE(vfs_->Unlink(root_, "/etc/ro").has_value());
  Write("/etc/passwd", "p", 0);  // copied up: listed once
  auto names = List("/etc");
  EXPECT_EQ(names.size(), 6u);  // . .. passwd sub link new (ro gone)
  EXPECT_EQ(names.count("new"), 1u);
  EXPECT_EQ(names.count("ro"), 0u);
  EXPECT_EQ(names["sub"], DT_DIR);
  EXPECT_EQ(names["link"], DT_LNK);
  EXPECT_EQ(names["passwd"], DT_REG);
}

TEST_F(OverlayTest, ReaddirInodesMatchStat) {
  auto f = Open("/etc", O_RDONLY | O_DIRECTORY).value();
  std::vector<uint8_t> buf(4096);
  const size_t n = f->Getdents64(buf).value();
  int checked = 0;
  for (size_t off = 0; off < n;) {
    uint64_t ino;
    uint16_t reclen;
    std::memcpy(&ino, &buf[off], 8);
    std::memcpy(&reclen, &buf[off + 16], 2);
    std::string name = reinterpret_cast<const char*>(&buf[off + 19]);
    if (name != "..") {
      EXPECT_EQ(ino, Lstat("/etc/" + name).st_ino) << name;
      ++checked;
    }
    off += reclen;
  }
  EXPECT_EQ(checked, 5);
}

TEST_F(OverlayTest, InodeNumbersAreStableAndDistinct) {
  const ino_t a = Lstat("/etc/passwd").st_ino;
  const ino_t b = Lstat("/etc/sub/a").st_ino;
  EXPECT_NE(a, b);
  EXPECT_EQ(Lstat("/etc/passwd").st_ino, a);
  Write("/etc/new", "", O_CREAT);
  const ino_t c = Lstat("/etc/new").st_ino;
  EXPECT_NE(c, a);
  EXPECT_NE(c, b);
  // Never the host's numbers.
  struct stat host;
  ASSERT_EQ(::stat(tree_.Host("etc/passwd").c_str(), &host), 0);
  EXPECT_NE(Lstat("/etc/passwd").st_dev, host.st_dev);
}

TEST_F(OverlayTest, RenameFiles) {
  ASSERT_TRUE(
      vfs_->Rename(root_, "/etc/passwd", root_, "/etc/passwd2", 0).has_value());
  EXPECT_FALSE(Exists("/etc/passwd"));
  EXPECT_EQ(Read("/etc/passwd2"), "root:x:0:0\n");
  EXPECT_EQ(Host("etc/passwd"), "root:x:0:0\n");
  // Over a lower file.
  ASSERT_TRUE(
      vfs_->Rename(root_, "/etc/passwd2", root_, "/etc/sub/a", 0).has_value());
  EXPECT_EQ(Read("/etc/sub/a"), "root:x:0:0\n");
  EXPECT_EQ(List("/etc/sub").size(), 3u);
  EXPECT_ERRNO(vfs_->Rename(root_, "/etc/ro", root_, "/etc/sub/a",
                            RENAME_NOREPLACE),
               EEXIST);
  ASSERT_TRUE(vfs_->Rename(root_, "/etc/ro", root_, "/etc/sub/a",
                           RENAME_EXCHANGE)
                  .has_value());
  EXPECT_EQ(Read("/etc/ro"), "root:x:0:0\n");
  EXPECT_EQ(Read("/etc/sub/a"), "read only\n");
}

TEST_F(OverlayTest, RenameDirectories) {
  // A directory with lower content: EXDEV, as overlayfs without
  // redirect_dir.
  EXPECT_ERRNO(vfs_->Rename(root_, "/etc/sub", root_, "/sub2", 0), EXDEV);
  EXPECT_ERRNO(vfs_->Rename(root_, "/empty", root_, "/empty2", 0), EXDEV);
  // A directory made in the sandbox moves, with its content.
  ASSERT_TRUE(vfs_->Mkdir(root_, "/etc/mine", 0755).has_value());
  Write("/etc/mine/f", "f", O_CREAT);
  ASSERT_TRUE(vfs_->Rename(root_, "/etc/mine", root_, "/mine", 0).has_value());
  EXPECT_EQ(Read("/mine/f"), "f");
  EXPECT_FALSE(Exists("/etc/mine"));
  // Over an empty lower directory: the lower one stays hidden.
  tree_.File("empty/hidden", "h");
  ASSERT_TRUE(vfs_->Unlink(root_, "/empty/hidden").has_value());
  ASSERT_TRUE(vfs_->Rename(root_, "/mine", root_, "/empty", 0).has_value());
  EXPECT_EQ(Read("/empty/f"), "f");
  EXPECT_FALSE(Exists("/empty/hidden"));
  EXPECT_EQ(List("/empty").size(), 3u);
  EXPECT_ERRNO(vfs_->Rename(root_, "/empty", root_, "/etc", 0), ENOTEMPTY);
}

TEST_F(OverlayTest, HardLinksStayOneFile) {
  ASSERT_TRUE(
      vfs_->Link(root_, "/etc/passwd", root_, "/etc/p2", false).has_value());
  EXPECT_EQ(Lstat("/etc/passwd").st_ino, Lstat("/etc/p2").st_ino);
  EXPECT_EQ(Lstat("/etc/p2").st_nlink, 2u);
  Write("/etc/p2", "ROOT", 0);
  EXPECT_EQ(Read("/etc/passwd"), "ROOT:x:0:0\n");
  Write("/etc/passwd", "r", 0);
  EXPECT_EQ(Read("/etc/p2"), "rOOT:x:0:0\n");
  ASSERT_TRUE(vfs_->Unlink(root_, "/etc/passwd").has_value());
  EXPECT_EQ(Lstat("/etc/p2").st_nlink, 1u);
  EXPECT_EQ(Read("/etc/p2"), "rOOT:x:0:0\n");
  EXPECT_ERRNO(vfs_->Link(root_, "/etc/sub", root_, "/etc/s2", false), EPERM);
  EXPECT_EQ(Host("etc/p2"), "<missing>");
}

TEST_F(OverlayTest, PermissionsAreChecked) {
  EXPECT_ERRNO(vfs_->Open(alice_, "/etc/passwd", O_WRONLY, 0), EACCES);
  EXPECT_ERRNO(vfs_->Open(alice_, "/etc/new", O_CREAT | O_WRONLY, 0644),
               EACCES);
  EXPECT_ERRNO(vfs_->Unlink(alice_, "/etc/passwd"), EACCES);
  EXPECT_ERRNO(vfs_->Stat(alice_, "/private/x", false), EACCES);
  EXPECT_ERRNO(vfs_->SetAttr(alice_, "/etc/passwd", true, {.mode = 0777}),
               EPERM);
  EXPECT_TRUE(vfs_->Access(alice_, "/etc/passwd", R_OK, true, 1000, 1000)
                  .has_value());
  EXPECT_ERRNO(vfs_->Access(alice_, "/etc/passwd", W_OK, true, 1000, 1000),
               EACCES);
  EXPECT_TRUE(vfs_->Access(root_, "/etc/passwd", W_OK, true, 0, 0).has_value());
  // A directory handed to alice is hers to fill.
  ASSERT_TRUE(vfs_->SetAttr(root_, "/etc/sub", false, {.uid = 1000, .gid = 1000})
                  .has_value());
  EXPECT_TRUE(vfs_->Open(alice_, "/etc/sub/hers", O_CREAT | O_WRONLY, 0644)
                  .has_value());
  EXPECT_EQ(Lstat("/etc/sub/hers").st_uid, 1000u);
}

TEST_F(OverlayTest, SymlinksAndStatfs) {
  ASSERT_TRUE(vfs_->Symlink(root_, "sub/a", "/etc/l2").has_value());
  EXPECT_EQ(Read("/etc/l2"), "a");
  ASSERT_TRUE(vfs_->Unlink(root_, "/etc/link").has_value());
  EXPECT_FALSE(Exists("/etc/link"));
  auto s = vfs_->Statfs(root_, "/etc/passwd");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->f_type, kOverlayMagic);
}

TEST_F(OverlayTest, OpenFileSurvivesUnlinkAndFstatMatches) {
  auto f = Open("/etc/passwd", O_RDWR).value();
  EXPECT_EQ(f->Stat().value().st_ino, Lstat("/etc/passwd").st_ino);
  EXPECT_EQ(f->Stat().value().st_dev, Lstat("/etc/passwd").st_dev);
  ASSERT_TRUE(vfs_->Unlink(root_, "/etc/passwd").has_value());
  EXPECT_EQ(ReadSome(*f), "root:x:0:0\n");
}

TEST_F(OverlayTest, FallocateCopiesUpAndPunches) {
  auto f = Open("/etc/passwd", O_RDWR).value();
  // A hole over the whole (one-page) file: it reads zeros, the host not.
  ASSERT_TRUE(vfs_->Allocate(*f, 0, 4096, FALLOC_FL_PUNCH_HOLE |
                                              FALLOC_FL_KEEP_SIZE)
                  .has_value());
  EXPECT_EQ(Read("/etc/passwd"), std::string(11, '\0'));
  EXPECT_EQ(Lstat("/etc/passwd").st_blocks, 0);
  EXPECT_EQ(Host("etc/passwd"), "root:x:0:0\n");
  auto ro = Open("/etc/ro", O_RDONLY).value();
  EXPECT_EQ(vfs_->Allocate(*ro, 0, 10, FALLOC_FL_ZERO_RANGE).error().value,
            EOPNOTSUPP);
}

TEST_F(OverlayTest, FifosAndSocketsInTheUpperLayer) {
  ASSERT_TRUE(vfs_->Mknod(root_, "/etc/fifo", S_IFIFO | 0600, 0).has_value());
  ASSERT_TRUE(vfs_->Mknod(root_, "/etc/sock", S_IFSOCK | 0600, 0).has_value());
  EXPECT_TRUE(S_ISFIFO(Lstat("/etc/fifo").st_mode));
  EXPECT_TRUE(S_ISSOCK(Lstat("/etc/sock").st_mode));
  EXPECT_EQ(vfs_->Mknod(root_, "/etc/dev", S_IFCHR | 0600, makedev(1, 3))
                .error()
                .value,
            EPERM);
  // O_RDWR opens at once; what is written comes back.
  auto rw = Open("/etc/fifo", O_RDWR).value();
  EXPECT_TRUE(S_ISFIFO(rw->Stat().value().st_mode));
  EXPECT_EQ(rw->Stat().value().st_ino, Lstat("/etc/fifo").st_ino);
  ASSERT_EQ(WriteString(*rw, "ping").value(), 4u);
  EXPECT_EQ(ReadSome(*rw), "ping");
  EXPECT_EQ(Open("/etc/sock", O_RDONLY).error().value, ENXIO);
  EXPECT_EQ(List("/etc").count("fifo"), 1u);
}

}  // namespace
}  // namespace vfs
