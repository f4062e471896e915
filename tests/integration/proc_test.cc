// procps (ps, top, free, pgrep) and busybox ps inside the sandbox: they
// see the sandbox's processes through its /proc, and nothing of the host.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/util/run_command.h"

namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using testing_util::RunSandboxed;

void RequireProgram(const char* path) {
  if (access(path, X_OK) != 0) GTEST_SKIP() << path << " is not installed";
}

// A shell that starts `sleep 1000` in the background, waits (by looking at
// /proc, no sleep) until it has exec'd, runs `cmd`, then kills it.
std::vector<std::string> WithSleeper(const std::string& cmd) {
  return {"/bin/sh", "-c",
          "sleep 1000 & s=$!; "
          "until [ \"$(cat /proc/$s/comm 2>/dev/null)\" = sleep ]; do :; done; "
          "echo \"sleeper $s\"; " +
              cmd + "; st=$?; kill $s; wait $s; exit $st"};
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The pid printed by WithSleeper.
int SleeperPid(const std::string& out) {
  int pid = -1;
  for (const std::string& l : Lines(out))
    if (sscanf(l.c_str(), "sleeper %d", &pid) == 1) return pid;
  return pid;
}

void PsAuxShowsTheSandboxOnly(const std::vector<std::string>& flags) {
  auto r = RunSandboxed(WithSleeper("ps aux"), flags);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const int sleeper = SleeperPid(r.out);
  ASSERT_GT(sleeper, 1) << r.out;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_THAT(lines[1], ContainsRegex("^USER +PID +%CPU +%MEM +VSZ +RSS"));
  std::set<int> pids;
  for (size_t i = 2; i < lines.size(); ++i) {
    char user[64], cmd[256];
    int pid;
    ASSERT_EQ(sscanf(lines[i].c_str(), "%63s %d", user, &pid), 2) << lines[i];
    pids.insert(pid);
    (void)cmd;
  }
  // init (the shell), the sleeper and ps itself: and nothing else, least
  // of all this test's own host pid.
  EXPECT_EQ(pids.size(), 3u) << r.out;
  EXPECT_TRUE(pids.count(1)) << r.out;
  EXPECT_TRUE(pids.count(sleeper)) << r.out;
  EXPECT_FALSE(pids.count(getpid())) << r.out;
  EXPECT_THAT(r.out, ContainsRegex("\nroot +" + std::to_string(sleeper) +
                                   " .* sleep 1000\n"));
  EXPECT_THAT(r.out, ContainsRegex("\nroot +[0-9]+ .* ps aux\n"));
}

TEST(ProcToolsTest, PsAuxShowsTheSandboxOnly) {
  RequireProgram("/usr/bin/ps");
  PsAuxShowsTheSandboxOnly({"--platform=ptrace"});
}

TEST(ProcToolsTest, PsAuxShowsTheSandboxOnlyOnSystrap) {
  RequireProgram("/usr/bin/ps");
  PsAuxShowsTheSandboxOnly({"--platform=systrap"});
}

TEST(ProcToolsTest, PsWithFormatAndParents) {
  RequireProgram("/usr/bin/ps");
  auto r = RunSandboxed(WithSleeper("ps -eo pid,ppid,stat,comm"));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const int sleeper = SleeperPid(r.out);
  // The sleeper is the shell's child, sleeping.
  EXPECT_THAT(r.out, ContainsRegex("\n *" + std::to_string(sleeper) +
                                   " +1 +S +sleep\n"));
  EXPECT_THAT(r.out, ContainsRegex("\n +1 +0 +[RS]s? +sh\n"));
}

TEST(ProcToolsTest, TopBatch) {
  RequireProgram("/usr/bin/top");
  auto r = RunSandboxed(WithSleeper("top -bn1"));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const int sleeper = SleeperPid(r.out);
  EXPECT_THAT(r.out, ContainsRegex("\nTasks: +3 total,"));
  EXPECT_THAT(r.out, ContainsRegex("MiB Mem : +[0-9.]+ total"));
  EXPECT_THAT(r.out, ContainsRegex("\n +" + std::to_string(sleeper) +
                                   " root .* sleep\n"));
  EXPECT_THAT(r.out, ContainsRegex("\n +1 root .* sh\n"));
}

TEST(ProcToolsTest, FreeShowsTheSandboxsMemory) {
  RequireProgram("/usr/bin/free");
  auto r = RunSandboxed({"/bin/sh", "-c",
                         "free -k; grep MemTotal /proc/meminfo"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  long long total = -1, used = -1, free_kb = -1, meminfo = -2;
  for (const std::string& l : Lines(r.out)) {
    sscanf(l.c_str(), "Mem: %lld %lld %lld", &total, &used, &free_kb);
    sscanf(l.c_str(), "MemTotal: %lld kB", &meminfo);
  }
  EXPECT_GT(total, 0) << r.out;
  EXPECT_EQ(total, meminfo) << r.out;
  EXPECT_GT(used, 0) << r.out;  // the shell and free at least
  EXPECT_LE(used + free_kb, total) << r.out;
}

TEST(ProcToolsTest, Pgrep) {
  RequireProgram("/usr/bin/pgrep");
  auto r = RunSandboxed(WithSleeper("pgrep -x sleep; pgrep -x no-such-prog; "
                                    "echo status $?"));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const int sleeper = SleeperPid(r.out);
  EXPECT_THAT(r.out, HasSubstr("\n" + std::to_string(sleeper) + "\nstatus 1\n"));
}

TEST(ProcToolsTest, BusyboxPs) {
  RequireProgram("/bin/busybox");
  auto r = RunSandboxed(WithSleeper("busybox ps"));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const int sleeper = SleeperPid(r.out);
  EXPECT_THAT(r.out, ContainsRegex("\n +" + std::to_string(sleeper) +
                                   " root +[0-9:]* *sleep 1000\n"));
  EXPECT_THAT(r.out, ContainsRegex("\n +1 root "));
}

}  // namespace
