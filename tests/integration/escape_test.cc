// Paths that try to leave the root: a rootfs (--root-dir) next to a host
// file holding a secret; nothing the app resolves may reach the secret or
// any host file outside the rootfs. Symlinks (absolute and relative), "..",
// /proc/self/root and fd magic links, hard links, and renames racing walks.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tests/util/run_command.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing_util::RunSandboxed;

constexpr char kSecret[] = "HOST-SECRET";

class EscapeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/runsc-escape-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    top_ = dir;
    // top/secret is on the host, beside the rootfs top/root.
    { std::ofstream(top_ + "/secret") << kSecret << "\n"; }
    root_ = top_ + "/root";
    for (const char* d : {"", "/bin", "/etc", "/data"})
      ASSERT_EQ(mkdir((root_ + d).c_str(), 0755), 0);
    {
      std::ifstream in("/bin/busybox", std::ios::binary);
      std::ofstream out(root_ + "/bin/busybox", std::ios::binary);
      out << in.rdbuf();
    }
    ASSERT_EQ(chmod((root_ + "/bin/busybox").c_str(), 0755), 0);
    ASSERT_EQ(symlink("busybox", (root_ + "/bin/sh").c_str()), 0);
    { std::ofstream(root_ + "/etc/marker") << "inside\n"; }
    { std::ofstream(root_ + "/secret") << "inside-secret\n"; }
    // Links that would leave the rootfs if the host resolved them.
    Link("/etc", "/etc_abs");
    Link("../secret", "/rel_secret");
    Link("../../../../../../../../secret", "/deep_secret");
    Link(top_ + "/secret", "/host_path_secret");
    Link("..", "/data/up");
    Link("/proc/self/root/../..", "/proc_up");
  }
  void TearDown() override {
    std::string cmd = "rm -rf " + top_;
    ASSERT_EQ(system(cmd.c_str()), 0);
  }
  void Link(const std::string& target, const std::string& name) {
    ASSERT_EQ(symlink(target.c_str(), (root_ + name).c_str()), 0) << name;
  }
  // Runs a busybox shell script with the rootfs as "/".
  testing_util::CommandResult Sh(const std::string& script) {
    return RunSandboxed({"/bin/sh", "-c", script}, {"--root-dir=" + root_});
  }

  std::string top_, root_;
};

TEST_F(EscapeTest, AbsoluteSymlinkToEtcStaysInTheRootfs) {
  auto r = Sh("cat /etc_abs/marker");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "inside\n");
}

TEST_F(EscapeTest, DotDotNeverLeavesTheRoot) {
  auto r = Sh(
      "cat /../../../secret /../secret /data/../../secret /data/up/data/up/secret "
      "/rel_secret /deep_secret /proc_up/secret");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "inside-secret\ninside-secret\ninside-secret\n"
                       "inside-secret\ninside-secret\ninside-secret\n"
                       "inside-secret\n");
}

TEST_F(EscapeTest, HostPathsDoNotExistInside) {
  // The host path of the secret names nothing in the sandbox (its /tmp is
  // the sandbox's own tmpfs).
  auto r = Sh("cat /host_path_secret; cat " + top_ + "/secret; echo done");
  EXPECT_THAT(r.out, Not(HasSubstr(kSecret)));
  EXPECT_THAT(r.out, HasSubstr("done"));
}

TEST_F(EscapeTest, MagicLinksStayInTheSandbox) {
  auto r = Sh(
      "cd /data; exec 3</etc; "
      "cat /proc/self/root/secret /proc/self/cwd/../secret "
      "/proc/self/fd/3/../secret /proc/self/root/../../../secret; "
      "ls /proc/self/root/ | busybox tr '\\n' ' '");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr(kSecret)));
  EXPECT_THAT(r.out, HasSubstr("inside-secret\ninside-secret\ninside-secret\n"
                               "inside-secret\n"));
  // The rootfs's own entries, not the host's root.
  EXPECT_THAT(r.out, HasSubstr("bin data deep_secret etc etc_abs"));
  EXPECT_THAT(r.out, Not(HasSubstr("usr")));
}

TEST_F(EscapeTest, HardLinksCannotReachOutside) {
  // A hard link is made in the overlay's upper layer, of a file already in
  // the sandbox; there is no name of a host file to link to.
  auto r = Sh(
      "ln /secret /data/l && cat /data/l; ln /etc_abs/marker /etc/m2 && "
      "cat /etc/m2; ln " + top_ + "/secret /x; echo rc=$?");
  EXPECT_THAT(r.out, Not(HasSubstr(kSecret)));
  EXPECT_THAT(r.out, HasSubstr("inside-secret\ninside\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("rc=0")));
}

TEST_F(EscapeTest, RenamesRacingWalksStayInside) {
  // One process swaps a directory and a symlink to ".." back and forth
  // while another walks through the name and up: whatever it sees, it
  // stays in the rootfs.
  auto r = Sh(
      "mkdir -p /data/d/e; "
      "(i=0; while [ $i -lt 300 ]; do "
      "  busybox mv /data/d /data/tmp; busybox ln -s ../../.. /data/d; "
      "  busybox rm /data/d; busybox mv /data/tmp /data/d; i=$((i+1)); "
      "done) & "
      "i=0; while [ $i -lt 300 ]; do "
      "  cat /data/d/../../../../secret /data/d/e/../../../secret "
      "2>/dev/null; i=$((i+1)); done; wait; echo finished");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr(kSecret)));
  EXPECT_THAT(r.out, HasSubstr("finished"));
  EXPECT_THAT(r.out, HasSubstr("inside-secret"));
}

TEST_F(EscapeTest, TheHostRootfsIsUnchanged) {
  auto r = Sh("echo changed > /etc/marker; rm /secret; echo new > /new");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::ifstream marker(root_ + "/etc/marker");
  std::string line;
  std::getline(marker, line);
  EXPECT_EQ(line, "inside");
  EXPECT_EQ(access((root_ + "/secret").c_str(), F_OK), 0);
  EXPECT_NE(access((root_ + "/new").c_str(), F_OK), 0);
}

}  // namespace
