// inotify(7): inotify_init/inotify_init1, inotify_add_watch,
// inotify_rm_watch, and the events of the file calls.
//
// Each event test runs in a fresh directory under /tmp (the sandbox's
// tmpfs), /dev/shm (a tmpfs natively too) and /var/tmp (the sandbox's
// overlay root; natively the host's root filesystem).
#include <fcntl.h>
#include <sched.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "ipc_util.h"
#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

#ifndef IN_MASK_CREATE
#define IN_MASK_CREATE 0x10000000
#endif

struct Ev {
  int wd;
  uint32_t mask;
  uint32_t cookie;
  std::string name;
  bool operator==(const Ev& o) const {
    return wd == o.wd && mask == o.mask && name == o.name;
  }
};

std::ostream& operator<<(std::ostream& os, const Ev& e) {
  return os << "{wd " << e.wd << " mask 0x" << std::hex << e.mask << std::dec
            << " cookie " << e.cookie << " \"" << e.name << "\"}";
}

// Every event queued on the non-blocking instance `fd`.
std::vector<Ev> Drain(int fd) {
  std::vector<Ev> out;
  alignas(inotify_event) char buf[65536];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      EXPECT_EQ(errno, EAGAIN) << ErrnoName(errno);
      return out;
    }
    for (ssize_t pos = 0; pos < n;) {
      const auto* e = reinterpret_cast<const inotify_event*>(buf + pos);
      out.push_back({e->wd, e->mask, e->cookie,
                     e->len ? std::string(e->name) : std::string()});
      pos += sizeof(inotify_event) + e->len;
    }
  }
}

int NewInotify() { return inotify_init1(IN_NONBLOCK | IN_CLOEXEC); }

int ReadSysctl(const char* name) {
  std::ifstream f(std::string("/proc/sys/fs/inotify/") + name);
  int v = -1;
  f >> v;
  return v;
}

void Touch(const std::string& path, mode_t mode = 0644) {
  const int fd = open(path.c_str(), O_CREAT | O_WRONLY, mode);
  ASSERT_GE(fd, 0) << path << ": " << ErrnoName(errno);
  close(fd);
}

TEST(InotifyInit, Flags) {
  FileDescriptor a(inotify_init());
  ASSERT_GE(a.get(), 0);
  EXPECT_EQ(fcntl(a.get(), F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDONLY);
  EXPECT_EQ(fcntl(a.get(), F_GETFD), 0);
  FileDescriptor b(NewInotify());
  ASSERT_GE(b.get(), 0);
  EXPECT_TRUE(fcntl(b.get(), F_GETFL) & O_NONBLOCK);
  EXPECT_EQ(fcntl(b.get(), F_GETFD), FD_CLOEXEC);
  EXPECT_THAT(inotify_init1(0x1), SyscallFailsWithErrno(EINVAL));
  // Nothing queued: a non-blocking read says so; writes are refused.
  char buf[256];
  EXPECT_THAT(read(b.get(), buf, sizeof buf), SyscallFailsWithErrno(EAGAIN));
  EXPECT_THAT(write(b.get(), buf, 1), SyscallFailsWithErrno(EBADF));
  int n = -1;
  EXPECT_THAT(ioctl(b.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 0);
}

TEST(InotifyInit, SysctlLimits) {
  EXPECT_GT(ReadSysctl("max_user_watches"), 0);
  EXPECT_GT(ReadSysctl("max_user_instances"), 0);
  EXPECT_GT(ReadSysctl("max_queued_events"), 0);
}

TEST(InotifyInit, InstanceLimit) {
  // Other processes of this user may hold instances already: the limit
  // comes at or before max_user_instances new ones.
  const int max = ReadSysctl("max_user_instances");
  ASSERT_GT(max, 0);
  std::vector<FileDescriptor> fds;
  int err = 0;
  for (int i = 0; i <= max; ++i) {
    const int fd = inotify_init1(IN_CLOEXEC);
    if (fd < 0) {
      err = errno;
      break;
    }
    fds.emplace_back(fd);
  }
  EXPECT_EQ(err, EMFILE) << ErrnoName(err);
  fds.clear();
  FileDescriptor again(inotify_init1(IN_CLOEXEC));
  EXPECT_GE(again.get(), 0);
}

TEST(InotifyWatch, Errors) {
  TempDir dir;
  const std::string file = dir.path() + "/f";
  Touch(file);
  FileDescriptor in(NewInotify());
  ASSERT_GE(in.get(), 0);
  EXPECT_THAT(inotify_add_watch(in.get(), file.c_str(), 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(inotify_add_watch(in.get(), file.c_str(), 0x00010000),
              SyscallFailsWithErrno(EINVAL));  // not an inotify bit
  EXPECT_THAT(inotify_add_watch(-1, file.c_str(), IN_ALL_EVENTS),
              SyscallFailsWithErrno(EBADF));
  FileDescriptor plain(open(file.c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_THAT(inotify_add_watch(plain.get(), file.c_str(), IN_ALL_EVENTS),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(inotify_add_watch(in.get(), file.c_str(),
                                IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(
      inotify_add_watch(in.get(), (dir.path() + "/missing").c_str(), IN_OPEN),
      SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(inotify_add_watch(in.get(), file.c_str(), IN_OPEN | IN_ONLYDIR),
              SyscallFailsWithErrno(ENOTDIR));
  const int wd = inotify_add_watch(in.get(), file.c_str(), IN_OPEN);
  ASSERT_GE(wd, 1);
  EXPECT_THAT(
      inotify_add_watch(in.get(), file.c_str(), IN_OPEN | IN_MASK_CREATE),
      SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(inotify_rm_watch(in.get(), wd + 100),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(inotify_rm_watch(plain.get(), wd),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(inotify_rm_watch(-1, wd), SyscallFailsWithErrno(EBADF));
}

TEST(InotifyWatch, NeedsReadPermission) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads anything";
  TempDir dir;
  const std::string file = dir.path() + "/secret";
  Touch(file, 0);
  FileDescriptor in(NewInotify());
  EXPECT_THAT(inotify_add_watch(in.get(), file.c_str(), IN_OPEN),
              SyscallFailsWithErrno(EACCES));
}

TEST(InotifyWatch, DontFollow) {
  TempDir dir;
  const std::string link = dir.path() + "/link";
  ASSERT_THAT(symlink("missing", link.c_str()), SyscallSucceeds());
  FileDescriptor in(NewInotify());
  EXPECT_THAT(inotify_add_watch(in.get(), link.c_str(), IN_ATTRIB),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(
      inotify_add_watch(in.get(), link.c_str(), IN_ATTRIB | IN_DONT_FOLLOW),
      SyscallSucceeds());
}

TEST(InotifyWatch, DescriptorsIncreaseAndRepeatPerFile) {
  TempDir dir;
  const std::string a = dir.path() + "/a", b = dir.path() + "/b",
                    c = dir.path() + "/c";
  Touch(a);
  Touch(b);
  Touch(c);
  FileDescriptor in(NewInotify());
  const int wa = inotify_add_watch(in.get(), a.c_str(), IN_OPEN);
  const int wb = inotify_add_watch(in.get(), b.c_str(), IN_OPEN);
  EXPECT_EQ(wa, 1);
  EXPECT_EQ(wb, 2);
  EXPECT_EQ(inotify_add_watch(in.get(), a.c_str(), IN_CLOSE), wa);
  ASSERT_THAT(inotify_rm_watch(in.get(), wa), SyscallSucceeds());
  EXPECT_THAT(Drain(in.get()), testing::ElementsAre(Ev{wa, IN_IGNORED, 0, ""}));
  EXPECT_EQ(inotify_add_watch(in.get(), c.c_str(), IN_OPEN), 3);
  EXPECT_EQ(inotify_add_watch(in.get(), a.c_str(), IN_OPEN), 4);
}

class InotifyEvents : public testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>(GetParam());
    in_ = FileDescriptor(NewInotify());
    ASSERT_GE(in_.get(), 0);
  }
  std::string Path(const char* name) const {
    return dir_->path() + "/" + name;
  }
  int Watch(const std::string& path, uint32_t mask) {
    const int wd = inotify_add_watch(in_.get(), path.c_str(), mask);
    EXPECT_GE(wd, 1) << path << ": " << ErrnoName(errno);
    return wd;
  }
  std::vector<Ev> Events() { return Drain(in_.get()); }

  std::unique_ptr<TempDir> dir_;
  FileDescriptor in_;
};

using testing::ElementsAre;

TEST_P(InotifyEvents, CreateWriteClose) {
  const int wd = Watch(dir_->path(), IN_ALL_EVENTS);
  const int fd = open(Path("f").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_THAT(write(fd, "ab", 2), SyscallSucceedsWithValue(2));
  // An identical event unread is not queued twice.
  ASSERT_THAT(write(fd, "cd", 2), SyscallSucceedsWithValue(2));
  close(fd);
  EXPECT_THAT(Events(),
              ElementsAre(Ev{wd, IN_CREATE, 0, "f"}, Ev{wd, IN_OPEN, 0, "f"},
                          Ev{wd, IN_MODIFY, 0, "f"},
                          Ev{wd, IN_CLOSE_WRITE, 0, "f"}));
}

TEST_P(InotifyEvents, ReadAccessAndCloseNoWrite) {
  Touch(Path("f"));
  const int wd = Watch(Path("f"), IN_ALL_EVENTS);
  const int dwd = Watch(dir_->path(), IN_ACCESS);
  FileDescriptor fd(open(Path("f").c_str(), O_RDWR | O_CLOEXEC));
  ASSERT_THAT(write(fd.get(), "xy", 2), SyscallSucceeds());
  char c;
  ASSERT_THAT(pread(fd.get(), &c, 1, 0), SyscallSucceedsWithValue(1));
  fd.reset();
  FileDescriptor ro(open(Path("f").c_str(), O_RDONLY | O_CLOEXEC));
  ro.reset();
  EXPECT_THAT(Events(), ElementsAre(Ev{wd, IN_OPEN, 0, ""},
                                    Ev{wd, IN_MODIFY, 0, ""},
                                    Ev{dwd, IN_ACCESS, 0, "f"},
                                    Ev{wd, IN_ACCESS, 0, ""},
                                    Ev{wd, IN_CLOSE_WRITE, 0, ""},
                                    Ev{wd, IN_OPEN, 0, ""},
                                    Ev{wd, IN_CLOSE_NOWRITE, 0, ""}));
}

TEST_P(InotifyEvents, Directories) {
  const int wd = Watch(dir_->path(), IN_ALL_EVENTS);
  ASSERT_THAT(mkdir(Path("d").c_str(), 0755), SyscallSucceeds());
  const int sub = Watch(Path("d"), IN_ALL_EVENTS);
  FileDescriptor d(open(Path("d").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  d.reset();
  ASSERT_THAT(rmdir(Path("d").c_str()), SyscallSucceeds());
  EXPECT_THAT(Events(),
              ElementsAre(Ev{wd, IN_CREATE | IN_ISDIR, 0, "d"},
                          Ev{wd, IN_OPEN | IN_ISDIR, 0, "d"},
                          Ev{sub, IN_OPEN | IN_ISDIR, 0, ""},
                          Ev{wd, IN_CLOSE_NOWRITE | IN_ISDIR, 0, "d"},
                          Ev{sub, IN_CLOSE_NOWRITE | IN_ISDIR, 0, ""},
                          Ev{sub, IN_DELETE_SELF, 0, ""},
                          Ev{sub, IN_IGNORED, 0, ""},
                          Ev{wd, IN_DELETE | IN_ISDIR, 0, "d"}));
}

TEST_P(InotifyEvents, Getdents) {
  const int wd = Watch(dir_->path(), IN_ACCESS);
  FileDescriptor d(open(dir_->path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  char buf[4096];
  ASSERT_THAT(syscall(SYS_getdents64, d.get(), buf, sizeof buf),
              SyscallSucceeds());
  EXPECT_THAT(Events(), ElementsAre(Ev{wd, IN_ACCESS | IN_ISDIR, 0, ""}));
}

TEST_P(InotifyEvents, RenameSharesCookie) {
  ASSERT_THAT(mkdir(Path("a").c_str(), 0755), SyscallSucceeds());
  ASSERT_THAT(mkdir(Path("b").c_str(), 0755), SyscallSucceeds());
  Touch(Path("a/f"));
  const int wa = Watch(Path("a"), IN_ALL_EVENTS);
  const int wb = Watch(Path("b"), IN_ALL_EVENTS);
  const int wf = Watch(Path("a/f"), IN_MOVE_SELF);
  ASSERT_THAT(rename(Path("a/f").c_str(), Path("b/g").c_str()),
              SyscallSucceeds());
  const std::vector<Ev> ev = Events();
  ASSERT_THAT(ev, ElementsAre(Ev{wa, IN_MOVED_FROM, 0, "f"},
                              Ev{wb, IN_MOVED_TO, 0, "g"},
                              Ev{wf, IN_MOVE_SELF, 0, ""}));
  EXPECT_NE(ev[0].cookie, 0u);
  EXPECT_EQ(ev[0].cookie, ev[1].cookie);
  // A second move has a cookie of its own.
  ASSERT_THAT(rename(Path("b/g").c_str(), Path("b/h").c_str()),
              SyscallSucceeds());
  const std::vector<Ev> again = Events();
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again[0].cookie, again[1].cookie);
  EXPECT_NE(again[0].cookie, ev[0].cookie);
}

TEST_P(InotifyEvents, RenameOverWatchedFile) {
  Touch(Path("a"));
  Touch(Path("b"));
  const int wb = Watch(Path("b"), IN_ALL_EVENTS);
  ASSERT_THAT(rename(Path("a").c_str(), Path("b").c_str()), SyscallSucceeds());
  EXPECT_THAT(Events(), ElementsAre(Ev{wb, IN_ATTRIB, 0, ""},
                                    Ev{wb, IN_DELETE_SELF, 0, ""},
                                    Ev{wb, IN_IGNORED, 0, ""}));
}

TEST_P(InotifyEvents, UnlinkAndLink) {
  Touch(Path("f"));
  const int wd = Watch(dir_->path(), IN_CREATE | IN_DELETE);
  const int wf = Watch(Path("f"), IN_ALL_EVENTS);
  ASSERT_THAT(link(Path("f").c_str(), Path("g").c_str()), SyscallSucceeds());
  ASSERT_THAT(unlink(Path("f").c_str()), SyscallSucceeds());
  ASSERT_THAT(unlink(Path("g").c_str()), SyscallSucceeds());
  EXPECT_THAT(Events(),
              ElementsAre(Ev{wf, IN_ATTRIB, 0, ""}, Ev{wd, IN_CREATE, 0, "g"},
                          Ev{wf, IN_ATTRIB, 0, ""}, Ev{wd, IN_DELETE, 0, "f"},
                          Ev{wf, IN_ATTRIB, 0, ""},
                          Ev{wf, IN_DELETE_SELF, 0, ""},
                          Ev{wf, IN_IGNORED, 0, ""},
                          Ev{wd, IN_DELETE, 0, "g"}));
}

TEST_P(InotifyEvents, Attributes) {
  Touch(Path("f"));
  const int wd = Watch(dir_->path(), IN_ATTRIB | IN_MODIFY);
  const int wf = Watch(Path("f"), IN_ATTRIB | IN_MODIFY);
  ASSERT_THAT(chmod(Path("f").c_str(), 0600), SyscallSucceeds());
  ASSERT_THAT(truncate(Path("f").c_str(), 10), SyscallSucceeds());
  EXPECT_THAT(Events(), ElementsAre(Ev{wd, IN_ATTRIB, 0, "f"},
                                    Ev{wf, IN_ATTRIB, 0, ""},
                                    Ev{wd, IN_MODIFY, 0, "f"},
                                    Ev{wf, IN_MODIFY, 0, ""}));
  const struct timespec times[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
  ASSERT_THAT(utimensat(AT_FDCWD, Path("f").c_str(), times, 0),
              SyscallSucceeds());
  FileDescriptor fd(open(Path("f").c_str(), O_WRONLY | O_CLOEXEC));
  ASSERT_THAT(ftruncate(fd.get(), 0), SyscallSucceeds());
  EXPECT_THAT(Events(), ElementsAre(Ev{wd, IN_ATTRIB, 0, "f"},
                                    Ev{wf, IN_ATTRIB, 0, ""},
                                    Ev{wd, IN_MODIFY, 0, "f"},
                                    Ev{wf, IN_MODIFY, 0, ""}));
}

TEST_P(InotifyEvents, XattrIsAttrib) {
  Touch(Path("f"));
  const int wf = Watch(Path("f"), IN_ATTRIB);
  if (setxattr(Path("f").c_str(), "user.x", "1", 1, 0) != 0) {
    GTEST_SKIP() << "no user xattrs here: " << ErrnoName(errno);
  }
  EXPECT_THAT(Events(), ElementsAre(Ev{wf, IN_ATTRIB, 0, ""}));
  ASSERT_THAT(removexattr(Path("f").c_str(), "user.x"), SyscallSucceeds());
  EXPECT_THAT(Events(), ElementsAre(Ev{wf, IN_ATTRIB, 0, ""}));
}

TEST_P(InotifyEvents, OpenTruncIsModify) {
  Touch(Path("f"));
  const int wf = Watch(Path("f"), IN_MODIFY | IN_OPEN);
  FileDescriptor fd(open(Path("f").c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  EXPECT_THAT(Events(), ElementsAre(Ev{wf, IN_OPEN, 0, ""},
                                    Ev{wf, IN_MODIFY, 0, ""}));
}

TEST_P(InotifyEvents, OneShot) {
  Touch(Path("f"));
  const int wf = Watch(Path("f"), IN_OPEN | IN_ONESHOT);
  FileDescriptor(open(Path("f").c_str(), O_RDONLY | O_CLOEXEC));
  FileDescriptor(open(Path("f").c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_THAT(Events(), ElementsAre(Ev{wf, IN_OPEN, 0, ""},
                                    Ev{wf, IN_IGNORED, 0, ""}));
  EXPECT_THAT(inotify_rm_watch(in_.get(), wf), SyscallFailsWithErrno(EINVAL));
}

TEST_P(InotifyEvents, MaskAddAndReplace) {
  Touch(Path("f"));
  const int wf = Watch(Path("f"), IN_ATTRIB);
  EXPECT_EQ(Watch(Path("f"), IN_OPEN | IN_MASK_ADD), wf);
  ASSERT_THAT(chmod(Path("f").c_str(), 0600), SyscallSucceeds());
  FileDescriptor(open(Path("f").c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_THAT(Events(), ElementsAre(Ev{wf, IN_ATTRIB, 0, ""},
                                    Ev{wf, IN_OPEN, 0, ""}));
  // Without IN_MASK_ADD the mask is replaced.
  EXPECT_EQ(Watch(Path("f"), IN_OPEN), wf);
  ASSERT_THAT(chmod(Path("f").c_str(), 0644), SyscallSucceeds());
  EXPECT_THAT(Events(), testing::IsEmpty());
}

TEST_P(InotifyEvents, ExclUnlink) {
  Touch(Path("f"));
  Touch(Path("g"));
  const int wd = Watch(dir_->path(), IN_MODIFY | IN_EXCL_UNLINK);
  FileDescriptor f(open(Path("f").c_str(), O_WRONLY | O_CLOEXEC));
  FileDescriptor g(open(Path("g").c_str(), O_WRONLY | O_CLOEXEC));
  ASSERT_THAT(unlink(Path("f").c_str()), SyscallSucceeds());
  ASSERT_THAT(write(f.get(), "x", 1), SyscallSucceeds());
  ASSERT_THAT(write(g.get(), "x", 1), SyscallSucceeds());
  EXPECT_THAT(Events(), ElementsAre(Ev{wd, IN_MODIFY, 0, "g"}));
  // Without the flag, an unlinked child still tells its directory.
  FileDescriptor in2(NewInotify());
  const int wd2 = inotify_add_watch(in2.get(), dir_->path().c_str(), IN_MODIFY);
  ASSERT_THAT(write(f.get(), "x", 1), SyscallSucceeds());
  EXPECT_THAT(Drain(in2.get()), ElementsAre(Ev{wd2, IN_MODIFY, 0, "f"}));
}

TEST_P(InotifyEvents, ShortBufferAndFionread) {
  const int wd = Watch(dir_->path(), IN_CREATE);
  Touch(Path("name"));
  int n = 0;
  ASSERT_THAT(ioctl(in_.get(), FIONREAD, &n), SyscallSucceeds());
  // "name" with its NUL, padded to the 16-byte header size.
  EXPECT_EQ(n, static_cast<int>(sizeof(inotify_event) + 16));
  alignas(inotify_event) char buf[sizeof(inotify_event) + 16];
  EXPECT_THAT(read(in_.get(), buf, sizeof(inotify_event)),
              SyscallFailsWithErrno(EINVAL));
  ASSERT_THAT(read(in_.get(), buf, sizeof buf),
              SyscallSucceedsWithValue(sizeof buf));
  const auto* e = reinterpret_cast<const inotify_event*>(buf);
  EXPECT_EQ(e->wd, wd);
  EXPECT_EQ(e->mask, static_cast<uint32_t>(IN_CREATE));
  EXPECT_EQ(e->len, 16u);
  EXPECT_STREQ(e->name, "name");
  // Two events, room for one and a half: only whole events are returned.
  Touch(Path("a"));
  Touch(Path("b"));
  char two[sizeof(inotify_event) * 2 + 20];
  EXPECT_THAT(read(in_.get(), two, sizeof two),
              SyscallSucceedsWithValue(sizeof(inotify_event) + 16));
  EXPECT_THAT(Events(), ElementsAre(Ev{wd, IN_CREATE, 0, "b"}));
}

TEST_P(InotifyEvents, PollReadiness) {
  Watch(dir_->path(), IN_CREATE);
  struct pollfd p = {in_.get(), POLLIN, 0};
  EXPECT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(0));
  Touch(Path("f"));
  EXPECT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLIN);
  Events();
  EXPECT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(0));
}

TEST_P(InotifyEvents, BlockingReadWokenByEvent) {
  FileDescriptor in(inotify_init1(IN_CLOEXEC));
  const int wd = inotify_add_watch(in.get(), dir_->path().c_str(), IN_CREATE);
  ASSERT_GE(wd, 1);
  ssize_t got = 0;
  alignas(inotify_event) char buf[512];
  std::thread reader([&] { got = read(in.get(), buf, sizeof buf); });
  Touch(Path("f"));
  reader.join();
  ASSERT_EQ(got, static_cast<ssize_t>(sizeof(inotify_event) + 16));
  EXPECT_STREQ(reinterpret_cast<inotify_event*>(buf)->name, "f");
}

INSTANTIATE_TEST_SUITE_P(Dirs, InotifyEvents,
                         testing::Values("/tmp", "/dev/shm", "/var/tmp"));

std::atomic<bool> g_reader_done{false};

TEST(InotifyRead, InterruptedBySignal) {
  struct sigaction sa = {}, old;
  sa.sa_handler = [](int) {};
  ASSERT_THAT(sigaction(SIGUSR1, &sa, &old), SyscallSucceeds());  // no restart
  FileDescriptor in(inotify_init1(IN_CLOEXEC));
  ASSERT_GE(in.get(), 0);
  int err = 0;
  ssize_t got = 0;
  g_reader_done = false;
  std::thread reader([&] {
    char buf[512];
    got = read(in.get(), buf, sizeof buf);
    err = errno;
    g_reader_done = true;
  });
  // The reader may not be blocked yet: signal until it returns.
  while (!g_reader_done) {
    pthread_kill(reader.native_handle(), SIGUSR1);
    sched_yield();
  }
  reader.join();
  EXPECT_EQ(got, -1);
  EXPECT_EQ(err, EINTR) << ErrnoName(err);
  ASSERT_THAT(sigaction(SIGUSR1, &old, nullptr), SyscallSucceeds());
}

TEST(InotifyUnmount, WatchesEndWithTheMount) {
  if (geteuid() != 0) GTEST_SKIP() << "mount(2) needs CAP_SYS_ADMIN";
  TempDir dir;
  const std::string m = dir.path() + "/m";
  ASSERT_THAT(mkdir(m.c_str(), 0755), SyscallSucceeds());
  // In a child with mounts of its own natively (the host's stay as they
  // are); the sandbox may refuse unshare and use its own table.
  EXPECT_EQ(InChild([&] {
              if (unshare(CLONE_NEWNS) != 0 && errno != EPERM &&
                  errno != EINVAL) {
                return 1;
              }
              mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
              if (mount("none", m.c_str(), "tmpfs", 0, nullptr) != 0) return 2;
              const std::string f = m + "/f";
              const int fd = open(f.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
              if (fd < 0) return 3;
              close(fd);
              const int in = NewInotify();
              const int wd = inotify_add_watch(in, f.c_str(), IN_MODIFY);
              if (wd < 1) return 4;
              if (umount2(m.c_str(), 0) != 0) return 5;
              const std::vector<Ev> ev = Drain(in);
              if (ev.size() != 2) return 6;
              if (!(ev[0] == Ev{wd, IN_UNMOUNT, 0, ""})) return 7;
              if (!(ev[1] == Ev{wd, IN_IGNORED, 0, ""})) return 8;
              close(in);
              return 0;
            }),
            0);
}

TEST(InotifyRead, QueueOverflow) {
  TempDir dir;
  const std::string file = dir.path() + "/f";
  Touch(file);
  const int max = ReadSysctl("max_queued_events");
  ASSERT_GT(max, 0);
  FileDescriptor in(NewInotify());
  const int wd = inotify_add_watch(in.get(), file.c_str(), IN_OPEN | IN_CLOSE);
  ASSERT_GE(wd, 1);
  // Open and close alternate, so nothing coalesces.
  for (int i = 0; i < max / 2 + 8; ++i) {
    const int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    close(fd);
  }
  const std::vector<Ev> ev = Drain(in.get());
  ASSERT_EQ(ev.size(), static_cast<size_t>(max) + 1);
  EXPECT_EQ(ev[max - 1].wd, wd);
  EXPECT_EQ(ev.back(), (Ev{-1, IN_Q_OVERFLOW, 0, ""}));
}

}  // namespace
}  // namespace syscall_test
