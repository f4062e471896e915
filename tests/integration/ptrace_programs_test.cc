// Tracers inside the sandbox: strace and gdb run under `runsc do` on each
// platform, tracing sandboxed programs through the sentry's ptrace(2).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "tests/util/run_command.h"

namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using testing_util::RunSandboxed;

class PtraceProgramsTest : public ::testing::TestWithParam<const char*> {
 protected:
  void Require(const char* path) {
    if (access(path, X_OK) != 0) GTEST_SKIP() << path << " is not installed";
  }
  std::vector<std::string> Flags() {
    return {std::string("--platform=") + GetParam()};
  }
};

TEST_P(PtraceProgramsTest, StraceFollowsForks) {
  Require("/usr/bin/strace");
  auto r = RunSandboxed({"/usr/bin/strace", "-f", "-e", "trace=write", "sh",
                         "-c", "echo hi; (echo there); true"},
                        Flags());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hi\nthere\n");
  // strace pads the result to a column: "write(...)    = 3".
  EXPECT_THAT(r.err, ContainsRegex("write\\(1, \"hi\\\\n\", 3\\) += 3"));
  // The subshell's write, from a child strace followed.
  EXPECT_THAT(r.err, ContainsRegex(
                         "\\[pid +[0-9]+\\] write\\(1, \"there\\\\n\", 6\\) += 6"));
  EXPECT_THAT(r.err, HasSubstr("+++ exited with 0 +++"));
}

TEST_P(PtraceProgramsTest, GdbBreakBacktracePrintNext) {
  Require("/usr/bin/gdb");
  // Breakpoints (int3 in the program's read-only text), next over a call
  // into a second breakpoint, a backtrace, finish, single steps.
  auto r = RunSandboxed({"/usr/bin/gdb", "-nx", "-batch", "-ex", "break main",
                         "-ex", "break add", "-ex", "run", "-ex", "print x",
                         "-ex", "next", "-ex", "bt", "-ex", "print a", "-ex",
                         "finish", "-ex", "next", "-ex", "print x", "-ex",
                         "continue", GDB_TARGET_PATH},
                        Flags());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("Breakpoint 1, main () at")) << r.err;
  EXPECT_THAT(r.out, HasSubstr("$1 = 42"));
  EXPECT_THAT(r.out, HasSubstr("Breakpoint 2, add (a=42, b=1) at"));
  EXPECT_THAT(r.out, HasSubstr("#0  add (a=42, b=1) at"));
  EXPECT_THAT(r.out, ContainsRegex("#1  0x[0-9a-f]+ in main \\(\\) at"));
  EXPECT_THAT(r.out, HasSubstr("$2 = 42"));
  EXPECT_THAT(r.out, HasSubstr("Value returned is $3 = 43"));
  EXPECT_THAT(r.out, HasSubstr("10\t  printf"));
  EXPECT_THAT(r.out, HasSubstr("$4 = 43"));
  EXPECT_THAT(r.out, HasSubstr("x is 43"));
  EXPECT_THAT(r.out, HasSubstr("exited normally"));
}

INSTANTIATE_TEST_SUITE_P(Platforms, PtraceProgramsTest,
                         ::testing::Values("ptrace", "systrap"));

}  // namespace
