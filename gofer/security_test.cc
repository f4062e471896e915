// The gofer never lets a client reach past the trees it serves: no name
// with more than one component, no symlink followed, whatever races the
// client or the host run meanwhile.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "gofer/test_util.h"

namespace gofer::testing {
namespace {

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(mkdir((dir_ / "root").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((dir_ / "outside").c_str(), 0755), 0);
    WriteFile(dir_ / "outside/secret", "secret");
    ASSERT_EQ(chmod((dir_ / "outside/secret").c_str(), 0600), 0);
    WriteFile(dir_ / "root/file", "inside");
    gofer_ = std::make_unique<InProcessGofer>(dir_ / "root");
    auto root = c().Attach("");
    ASSERT_TRUE(root.has_value());
    root_ = root->handle;
  }
  Client& c() { return gofer_->client(); }
  std::string Root(const std::string& name) { return dir_ / ("root/" + name); }

  TempDir dir_;
  std::unique_ptr<InProcessGofer> gofer_;
  uint64_t root_ = 0;
};

TEST_F(SecurityTest, NamesAreSingleComponents) {
  ASSERT_OK_AND_ASSIGN(f, c().Walk(root_, "file"));
  const std::string bad[] = {"",
                             ".",
                             "..",
                             "a/b",
                             "/",
                             "/etc",
                             "../root",
                             "file/",
                             std::string("a\0b", 3),
                             std::string("\0", 1)};
  for (const std::string& n : bad) {
    SCOPED_TRACE("name \"" + n + "\"");
    EXPECT_ERRNO(c().Walk(root_, n), EINVAL);
    EXPECT_ERRNO(c().Create(root_, n, O_RDWR, 0600), EINVAL);
    EXPECT_ERRNO(c().Mkdir(root_, n, 0700), EINVAL);
    EXPECT_ERRNO(c().Mknod(root_, n, S_IFREG | 0600), EINVAL);
    EXPECT_ERRNO(c().Symlink(root_, n, "x"), EINVAL);
    EXPECT_ERRNO(c().Link(root_, n, f.handle), EINVAL);
    EXPECT_ERRNO(c().Unlink(root_, n), EINVAL);
    EXPECT_ERRNO(c().Rmdir(root_, n), EINVAL);
    EXPECT_ERRNO(c().Rename(root_, n, root_, "x"), EINVAL);
    EXPECT_ERRNO(c().Rename(root_, "file", root_, n), EINVAL);
    EXPECT_ERRNO(c().Bind(root_, n, SOCK_STREAM, 0600), EINVAL);
  }
  EXPECT_ERRNO(c().Walk(root_, std::string(256, 'x')), ENAMETOOLONG);
  EXPECT_ERRNO(c().Symlink(root_, "s", std::string("a\0b", 3)), EINVAL);
  EXPECT_ERRNO(c().Symlink(root_, "s", std::string(4096, 'a')), ENAMETOOLONG);
  // Nothing above was created, and the host root is untouched.
  ASSERT_OK_AND_ASSIGN(ents, c().Getdents(root_, 0));
  EXPECT_EQ(ents.size(), 3u);  // ".", "..", "file"
  EXPECT_EQ(access((dir_ / "root/file").c_str(), F_OK), 0);
}

TEST_F(SecurityTest, SymlinkToEtcResolvesToTheSymlink) {
  ASSERT_EQ(symlink("/etc", Root("etc_link").c_str()), 0);
  ASSERT_EQ(symlink("../outside/secret", Root("rel_link").c_str()), 0);
  ASSERT_EQ(symlink("/", Root("slash").c_str()), 0);
  for (const char* name : {"etc_link", "rel_link", "slash"}) {
    SCOPED_TRACE(name);
    ASSERT_OK_AND_ASSIGN(l, c().Walk(root_, name));
    EXPECT_TRUE(S_ISLNK(l.stat.st_mode));
    struct stat st;
    ASSERT_EQ(lstat(Root(name).c_str(), &st), 0);
    EXPECT_EQ(l.stat.st_ino, st.st_ino);
    EXPECT_ERRNO(c().Walk(l.handle, "passwd"), ENOTDIR);
    EXPECT_ERRNO(c().Walk(l.handle, "secret"), ENOTDIR);
    EXPECT_ERRNO(c().Open(l.handle, O_RDONLY), ELOOP);
    EXPECT_ERRNO(c().Getdents(l.handle, 0), ENOTDIR);
    EXPECT_ERRNO(c().Create(l.handle, "x", O_RDWR, 0600), ENOTDIR);
    EXPECT_ERRNO(c().Mkdir(l.handle, "x", 0700), ENOTDIR);
    EXPECT_ERRNO(c().Getxattr(l.handle, "user.x"), ENODATA);
    Client::Attr size;
    size.size = 0;
    EXPECT_ERRNO(c().Setattr(l.handle, size), EINVAL);
    Client::Attr mode;
    mode.mode = 0777;
    EXPECT_ERRNO(c().Setattr(l.handle, mode), EOPNOTSUPP);
  }
  ASSERT_OK_AND_ASSIGN(l, c().Walk(root_, "etc_link"));
  ASSERT_OK_AND_ASSIGN(target, c().Readlink(l.handle));
  EXPECT_EQ(target, "/etc");
  struct stat st;
  ASSERT_EQ(stat((dir_ / "outside/secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_size, 6);
}

TEST_F(SecurityTest, UnknownHandlesAreRefused) {
  for (uint64_t h : {uint64_t{0}, uint64_t{12345}, ~uint64_t{0}}) {
    SCOPED_TRACE(h);
    EXPECT_ERRNO(c().Walk(h, "file"), EBADF);
    EXPECT_ERRNO(c().Stat(h), EBADF);
    EXPECT_ERRNO(c().Open(h, O_RDONLY), EBADF);
    EXPECT_ERRNO(c().Create(h, "n", O_RDWR, 0600), EBADF);
    EXPECT_ERRNO(c().Link(root_, "n", h), EBADF);
    EXPECT_ERRNO(c().Rename(root_, "file", h, "n"), EBADF);
    EXPECT_ERRNO(c().Readlink(h), EBADF);
    EXPECT_ERRNO(c().Getdents(h, 0), EBADF);
    EXPECT_ERRNO(c().Setattr(h, {}), EBADF);
    EXPECT_ERRNO(c().Statfs(h), EBADF);
    EXPECT_ERRNO(c().Getxattr(h, "user.x"), EBADF);
    EXPECT_ERRNO(c().Listxattr(h), EBADF);
    EXPECT_ERRNO(c().Connect(h, SOCK_STREAM), EBADF);
  }
}

// A handle's file reopens by name with O_NOFOLLOW and is checked to be
// the same file: a symlink put in its place is never followed.
TEST_F(SecurityTest, ReopenNeverFollowsAReplacedName) {
  ASSERT_OK_AND_ASSIGN(f, c().Walk(root_, "file"));
  ASSERT_EQ(rename(Root("file").c_str(), Root("file.old").c_str()), 0);
  ASSERT_EQ(symlink((dir_ / "outside/secret").c_str(), Root("file").c_str()),
            0);
  auto fd = c().Open(f.handle, O_RDONLY);
  ASSERT_FALSE(fd.has_value());
  EXPECT_EQ(fd.error().value, ELOOP);
  Client::Attr a;
  a.size = 0;
  EXPECT_FALSE(c().Setattr(f.handle, a).has_value());
  EXPECT_FALSE(c().Setxattr(f.handle, "user.x", "y").has_value());
  // Another regular file in its place is not it either.
  ASSERT_EQ(unlink(Root("file").c_str()), 0);
  WriteFile(Root("file"), "impostor");
  EXPECT_ERRNO(c().Open(f.handle, O_RDONLY), ESTALE);
  struct stat st;
  ASSERT_EQ(stat((dir_ / "outside/secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 6);
}

// The host swaps a name between a file inside and a symlink to a file
// outside while the client walks and opens it: no open reaches outside.
TEST_F(SecurityTest, SymlinkSwapRaceStaysInside) {
  ASSERT_EQ(symlink((dir_ / "outside/secret").c_str(), Root("alt").c_str()), 0);
  ASSERT_EQ(mkdir(Root("d").c_str(), 0755), 0);
  WriteFile(Root("d/f"), "inside");
  ASSERT_EQ(symlink((dir_ / "outside").c_str(), Root("altdir").c_str()), 0);
  WriteFile(dir_ / "outside/f", "secret");
  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    while (!stop.load()) {
      renameat2(AT_FDCWD, Root("file").c_str(), AT_FDCWD, Root("alt").c_str(),
                RENAME_EXCHANGE);
      renameat2(AT_FDCWD, Root("d").c_str(), AT_FDCWD, Root("altdir").c_str(),
                RENAME_EXCHANGE);
    }
  });
  int opened = 0, leaks = 0;
  for (int i = 0; i < 1500; ++i) {
    if (auto n = c().Walk(root_, "file")) {
      if (auto fd = c().Open(n->handle, O_RDONLY)) {
        ++opened;
        if (ReadFd(fd->get()) != "inside") ++leaks;
      }
      Client::Attr a;
      a.mode = 0666;
      (void)c().Setattr(n->handle, a);
      (void)c().Close({n->handle});
    }
    if (auto d = c().Walk(root_, "d")) {
      if (auto f = c().Walk(d->handle, "f")) {
        if (auto fd = c().Open(f->handle, O_RDONLY)) {
          ++opened;
          if (ReadFd(fd->get()) != "inside") ++leaks;
        }
        (void)c().Close({f->handle});
      }
      (void)c().Close({d->handle});
    }
  }
  stop = true;
  swapper.join();
  EXPECT_EQ(leaks, 0);
  EXPECT_GT(opened, 0);
  struct stat st;
  ASSERT_EQ(stat((dir_ / "outside/secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

// The client itself swaps a socket file with a symlink to a socket outside
// while connecting through the handle: every connection reaches the
// socket inside.
TEST_F(SecurityTest, ConnectRaceStaysInside) {
  int outside = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string path = dir_ / "outside/s";
  strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(bind(outside, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(outside, 128), 0);
  ASSERT_OK_AND_ASSIGN(in, c().Bind(root_, "s", SOCK_STREAM, 0600));
  ASSERT_EQ(listen(in.fd.get(), 128), 0);
  ASSERT_TRUE(c().Symlink(root_, "alt", path).has_value());

  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    while (!stop.load())
      (void)c().Rename(root_, "s", root_, "alt", RENAME_EXCHANGE);
  });
  int connected = 0;
  for (int i = 0; i < 500; ++i) {
    auto s = c().Connect(in.node.handle, SOCK_STREAM);
    if (!s) continue;
    ++connected;
    int a = accept4(in.fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
    EXPECT_GE(a, 0);
    if (a >= 0) close(a);
  }
  stop = true;
  swapper.join();
  EXPECT_GT(connected, 0);
  EXPECT_LT(accept4(outside, nullptr, nullptr, SOCK_CLOEXEC), 0);
  EXPECT_EQ(errno, EAGAIN);
  close(outside);
}

TEST_F(SecurityTest, HardLinksStayInTheirTree) {
  ASSERT_OK_AND_ASSIGN(d, c().Mkdir(root_, "d", 0755));
  EXPECT_ERRNO(c().Link(root_, "dirlink", d.handle), EPERM);
  ASSERT_OK_AND_ASSIGN(f, c().Walk(root_, "file"));
  ASSERT_OK_AND_ASSIGN(l, c().Link(d.handle, "l", f.handle));
  EXPECT_EQ(l.stat.st_ino, f.stat.st_ino);
  // The link names the handle's file even after its name moved on.
  ASSERT_EQ(rename(Root("file").c_str(), Root("file2").c_str()), 0);
  ASSERT_EQ(symlink((dir_ / "outside/secret").c_str(), Root("file").c_str()),
            0);
  auto l2 = c().Link(root_, "l2", f.handle);
  if (l2.has_value()) {
    EXPECT_EQ(l2->stat.st_ino, f.stat.st_ino);
  } else {
    EXPECT_EQ(l2.error().value, ESTALE);
  }
  struct stat st;
  ASSERT_EQ(stat((dir_ / "outside/secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
}

}  // namespace
}  // namespace gofer::testing
