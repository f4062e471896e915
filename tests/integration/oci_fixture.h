// The fixture of the OCI integration tests (oci_test.cc,
// oci_exec_test.cc, oci_config_test.cc): a bundle whose rootfs is busybox-static in a temp
// dir, each test with its own --root. The test process is a child
// subreaper, as the containerd shim is, so the sandbox process named by
// the pid file is reparented to it and its exit status is read with
// waitpid. After each test nothing may remain: no state dir, no process,
// no mount.
#ifndef TESTS_INTEGRATION_OCI_FIXTURE_H_
#define TESTS_INTEGRATION_OCI_FIXTURE_H_

#include <dirent.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/util/run_command.h"

namespace oci_test {


using ::testing::HasSubstr;
using json = nlohmann::json;
using testing_util::RunscPath;

inline std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  return std::string((std::istreambuf_iterator<char>(f)), {});
}

struct Result {
  int code = -1;
  std::string out, err;
};

// Processes whose parent is this test (zombies are reaped first).
inline int LiveChildren() {
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  int live = 0;
  DIR* d = opendir("/proc");
  while (dirent* e = readdir(d)) {
    std::string pid = e->d_name;
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string line = ReadFile("/proc/" + pid + "/stat");
    auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string state;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == getpid()) ++live;
  }
  closedir(d);
  return live;
}

class OciTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  }

  void SetUp() override {
    mounts_before_ = ReadFile("/proc/self/mountinfo");
    char tmpl[] = "/tmp/oci_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    root_ = dir_ + "/state";
    bundle_ = dir_ + "/bundle";
    rootfs_ = bundle_ + "/rootfs";
    const std::string& rootfs = rootfs_;
    for (const std::string& d :
         {bundle_, rootfs, rootfs + "/bin", rootfs + "/proc", rootfs + "/dev",
          rootfs + "/tmp", rootfs + "/etc"})
      ASSERT_EQ(mkdir(d.c_str(), 0755), 0) << d;
    std::filesystem::copy_file("/bin/busybox", rootfs + "/bin/busybox");
    for (const char* name : {"sh", "sleep", "echo", "true", "cat", "id", "stat", "grep",
                             "ls", "mkdir", "touch", "uname", "hostname"})
      ASSERT_EQ(symlink("busybox", (rootfs + "/bin/" + name).c_str()), 0);
  }

  void TearDown() override {
    // Whatever a test left: its containers deleted by force, then checks
    // that nothing remains.
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(root_, ec))
      Runsc({"delete", "--force", e.path().filename().string()});
    EXPECT_TRUE(RootEmpty()) << "state left under " << root_;
    EXPECT_EQ(LiveChildren(), 0) << "processes left behind";
    EXPECT_EQ(ReadFile("/proc/self/mountinfo"), mounts_before_);
    std::filesystem::remove_all(dir_);
  }

  bool RootEmpty() {
    std::error_code ec;
    return std::filesystem::is_empty(root_, ec) ||
           !std::filesystem::exists(root_);
  }

  // Starts runsc --root R GLOBALS ARGS with `in`, `out` and `err` as its
  // stdio (-1: /dev/null); returns its pid.
  pid_t Spawn(const std::vector<std::string>& args, int in, int out, int err,
              const std::vector<std::string>& globals = {}) {
    std::vector<std::string> argv = {RunscPath(), "--root", root_};
    argv.insert(argv.end(), globals.begin(), globals.end());
    argv.insert(argv.end(), args.begin(), args.end());
    pid_t pid = fork();
    if (pid == 0) {
      int n = open("/dev/null", O_RDWR);
      dup2(in >= 0 ? in : n, 0);
      dup2(out >= 0 ? out : n, 1);
      dup2(err >= 0 ? err : n, 2);
      std::vector<char*> a;
      for (auto& s : argv) a.push_back(s.data());
      a.push_back(nullptr);
      execv(a[0], a.data());
      _exit(127);
    }
    return pid;
  }

  // runsc --root R ARGS, stdio in files: a created sandbox keeps the
  // stdio it was given, so pipes would stay open until it exits.
  Result Runsc(std::vector<std::string> args,
               std::vector<std::string> globals = {}) {
    const std::string out = dir_ + "/out", err = dir_ + "/err";
    int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_t pid = Spawn(args, -1, o, e, globals);
    close(o);
    close(e);
    int status = 0;
    waitpid(pid, &status, 0);
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = ReadFile(out);
    r.err = ReadFile(err);
    return r;
  }

  json Config(const std::vector<std::string>& args) {
    return {
        {"ociVersion", "1.0.2"},
        {"process",
         {{"args", args},
          {"env", {"PATH=/bin"}},
          {"cwd", "/"},
          {"user", {{"uid", 0}, {"gid", 0}}}}},
        {"root", {{"path", "rootfs"}, {"readonly", true}}},
        {"hostname", "oci"},
        {"mounts",
         {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}}}},
        {"annotations", {{"test", "yes"}}}};
  }
  void WriteConfig(const json& j) { WriteConfigText(j.dump()); }
  void WriteConfigText(const std::string& text) {
    std::ofstream(bundle_ + "/config.json") << text;
  }

  // create with a pid file; returns the pid it names.
  pid_t Create(const std::string& id) {
    const std::string pid_file = dir_ + "/" + id + ".pid";
    auto r = Runsc({"create", "--bundle", bundle_, "--pid-file", pid_file, id});
    EXPECT_EQ(r.code, 0) << r.err;
    const std::string text = ReadFile(pid_file);
    EXPECT_EQ(text.find('\n'), std::string::npos) << "pid file has a newline";
    return text.empty() ? -1 : std::stoi(text);
  }

  json State(const std::string& id) {
    auto r = Runsc({"state", id});
    EXPECT_EQ(r.code, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  }

  // The status the sandbox process exited with (it is our child now).
  int WaitExit(pid_t pid) {
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  // runsc run of `j`; the container is gone afterwards.
  Result Run(const json& j, const std::string& id = "c") {
    WriteConfig(j);
    return Runsc({"run", "--bundle", bundle_, id});
  }

  std::string mounts_before_, dir_, root_, bundle_, rootfs_;
};

}  // namespace oci_test

#endif  // TESTS_INTEGRATION_OCI_FIXTURE_H_
