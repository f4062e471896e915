// Robustness under `runsc do`: fork bombs stopped by the pids limit and by
// RLIMIT_NPROC, a signal storm, random syscalls (fuzz_syscalls.c), and
// --pids-limit's checks. forkbomb.c and sigstorm.c also run natively where
// that is safe, to check them against Linux.
#include <dirent.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "tests/util/run_command.h"

extern char** environ;

namespace {

using ::testing::HasSubstr;
using testing_util::RunCommand;
using testing_util::RunSandboxed;
using testing_util::RunscPath;

// A uid no process on the machine has.
constexpr const char* kBombUid = "54321";

int ParentOf(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), {});
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 2));
  char state;
  int ppid = -1;
  rest >> state >> ppid;
  return ppid;
}

std::string PidNamespace(pid_t pid) {
  char buf[64];
  std::string link = "/proc/" + std::to_string(pid) + "/ns/pid";
  ssize_t n = readlink(link.c_str(), buf, sizeof(buf));
  return n > 0 ? std::string(buf, n) : "";
}

std::vector<pid_t> AllPids() {
  std::vector<pid_t> pids;
  DIR* d = opendir("/proc");
  while (dirent* e = d ? readdir(d) : nullptr) {
    char* end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end == '\0' && pid > 0) pids.push_back(pid);
  }
  if (d) closedir(d);
  return pids;
}

// The host processes in the pid namespace of runsc's child (the sandbox).
std::set<pid_t> SandboxProcesses(pid_t runsc) {
  std::string ns;
  for (pid_t p : AllPids())
    if (ParentOf(p) == runsc) ns = PidNamespace(p);
  std::set<pid_t> out;
  if (ns.empty() || ns == PidNamespace(getpid())) return out;
  for (pid_t p : AllPids())
    if (PidNamespace(p) == ns) out.insert(p);
  return out;
}

// Runs `runsc do FLAGS -- ARGV` until it prints "holding", looks at the
// sandbox's host processes, then sends a line to let it finish.
struct HeldRun {
  int exit_code = -1;
  std::string out;
  std::set<pid_t> host_processes;  // seen while holding
};

HeldRun RunHeld(const std::vector<std::string>& flags,
                const std::vector<std::string>& argv) {
  HeldRun r;
  std::vector<std::string> args = {RunscPath(), "do"};
  args.insert(args.end(), flags.begin(), flags.end());
  args.push_back("--");
  args.insert(args.end(), argv.begin(), argv.end());
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return r;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawn(&pid, cargs[0], &fa, nullptr, cargs.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  if (rc != 0) return r;
  char buf[4096];
  ssize_t n;
  bool sent = false;
  while ((n = read(out[0], buf, sizeof(buf))) > 0 ||
         (n < 0 && errno == EINTR)) {
    if (n > 0) r.out.append(buf, n);
    if (!sent && r.out.find("holding\n") != std::string::npos) {
      r.host_processes = SandboxProcesses(pid);
      (void)!write(in[1], "go\n", 3);
      sent = true;
    }
  }
  close(in[1]);
  close(out[0]);
  int status;
  if (waitpid(pid, &status, 0) == pid && WIFEXITED(status))
    r.exit_code = WEXITSTATUS(status);
  return r;
}

TEST(LimitsTest, RootForkBombStopsAtThePidsLimit) {
  HeldRun r = RunHeld({"--pids-limit=64"}, {FORKBOMB_PATH, "64"});
  EXPECT_EQ(r.exit_code, 42) << r.out;
  // 63 processes besides the first: the limit counts every task.
  EXPECT_EQ(r.out, "fork: EAGAIN\nholding\nprocesses: 63\nrecovered\n");
  // While the bomb held, the sandbox had its stubs on the host...
  EXPECT_GE(r.host_processes.size(), 64u);
  // ... and none of them outlives runsc do.
  for (pid_t p : r.host_processes)
    EXPECT_NE(kill(p, 0), 0) << "host process " << p << " is left behind";
}

TEST(LimitsTest, UserForkBombStopsAtRlimitNproc) {
  // RLIMIT_NPROC 20 for a fresh uid: 19 processes besides the first,
  // well below the sandbox's pids limit.
  auto sandboxed = RunSandboxed({FORKBOMB_PATH, "20", kBombUid},
                                {"--pids-limit=64"}, "go\n");
  EXPECT_EQ(sandboxed.exit_code, 42) << sandboxed.err;
  EXPECT_EQ(sandboxed.out, "fork: EAGAIN\nholding\nprocesses: 19\nrecovered\n");
  if (getuid() != 0) GTEST_SKIP() << "the native run needs root";
  auto native = RunCommand({FORKBOMB_PATH, "20", kBombUid}, "go\n");
  EXPECT_EQ(native.exit_code, 42) << native.err;
  EXPECT_EQ(native.out, sandboxed.out);
}

TEST(LimitsTest, SignalStormOnABusyProcess) {
  // 3 processes x 2 threads x 2000 signals of each kind.
  const std::vector<std::string> argv = {SIGSTORM_PATH, "3", "2", "2000"};
  const std::string expected = "checksum 199999990000000\nsignals ok\n";
  auto native = RunCommand(argv);
  EXPECT_EQ(native.exit_code, 0) << native.out;
  EXPECT_EQ(native.out, expected);
  auto sandboxed = RunSandboxed(argv);
  EXPECT_EQ(sandboxed.exit_code, 0) << sandboxed.out << sandboxed.err;
  EXPECT_EQ(sandboxed.out, expected);
}

TEST(LimitsTest, RandomSyscallsDoNotHurtTheSentry) {
  // 150 children, each making up to 1000 random syscalls with random,
  // often bad, arguments (fuzz_syscalls.c; fixed seeds, so a failure
  // repeats). The sentry must serve them all and init must finish.
  auto r = RunSandboxed({FUZZ_PATH, "1", "150", "1000"});
  EXPECT_EQ(r.exit_code, 0) << r.err.substr(0, 2000);
  EXPECT_THAT(r.out, HasSubstr("fuzz: 150 rounds\n"));
  // Natively it refuses to run (it is not init there).
  EXPECT_EQ(RunCommand({FUZZ_PATH, "1", "1", "1"}).exit_code, 2);
}

TEST(LimitsTest, PidsLimitFlagNeedsAPositiveNumber) {
  for (const char* bad : {"--pids-limit=0", "--pids-limit=-3",
                          "--pids-limit=12x", "--pids-limit="}) {
    auto r = RunSandboxed({"/bin/true"}, {bad});
    EXPECT_EQ(r.exit_code, 125) << bad;
    EXPECT_THAT(r.err, HasSubstr("--pids-limit")) << bad;
  }
}

}  // namespace
