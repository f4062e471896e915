// Static busybox under `runsc do`: the walking skeleton's real programs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/util/run_command.h"

namespace {

using ::testing::HasSubstr;
using testing_util::RunSandboxed;

constexpr char kBusybox[] = "/bin/busybox";

std::string ReadHostFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class BusyboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kBusybox, X_OK) != 0)
      GTEST_SKIP() << "busybox-static is not installed";
  }
};

TEST_F(BusyboxTest, Echo) {
  auto r = RunSandboxed({kBusybox, "echo", "hello", "sandbox"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello sandbox\n");
}

TEST_F(BusyboxTest, CatOsRelease) {
  auto r = RunSandboxed({kBusybox, "cat", "/etc/os-release"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, ReadHostFile("/etc/os-release"));
}

TEST_F(BusyboxTest, LsRoot) {
  auto r = RunSandboxed({kBusybox, "ls", "/"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("etc\n"));
  EXPECT_THAT(r.out, HasSubstr("usr\n"));
  // The sandbox's /proc and /dev are its own, and are listed.
  EXPECT_THAT(r.out, HasSubstr("proc\n"));
}

TEST_F(BusyboxTest, LsLongDev) {
  auto r = RunSandboxed({kBusybox, "ls", "-l", "/dev/null"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("crw-rw-rw-"));
}

TEST_F(BusyboxTest, ShellExitStatus) {
  auto r = RunSandboxed({kBusybox, "sh", "-c", "exit 3"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
}

TEST_F(BusyboxTest, StdinIsConnected) {
  auto r = RunSandboxed({kBusybox, "wc", "-c"}, {}, "twelve bytes");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("12"));
}

TEST_F(BusyboxTest, EnvironmentIsPassed) {
  setenv("RUNSC_TEST_MARKER", "marker-value", 1);
  auto r = RunSandboxed({kBusybox, "env"});
  unsetenv("RUNSC_TEST_MARKER");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("RUNSC_TEST_MARKER=marker-value"));
}

// The root is an overlay: the write succeeds inside and never reaches the
// host's tree.
TEST_F(BusyboxTest, WritesStayInTheOverlay) {
  auto r = RunSandboxed({kBusybox, "sh", "-c",
                         "touch /etc/runsc-must-not-exist && "
                         "ls /etc/runsc-must-not-exist"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("/etc/runsc-must-not-exist"));
  EXPECT_NE(access("/etc/runsc-must-not-exist", F_OK), 0);
}

TEST_F(BusyboxTest, StraceShowsSyscalls) {
  auto r = RunSandboxed({kBusybox, "cat", "/etc/hostname"}, {"--strace"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("\"/etc/hostname\""));
  EXPECT_THAT(r.err, HasSubstr("exit_group(0) = ?"));
}

}  // namespace
