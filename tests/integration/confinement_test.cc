// A running sandbox seen from the host: the sentry holds an empty root, no
// host file but what the gofer donated, and a seccomp filter; the gofer is
// pivoted into the tree it serves and filtered too. Needs root (pivot_root).
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/util/run_command.h"

namespace {

using ::testing::HasSubstr;
using testing_util::RunscPath;

std::string ReadText(const std::string& path) {
  std::ifstream f(path);
  return std::string((std::istreambuf_iterator<char>(f)), {});
}

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (!d) return names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  return names;
}

// `runsc do -- sh -c 'echo ready; read x'`, held at the read.
class RunningSandbox {
 public:
  explicit RunningSandbox(const std::string& script = "echo ready; read x") {
    int in[2], out[2], err[2];
    EXPECT_EQ(pipe2(in, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(err, O_CLOEXEC), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      dup2(err[1], 2);
      const std::string runsc = RunscPath();
      execl(runsc.c_str(), runsc.c_str(), "do", "--", "/bin/sh", "-c",
            script.c_str(), nullptr);
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    stderr_ = err[0];
    char buf[6] = {};
    ready_ = read(stdout_, buf, 6) == 6 && std::string(buf, 6) == "ready\n";
  }
  ~RunningSandbox() {
    if (stdin_ >= 0) close(stdin_);
    close(stdout_);
    close(stderr_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool ready() const { return ready_; }
  // The runsc process's child whose command line has `verb` (boot, gofer).
  pid_t Child(const std::string& verb) const {
    std::istringstream kids(ReadText("/proc/" + std::to_string(pid_) +
                                     "/task/" + std::to_string(pid_) +
                                     "/children"));
    for (pid_t kid; kids >> kid;) {
      std::string cmdline = ReadText("/proc/" + std::to_string(kid) + "/cmdline");
      std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
      if (cmdline.find(" " + verb + " ") != std::string::npos) return kid;
    }
    return -1;
  }
  // What runsc and the app wrote to stderr, once runsc has exited.
  std::string Stderr() const {
    std::string all;
    char buf[4096];
    for (ssize_t n; (n = read(stderr_, buf, sizeof buf)) > 0;) all.append(buf, n);
    return all;
  }
  // Lets the app finish; returns runsc's exit status.
  int Finish() {
    EXPECT_EQ(write(stdin_, "\n", 1), 1);
    close(stdin_);
    stdin_ = -1;
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1, stderr_ = -1;
  bool ready_ = false;
};

std::string StatusField(pid_t pid, const std::string& field) {
  std::istringstream s(ReadText("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(s, line);)
    if (line.starts_with(field + ":")) {
      std::string v = line.substr(field.size() + 1);
      return v.substr(v.find_first_not_of(" \t"));
    }
  return "";
}

class ConfinementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (pivot_root)";
  }
};

TEST_F(ConfinementTest, SentryHasAnEmptyRootAndAFilter) {
  RunningSandbox sb;
  ASSERT_TRUE(sb.ready());
  const pid_t sentry = sb.Child("boot");
  ASSERT_GT(sentry, 0);
  const std::string proc = "/proc/" + std::to_string(sentry);
  EXPECT_THAT(List(proc + "/root"), ::testing::IsEmpty());
  EXPECT_EQ(StatusField(sentry, "Seccomp"), "2");
  EXPECT_EQ(StatusField(sentry, "NoNewPrivs"), "1");
  EXPECT_EQ(sb.Finish(), 0);
}

TEST_F(ConfinementTest, SentryHoldsNoHostDirectoryOrWritableFile) {
  RunningSandbox sb;
  ASSERT_TRUE(sb.ready());
  const pid_t sentry = sb.Child("boot");
  ASSERT_GT(sentry, 0);
  const std::string fds = "/proc/" + std::to_string(sentry) + "/fd/";
  int regular = 0;
  for (const std::string& fd : List(fds)) {
    struct stat st;
    if (stat((fds + fd).c_str(), &st) != 0) continue;  // closed meanwhile
    char target[4096] = {};
    (void)!readlink((fds + fd).c_str(), target, sizeof target - 1);
    // The gofer hands over directories only while the app lists one, and
    // the app here is blocked in read(2).
    EXPECT_FALSE(S_ISDIR(st.st_mode)) << fd << " -> " << target;
    if (!S_ISREG(st.st_mode)) continue;
    const std::string t = target;
    if (t.starts_with("/memfd:")) continue;  // the memory file
    ++regular;
    // Lower-layer files the gofer donated, opened read-only.
    const std::string info =
        ReadText("/proc/" + std::to_string(sentry) + "/fdinfo/" + fd);
    const int flags = std::stoi(info.substr(info.find("flags:") + 6), nullptr, 8);
    EXPECT_EQ(flags & O_ACCMODE, O_RDONLY) << fd << " -> " << t;
  }
  EXPECT_GT(regular, 0);  // /bin/sh at least, through the gofer
  EXPECT_EQ(sb.Finish(), 0);
}

TEST_F(ConfinementTest, GoferIsPivotedAndFiltered) {
  RunningSandbox sb;
  ASSERT_TRUE(sb.ready());
  const pid_t gofer = sb.Child("gofer");
  ASSERT_GT(gofer, 0);
  const std::string root = "/proc/" + std::to_string(gofer) + "/root";
  // The root filesystem itself, without the host's mounts below it.
  EXPECT_THAT(List(root), ::testing::Contains("etc"));
  EXPECT_THAT(List(root + "/proc"), ::testing::IsEmpty());
  EXPECT_EQ(StatusField(gofer, "Seccomp"), "2");
  EXPECT_EQ(StatusField(gofer, "NoNewPrivs"), "1");
  EXPECT_EQ(sb.Finish(), 0);
}

TEST_F(ConfinementTest, NothingIsLeftAfterTheSandbox) {
  pid_t sentry, gofer;
  {
    RunningSandbox sb;
    ASSERT_TRUE(sb.ready());
    sentry = sb.Child("boot");
    gofer = sb.Child("gofer");
    EXPECT_EQ(sb.Finish(), 0);
  }
  EXPECT_NE(kill(sentry, 0), 0);
  EXPECT_NE(kill(gofer, 0), 0);
}

TEST_F(ConfinementTest, AKilledGoferStopsTheSandboxWithAClearMessage) {
  // After the gofer is killed, the app reads a file it has never opened.
  RunningSandbox sb(
      "echo ready; read x; cat /usr/share/common-licenses/GPL-3 >/dev/null;"
      " echo status $?; sleep 100");
  ASSERT_TRUE(sb.ready());
  const pid_t sentry = sb.Child("boot");
  const pid_t gofer = sb.Child("gofer");
  ASSERT_GT(gofer, 0);
  ASSERT_EQ(kill(gofer, SIGKILL), 0);
  // No hang: the sandbox stops by itself (the test's timeout would catch
  // a hang), with runsc's own status.
  EXPECT_EQ(sb.Finish(), 125);
  EXPECT_THAT(sb.Stderr(), HasSubstr("the gofer is gone"));
  EXPECT_NE(kill(sentry, 0), 0);
}

}  // namespace
