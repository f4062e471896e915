// The fixture of oci_config_test.cc (TODO: share oci_fixture.h, which
// grew beside it in another branch): a bundle whose rootfs is busybox-static in a temp dir, its own --root,
// and runsc driven as runc's callers drive it. This process is a child
// subreaper, as the containerd shim is, so the sandbox process named by
// the pid file is reparented to it. After each test nothing may remain:
// no state dir, no process, no mount.
#ifndef TESTS_INTEGRATION_OCI_CONFIG_FIXTURE_H_
#define TESTS_INTEGRATION_OCI_CONFIG_FIXTURE_H_

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
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

namespace oci_fixture {

inline std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  return std::string((std::istreambuf_iterator<char>(f)), {});
}

struct RunscResult {
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

class OciFixture : public ::testing::Test {
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
    for (const std::string& d :
         {bundle_, rootfs_, rootfs_ + "/bin", rootfs_ + "/proc",
          rootfs_ + "/dev", rootfs_ + "/tmp", rootfs_ + "/etc"})
      ASSERT_EQ(mkdir(d.c_str(), 0755), 0) << d;
    std::filesystem::copy_file("/bin/busybox", rootfs_ + "/bin/busybox");
    for (const char* name :
         {"sh", "sleep", "echo", "true", "cat", "id", "stat", "grep", "ls",
          "mkdir", "touch", "uname", "hostname"})
      ASSERT_EQ(symlink("busybox", (rootfs_ + "/bin/" + name).c_str()), 0);
  }

  void TearDown() override {
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

  // runsc --root R GLOBALS ARGS, stdio in files (a created sandbox keeps
  // the stdio it was given, so pipes would stay open until it exits).
  RunscResult Runsc(std::vector<std::string> args,
                    std::vector<std::string> globals = {}) {
    std::vector<std::string> argv = {testing_util::RunscPath(), "--root",
                                     root_};
    argv.insert(argv.end(), globals.begin(), globals.end());
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string out = dir_ + "/out", err = dir_ + "/err";
    pid_t pid = fork();
    if (pid == 0) {
      int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int n = open("/dev/null", O_RDONLY);
      dup2(n, 0);
      dup2(o, 1);
      dup2(e, 2);
      std::vector<char*> a;
      for (auto& s : argv) a.push_back(s.data());
      a.push_back(nullptr);
      execv(a[0], a.data());
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    RunscResult r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = ReadFile(out);
    r.err = ReadFile(err);
    return r;
  }

  nlohmann::json Config(const std::vector<std::string>& args) {
    return {{"ociVersion", "1.0.2"},
            {"process",
             {{"args", args},
              {"env", {"PATH=/bin"}},
              {"cwd", "/"},
              {"user", {{"uid", 0}, {"gid", 0}}}}},
            {"root", {{"path", "rootfs"}, {"readonly", false}}},
            {"hostname", "oci"},
            {"mounts",
             {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}}}}};
  }
  void WriteConfig(const nlohmann::json& j) {
    std::ofstream(bundle_ + "/config.json") << j.dump();
  }

  // runsc run of `j`; the container is gone afterwards.
  RunscResult Run(const nlohmann::json& j, const std::string& id = "c") {
    WriteConfig(j);
    return Runsc({"run", "--bundle", bundle_, id});
  }

  std::string mounts_before_, dir_, root_, bundle_, rootfs_;
};

}  // namespace oci_fixture

#endif  // TESTS_INTEGRATION_OCI_CONFIG_FIXTURE_H_
