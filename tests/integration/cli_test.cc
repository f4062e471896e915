// runsc's command line: bad input gets one clear message and the right
// status, and nothing is left running.
#include <dirent.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <climits>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/util/run_command.h"

namespace {

using ::testing::HasSubstr;
using testing_util::RunCommand;
using testing_util::RunSandboxed;
using testing_util::RunscPath;

// This test process is a child subreaper, so anything a sandbox leaves
// running is reparented to it. Returns how many such processes are still
// alive after giving them a few seconds to go.
int LeftoverProcesses() {
  static bool subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1) == 0;
  if (!subreaper) return -1;
  for (int attempt = 0; attempt < 50; ++attempt) {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    int live = 0;
    DIR* d = opendir("/proc");
    while (dirent* e = readdir(d)) {
      std::string pid = e->d_name;
      if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream f("/proc/" + pid + "/stat");
      std::string line((std::istreambuf_iterator<char>(f)), {});
      // Field 4, after the ")" that ends the command name, is the ppid.
      auto close = line.rfind(')');
      if (close == std::string::npos) continue;
      std::istringstream rest(line.substr(close + 2));
      std::string state;
      int ppid = 0;
      rest >> state >> ppid;
      if (ppid == getpid()) ++live;
    }
    closedir(d);
    if (live == 0) return 0;
    usleep(100 * 1000);
  }
  return 1;
}

TEST(CliTest, MissingCommandIs127) {
  auto r = RunSandboxed({"/nonexistent"});
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent: no such file"));
  EXPECT_EQ(LeftoverProcesses(), 0);
}

TEST(CliTest, NonElfIsRefusedClearly) {
  auto r = RunSandboxed({"/etc/os-release"});
  EXPECT_EQ(r.exit_code, 126);
  EXPECT_THAT(r.err, HasSubstr("/etc/os-release"));
  EXPECT_EQ(LeftoverProcesses(), 0);
}

TEST(CliTest, ScriptsRunThroughTheirInterpreter) {
  // /usr/bin/ldd is a #!/bin/bash script on Debian.
  auto r = RunSandboxed({"/usr/bin/ldd", "--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("ldd"));
}


TEST(CliTest, DirectoryIsNotExecutable) {
  auto r = RunSandboxed({"/etc"});
  EXPECT_EQ(r.exit_code, 126);
  EXPECT_THAT(r.err, HasSubstr("/etc"));
}

TEST(CliTest, SuccessLeavesNothingBehind) {
  auto r = RunSandboxed({"/bin/busybox", "true"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LeftoverProcesses(), 0);
}

TEST(CliTest, CrashesReportTheSignalLikeAShell) {
  EXPECT_EQ(RunSandboxed({CRASH_PATH, "segv"}).exit_code, 128 + SIGSEGV);
  EXPECT_EQ(RunSandboxed({CRASH_PATH, "ud2"}).exit_code, 128 + SIGILL);
  EXPECT_EQ(RunSandboxed({CRASH_PATH, "int3"}).exit_code, 128 + SIGTRAP);
  EXPECT_EQ(LeftoverProcesses(), 0);
}

// Each mode ends the same way natively and sandboxed.
TEST(CliTest, SignalsEndTheProcessAsOnLinux) {
  const struct {
    const char* mode;
    int status;
  } kCases[] = {
      {"term", 128 + SIGTERM},
      {"abort", 128 + SIGABRT},
      {"ignored", 0},
      {"segv-blocked", 128 + SIGSEGV},
      {"segv-ignored", 128 + SIGSEGV},
      {"segv-in-handler", 128 + SIGSEGV},
      {"bad-stack", 128 + SIGSEGV},
      {"sigpipe", 128 + SIGPIPE},
      {"sigpipe-ignored", 0},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(RunCommand({CRASH_PATH, c.mode}).exit_code, c.status)
        << c.mode << " natively";
    EXPECT_EQ(RunSandboxed({CRASH_PATH, c.mode}).exit_code, c.status)
        << c.mode << " sandboxed";
  }
  EXPECT_EQ(LeftoverProcesses(), 0);
}

TEST(CliTest, UnknownFlagAndVerb) {
  auto r = RunCommand({RunscPath(), "do", "--bogus", "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_THAT(r.err, HasSubstr("unknown flag"));
  r = RunCommand({RunscPath(), "frobnicate"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_THAT(r.err, HasSubstr("unknown command"));
}

TEST(CliTest, NoCommand) {
  auto r = RunCommand({RunscPath(), "do"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_THAT(r.err, HasSubstr("usage"));
}

TEST(CliTest, UnknownPlatform) {
  auto r = RunSandboxed({"/bin/busybox", "true"}, {"--platform=kvm"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_THAT(r.err, HasSubstr("platform"));
}

TEST(CliTest, SystrapPlatformRuns) {
  auto r = RunSandboxed({"/bin/busybox", "sh", "-c", "echo $((6 * 7))"},
                        {"--platform=systrap"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "42\n");
}

TEST(CliTest, SyscallsTableLists) {
  auto r = RunCommand({RunscPath(), "syscalls"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("read"));
  EXPECT_THAT(r.out, HasSubstr("full"));
}

TEST(CliTest, DebugLogReceivesStrace) {
  char path[] = "/tmp/runsc-debug-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  auto r = RunSandboxed({"/bin/busybox", "true"},
                        {"--strace", std::string("--debug-log=") + path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::ifstream f(path);
  std::string log((std::istreambuf_iterator<char>(f)), {});
  unlink(path);
  EXPECT_THAT(log, HasSubstr("exit_group(0) = ?"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("exit_group")));
}

}  // namespace

namespace {

// The sandbox's /tmp is its own tmpfs, but a project under the host's
// /tmp (where CI may clone us) stays visible, read-only.
TEST(CliTest, WorkingDirectoryUnderTmpStaysVisible) {
  char dir[] = "/tmp/runsc-visible-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string marker = std::string(dir) + "/marker";
  { std::ofstream(marker) << "seen\n"; }
  char old_cwd[PATH_MAX];
  ASSERT_NE(getcwd(old_cwd, sizeof(old_cwd)), nullptr);
  ASSERT_EQ(chdir(dir), 0);  // runsc do runs from inside it
  auto r = RunSandboxed({"/bin/busybox", "sh", "-c",
                         "cat marker && ! echo x > marker && "
                         "echo w > /tmp/own && cat /tmp/own"});
  ASSERT_EQ(chdir(old_cwd), 0);
  unlink(marker.c_str());
  rmdir(dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "seen\nw\n");
}

}  // namespace

namespace {

std::string HostFile(const std::string& path) {
  std::ifstream f(path);
  if (!f) return "<missing>";
  return std::string((std::istreambuf_iterator<char>(f)), {});
}

// The root is an overlay: the sandbox writes where it likes, the host's
// files never change.
TEST(CliTest, RootTakesWritesAndHostStaysUnchanged) {
  const std::string name = "/etc/runsc-overlay-" + std::to_string(getpid());
  auto r = RunSandboxed({"/bin/sh", "-c", "echo x > " + name + "; cat " + name});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "x\n");
  EXPECT_NE(access(name.c_str(), F_OK), 0);
}

TEST(CliTest, SedEditsAFileInEtc) {
  const std::string before = HostFile("/etc/passwd");
  ASSERT_EQ(before.rfind("root:", 0), 0u);
  auto r = RunSandboxed({"/bin/sh", "-c",
                         "sed -i 's/^root:/ROOT:/' /etc/passwd && "
                         "head -c 5 /etc/passwd && "
                         "ls /etc | grep -c '^passwd$'"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ROOT:1\n");
  EXPECT_EQ(HostFile("/etc/passwd"), before);
}

TEST(CliTest, CommandsAreFoundThroughPath) {
  auto r = RunSandboxed({"sh", "-c", "exit 3"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  auto missing = RunSandboxed({"runsc-no-such-command"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_THAT(missing.err, HasSubstr("runsc-no-such-command"));
}

// --root-dir serves another tree as the overlay's lower layer.
TEST(CliTest, RootDirRunsABusyboxTree) {
  char dir[] = "/tmp/runsc-rootfs-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string root = dir;
  ASSERT_EQ(mkdir((root + "/bin").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((root + "/etc").c_str(), 0755), 0);
  {
    std::ifstream in("/bin/busybox", std::ios::binary);
    std::ofstream out(root + "/bin/busybox", std::ios::binary);
    out << in.rdbuf();
  }
  ASSERT_EQ(chmod((root + "/bin/busybox").c_str(), 0755), 0);
  ASSERT_EQ(symlink("busybox", (root + "/bin/sh").c_str()), 0);
  { std::ofstream(root + "/etc/hello") << "lower\n"; }
  auto r = RunSandboxed(
      {"sh", "-c",
       "cat /etc/hello; echo upper > /etc/hello; cat /etc/hello; "
       "busybox ls /; busybox rm /bin/busybox; busybox true; echo $?"},
      {"--root-dir=" + root});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "lower\nupper\nbin\netc\n127\n");
  EXPECT_EQ(HostFile(root + "/etc/hello"), "lower\n");
  EXPECT_EQ(access((root + "/bin/busybox").c_str(), X_OK), 0);
  unlink((root + "/etc/hello").c_str());
  unlink((root + "/bin/sh").c_str());
  unlink((root + "/bin/busybox").c_str());
  rmdir((root + "/etc").c_str());
  rmdir((root + "/bin").c_str());
  rmdir(dir);
}

TEST(CliTest, BadRootDirFailsBeforeAnythingStarts) {
  auto missing = RunSandboxed({"true"}, {"--root-dir=/nonexistent"});
  EXPECT_EQ(missing.exit_code, 125);
  EXPECT_EQ(missing.err,
            "runsc: --root-dir: \"/nonexistent\": No such file or directory\n");
  auto file = RunSandboxed({"true"}, {"--root-dir=/etc/passwd"});
  EXPECT_EQ(file.exit_code, 125);
  EXPECT_EQ(file.err, "runsc: --root-dir: \"/etc/passwd\" is not a directory\n");
  EXPECT_EQ(LeftoverProcesses(), 0);
}

}  // namespace
