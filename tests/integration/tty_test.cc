// Terminals in the sandbox as programs use them: python's pty module
// running an interactive bash on a sandbox pseudo-terminal, and `runsc do
// -t` driven through a host pseudo-terminal (tty_driver.py: typed
// commands, window size, ^C, ^Z, exit status).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "tests/util/run_command.h"

namespace {

using ::testing::HasSubstr;
using testing_util::RunCommand;
using testing_util::RunSandboxed;
using testing_util::RunscPath;

TEST(TtyTest, PythonPtySpawnRunsAnInteractiveBash) {
  auto r = RunSandboxed(
      {"/usr/bin/python3", "-c",
       "import pty, sys\n"
       "sys.exit(pty.spawn(['/bin/bash', '--norc', '-i']) >> 8)\n"},
      {}, "echo $((6*7))-$(tty)\nexit 5\n");
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_THAT(r.out, HasSubstr("42-/dev/pts/0"));
}

TEST(TtyTest, PtysInsideTheSandbox) {
  // pty.fork: openpty, a child in its own session on the replica.
  auto r = RunSandboxed(
      {"/usr/bin/python3", "-c",
       "import os, pty, sys\n"
       "pid, fd = pty.fork()\n"
       "if pid == 0:\n"
       "    os.execv('/bin/sh', ['sh', '-c', 'tty; test -t 0 && echo is-a-tty'])\n"
       "out = b''\n"
       "while True:\n"
       "    try: d = os.read(fd, 1024)\n"
       "    except OSError: break\n"
       "    if not d: break\n"
       "    out += d\n"
       "os.waitpid(pid, 0)\n"
       "sys.stdout.write(out.decode())\n"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("/dev/pts/"));
  EXPECT_THAT(r.out, HasSubstr("is-a-tty"));
}

TEST(TtyTest, DevHasNoNetTun) {
  auto r = RunSandboxed({"/bin/sh", "-c", "test -e /dev/net/tun; echo $?"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1\n");
}

// script(1) waits on a signalfd and the pty with poll; -e returns the
// shell's status.
TEST(TtyTest, ScriptRunsAnInteractiveBash) {
  auto r = RunSandboxed({"/usr/bin/script", "-eqc", "bash --norc -i",
                         "/dev/null"},
                        {}, "echo $((6*7))\nexit 3\n");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.out, HasSubstr("42"));
}

TEST(TtyTest, RunscDoTtyThroughAHostTerminal) {
  auto r = RunCommand({"/usr/bin/python3", TTY_DRIVER_PATH, RunscPath()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("ok: ^Z"));
  EXPECT_THAT(r.out, HasSubstr("ok: exit after a stopped job"));
}

}  // namespace
