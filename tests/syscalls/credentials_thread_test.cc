// Credentials belong to a thread, as in Linux: the raw setuid family,
// setgroups, setfs[ug]id and capset change only the calling thread;
// glibc's wrappers change every thread (they broadcast SIGSETXID); a new
// thread starts with its creator's; /proc/<pid>/task/<tid>/status shows
// each thread's; permission checks use the calling thread's. Each test
// runs in a forked child, since it changes ids.
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <thread>

#include "proc_util.h"
#include "temp_dir.h"
#include "test_util.h"

namespace {

using syscall_test::InChild;
using syscall_test::TempDir;

constexpr uid_t kNobody = 65534;

bool IsRoot() {
  __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2] = {};
  return getuid() == 0 && syscall(SYS_capget, &h, d) == 0 &&
         (d[0].effective & (1u << CAP_SETUID)) &&
         (d[0].effective & (1u << CAP_SETGID)) &&
         (d[0].effective & (1u << CAP_KILL));
}
#define REQUIRE_ROOT() \
  if (!IsRoot()) GTEST_SKIP() << "needs root with CAP_SETUID/SETGID/KILL"

long RawEuid() { return syscall(SYS_geteuid); }
long RawTid() { return syscall(SYS_gettid); }

// Runs `fn` on a new thread and returns its result.
int OnThread(const std::function<int()>& fn) {
  int r = -1;
  std::thread th([&] { r = fn(); });
  th.join();
  return r;
}

uint32_t EffectiveCaps(int tid) {
  __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, tid};
  __user_cap_data_struct d[2] = {};
  if (syscall(SYS_capget, &h, d) != 0) return 0xdeadbeef;
  return d[0].effective;
}

TEST(ThreadCredentialsTest, RawSetresuidChangesOnlyTheCallingThread) {
  REQUIRE_ROOT();
  EXPECT_EQ(InChild([] {
              const int r = OnThread([] {
                // Root keeps its saved uid, so the thread could come back.
                if (syscall(SYS_setresuid, -1, kNobody, -1) != 0) return 1;
                if (RawEuid() != kNobody) return 2;
                return 0;
              });
              if (r != 0) return r;
              return RawEuid() == 0 ? 0 : 3;
            }),
            0);
}

TEST(ThreadCredentialsTest, EachRawSetterIsPerThread) {
  REQUIRE_ROOT();
  EXPECT_EQ(InChild([] {
              int r = OnThread([] {
                if (syscall(SYS_setresgid, -1, kNobody, -1) != 0) return 1;
                if (syscall(SYS_getegid) != kNobody) return 2;
                return 0;
              });
              if (r != 0 || syscall(SYS_getegid) != 0) return 10 + r;
              const long groups_before = syscall(SYS_getgroups, 0, nullptr);
              r = OnThread([] {
                gid_t g[] = {7, 9};
                if (syscall(SYS_setgroups, 2, g) != 0) return 1;
                return syscall(SYS_getgroups, 0, nullptr) == 2 ? 0 : 2;
              });
              if (r != 0) return 20 + r;
              if (syscall(SYS_getgroups, 0, nullptr) != groups_before)
                return 30;
              r = OnThread([] {
                if (syscall(SYS_setreuid, -1, kNobody) != 0) return 1;
                if (RawEuid() != kNobody) return 2;
                return 0;
              });
              if (r != 0 || RawEuid() != 0) return 40 + r;
              r = OnThread([] {
                syscall(SYS_setfsuid, kNobody);
                return syscall(SYS_setfsuid, -1) == kNobody ? 0 : 1;
              });
              if (r != 0 || syscall(SYS_setfsuid, -1) != 0) return 50 + r;
              r = OnThread([] {
                syscall(SYS_setfsgid, kNobody);
                return syscall(SYS_setfsgid, -1) == kNobody ? 0 : 1;
              });
              if (r != 0 || syscall(SYS_setfsgid, -1) != 0) return 60 + r;
              r = OnThread([] {
                if (syscall(SYS_setregid, -1, kNobody) != 0) return 1;
                return syscall(SYS_getegid) == kNobody ? 0 : 2;
              });
              if (r != 0 || syscall(SYS_getegid) != 0) return 70 + r;
              return 0;
            }),
            0);
}

TEST(ThreadCredentialsTest, CapsetChangesOnlyTheCallingThread) {
  REQUIRE_ROOT();
  EXPECT_EQ(InChild([] {
              const int main_tid = RawTid();
              const uint32_t before = EffectiveCaps(0);
              const int r = OnThread([&] {
                __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
                __user_cap_data_struct d[2] = {};
                if (syscall(SYS_capget, &h, d) != 0) return 1;
                d[0].effective &= ~(1u << CAP_CHOWN);
                if (syscall(SYS_capset, &h, d) != 0) return 2;
                if (EffectiveCaps(0) & (1u << CAP_CHOWN)) return 3;
                // Another thread's sets, read by its tid, are its own.
                if (EffectiveCaps(main_tid) != before) return 4;
                return 0;
              });
              if (r != 0) return r;
              return EffectiveCaps(0) == before ? 0 : 5;
            }),
            0);
}

TEST(ThreadCredentialsTest, NewThreadStartsWithItsCreatorsIds) {
  REQUIRE_ROOT();
  EXPECT_EQ(InChild([] {
              const int r = OnThread([] {
                if (syscall(SYS_setresuid, -1, kNobody, -1) != 0) return 1;
                // The grandchild thread inherits nobody, not the leader's 0.
                return OnThread([] { return RawEuid() == kNobody ? 0 : 2; });
              });
              if (r != 0) return r;
              // A thread the leader makes afterwards has root.
              return OnThread([] { return RawEuid() == 0 ? 0 : 3; });
            }),
            0);
}

TEST(ThreadCredentialsTest, GlibcSetuidChangesEveryThread) {
  REQUIRE_ROOT();
  EXPECT_EQ(InChild([] {
              int go[2], done[2];
              if (pipe(go) != 0 || pipe(done) != 0) return 1;
              long seen = -1;
              std::thread th([&] {
                char c;
                if (read(go[0], &c, 1) != 1) return;
                seen = RawEuid();
              });
              // glibc's seteuid signals the other thread (SIGSETXID),
              // which makes the raw call itself.
              if (seteuid(kNobody) != 0) return 2;
              if (write(go[1], "x", 1) != 1) return 3;
              th.join();
              if (seen != kNobody) return 4;
              return RawEuid() == kNobody ? 0 : 5;
            }),
            0);
}

TEST(ThreadCredentialsTest, ProcTaskStatusShowsEachThreadsIds) {
  REQUIRE_ROOT();
  EXPECT_EQ(InChild([] {
              int changed[2], release[2];
              if (pipe(changed) != 0 || pipe(release) != 0) return 1;
              int tid = 0;
              std::thread th([&] {
                tid = RawTid();
                if (syscall(SYS_setresuid, -1, kNobody, -1) != 0) tid = -1;
                (void)!write(changed[1], "x", 1);
                char c;
                (void)!read(release[0], &c, 1);
              });
              char c;
              if (read(changed[0], &c, 1) != 1 || tid <= 0) return 2;
              const std::string pid = std::to_string(getpid());
              const std::string self = "/proc/" + pid + "/task/" + pid;
              const std::string other =
                  "/proc/" + pid + "/task/" + std::to_string(tid);
              const std::string mine = proc_test::StatusField(
                  syscall_test::ReadFileContents((self + "/status").c_str()), "Uid");
              const std::string its = proc_test::StatusField(
                  syscall_test::ReadFileContents((other + "/status").c_str()), "Uid");
              const std::string process = proc_test::StatusField(
                  syscall_test::ReadFileContents(("/proc/" + pid + "/status").c_str()),
                  "Uid");
              (void)!write(release[1], "x", 1);
              th.join();
              if (mine != "0\t0\t0\t0") return 3;
              if (its != "0\t65534\t0\t65534") return 4;
              // The process's own file shows its leader's.
              return process == "0\t0\t0\t0" ? 0 : 5;
            }),
            0);
}

TEST(ThreadCredentialsTest, FileChecksUseTheCallingThreadsFsuid) {
  REQUIRE_ROOT();
  TempDir dir;
  const std::string path = dir.path() + "/secret";
  const int fd = open(path.c_str(), O_CREAT | O_WRONLY, 0600);
  ASSERT_GE(fd, 0);
  close(fd);
  EXPECT_EQ(InChild([&] {
              const int r = OnThread([&] {
                syscall(SYS_setfsuid, kNobody);
                const int f = open(path.c_str(), O_RDONLY);
                if (f >= 0) {
                  close(f);
                  return 1;
                }
                return errno == EACCES ? 0 : 2;
              });
              if (r != 0) return r;
              const int f = open(path.c_str(), O_RDONLY);
              if (f < 0) return 3;
              close(f);
              return 0;
            }),
            0);
}

TEST(ThreadCredentialsTest, KillChecksUseTheCallingThreadsIds) {
  REQUIRE_ROOT();
  int hold[2];
  ASSERT_EQ(pipe(hold), 0);
  const pid_t target = fork();  // stays root
  if (target == 0) {
    char c;
    close(hold[1]);
    (void)!read(hold[0], &c, 1);
    _exit(0);
  }
  ASSERT_GT(target, 0);
  close(hold[0]);
  EXPECT_EQ(InChild([&] {
              const int r = OnThread([&] {
                // Real and effective nobody, saved 0: no CAP_KILL, and
                // neither id is the target's real or saved uid.
                if (syscall(SYS_setresuid, kNobody, kNobody, 0) != 0) return 1;
                if (kill(target, 0) != -1 || errno != EPERM) return 2;
                return 0;
              });
              if (r != 0) return r;
              return kill(target, 0) == 0 ? 0 : 3;
            }),
            0);
  close(hold[1]);
  int status;
  ASSERT_EQ(waitpid(target, &status, 0), target);
}

}  // namespace
