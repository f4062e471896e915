// Extended attributes below the syscalls: tmpfs's per-mount bound, and the
// overlay (reads from the lower file, copy-up carrying user.* and
// trusted.* but never overlayfs marks, the host tree unchanged). The
// checks every filesystem shares are tested by the conformance test
// tests/syscalls/xattr_test.cc.
#include <sys/xattr.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sentry/mm/memory_file.h"
#include "sentry/vfs/tmpfs.h"
#include "sentry/vfs/vfs_test_util.h"

namespace vfs {
namespace {

using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;
using testing::FakeProcess;
using testing::TempTree;

std::string HostXattr(const std::string& path, const char* name) {
  char buf[256];
  const ssize_t n = ::getxattr(path.c_str(), name, buf, sizeof buf);
  if (n < 0) return "<" + std::string(base::ErrnoName(errno)) + ">";
  return std::string(buf, n);
}

template <typename T>
std::string Show(const base::Result<T>& r) {
  if (!r) return "<" + std::string(base::ErrnoName(r.error().value)) + ">";
  if constexpr (std::is_same_v<T, std::string>) return *r;
  return "ok";
}

TEST(TmpfsXattrTest, MountBound) {
  auto mf = *mm::MemoryFile::Create(16 * mm::kPageSize);
  // Room for one attribute of 100 bytes and a small one (40 + name +
  // value each).
  auto fs = Tmpfs::Create(*mf, {.xattr_space = 250});
  std::shared_ptr<Node> root = fs->Root({});
  ASSERT_TRUE(root->MakeChild("f", S_IFREG | 0644, Creds{}, "").has_value());
  ASSERT_TRUE(root->MakeChild("g", S_IFREG | 0644, Creds{}, "").has_value());
  std::shared_ptr<Node> f = *root->Lookup("f");
  std::shared_ptr<Node> g = *root->Lookup("g");
  const std::string hundred(100, 'h');
  ASSERT_TRUE(f->SetXattr("user.a", hundred, 0).has_value());  // 146
  EXPECT_EQ(Show(g->SetXattr("user.b", hundred, 0)), "<ENOSPC>");
  ASSERT_TRUE(g->SetXattr("user.b", "small", 0).has_value());  // 51
  // Growing a value needs room for the difference only.
  EXPECT_EQ(Show(f->SetXattr("user.a", std::string(160, 'x'), 0)), "<ENOSPC>");
  EXPECT_EQ(Show(f->GetXattr("user.a")), hundred);
  ASSERT_TRUE(f->SetXattr("user.a", std::string(110, 'x'), 0).has_value());
  // Removing gives the room back; so does the file going away.
  ASSERT_TRUE(g->RemoveXattr("user.b").has_value());
  ASSERT_TRUE(g->SetXattr("user.b", std::string(40, 'y'), 0).has_value());
  EXPECT_EQ(Show(g->SetXattr("user.c", "z", 0)), "<ENOSPC>");
  ASSERT_TRUE(root->Remove("f", *f).has_value());
  f.reset();
  ASSERT_TRUE(g->SetXattr("user.c", hundred, 0).has_value());
  EXPECT_THAT(*g->ListXattr(), UnorderedElementsAre("user.b", "user.c"));
}

TEST(TmpfsXattrTest, FlagsAndSystemNames) {
  auto mf = *mm::MemoryFile::Create(16 * mm::kPageSize);
  auto fs = Tmpfs::Create(*mf, {});
  std::shared_ptr<Node> root = fs->Root({});
  EXPECT_EQ(Show(root->SetXattr("user.a", "1", XATTR_REPLACE)), "<ENODATA>");
  ASSERT_TRUE(root->SetXattr("user.a", "1", XATTR_CREATE).has_value());
  EXPECT_EQ(Show(root->SetXattr("user.a", "2", XATTR_CREATE)), "<EEXIST>");
  EXPECT_EQ(Show(root->GetXattr("system.posix_acl_default")), "<ENODATA>");
  EXPECT_EQ(Show(root->GetXattr("system.other")), "<EOPNOTSUPP>");
  EXPECT_EQ(Show(root->SetXattr("system.posix_acl_access", "", 0)),
            "<EOPNOTSUPP>");
  EXPECT_EQ(Show(root->RemoveXattr("system.posix_acl_access")), "ok");
  EXPECT_EQ(Show(root->RemoveXattr("user.none")), "<ENODATA>");
}

class OverlayXattrTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_.Dir("etc");
    tree_.File("etc/f", "data");
    tree_.Dir("d");
    tree_.File("d/g", "g");
    ASSERT_EQ(::chmod(tree_.root().c_str(), 0755), 0);
    if (::setxattr(Host("etc/f").c_str(), "user.u", "u", 1, 0) != 0) {
      GTEST_SKIP() << "no user xattrs in " << tree_.root();
    }
    ASSERT_EQ(::setxattr(Host("d").c_str(), "user.d", "dir", 3, 0), 0);
    root_user_ = ::geteuid() == 0;
    if (root_user_) {
      ASSERT_EQ(::setxattr(Host("etc/f").c_str(), "trusted.t", "t", 1, 0), 0);
      ASSERT_EQ(::setxattr(Host("etc/f").c_str(), "trusted.overlay.opaque",
                           "y", 1, 0),
                0);
      ASSERT_EQ(::setxattr(Host("etc/f").c_str(), "security.s", "s", 1, 0),
                0);
    }
    mf_ = *mm::MemoryFile::Create(1024 * mm::kPageSize);
    auto vfs = Vfs::Create({.host_root = tree_.root(),
                            .overlay_root = true,
                            .memory_file = mf_.get()});
    ASSERT_TRUE(vfs.has_value());
    vfs_ = std::move(*vfs);
  }
  std::string Host(const std::string& rel) { return tree_.Host(rel); }
  PathContext Ctx() { return {.start = "/", .process = &process_}; }
  std::string Get(const std::string& path, const std::string& name) {
    return Show(vfs_->GetXattr(Ctx(), path, true, name));
  }
  std::vector<std::string> Lower() {
    std::vector<std::string> names = {"user.u"};
    if (root_user_) names.push_back("trusted.t");
    return names;
  }

  TempTree tree_;
  FakeProcess process_;
  std::unique_ptr<mm::MemoryFile> mf_;
  std::unique_ptr<Vfs> vfs_;
  bool root_user_ = false;
};

TEST_F(OverlayXattrTest, ReadsTheLowerFile) {
  const ino_t ino = vfs_->Stat(Ctx(), "/etc/f", false)->st_ino;
  EXPECT_EQ(Get("/etc/f", "user.u"), "u");
  EXPECT_EQ(Get("/etc/f", "user.none"), "<ENODATA>");
  // Never shown: overlayfs's marks, and the host's security labels.
  EXPECT_EQ(Get("/etc/f", "trusted.overlay.opaque"), "<EOPNOTSUPP>");
  EXPECT_EQ(Get("/etc/f", "security.s"), "<ENODATA>");
  EXPECT_THAT(*vfs_->ListXattr(Ctx(), "/etc/f", true),
              UnorderedElementsAreArray(Lower()));
  EXPECT_EQ(Get("/d", "user.d"), "dir");
  // Reading copies nothing up.
  EXPECT_EQ(vfs_->Stat(Ctx(), "/etc/f", false)->st_ino, ino);
}

TEST_F(OverlayXattrTest, SetxattrCopiesUpWithTheLowerXattrs) {
  ASSERT_TRUE(
      vfs_->SetXattr(Ctx(), "/etc/f", true, "user.new", "n", 0).has_value());
  EXPECT_EQ(Get("/etc/f", "user.new"), "n");
  EXPECT_EQ(Get("/etc/f", "user.u"), "u");
  if (root_user_) {
    EXPECT_EQ(Get("/etc/f", "trusted.t"), "t");
  }
  EXPECT_EQ(Get("/etc/f", "trusted.overlay.opaque"), "<EOPNOTSUPP>");
  std::vector<std::string> names = Lower();
  names.push_back("user.new");
  EXPECT_THAT(*vfs_->ListXattr(Ctx(), "/etc/f", true),
              UnorderedElementsAreArray(names));
  // The data came up too; the host file is as it was.
  auto f = vfs_->Open(Ctx(), "/etc/f", O_RDONLY, 0);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(testing::ReadSome(**f), "data");
  EXPECT_EQ(HostXattr(Host("etc/f"), "user.new"), "<ENODATA>");
  EXPECT_EQ(HostXattr(Host("etc/f"), "user.u"), "u");
  // Changes now stay in the upper file.
  ASSERT_TRUE(
      vfs_->SetXattr(Ctx(), "/etc/f", true, "user.u", "changed", 0).has_value());
  EXPECT_EQ(Get("/etc/f", "user.u"), "changed");
  EXPECT_EQ(HostXattr(Host("etc/f"), "user.u"), "u");
  EXPECT_EQ(
      Show(vfs_->SetXattr(Ctx(), "/etc/f", true, "trusted.overlay.x", "1", 0)),
      "<EOPNOTSUPP>");
}

TEST_F(OverlayXattrTest, RemovexattrOfAMissingNameCopiesNothing) {
  const ino_t ino = vfs_->Stat(Ctx(), "/etc/f", false)->st_ino;
  EXPECT_EQ(Show(vfs_->RemoveXattr(Ctx(), "/etc/f", true, "user.none")),
            "<ENODATA>");
  ASSERT_TRUE(vfs_->RemoveXattr(Ctx(), "/etc/f", true, "user.u").has_value());
  EXPECT_EQ(Get("/etc/f", "user.u"), "<ENODATA>");
  EXPECT_EQ(HostXattr(Host("etc/f"), "user.u"), "u");
  // A copy-up keeps the number.
  EXPECT_EQ(vfs_->Stat(Ctx(), "/etc/f", false)->st_ino, ino);
}

TEST_F(OverlayXattrTest, EveryCopyUpCarriesThem) {
  // chmod copies the file up; a new name in /d copies the directory up.
  ASSERT_TRUE(vfs_->SetAttr(Ctx(), "/etc/f", true, {.mode = 0600}).has_value());
  EXPECT_EQ(Get("/etc/f", "user.u"), "u");
  ASSERT_TRUE(vfs_->Mkdir(Ctx(), "/d/new", 0755).has_value());
  EXPECT_EQ(Get("/d", "user.d"), "dir");
  EXPECT_THAT(*vfs_->ListXattr(Ctx(), "/d/new", true), ::testing::IsEmpty());
}

}  // namespace
}  // namespace vfs
