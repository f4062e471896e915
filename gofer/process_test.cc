// The real `runsc gofer` process: it serves through the client under its
// seccomp filter, confines itself (root, capabilities, no_new_privs,
// seccomp), survives a fuzzing client without leaking fds, fails early on
// a bad root, and its death fails the client's calls with EIO.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "gmock/gmock.h"
#include "gofer/fuzz_util.h"
#include "gofer/test_util.h"

extern char** environ;

namespace gofer::testing {
namespace {

using ::testing::HasSubstr;

// A running `runsc gofer` and its socket.
struct GoferProcess {
  pid_t pid = -1;
  base::UniqueFd sock;    // ours
  base::UniqueFd stderr;  // the gofer's stderr, when captured
};

GoferProcess Spawn(const std::vector<std::string>& flags,
                   bool capture_stderr = false) {
  GoferProcess g;
  int sv[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  g.sock.Reset(sv[0]);
  // Not fd 3 itself, whose dup2 would keep FD_CLOEXEC.
  base::UniqueFd theirs(fcntl(sv[1], F_DUPFD_CLOEXEC, 10));
  close(sv[1]);
  int err[2] = {-1, -1};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, theirs.get(), 3);
  if (capture_stderr) {
    EXPECT_EQ(pipe2(err, O_CLOEXEC), 0);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  }
  std::vector<std::string> argv = {RUNSC_PATH, "gofer"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  EXPECT_EQ(posix_spawn(&g.pid, RUNSC_PATH, &fa, nullptr, args.data(), environ),
            0);
  posix_spawn_file_actions_destroy(&fa);
  if (capture_stderr) {
    close(err[1]);
    g.stderr.Reset(err[0]);
  }
  return g;
}

GoferProcess Spawn(const std::string& root, bool read_write = true) {
  std::vector<std::string> flags = {"--root=" + root, "--sock-fd=3"};
  if (read_write) flags.push_back("--read-write");
  return Spawn(flags);
}

int Wait(pid_t pid) {
  int status;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return status;
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, n);
  return out;
}

std::string ProcStatus(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with(key + ":")) {
      std::string v = line.substr(key.size() + 1);
      return v.substr(v.find_first_not_of(" \t"));
    }
  return "";
}

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_ / "file", "hello");
    ASSERT_EQ(mkdir((dir_ / "sub").c_str(), 0755), 0);
  }
  TempDir dir_;
};

// Every operation once, through the confined gofer: its seccomp filter
// allows all that the operations need.
TEST_F(ProcessTest, ServesEveryOperation) {
  GoferProcess g = Spawn(dir_.path());
  {
    Client c(std::move(g.sock));
    ASSERT_OK_AND_ASSIGN(root, c.Attach(""));
    ASSERT_OK_AND_ASSIGN(f, c.Walk(root.handle, "file"));
    ASSERT_OK_AND_ASSIGN(st, c.Stat(f.handle));
    EXPECT_EQ(st.st_size, 5);
    ASSERT_OK_AND_ASSIGN(fd, c.Open(f.handle, O_RDWR));
    EXPECT_EQ(ReadFd(fd.get()), "hello");
    ASSERT_OK_AND_ASSIGN(
        cr, c.Create(root.handle, "new", O_WRONLY, 0644, Client::Owner{7, 8}));
    ASSERT_EQ(write(cr.fd.get(), "n", 1), 1);
    ASSERT_OK_AND_ASSIGN(d, c.Mkdir(root.handle, "d", 0755));
    ASSERT_OK_AND_ASSIGN(fifo, c.Mknod(d.handle, "fifo", S_IFIFO | 0600));
    ASSERT_OK_AND_ASSIGN(sl, c.Symlink(d.handle, "sl", "/etc/passwd"));
    ASSERT_OK_AND_ASSIGN(target, c.Readlink(sl.handle));
    EXPECT_EQ(target, "/etc/passwd");
    ASSERT_OK_AND_ASSIGN(hl, c.Link(d.handle, "hard", f.handle));
    EXPECT_EQ(hl.stat.st_nlink, 2u);
    auto renamed = c.Rename(root.handle, "new", d.handle, "moved");
    ASSERT_TRUE(renamed.has_value()) << base::ErrnoName(renamed.error().value);
    ASSERT_TRUE(c.Rename(d.handle, "moved", d.handle, "hard", RENAME_EXCHANGE)
                    .has_value());
    ASSERT_OK_AND_ASSIGN(ents, c.Getdents(d.handle, 0, 2));
    EXPECT_EQ(ents.size(), 2u);
    Client::Attr a;
    a.mode = 0600;
    a.uid = 3;
    a.gid = 4;
    a.size = 2;
    a.atime = timespec{0, UTIME_NOW};
    a.mtime = timespec{100, 0};
    ASSERT_OK_AND_ASSIGN(st2, c.Setattr(f.handle, a));
    EXPECT_EQ(st2.st_size, 2);
    EXPECT_EQ(st2.st_uid, 3u);
    ASSERT_OK_AND_ASSIGN(sfs, c.Statfs(root.handle));
    EXPECT_GT(sfs.f_bsize, 0);
    if (c.Setxattr(f.handle, "user.k", "v").has_value()) {
      ASSERT_OK_AND_ASSIGN(v, c.Getxattr(f.handle, "user.k"));
      EXPECT_EQ(v, "v");
      ASSERT_OK_AND_ASSIGN(names, c.Listxattr(f.handle));
      EXPECT_THAT(names, ::testing::Contains("user.k"));
      ASSERT_TRUE(c.Removexattr(f.handle, "user.k").has_value());
    }
    ASSERT_OK_AND_ASSIGN(b, c.Bind(d.handle, "sock", SOCK_STREAM, 0600));
    ASSERT_EQ(listen(b.fd.get(), 1), 0);
    ASSERT_OK_AND_ASSIGN(conn, c.Connect(b.node.handle, SOCK_STREAM));
    ASSERT_OK_AND_ASSIGN(dfd, c.Open(d.handle, O_RDONLY | O_DIRECTORY));
    ASSERT_TRUE(c.Unlink(d.handle, "sock").has_value());
    ASSERT_TRUE(c.Unlink(d.handle, "fifo").has_value());
    ASSERT_TRUE(c.Unlink(d.handle, "sl").has_value());
    ASSERT_TRUE(c.Unlink(d.handle, "moved").has_value());
    ASSERT_TRUE(c.Unlink(d.handle, "hard").has_value());
    ASSERT_TRUE(c.Rmdir(root.handle, "d").has_value());
    ASSERT_TRUE(
        c.Close({root.handle, f.handle, d.handle, fifo.handle}).has_value());
    EXPECT_ERRNO(c.Walk(root.handle, "x"), EBADF);
    // Still alive: nothing above hit the seccomp filter.
    EXPECT_EQ(waitpid(g.pid, nullptr, WNOHANG), 0);
  }
  // The client's end closed: the gofer exits cleanly.
  int status = Wait(g.pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  struct stat st;
  ASSERT_EQ(stat((dir_ / "file").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 2);
}

TEST_F(ProcessTest, ConfinesItself) {
  GoferProcess g = Spawn(dir_.path(), /*read_write=*/false);
  Client c(std::move(g.sock));
  // An answer means confinement is done.
  bool ro = false;
  ASSERT_OK_AND_ASSIGN(root, c.Attach("", &ro));
  EXPECT_TRUE(ro);
  EXPECT_ERRNO(c.Create(root.handle, "x", O_RDWR, 0600), EROFS);

  std::string proc = "/proc/" + std::to_string(g.pid);
  struct stat groot, want;
  ASSERT_EQ(stat((proc + "/root").c_str(), &groot), 0);
  ASSERT_EQ(stat(dir_.path().c_str(), &want), 0);
  EXPECT_EQ(groot.st_dev, want.st_dev);
  EXPECT_EQ(groot.st_ino, want.st_ino);
  char a[64] = {}, b[64] = {};
  ASSERT_GT(readlink((proc + "/ns/mnt").c_str(), a, sizeof(a) - 1), 0);
  ASSERT_GT(readlink("/proc/self/ns/mnt", b, sizeof(b) - 1), 0);
  EXPECT_STRNE(a, b);
  // Its mount namespace holds the root alone, read-only and nodev.
  std::ifstream mi(proc + "/mountinfo");
  std::vector<std::string> mounts;
  for (std::string line; std::getline(mi, line);) mounts.push_back(line);
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_THAT(mounts[0], HasSubstr(" / ro,nosuid,nodev,"));

  EXPECT_EQ(ProcStatus(g.pid, "Seccomp"), "2");
  EXPECT_EQ(ProcStatus(g.pid, "NoNewPrivs"), "1");
  // CAP_CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID: bits 0-4.
  EXPECT_EQ(ProcStatus(g.pid, "CapEff"), "000000000000001f");
  EXPECT_EQ(ProcStatus(g.pid, "CapPrm"), "000000000000001f");
  EXPECT_EQ(ProcStatus(g.pid, "CapInh"), "0000000000000000");
  EXPECT_EQ(ProcStatus(g.pid, "CapBnd"), "000000000000001f");
  EXPECT_EQ(ProcStatus(g.pid, "CapAmb"), "0000000000000000");

  // Its fds: stdio, the socket, the root, the handle Attach made.
  int n = CountFds(proc + "/fd");
  EXPECT_LE(n, 6) << "the gofer holds more fds than it should";
  kill(g.pid, SIGKILL);
  Wait(g.pid);
}

TEST_F(ProcessTest, ChrootIsolationAlsoConfines) {
  GoferProcess g =
      Spawn({"--root=" + dir_.path(), "--sock-fd=3", "--isolation=chroot"});
  Client c(std::move(g.sock));
  ASSERT_OK_AND_ASSIGN(root, c.Attach(""));
  ASSERT_OK_AND_ASSIGN(f, c.Walk(root.handle, "file"));
  struct stat groot, want;
  std::string proc = "/proc/" + std::to_string(g.pid);
  ASSERT_EQ(stat((proc + "/root").c_str(), &groot), 0);
  ASSERT_EQ(stat(dir_.path().c_str(), &want), 0);
  EXPECT_EQ(groot.st_ino, want.st_ino);
  EXPECT_EQ(ProcStatus(g.pid, "Seccomp"), "2");
  kill(g.pid, SIGKILL);
  Wait(g.pid);
}

TEST_F(ProcessTest, BindMountSources) {
  TempDir data;
  WriteFile(data / "d", "data");
  GoferProcess g =
      Spawn({"--root=" + dir_.path(), "--sock-fd=3",
             "--mounts=data=" + data.path() + ":rw,ro=" + data.path()});
  Client c(std::move(g.sock));
  bool ro = true;
  ASSERT_OK_AND_ASSIGN(d, c.Attach("data", &ro));
  EXPECT_FALSE(ro);
  ASSERT_OK_AND_ASSIGN(f, c.Walk(d.handle, "d"));
  ASSERT_OK_AND_ASSIGN(fd, c.Open(f.handle, O_RDONLY));
  EXPECT_EQ(ReadFd(fd.get()), "data");
  ASSERT_TRUE(c.Mkdir(d.handle, "new", 0700).has_value());
  ASSERT_OK_AND_ASSIGN(r, c.Attach("ro", &ro));
  EXPECT_TRUE(ro);
  EXPECT_ERRNO(c.Mkdir(r.handle, "new2", 0700), EROFS);
  kill(g.pid, SIGKILL);
  Wait(g.pid);
}

TEST_F(ProcessTest, FuzzingNeitherKillsNorLeaks) {
  WriteFile(dir_ / "a", "a");
  ASSERT_EQ(symlink("/etc", (dir_ / "lnk").c_str()), 0);
  GoferProcess g = Spawn(dir_.path());
  std::string fds = "/proc/" + std::to_string(g.pid) + "/fd";
  for (uint64_t seed : {11, 12, 13}) {
    Fuzzer fuzzer(g.sock.get(), seed);
    // The first answer means the gofer is confined and serving.
    ASSERT_TRUE(fuzzer.CloseAll());
    int baseline = CountFds(fds);
    for (int i = 0; i < 1500; ++i)
      ASSERT_TRUE(fuzzer.Step()) << "seed " << seed << " step " << i;
    ASSERT_TRUE(fuzzer.CloseAll());
    EXPECT_EQ(CountFds(fds), baseline) << "seed " << seed;
  }
  EXPECT_EQ(waitpid(g.pid, nullptr, WNOHANG), 0);
  g.sock.Reset();
  int status = Wait(g.pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

// A call waiting on a stopped gofer fails with EIO when it is killed, and
// so does every call after.
TEST_F(ProcessTest, KilledGoferFailsCallsWithEio) {
  GoferProcess g = Spawn(dir_.path());
  Client c(std::move(g.sock));
  ASSERT_OK_AND_ASSIGN(root, c.Attach(""));
  ASSERT_EQ(kill(g.pid, SIGSTOP), 0);
  base::Result<struct stat> waiting = base::Err(0);
  std::thread t([&] { waiting = c.Stat(root.handle); });
  while (c.pending() == 0) sched_yield();  // the call is in flight
  ASSERT_EQ(kill(g.pid, SIGKILL), 0);
  t.join();
  ASSERT_FALSE(waiting.has_value());
  EXPECT_EQ(waiting.error().value, EIO);
  EXPECT_ERRNO(c.Walk(root.handle, "file"), EIO);
  EXPECT_ERRNO(c.Attach(""), EIO);
  int status = Wait(g.pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

// Threads hammering a gofer that dies under them all finish, each call
// answered or EIO.
TEST_F(ProcessTest, DeathUnderLoadFailsEveryCallPromptly) {
  GoferProcess g = Spawn(dir_.path());
  Client c(std::move(g.sock));
  ASSERT_OK_AND_ASSIGN(root, c.Attach(""));
  std::atomic<int> eio{0}, other{0}, ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      for (;;) {
        auto r = c.Walk(root.handle, "file");
        if (r) {
          ++ok;
          (void)c.Close({r->handle});
        } else if (r.error().value == EIO) {
          ++eio;
          return;
        } else {
          ++other;
        }
      }
    });
  while (ok.load() < 20) sched_yield();
  ASSERT_EQ(kill(g.pid, SIGKILL), 0);
  for (auto& t : threads) t.join();
  EXPECT_EQ(eio.load(), 4);
  EXPECT_EQ(other.load(), 0);
  Wait(g.pid);
}

TEST(ProcessFlagsTest, BadRootFailsBeforeServing) {
  TempDir dir;
  WriteFile(dir / "file", "");
  struct Case {
    std::vector<std::string> flags;
    std::string message;
  } cases[] = {
      {{"--root=/nonexistent/gofer", "--sock-fd=3"},
       "/nonexistent/gofer: No such file or directory"},
      {{"--root=" + (dir / "file"), "--sock-fd=3"}, "Not a directory"},
      {{"--root=" + dir.path(), "--sock-fd=0"}, "not a SOCK_SEQPACKET socket"},
      {{"--sock-fd=3"}, "usage"},
      {{"--root=" + dir.path(), "--sock-fd=3", "--isolation=bogus"},
       "--isolation"},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.flags[0]);
    GoferProcess g = Spawn(tc.flags, /*capture_stderr=*/true);
    std::string err = ReadAll(g.stderr.get());
    int status = Wait(g.pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 125) << status;
    EXPECT_THAT(err, HasSubstr(tc.message));
    EXPECT_THAT(err, ::testing::StartsWith("runsc: gofer: "));
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  }
}

// The filter the gofer installs, in a forked child: what the gofer never
// does kills it with SIGSYS; what it does passes.
TEST(SeccompTest, SyscallsOutsideTheAllowlistKill) {
  TempDir dir;
  struct Case {
    const char* what;
    bool allowed;
    void (*call)(const char* dir);
  } cases[] = {
      {"openat O_NOFOLLOW", true,
       [](const char* d) {
         _exit(syscall(SYS_openat, AT_FDCWD, d,
                       O_PATH | O_NOFOLLOW | O_CLOEXEC) >= 0
                   ? 0
                   : 1);
       }},
      {"socket AF_UNIX", true,
       [](const char*) {
         _exit(syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0) >= 0 ? 0 : 1);
       }},
      {"openat following symlinks fails", true,
       [](const char* d) {
         _exit(syscall(SYS_openat, AT_FDCWD, d, O_RDONLY) < 0 && errno == ENOENT
                   ? 0
                   : 1);
       }},
      {"getppid", false, [](const char*) { syscall(SYS_getppid); }},
      {"socket AF_INET", false,
       [](const char*) { syscall(SYS_socket, AF_INET, SOCK_STREAM, 0); }},
      {"mmap PROT_EXEC", false,
       [](const char*) {
         syscall(SYS_mmap, 0, 4096, PROT_READ | PROT_EXEC,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
       }},
      {"fork", false,
       [](const char*) { syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0); }},
      {"execve", false,
       [](const char*) {
         const char* argv[] = {"/bin/true", nullptr};
         syscall(SYS_execve, "/bin/true", argv, nullptr);
       }},
      {"ptrace", false, [](const char*) { syscall(SYS_ptrace, 0, 0, 0, 0); }},
      {"chroot", false, [](const char* d) { syscall(SYS_chroot, d); }},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.what);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      if (!InstallSeccomp().ok()) _exit(2);
      tc.call(dir.path().c_str());
      _exit(3);
    }
    int status = Wait(pid);
    if (tc.allowed) {
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    } else {
      EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) << status;
    }
  }
}

}  // namespace
}  // namespace gofer::testing
