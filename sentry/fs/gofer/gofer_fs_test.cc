// GoferFs against a gofer served in this process: what the VFS sees of a
// tree, what is cached, and that handles are given back.
#include "sentry/fs/gofer/gofer_fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>

#include "gofer/test_util.h"
#include "gtest/gtest.h"

namespace gofer {
namespace {

using testing::InProcessGofer;
using testing::TempDir;
using testing::WriteFile;

// The test's gofer owns the client; GoferFs shares it without owning it.
std::shared_ptr<Client> Borrow(InProcessGofer& g) {
  return std::shared_ptr<Client>(std::shared_ptr<Client>(), &g.client());
}

class GoferFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(mkdir((dir_.path() + "/a").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((dir_.path() + "/a/b").c_str(), 0755), 0);
    WriteFile(dir_.path() + "/a/b/file", "hello gofer");
    ASSERT_EQ(symlink("b/file", (dir_.path() + "/a/link").c_str()), 0);
    ASSERT_EQ(mkfifo((dir_.path() + "/fifo").c_str(), 0644), 0);
  }
  std::unique_ptr<GoferFs> Attach(InProcessGofer& g,
                                  GoferFs::Options options = {}) {
    auto fs = GoferFs::Create(Borrow(g), "", options);
    EXPECT_TRUE(fs.has_value());
    return fs ? std::move(*fs) : nullptr;
  }
  // Walks `names` from the root.
  base::Result<std::shared_ptr<vfs::Node>> Walk(
      GoferFs& fs, std::initializer_list<std::string_view> names) {
    std::shared_ptr<vfs::Node> node = fs.Root({});
    for (std::string_view name : names) node = TRY(node->Lookup(name));
    return node;
  }

  TempDir dir_;
};

TEST_F(GoferFsTest, LookupsAreServedOnceThenCached) {
  InProcessGofer g(dir_.path(), /*read_only=*/true);
  auto fs = Attach(g);
  ASSERT_OK_AND_ASSIGN(file, Walk(*fs, {"a", "b", "file"}));
  EXPECT_EQ(fs->counters().walks, 3u);
  ASSERT_OK_AND_ASSIGN(again, Walk(*fs, {"a", "b", "file"}));
  EXPECT_EQ(fs->counters().walks, 3u);
  EXPECT_EQ(fs->counters().hits, 3u);
  EXPECT_EQ(file.get(), again.get());

  struct stat host;
  ASSERT_EQ(lstat((dir_.path() + "/a/b/file").c_str(), &host), 0);
  ASSERT_OK_AND_ASSIGN(st, file->Stat());
  EXPECT_EQ(st.st_ino, host.st_ino);
  EXPECT_EQ(st.st_size, 11);
  EXPECT_EQ(file->type(), S_IFREG);
  EXPECT_TRUE(file->read_only());
}

TEST_F(GoferFsTest, MissingNamesAreCachedToo) {
  InProcessGofer g(dir_.path(), /*read_only=*/true);
  auto fs = Attach(g);
  EXPECT_ERRNO(Walk(*fs, {"a", "nope"}), ENOENT);
  EXPECT_ERRNO(Walk(*fs, {"a", "nope"}), ENOENT);
  EXPECT_EQ(fs->counters().walks, 2u);  // "a" and "nope", once each
  // Not a directory: no round trip at all.
  EXPECT_ERRNO(Walk(*fs, {"a", "b", "file", "x"}), ENOTDIR);
}

TEST_F(GoferFsTest, NamesThatLeaveTheTreeAreRefused) {
  InProcessGofer g(dir_.path(), /*read_only=*/true);
  auto fs = Attach(g);
  const std::string_view bad[] = {"", ".", "..", "a/b",
                                  std::string_view("a\0b", 3)};
  for (std::string_view name : bad)
    EXPECT_ERRNO(fs->Root({})->Lookup(name), ENOENT);
  EXPECT_EQ(fs->counters().walks, 0u);
}

TEST_F(GoferFsTest, FilesReadThroughTheDonatedFd) {
  InProcessGofer g(dir_.path(), /*read_only=*/true);
  auto fs = Attach(g);
  ASSERT_OK_AND_ASSIGN(file, Walk(*fs, {"a", "b", "file"}));
  // Two descriptions keep their own offsets over one gofer open.
  ASSERT_OK_AND_ASSIGN(d1, file->Open(O_RDONLY, "/a/b/file"));
  ASSERT_OK_AND_ASSIGN(d2, file->Open(O_RDONLY, "/a/b/file"));
  char buf[5];
  iovec iov{buf, sizeof buf};
  ASSERT_OK_AND_ASSIGN(n1, d1->Read({&iov, 1}));
  EXPECT_EQ(std::string(buf, n1), "hello");
  ASSERT_OK_AND_ASSIGN(n2, d2->Read({&iov, 1}));
  EXPECT_EQ(std::string(buf, n2), "hello");
  ASSERT_OK_AND_ASSIGN(n3, d1->Read({&iov, 1}));
  EXPECT_EQ(std::string(buf, n3), " gofe");
  EXPECT_EQ(d1->path(), "/a/b/file");
}

TEST_F(GoferFsTest, DirectoriesListWhatTheHostHas) {
  InProcessGofer g(dir_.path(), /*read_only=*/true);
  auto fs = Attach(g);
  ASSERT_OK_AND_ASSIGN(a, Walk(*fs, {"a"}));
  ASSERT_OK_AND_ASSIGN(d, a->Open(O_RDONLY | O_DIRECTORY, "/a"));
  uint8_t buf[4096];
  ASSERT_OK_AND_ASSIGN(n, d->Getdents64(buf));
  std::string names;
  for (size_t off = 0; off < n;) {
    auto* e = reinterpret_cast<dirent64*>(buf + off);
    names += std::string(e->d_name) + " ";
    off += e->d_reclen;
  }
  EXPECT_NE(names.find("b "), std::string::npos) << names;
  EXPECT_NE(names.find("link "), std::string::npos) << names;
}

TEST_F(GoferFsTest, LinksAndSpecialFiles) {
  InProcessGofer g(dir_.path(), /*read_only=*/true);
  auto fs = Attach(g);
  ASSERT_OK_AND_ASSIGN(link, Walk(*fs, {"a", "link"}));
  EXPECT_EQ(link->type(), S_IFLNK);
  ASSERT_OK_AND_ASSIGN(target, link->Readlink());
  EXPECT_EQ(target, "b/file");
  ASSERT_OK_AND_ASSIGN(again, link->Readlink());  // cached
  EXPECT_EQ(again, "b/file");
  // The image's fifos are not opened (the sandbox has its own pipes).
  ASSERT_OK_AND_ASSIGN(fifo, Walk(*fs, {"fifo"}));
  EXPECT_ERRNO(fifo->Open(O_RDONLY, "/fifo"), EACCES);
  ASSERT_OK_AND_ASSIGN(sfs, fs->Root({})->Statfs());
  EXPECT_TRUE(sfs.f_flags & ST_RDONLY);
}

TEST_F(GoferFsTest, EvictedEntriesGiveTheirHandlesBack) {
  for (int i = 0; i < 200; ++i)
    WriteFile(dir_.path() + "/f" + std::to_string(i), "x");
  InProcessGofer g(dir_.path(), /*read_only=*/true);
  const size_t before = g.server().HandleCount();
  {
    auto fs = Attach(g, {.cache_entries = 8});
    for (int i = 0; i < 200; ++i)
      ASSERT_TRUE(fs->Root({})->Lookup("f" + std::to_string(i)).has_value());
    // The cache's 8, the root, and at most one batch waiting to be closed.
    EXPECT_LE(g.server().HandleCount(), before + 8 + 1 + 64);
  }
  // Everything is given back with the file system.
  EXPECT_EQ(g.server().HandleCount(), before);
}

TEST_F(GoferFsTest, ADeadGoferIsEio) {
  auto g = std::make_unique<InProcessGofer>(dir_.path(), true);
  auto fs = Attach(*g);
  ASSERT_OK_AND_ASSIGN(a, Walk(*fs, {"a"}));
  // Kill the server side: the client sees the end of the stream.
  shutdown(g->client_sock(), SHUT_RDWR);
  EXPECT_ERRNO(a->Lookup("b"), EIO);
  fs.reset();
  a.reset();
}

// The lower layer's xattrs: user.* from the gofer, nothing else of the
// host's, nothing of a symlink's target.
TEST_F(GoferFsTest, XattrsAreTheUserNamespaceOnly) {
  const std::string file = dir_.path() + "/a/b/file";
  if (setxattr(file.c_str(), "user.k", "v", 1, 0) != 0) {
    GTEST_SKIP() << "no user xattrs in " << dir_.path();
  }
  if (geteuid() == 0) {
    ASSERT_EQ(setxattr(file.c_str(), "security.s", "s", 1, 0), 0);
  }
  InProcessGofer g(dir_.path(), /*read_only=*/true);
  auto fs = Attach(g);
  ASSERT_OK_AND_ASSIGN(f, Walk(*fs, {"a", "b", "file"}));
  ASSERT_OK_AND_ASSIGN(names, f->ListXattr());
  EXPECT_EQ(names, std::vector<std::string>{"user.k"});
  ASSERT_OK_AND_ASSIGN(v, f->GetXattr("user.k"));
  EXPECT_EQ(v, "v");
  EXPECT_EQ(f->GetXattr("user.none").error(), base::Errno(ENODATA));
  EXPECT_EQ(f->GetXattr("security.s").error(), base::Errno(ENODATA));
  EXPECT_EQ(f->GetXattr("system.posix_acl_access").error(),
            base::Errno(ENODATA));
  EXPECT_EQ(f->GetXattr("system.other").error(), base::Errno(EOPNOTSUPP));
  ASSERT_OK_AND_ASSIGN(link, Walk(*fs, {"a", "link"}));
  ASSERT_OK_AND_ASSIGN(link_names, link->ListXattr());
  EXPECT_TRUE(link_names.empty());
  EXPECT_EQ(link->GetXattr("user.k").error(), base::Errno(ENODATA));
  ASSERT_OK_AND_ASSIGN(fifo, Walk(*fs, {"fifo"}));
  EXPECT_EQ(fifo->GetXattr("user.k").error(), base::Errno(ENODATA));
}

}  // namespace
}  // namespace gofer
