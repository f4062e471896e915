// Every gofer operation through the client, against a server in this
// process on a socketpair.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <set>
#include <thread>

#include "gmock/gmock.h"
#include "gofer/test_util.h"

namespace gofer::testing {
namespace {

using ::testing::UnorderedElementsAre;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_ / "file", "hello gofer");
    ASSERT_EQ(mkdir((dir_ / "sub").c_str(), 0755), 0);
    WriteFile(dir_ / "sub/inner", "inner");
    gofer_ = std::make_unique<InProcessGofer>(dir_.path());
    auto root = gofer_->client().Attach("");
    ASSERT_TRUE(root.has_value());
    root_ = root->handle;
  }
  Client& c() { return gofer_->client(); }

  TempDir dir_;
  std::unique_ptr<InProcessGofer> gofer_;
  uint64_t root_ = 0;
};

TEST_F(ServerTest, AttachReportsTheRoot) {
  bool ro = true;
  ASSERT_OK_AND_ASSIGN(n, c().Attach("/", &ro));
  EXPECT_FALSE(ro);
  struct stat st;
  ASSERT_EQ(stat(dir_.path().c_str(), &st), 0);
  EXPECT_EQ(n.stat.st_ino, st.st_ino);
  EXPECT_TRUE(S_ISDIR(n.stat.st_mode));
  EXPECT_ERRNO(c().Attach("nosuchmount"), ENOENT);
}

TEST_F(ServerTest, WalkAndStat) {
  ASSERT_OK_AND_ASSIGN(f, c().Walk(root_, "file"));
  struct stat st;
  ASSERT_EQ(lstat((dir_ / "file").c_str(), &st), 0);
  EXPECT_EQ(f.stat.st_ino, st.st_ino);
  EXPECT_EQ(f.stat.st_size, 11);
  ASSERT_OK_AND_ASSIGN(again, c().Stat(f.handle));
  EXPECT_EQ(again.st_ino, st.st_ino);
  EXPECT_EQ(again.st_mode, st.st_mode);
  EXPECT_ERRNO(c().Walk(root_, "missing"), ENOENT);
  EXPECT_ERRNO(c().Walk(f.handle, "x"), ENOTDIR);
  ASSERT_OK_AND_ASSIGN(sub, c().Walk(root_, "sub"));
  ASSERT_OK_AND_ASSIGN(inner, c().Walk(sub.handle, "inner"));
  EXPECT_EQ(inner.stat.st_size, 5);
}

TEST_F(ServerTest, OpenDonatesAHostFd) {
  ASSERT_OK_AND_ASSIGN(f, c().Walk(root_, "file"));
  ASSERT_OK_AND_ASSIGN(fd, c().Open(f.handle, O_RDONLY));
  EXPECT_EQ(ReadFd(fd.get()), "hello gofer");
  EXPECT_EQ(fcntl(fd.get(), F_GETFL) & O_ACCMODE, O_RDONLY);
  EXPECT_LT(write(fd.get(), "x", 1), 0);

  ASSERT_OK_AND_ASSIGN(wfd, c().Open(f.handle, O_RDWR | O_TRUNC));
  ASSERT_EQ(pwrite(wfd.get(), "new", 3, 0), 3);
  EXPECT_EQ(ReadFd(wfd.get()), "new");

  ASSERT_OK_AND_ASSIGN(sub, c().Walk(root_, "sub"));
  ASSERT_OK_AND_ASSIGN(dfd, c().Open(sub.handle, O_RDONLY | O_DIRECTORY));
  struct stat st;
  ASSERT_EQ(fstat(dfd.get(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_ERRNO(c().Open(sub.handle, O_RDWR), EISDIR);
  EXPECT_ERRNO(c().Open(f.handle, O_CREAT), EINVAL);
  EXPECT_ERRNO(c().Open(f.handle, O_PATH), EINVAL);
  EXPECT_ERRNO(c().Open(f.handle, O_ACCMODE), EINVAL);
}

TEST_F(ServerTest, CreateMkdirMknodSymlinkLink) {
  Client::Owner owner{1234, 5678};
  ASSERT_OK_AND_ASSIGN(cr, c().Create(root_, "new", O_RDWR, 0640, owner));
  ASSERT_EQ(write(cr.fd.get(), "abc", 3), 3);
  struct stat st;
  ASSERT_EQ(stat((dir_ / "new").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 3);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  EXPECT_EQ(cr.node.stat.st_uid, 1234u);
  EXPECT_ERRNO(c().Create(root_, "new", O_RDWR, 0640), EEXIST);

  ASSERT_OK_AND_ASSIGN(d, c().Mkdir(root_, "dir", 0751, owner));
  EXPECT_TRUE(S_ISDIR(d.stat.st_mode));
  EXPECT_EQ(d.stat.st_mode & 07777, 0751u);
  EXPECT_EQ(d.stat.st_gid, 5678u);

  ASSERT_OK_AND_ASSIGN(fifo, c().Mknod(d.handle, "fifo", S_IFIFO | 0600));
  ASSERT_EQ(lstat((dir_ / "dir/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_ERRNO(c().Open(fifo.handle, O_RDONLY), EACCES);
  ASSERT_OK_AND_ASSIGN(reg, c().Mknod(d.handle, "reg", S_IFREG | 0600));
  EXPECT_TRUE(S_ISREG(reg.stat.st_mode));
  EXPECT_ERRNO(c().Mknod(d.handle, "null", S_IFCHR | 0666), EPERM);
  EXPECT_ERRNO(c().Mknod(d.handle, "blk", S_IFBLK | 0666), EPERM);

  ASSERT_OK_AND_ASSIGN(sl, c().Symlink(root_, "link", "file", owner));
  EXPECT_TRUE(S_ISLNK(sl.stat.st_mode));
  EXPECT_EQ(sl.stat.st_uid, 1234u);
  ASSERT_OK_AND_ASSIGN(target, c().Readlink(sl.handle));
  EXPECT_EQ(target, "file");
  EXPECT_ERRNO(c().Symlink(root_, "empty", ""), ENOENT);
  EXPECT_ERRNO(c().Readlink(root_), EINVAL);

  ASSERT_OK_AND_ASSIGN(f, c().Walk(root_, "file"));
  ASSERT_OK_AND_ASSIGN(hl, c().Link(d.handle, "hard", f.handle));
  EXPECT_EQ(hl.stat.st_ino, f.stat.st_ino);
  EXPECT_EQ(hl.stat.st_nlink, 2u);
  EXPECT_ERRNO(c().Link(root_, "dirlink", d.handle), EPERM);
}

TEST_F(ServerTest, UnlinkRmdirRename) {
  ASSERT_OK_AND_ASSIGN(f, c().Walk(root_, "file"));
  ASSERT_OK_AND_ASSIGN(sub, c().Walk(root_, "sub"));
  EXPECT_ERRNO(c().Rmdir(root_, "sub"), ENOTEMPTY);
  EXPECT_ERRNO(c().Unlink(root_, "sub"), EISDIR);
  EXPECT_ERRNO(c().Rmdir(root_, "file"), ENOTDIR);

  // A handle follows its file through a rename, and still opens.
  ASSERT_TRUE(c().Rename(root_, "file", sub.handle, "moved").has_value());
  EXPECT_NE(access((dir_ / "sub/moved").c_str(), F_OK), -1);
  ASSERT_OK_AND_ASSIGN(fd, c().Open(f.handle, O_RDONLY));
  EXPECT_EQ(ReadFd(fd.get()), "hello gofer");

  WriteFile(dir_ / "other", "other");
  EXPECT_ERRNO(
      c().Rename(root_, "other", sub.handle, "moved", RENAME_NOREPLACE),
      EEXIST);
  ASSERT_TRUE(c().Rename(root_, "other", sub.handle, "moved", RENAME_EXCHANGE)
                  .has_value());
  ASSERT_OK_AND_ASSIGN(fd2, c().Open(f.handle, O_RDONLY));
  EXPECT_EQ(ReadFd(fd2.get()), "hello gofer");  // now named /other again
  EXPECT_ERRNO(c().Rename(root_, "other", root_, "x", RENAME_WHITEOUT), EINVAL);

  ASSERT_TRUE(c().Unlink(sub.handle, "moved").has_value());
  ASSERT_TRUE(c().Unlink(sub.handle, "inner").has_value());
  ASSERT_TRUE(c().Rmdir(root_, "sub").has_value());
  EXPECT_EQ(access((dir_ / "sub").c_str(), F_OK), -1);
  ASSERT_TRUE(c().Unlink(root_, "other").has_value());
  EXPECT_ERRNO(c().Open(f.handle, O_RDONLY), ESTALE);
  EXPECT_ERRNO(c().Unlink(root_, "other"), ENOENT);
}

TEST_F(ServerTest, GetdentsPagesThroughABigDirectory) {
  ASSERT_OK_AND_ASSIGN(d, c().Mkdir(root_, "big", 0755));
  std::set<std::string> want = {".", ".."};
  for (int i = 0; i < 300; ++i) {
    std::string name = "f" + std::to_string(i);
    WriteFile(dir_ / ("big/" + name), "");
    want.insert(name);
  }
  std::set<std::string> got;
  int64_t off = 0;
  int calls = 0;
  for (;; ++calls) {
    ASSERT_OK_AND_ASSIGN(ents, c().Getdents(d.handle, off, 100));
    if (ents.empty()) break;
    EXPECT_LE(ents.size(), 100u);
    for (const auto& e : ents) {
      EXPECT_TRUE(got.insert(e.name).second) << "twice: " << e.name;
      if (e.name.starts_with("f")) {
        EXPECT_EQ(e.type, DT_REG);
      }
    }
    off = ents.back().offset;
  }
  EXPECT_EQ(got, want);
  EXPECT_GE(calls, 3);
  ASSERT_OK_AND_ASSIGN(f, c().Walk(root_, "file"));
  EXPECT_ERRNO(c().Getdents(f.handle, 0), ENOTDIR);
  EXPECT_ERRNO(c().Getdents(d.handle, -1), EINVAL);
}

TEST_F(ServerTest, Setattr) {
  ASSERT_OK_AND_ASSIGN(f, c().Walk(root_, "file"));
  Client::Attr a;
  a.mode = 04711;
  ASSERT_OK_AND_ASSIGN(st1, c().Setattr(f.handle, a));
  EXPECT_EQ(st1.st_mode & 07777, 04711u);

  Client::Attr own;
  own.uid = 42;
  own.gid = 43;
  ASSERT_OK_AND_ASSIGN(st2, c().Setattr(f.handle, own));
  EXPECT_EQ(st2.st_uid, 42u);
  EXPECT_EQ(st2.st_gid, 43u);

  Client::Attr size;
  size.size = 5;
  ASSERT_OK_AND_ASSIGN(st3, c().Setattr(f.handle, size));
  EXPECT_EQ(st3.st_size, 5);
  size.size = -1;
  EXPECT_ERRNO(c().Setattr(f.handle, size), EINVAL);
  size.size = 0;
  EXPECT_ERRNO(c().Setattr(root_, size), EISDIR);

  Client::Attr times;
  times.atime = timespec{1000, 5};
  times.mtime = timespec{2000, 7};
  ASSERT_OK_AND_ASSIGN(st4, c().Setattr(f.handle, times));
  EXPECT_EQ(st4.st_atim.tv_sec, 1000);
  EXPECT_EQ(st4.st_mtim.tv_sec, 2000);
  EXPECT_EQ(st4.st_mtim.tv_nsec, 7);
  times.atime.reset();
  times.mtime = timespec{0, UTIME_NOW};
  ASSERT_OK_AND_ASSIGN(st5, c().Setattr(f.handle, times));
  EXPECT_EQ(st5.st_atim.tv_sec, 1000);  // left alone
  EXPECT_GT(st5.st_mtim.tv_sec, 2000);
  times.mtime = timespec{0, 2'000'000'000};
  EXPECT_ERRNO(c().Setattr(f.handle, times), EINVAL);

  // A symlink's own times and owner; its mode cannot change (as lchmod).
  ASSERT_OK_AND_ASSIGN(sl, c().Symlink(root_, "sl", "file"));
  ASSERT_OK_AND_ASSIGN(st6, c().Setattr(sl.handle, own));
  EXPECT_EQ(st6.st_uid, 42u);
  EXPECT_TRUE(S_ISLNK(st6.st_mode));
  struct stat host;
  ASSERT_EQ(stat((dir_ / "file").c_str(), &host), 0);
  EXPECT_EQ(host.st_size, 5);
  EXPECT_EQ(host.st_mode & 07777, 0711u);  // chown cleared the setuid bit
  EXPECT_ERRNO(c().Setattr(sl.handle, a), EOPNOTSUPP);
}

TEST_F(ServerTest, Statfs) {
  ASSERT_OK_AND_ASSIGN(s, c().Statfs(root_));
  struct statfs host;
  ASSERT_EQ(statfs(dir_.path().c_str(), &host), 0);
  EXPECT_EQ(s.f_type, host.f_type);
  EXPECT_EQ(s.f_bsize, host.f_bsize);
  EXPECT_EQ(s.f_namelen, host.f_namelen);
}

TEST_F(ServerTest, Xattrs) {
  if (setxattr((dir_ / "file").c_str(), "user.probe", "1", 1, 0) != 0)
    GTEST_SKIP() << "no user xattrs on " << dir_.path();
  ASSERT_OK_AND_ASSIGN(f, c().Walk(root_, "file"));
  ASSERT_TRUE(c().Setxattr(f.handle, "user.k", "value").has_value());
  ASSERT_OK_AND_ASSIGN(v, c().Getxattr(f.handle, "user.k"));
  EXPECT_EQ(v, "value");
  ASSERT_OK_AND_ASSIGN(names, c().Listxattr(f.handle));
  EXPECT_THAT(names, UnorderedElementsAre("user.k", "user.probe"));
  EXPECT_ERRNO(c().Setxattr(f.handle, "user.k", "v", XATTR_CREATE), EEXIST);
  ASSERT_TRUE(c().Removexattr(f.handle, "user.k").has_value());
  EXPECT_ERRNO(c().Getxattr(f.handle, "user.k"), ENODATA);
  EXPECT_ERRNO(c().Setxattr(f.handle, "security.capability", "x"), EPERM);
  EXPECT_ERRNO(c().Setxattr(f.handle, "trusted.x", "x"), EPERM);
  EXPECT_ERRNO(c().Setxattr(f.handle, "", "x"), EINVAL);
  EXPECT_ERRNO(c().Setxattr(f.handle, "user.big", std::string(65537, 'x')),
               E2BIG);
  std::string big(65536, 'y');
  auto r = c().Setxattr(f.handle, "user.big", big);
  if (r.has_value()) {  // some filesystems cap values lower
    ASSERT_OK_AND_ASSIGN(got, c().Getxattr(f.handle, "user.big"));
    EXPECT_EQ(got, big);
  }
}

// Only user.* reaches the host: the host's security.* (labels, file
// capabilities) and trusted.* stay unseen, and a symlink is never
// followed to the xattrs of its target.
TEST_F(ServerTest, XattrsServeOnlyTheUserNamespace) {
  const std::string file = dir_ / "file";
  if (setxattr(file.c_str(), "user.probe", "1", 1, 0) != 0)
    GTEST_SKIP() << "no user xattrs on " << dir_.path();
  const bool root = geteuid() == 0;
  if (root) {
    ASSERT_EQ(setxattr(file.c_str(), "trusted.t", "t", 1, 0), 0);
    ASSERT_EQ(setxattr(file.c_str(), "security.s", "s", 1, 0), 0);
  }
  ASSERT_OK_AND_ASSIGN(f, c().Walk(root_, "file"));
  ASSERT_OK_AND_ASSIGN(names, c().Listxattr(f.handle));
  EXPECT_THAT(names, UnorderedElementsAre("user.probe"));
  EXPECT_ERRNO(c().Getxattr(f.handle, "trusted.t"), ENODATA);
  EXPECT_ERRNO(c().Getxattr(f.handle, "security.s"), ENODATA);
  EXPECT_ERRNO(c().Getxattr(f.handle, "system.posix_acl_access"), ENODATA);
  EXPECT_ERRNO(c().Removexattr(f.handle, "security.s"), EPERM);
  EXPECT_ERRNO(c().Removexattr(f.handle, "trusted.t"), EPERM);
  if (root) {
    char v[8];
    EXPECT_EQ(getxattr(file.c_str(), "trusted.t", v, sizeof v), 1);
    EXPECT_EQ(getxattr(file.c_str(), "security.s", v, sizeof v), 1);
  }

  // A directory's, through its own reopen.
  ASSERT_EQ(setxattr((dir_ / "sub").c_str(), "user.d", "dir", 3, 0), 0);
  ASSERT_OK_AND_ASSIGN(sub, c().Walk(root_, "sub"));
  ASSERT_OK_AND_ASSIGN(d, c().Getxattr(sub.handle, "user.d"));
  EXPECT_EQ(d, "dir");

  // A symlink to the file has none of its own, and lists none.
  ASSERT_EQ(symlink("file", (dir_ / "link").c_str()), 0);
  ASSERT_OK_AND_ASSIGN(l, c().Walk(root_, "link"));
  EXPECT_ERRNO(c().Getxattr(l.handle, "user.probe"), ENODATA);
  ASSERT_OK_AND_ASSIGN(lnames, c().Listxattr(l.handle));
  EXPECT_TRUE(lnames.empty());
  EXPECT_ERRNO(c().Setxattr(l.handle, "user.x", "y"), EPERM);

  // A FIFO is never opened (a reader would block a worker).
  ASSERT_EQ(mkfifo((dir_ / "fifo").c_str(), 0600), 0);
  ASSERT_OK_AND_ASSIGN(p, c().Walk(root_, "fifo"));
  EXPECT_ERRNO(c().Getxattr(p.handle, "user.x"), ENODATA);
  ASSERT_OK_AND_ASSIGN(pnames, c().Listxattr(p.handle));
  EXPECT_TRUE(pnames.empty());
}

// The sandbox's root is read-only: its xattrs are read, never written.
TEST_F(ServerTest, ReadOnlyTreeReadsXattrs) {
  if (setxattr((dir_ / "file").c_str(), "user.k", "v", 1, 0) != 0)
    GTEST_SKIP() << "no user xattrs on " << dir_.path();
  InProcessGofer ro(dir_.path(), /*read_only=*/true);
  ASSERT_OK_AND_ASSIGN(root, ro.client().Attach(""));
  ASSERT_OK_AND_ASSIGN(f, ro.client().Walk(root.handle, "file"));
  ASSERT_OK_AND_ASSIGN(v, ro.client().Getxattr(f.handle, "user.k"));
  EXPECT_EQ(v, "v");
  ASSERT_OK_AND_ASSIGN(names, ro.client().Listxattr(f.handle));
  EXPECT_THAT(names, UnorderedElementsAre("user.k"));
  EXPECT_ERRNO(ro.client().Setxattr(f.handle, "user.k", "w"), EROFS);
  EXPECT_ERRNO(ro.client().Removexattr(f.handle, "user.k"), EROFS);
}

TEST_F(ServerTest, BindAndConnect) {
  ASSERT_OK_AND_ASSIGN(b, c().Bind(root_, "sock", SOCK_STREAM, 0600));
  EXPECT_TRUE(S_ISSOCK(b.node.stat.st_mode));
  struct stat st;
  ASSERT_EQ(lstat((dir_ / "sock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(listen(b.fd.get(), 4), 0);

  ASSERT_OK_AND_ASSIGN(conn, c().Connect(b.node.handle, SOCK_STREAM));
  int accepted = accept4(b.fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(accepted, 0);
  ASSERT_EQ(write(conn.get(), "x", 1), 1);
  char ch = 0;
  ASSERT_EQ(read(accepted, &ch, 1), 1);
  EXPECT_EQ(ch, 'x');
  close(accepted);

  EXPECT_ERRNO(c().Bind(root_, "sock", SOCK_STREAM, 0600), EADDRINUSE);
  EXPECT_ERRNO(c().Bind(root_, "raw", SOCK_RAW, 0600), ESOCKTNOSUPPORT);
  EXPECT_ERRNO(c().Bind(root_, std::string(120, 'n'), SOCK_STREAM, 0600),
               ENAMETOOLONG);
  ASSERT_OK_AND_ASSIGN(f, c().Walk(root_, "file"));
  EXPECT_ERRNO(c().Connect(f.handle, SOCK_STREAM), ECONNREFUSED);
  EXPECT_ERRNO(c().Connect(b.node.handle, SOCK_DGRAM), EPROTOTYPE);
  EXPECT_ERRNO(c().Open(b.node.handle, O_RDONLY), ENXIO);
}

TEST_F(ServerTest, CloseReleasesHandles) {
  size_t before = gofer_->server().HandleCount();
  ASSERT_OK_AND_ASSIGN(a, c().Walk(root_, "file"));
  ASSERT_OK_AND_ASSIGN(b, c().Walk(root_, "sub"));
  EXPECT_EQ(gofer_->server().HandleCount(), before + 2);
  ASSERT_TRUE(c().Close({a.handle, b.handle, 999999}).has_value());
  EXPECT_EQ(gofer_->server().HandleCount(), before);
  EXPECT_ERRNO(c().Stat(a.handle), EBADF);
  EXPECT_ERRNO(c().Walk(b.handle, "inner"), EBADF);
}

TEST_F(ServerTest, ReadOnlyMountRefusesWrites) {
  InProcessGofer ro(dir_.path(), /*read_only=*/true);
  Client& r = ro.client();
  bool read_only = false;
  ASSERT_OK_AND_ASSIGN(root, r.Attach("", &read_only));
  EXPECT_TRUE(read_only);
  ASSERT_OK_AND_ASSIGN(f, r.Walk(root.handle, "file"));
  ASSERT_OK_AND_ASSIGN(fd, r.Open(f.handle, O_RDONLY));
  EXPECT_EQ(ReadFd(fd.get()), "hello gofer");
  EXPECT_ERRNO(r.Open(f.handle, O_WRONLY), EROFS);
  EXPECT_ERRNO(r.Open(f.handle, O_RDONLY | O_TRUNC), EROFS);
  EXPECT_ERRNO(r.Create(root.handle, "n", O_RDWR, 0600), EROFS);
  EXPECT_ERRNO(r.Mkdir(root.handle, "n", 0700), EROFS);
  EXPECT_ERRNO(r.Mknod(root.handle, "n", S_IFIFO | 0600), EROFS);
  EXPECT_ERRNO(r.Symlink(root.handle, "n", "x"), EROFS);
  EXPECT_ERRNO(r.Link(root.handle, "n", f.handle), EROFS);
  EXPECT_ERRNO(r.Unlink(root.handle, "file"), EROFS);
  EXPECT_ERRNO(r.Rmdir(root.handle, "sub"), EROFS);
  EXPECT_ERRNO(r.Rename(root.handle, "file", root.handle, "f2"), EROFS);
  Client::Attr a;
  a.mode = 0;
  EXPECT_ERRNO(r.Setattr(f.handle, a), EROFS);
  EXPECT_ERRNO(r.Setxattr(f.handle, "user.x", "y"), EROFS);
  EXPECT_ERRNO(r.Removexattr(f.handle, "user.x"), EROFS);
  EXPECT_ERRNO(r.Bind(root.handle, "s", SOCK_STREAM, 0600), EROFS);
  struct stat st;
  ASSERT_EQ(stat((dir_ / "file").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 11);
  EXPECT_NE(st.st_mode & 07777, 0u);
}

TEST(ServerMountsTest, BindMountSourcesAreSeparateTrees) {
  TempDir root, data;
  WriteFile(data / "d", "data");
  InProcessGofer g({{"/", root.path(), true}, {"data", data.path(), false}});
  bool ro = true;
  ASSERT_OK_AND_ASSIGN(r, g.client().Attach(""));
  ASSERT_OK_AND_ASSIGN(d, g.client().Attach("data", &ro));
  EXPECT_FALSE(ro);
  ASSERT_OK_AND_ASSIGN(f, g.client().Walk(d.handle, "d"));
  ASSERT_OK_AND_ASSIGN(fd, g.client().Open(f.handle, O_RDWR));
  EXPECT_EQ(ReadFd(fd.get()), "data");
  EXPECT_ERRNO(g.client().Create(r.handle, "x", O_RDWR, 0600), EROFS);
  ASSERT_TRUE(g.client().Mkdir(d.handle, "x", 0700).has_value());
  // Across trees: EXDEV, never a link into the other tree.
  EXPECT_ERRNO(g.client().Rename(d.handle, "d", r.handle, "d"), EROFS);
  InProcessGofer g2({{"/", root.path(), false}, {"data", data.path(), false}});
  ASSERT_OK_AND_ASSIGN(r2, g2.client().Attach(""));
  ASSERT_OK_AND_ASSIGN(d2, g2.client().Attach("data"));
  ASSERT_OK_AND_ASSIGN(f2, g2.client().Walk(d2.handle, "d"));
  EXPECT_ERRNO(g2.client().Link(r2.handle, "l", f2.handle), EXDEV);
  EXPECT_ERRNO(g2.client().Rename(d2.handle, "d", r2.handle, "d"), EXDEV);
}

TEST_F(ServerTest, ManyThreadsAtOnce) {
  constexpr int kThreads = 8, kIters = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIters; ++i) {
        auto n = c().Walk(root_, "file");
        if (!n || n->stat.st_size != 11) {
          ++failures;
          continue;
        }
        auto fd = c().Open(n->handle, O_RDONLY);
        if (!fd || ReadFd(fd->get()) != "hello gofer") ++failures;
        if (!c().Close({n->handle})) ++failures;
        std::string name = "t" + std::to_string(t);
        if (!c().Mkdir(root_, name, 0700) || !c().Rmdir(root_, name))
          ++failures;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(c().pending(), 0u);
}

}  // namespace
}  // namespace gofer::testing

namespace gofer::testing {
namespace {

// Linux names are bytes: a name that is not UTF-8 works end to end.
TEST(ServerNamesTest, NamesNeedNotBeUtf8) {
  TempDir dir;
  const std::string name = "\xff\xfe-latin1-\xe9";
  InProcessGofer g(dir.path());
  ASSERT_OK_AND_ASSIGN(root, g.client().Attach(""));
  ASSERT_OK_AND_ASSIGN(cr, g.client().Create(root.handle, name, O_RDWR, 0600));
  EXPECT_EQ(access((dir / name).c_str(), F_OK), 0);
  ASSERT_OK_AND_ASSIGN(w, g.client().Walk(root.handle, name));
  EXPECT_EQ(w.stat.st_ino, cr.node.stat.st_ino);
  ASSERT_OK_AND_ASSIGN(ents, g.client().Getdents(root.handle, 0));
  bool found = false;
  for (const auto& e : ents) found |= e.name == name;
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace gofer::testing
