// runsc as an OCI runtime, driven as runc's callers drive it, on the
// busybox bundle of oci_fixture.h (its own --root per test; nothing may
// remain after a test). The sandbox process named by the pid file is
// reparented to this test, a child subreaper, and its exit status is read
// with waitpid.
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

#include "tests/integration/oci_fixture.h"

namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
using testing_util::RunscPath;

using oci_fixture::LiveChildren;
using oci_fixture::ReadFile;
using Result = oci_fixture::RunscResult;

class OciTest : public oci_fixture::OciFixture {
 protected:
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
};

TEST_F(OciTest, CreateStartStateDelete) {
  WriteConfig(Config({"sh", "-c", "exit 3"}));
  pid_t pid = Create("c1");
  ASSERT_GT(pid, 0);
  json s = State("c1");
  EXPECT_EQ(s["status"], "created");
  EXPECT_EQ(s["pid"], pid);
  EXPECT_EQ(s["id"], "c1");
  EXPECT_EQ(s["bundle"], bundle_);
  EXPECT_EQ(s["ociVersion"], "1.0.2");
  EXPECT_EQ(s["annotations"]["test"], "yes");
  auto r = Runsc({"start", "c1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(WaitExit(pid), 3);
  s = State("c1");
  EXPECT_EQ(s["status"], "stopped");
  EXPECT_EQ(s["pid"], 0);
  // A stopped container can be neither started nor signalled.
  r = Runsc({"start", "c1"});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("stopped"));
  r = Runsc({"kill", "c1", "KILL"});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("container not running"));
  r = Runsc({"delete", "c1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(RootEmpty());
}

TEST_F(OciTest, ListShowsContainers) {
  WriteConfig(Config({"true"}));
  pid_t pid = Create("listed");
  auto r = Runsc({"list", "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json l = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(l.is_array());
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0]["id"], "listed");
  EXPECT_EQ(l[0]["status"], "created");
  r = Runsc({"list", "-q"});
  EXPECT_EQ(r.out, "listed\n");
  EXPECT_EQ(Runsc({"delete", "listed"}).code, 0);  // killed: never started
  EXPECT_EQ(WaitExit(pid), 128 + SIGKILL);
}

TEST_F(OciTest, RunReturnsTheExitCode) {
  WriteConfig(Config({"sh", "-c", "echo hello; exit 7"}));
  auto r = Runsc({"run", "--bundle", bundle_, "r1"});
  EXPECT_EQ(r.code, 7) << r.err;
  EXPECT_EQ(r.out, "hello\n");
  EXPECT_TRUE(RootEmpty());
}

TEST_F(OciTest, CommandFoundThroughPathInTheRootfs) {
  // echo is /bin/echo in the rootfs, found through process.env's PATH.
  WriteConfig(Config({"echo", "found"}));
  auto r = Runsc({"run", "--bundle", bundle_, "p1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "found\n");
  WriteConfig(Config({"no-such-program"}));
  r = Runsc({"run", "--bundle", bundle_, "p2"});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("no-such-program"));
}

TEST_F(OciTest, KillByNameAndNumber) {
  WriteConfig(Config({"sleep", "1000"}));
  struct Case {
    const char* signal;
    int status;
  } cases[] = {{"KILL", 128 + SIGKILL},
               {"15", 128 + SIGTERM},
               {"SIGKILL", 128 + SIGKILL}};
  for (const Case& c : cases) {
    pid_t pid = Create("k");
    ASSERT_EQ(Runsc({"start", "k"}).code, 0);
    EXPECT_EQ(State("k")["status"], "running");
    auto r = Runsc({"kill", "k", c.signal});
    EXPECT_EQ(r.code, 0) << c.signal << ": " << r.err;
    EXPECT_EQ(WaitExit(pid), c.status) << c.signal;
    EXPECT_EQ(State("k")["status"], "stopped");
    EXPECT_EQ(Runsc({"delete", "k"}).code, 0);
  }
  pid_t pid = Create("k");
  ASSERT_EQ(Runsc({"start", "k"}).code, 0);
  auto r = Runsc({"kill", "--all", "k", "9"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(WaitExit(pid), 128 + SIGKILL);
  r = Runsc({"kill", "k", "NOSUCHSIG"});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("unknown signal"));
  EXPECT_EQ(Runsc({"delete", "k"}).code, 0);
}

TEST_F(OciTest, DuplicateIdFailsAndChangesNothing) {
  WriteConfig(Config({"true"}));
  pid_t pid = Create("dup");
  auto r = Runsc({"create", "--bundle", bundle_, "dup"});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("container with id exists: dup"));
  json s = State("dup");
  EXPECT_EQ(s["status"], "created");
  EXPECT_EQ(s["pid"], pid);
  ASSERT_EQ(Runsc({"start", "dup"}).code, 0);
  EXPECT_EQ(WaitExit(pid), 0);
  EXPECT_EQ(Runsc({"delete", "dup"}).code, 0);
}

TEST_F(OciTest, UnknownIdDoesNotExist) {
  const std::string log = dir_ + "/log.json";
  for (std::vector<std::string> verb :
       {std::vector<std::string>{"state", "nope"},
        {"start", "nope"},
        {"kill", "nope", "9"},
        {"delete", "nope"}}) {
    auto r = Runsc(verb, {"--log", log, "--log-format", "json"});
    EXPECT_NE(r.code, 0) << verb[0];
    EXPECT_THAT(r.err, HasSubstr("does not exist")) << verb[0];
  }
  // The shims read the last "level":"error" JSON line of --log.
  std::istringstream lines(ReadFile(log));
  int n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    json j = json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_EQ(j["level"], "error");
    EXPECT_THAT(j["msg"].get<std::string>(), HasSubstr("does not exist"));
    EXPECT_TRUE(j["time"].is_string());
  }
  EXPECT_EQ(n, 4);
}

TEST_F(OciTest, BadIds) {
  WriteConfig(Config({"true"}));
  for (const std::string& id :
       {std::string("a/b"), std::string(".."), std::string(200, 'x')}) {
    auto r = Runsc({"create", "--bundle", bundle_, id});
    EXPECT_NE(r.code, 0) << id;
    EXPECT_THAT(r.err, HasSubstr("container id")) << id;
  }
}

TEST_F(OciTest, BadConfigsFailClearlyAndLeaveNothing) {
  struct Case {
    std::string config;
    std::string message;
  };
  json missing_args = Config({"true"});
  missing_args["process"].erase("args");
  json bad_type = Config({"true"});
  bad_type["process"]["env"] = "PATH=/bin";
  json relative_root = Config({"true"});
  relative_root["root"]["path"] = "no-such-rootfs";
  json bad_mount = Config({"true"});
  bad_mount["mounts"][0]["type"] = "nfs4";
  const Case cases[] = {
      {"{\"ociVersion\": ", "malformed JSON"},
      {missing_args.dump(), "process.args must name the program"},
      {bad_type.dump(), "process.env must be an array of strings"},
      {relative_root.dump(), "no-such-rootfs\": no such directory"},
      {bad_mount.dump(), "\"nfs4\" is not a mount type"},
  };
  for (const Case& c : cases) {
    WriteConfigText(c.config);
    auto r = Runsc({"create", "--bundle", bundle_, "bad"});
    EXPECT_EQ(r.code, 1) << c.message;
    EXPECT_THAT(r.err, HasSubstr(c.message));
    // One line, and no container.
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(RootEmpty()) << c.message;
  }
}

TEST_F(OciTest, DeleteForceOfCreatedAndRunning) {
  WriteConfig(Config({"sleep", "1000"}));
  pid_t created = Create("f1");
  auto r = Runsc({"delete", "--force", "f1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(WaitExit(created), 128 + SIGKILL);
  EXPECT_TRUE(RootEmpty());

  pid_t running = Create("f2");
  ASSERT_EQ(Runsc({"start", "f2"}).code, 0);
  r = Runsc({"delete", "f2"});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("not stopped"));
  r = Runsc({"delete", "-f", "f2"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(WaitExit(running), 128 + SIGKILL);
  EXPECT_TRUE(RootEmpty());
}

TEST_F(OciTest, SpecFeaturesVersionAndUnsupportedVerbs) {
  auto r = Runsc({"spec", "--bundle", dir_});
  ASSERT_EQ(r.code, 0) << r.err;
  json spec = json::parse(ReadFile(dir_ + "/config.json"), nullptr, false);
  EXPECT_EQ(spec["process"]["args"][0], "sh");
  EXPECT_NE(Runsc({"spec", "--bundle", dir_}).code, 0);  // kept, not replaced
  unlink((dir_ + "/config.json").c_str());
  r = Runsc({"features"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out, nullptr, false)["ociVersionMax"], "1.0.2");
  r = Runsc({"--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("runsc version"));
  EXPECT_THAT(r.out, HasSubstr("spec: 1.0.2"));
  for (const char* verb : {"checkpoint", "restore"}) {
    r = Runsc({verb, "x"});
    EXPECT_EQ(r.code, 1);
    EXPECT_THAT(r.err, HasSubstr("not supported"));
  }
  r = Runsc({"kill", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("--all"));
}

TEST_F(OciTest, RuncFlagSyntax) {
  // -bundle (one dash, as Go's flag package allows) and --bundle=B.
  WriteConfig(Config({"sh", "-c", "exit 5"}));
  auto r = Runsc({"run", "-bundle", bundle_, "s1"});
  EXPECT_EQ(r.code, 5) << r.err;
  r = Runsc({"run", "--bundle=" + bundle_, "s2"},
            {"--systemd-cgroup", "--log-format=json"});
  EXPECT_EQ(r.code, 5) << r.err;
  r = Runsc({"--platform", "ptrace", "run", "-b", bundle_, "s3"});
  EXPECT_EQ(r.code, 5) << r.err;
}

}  // namespace
