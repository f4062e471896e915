// config.json honoured by runsc create/run: the first process's
// credentials, limits and environment, the UTS names, the root's and the
// mounts' read-only flags, masked and read-only paths, sysctl, hooks,
// and `runsc install`. Each runs a real busybox bundle (oci_fixture.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "tests/integration/oci_fixture.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;
using oci_test::ReadFile;

// The bundles here have a writable root unless a test says otherwise.
class OciConfigTest : public oci_test::OciTest {
 protected:
  json Config(const std::vector<std::string>& args) {
    json j = OciTest::Config(args);
    j["root"]["readonly"] = false;
    return j;
  }
};

// The lines of /proc/self/status the test looks at, as the app sees them.
constexpr char kStatus[] =
    "grep -E '^(Uid|Gid|Groups|Umask|CapInh|CapPrm|CapEff|CapBnd|CapAmb|"
    "NoNewPrivs):' /proc/self/status";

TEST_F(OciConfigTest, UserGroupsUmaskAndNoNewPrivileges) {
  json j = Config({"sh", "-c", std::string(kStatus) + "; umask"});
  j["process"]["user"] = {
      {"uid", 1000}, {"gid", 1001}, {"additionalGids", {10, 20}},
      {"umask", 027}};
  j["process"]["noNewPrivileges"] = true;
  auto r = Run(j);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Uid:\t1000\t1000\t1000\t1000\n"));
  EXPECT_THAT(r.out, HasSubstr("Gid:\t1001\t1001\t1001\t1001\n"));
  EXPECT_THAT(r.out, HasSubstr("Groups:\t10 20"));
  EXPECT_THAT(r.out, HasSubstr("Umask:\t0027\n"));
  EXPECT_THAT(r.out, HasSubstr("NoNewPrivs:\t1\n"));
  // Not root and no ambient set: no capabilities after the exec.
  EXPECT_THAT(r.out, HasSubstr("CapEff:\t0000000000000000\n"));

  j["process"].erase("noNewPrivileges");
  j["process"]["user"].erase("umask");
  r = Run(j);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("NoNewPrivs:\t0\n"));
  EXPECT_THAT(r.out, HasSubstr("Umask:\t0022\n"));
}

TEST_F(OciConfigTest, CapabilitiesOfRoot) {
  json j = Config({"sh", "-c", kStatus});
  // CAP_CHOWN is 0, CAP_KILL 5, CAP_NET_RAW 13: 0x2021.
  j["process"]["capabilities"] = {
      {"bounding", {"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"}},
      {"effective", {"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"}},
      {"permitted", {"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"}},
      {"inheritable", json::array()},
      {"ambient", json::array()}};
  auto r = Run(j);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("CapBnd:\t0000000000002021\n"));
  EXPECT_THAT(r.out, HasSubstr("CapPrm:\t0000000000002021\n"));
  EXPECT_THAT(r.out, HasSubstr("CapEff:\t0000000000002021\n"));
  EXPECT_THAT(r.out, HasSubstr("CapInh:\t0000000000000000\n"));
}

TEST_F(OciConfigTest, CapabilitiesAreEnforced) {
  // Root without CAP_SYS_ADMIN may not set the host name; with it, it may.
  json j = Config({"sh", "-c", "hostname renamed && hostname"});
  j["process"]["capabilities"] = {{"bounding", {"CAP_KILL"}},
                                  {"effective", {"CAP_KILL"}},
                                  {"permitted", {"CAP_KILL"}}};
  auto r = Run(j);
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("Operation not permitted"));
  EXPECT_EQ(r.out, "");
  j["process"]["capabilities"] = {{"bounding", {"CAP_SYS_ADMIN"}},
                                  {"effective", {"CAP_SYS_ADMIN"}},
                                  {"permitted", {"CAP_SYS_ADMIN"}}};
  r = Run(j);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "renamed\n");
}

TEST_F(OciConfigTest, AmbientCapabilitiesReachANonRootUser) {
  json j = Config({"sh", "-c", kStatus});
  j["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  j["process"]["capabilities"] = {{"bounding", {"CAP_KILL", "CAP_CHOWN"}},
                                  {"effective", {"CAP_KILL"}},
                                  {"permitted", {"CAP_KILL"}},
                                  {"inheritable", {"CAP_KILL"}},
                                  {"ambient", {"CAP_KILL"}}};
  auto r = Run(j);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("CapAmb:\t0000000000000020\n"));
  EXPECT_THAT(r.out, HasSubstr("CapEff:\t0000000000000020\n"));
  EXPECT_THAT(r.out, HasSubstr("CapBnd:\t0000000000000021\n"));
}

TEST_F(OciConfigTest, RlimitsCwdEnvHostnameDomainname) {
  ASSERT_EQ(mkdir((rootfs_ + "/work").c_str(), 0755), 0);
  json j = Config({"sh", "-c",
                   "ulimit -n; ulimit -Hn; pwd; echo $FOO; hostname; "
                   "cat /proc/sys/kernel/domainname"});
  j["process"]["rlimits"] = {
      {{"type", "RLIMIT_NOFILE"}, {"soft", 100}, {"hard", 200}}};
  j["process"]["cwd"] = "/work";
  j["process"]["env"] = {"PATH=/bin", "FOO=bar"};
  j["hostname"] = "box";
  j["domainname"] = "example.org";
  auto r = Run(j);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "100\n200\n/work\nbar\nbox\nexample.org\n");
}

TEST_F(OciConfigTest, UtsSysctlsAreKeptOthersWarn) {
  json j = Config({"sh", "-c", "hostname; cat /proc/sys/kernel/domainname"});
  j["linux"]["sysctl"] = {{"kernel.domainname", "from.sysctl"},
                          {"net.ipv4.ip_forward", "1"}};
  auto r = Run(j);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "oci\nfrom.sysctl\n");
  EXPECT_THAT(r.err, HasSubstr("net.ipv4.ip_forward: not kept"));
}

TEST_F(OciConfigTest, ReadonlyRoot) {
  json j = Config({"sh", "-c", "echo x > /etc/f && echo wrote"});
  auto r = Run(j);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "wrote\n");
  // The write went to the sandbox's overlay, never to the bundle.
  EXPECT_FALSE(std::filesystem::exists(rootfs_ + "/etc/f"));
  j["root"]["readonly"] = true;
  r = Run(j);
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("Read-only file system"));
  EXPECT_EQ(r.out, "");
}

TEST_F(OciConfigTest, TmpfsProcSysfsDevptsMounts) {
  json j = Config(
      {"sh", "-c",
       "stat -c %a /scratch; echo x > /scratch/a && cat /scratch/a; "
       "echo y > /ro/b || echo ro-refused; ls /deep/er/sys/devices >/dev/null "
       "&& echo sysfs; ls /p/self/status; "
       "grep -c -E ' /(scratch|ro|deep/er/sys|p|dev/pts) ' /proc/self/mountinfo"});
  j["root"]["readonly"] = true;  // the destinations are made before
  j["mounts"].push_back({{"destination", "/scratch"},
                         {"type", "tmpfs"},
                         {"source", "tmpfs"},
                         {"options", {"nosuid", "mode=711", "size=1m"}}});
  j["mounts"].push_back({{"destination", "/ro"},
                         {"type", "tmpfs"},
                         {"source", "tmpfs"},
                         {"options", {"ro", "rprivate"}}});
  j["mounts"].push_back({{"destination", "/deep/er/sys"},
                         {"type", "sysfs"},
                         {"source", "sysfs"},
                         {"options", {"ro", "nosuid"}}});
  j["mounts"].push_back(
      {{"destination", "/p"}, {"type", "proc"}, {"source", "proc"}});
  j["mounts"].push_back({{"destination", "/dev/pts"},
                         {"type", "devpts"},
                         {"source", "devpts"},
                         {"options", {"newinstance", "ptmxmode=0666"}}});
  // Ignored, with a note in the debug log: no such filesystem here, and
  // /dev stays the sandbox's own.
  j["mounts"].push_back(
      {{"destination", "/dev/mqueue"}, {"type", "mqueue"}, {"source", "mq"}});
  j["mounts"].push_back(
      {{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  auto r = Run(j);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "711\nx\nro-refused\nsysfs\n/p/self/status\n6\n");
  EXPECT_THAT(r.err, HasSubstr("Read-only file system"));
}

TEST_F(OciConfigTest, MaskedAndReadonlyPaths) {
  ASSERT_EQ(mkdir((rootfs_ + "/secret").c_str(), 0755), 0);
  std::ofstream(rootfs_ + "/secret/key") << "k";
  std::ofstream(rootfs_ + "/etc/token") << "t";
  ASSERT_EQ(mkdir((rootfs_ + "/frozen").c_str(), 0755), 0);
  json j = Config({"sh", "-c",
                   "ls /secret; cat /etc/token; echo .; "
                   "touch /frozen/x || echo frozen; touch /etc/y && echo rw"});
  j["linux"]["maskedPaths"] = {"/secret", "/etc/token", "/no/such"};
  j["linux"]["readonlyPaths"] = {"/frozen", "/no/such/either"};
  auto r = Run(j);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, ".\nfrozen\nrw\n");
}

TEST_F(OciConfigTest, BadProcessConfigsFailClearlyAndLeaveNothing) {
  struct Case {
    json config;
    std::string message;
  };
  std::vector<Case> cases;
  json c = Config({"true"});
  c["process"]["capabilities"] = {{"bounding", {"CAP_FLY"}}};
  cases.push_back({c, "process.capabilities.bounding \"CAP_FLY\" is not"});
  c = Config({"true"});
  c["process"]["rlimits"] = {
      {{"type", "RLIMIT_NOFILE"}, {"soft", 300}, {"hard", 200}}};
  cases.push_back({c, "soft limit 300 is above the hard limit 200"});
  c = Config({"true"});
  c["process"]["rlimits"] = {{{"type", "RLIMIT_WINGS"}, {"soft", 1}, {"hard", 1}}};
  cases.push_back({c, "\"RLIMIT_WINGS\" is not an rlimit"});
  c = Config({"true"});
  c["linux"]["maskedPaths"] = {"relative"};
  cases.push_back({c, "linux.maskedPaths \"relative\" is not an absolute"});
  c = Config({"true"});
  c["mounts"].push_back({{"destination", "/data"},
                         {"type", "bind"},
                         {"source", "/tmp"},
                         {"options", {"rbind", "ro"}}});
  cases.push_back({c, "bind mounts are not supported by runsc yet"});
  for (const Case& k : cases) {
    WriteConfig(k.config);
    auto r = Runsc({"create", "--bundle", bundle_, "bad"});
    EXPECT_EQ(r.code, 1) << k.message;
    EXPECT_THAT(r.err, HasSubstr(k.message));
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(RootEmpty()) << k.message;
  }
}

// A hook that appends its name, its first argument and $FOO to
// <dir>/hooks.log and saves the state it was given in <dir>/<name>.json.
json RecordingHook(const std::string& dir, const std::string& name) {
  return {{"path", "/bin/sh"},
          {"args",
           {"sh", "-c",
            "cat > " + dir + "/" + name + ".json; echo \"$0 $1 $FOO\" >> " +
                dir + "/hooks.log",
            name, "arg1"}},
          {"env", {"FOO=bar"}}};
}

TEST_F(OciConfigTest, HooksRunInOrderWithTheState) {
  json j = Config({"true"});
  for (const char* kind : {"prestart", "createRuntime", "createContainer",
                           "startContainer", "poststart", "poststop"})
    j["hooks"][kind] = {RecordingHook(dir_, kind)};
  auto r = Run(j, "hooked");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir_ + "/hooks.log"),
            "prestart arg1 bar\ncreateRuntime arg1 bar\n"
            "createContainer arg1 bar\nstartContainer arg1 bar\n"
            "poststart arg1 bar\npoststop arg1 bar\n");
  struct Expect {
    const char* kind;
    const char* status;
  } expects[] = {{"prestart", "creating"},
                 {"createRuntime", "creating"},
                 {"createContainer", "creating"},
                 {"startContainer", "created"},
                 {"poststart", "running"},
                 {"poststop", "stopped"}};
  for (const Expect& e : expects) {
    json state =
        json::parse(ReadFile(dir_ + "/" + e.kind + ".json"), nullptr, false);
    ASSERT_TRUE(state.is_object()) << e.kind;
    EXPECT_EQ(state["id"], "hooked") << e.kind;
    EXPECT_EQ(state["status"], e.status) << e.kind;
    EXPECT_EQ(state["bundle"], bundle_) << e.kind;
    if (std::string(e.status) != "stopped") {
      EXPECT_GT(state["pid"].get<int>(), 0) << e.kind;
    }
  }
}

TEST_F(OciConfigTest, FailingCreateHooksFailCreateAndLeaveNothing) {
  for (const char* kind : {"prestart", "createRuntime", "createContainer"}) {
    json j = Config({"true"});
    j["hooks"][kind] = {{{"path", "/bin/sh"},
                         {"args", {"sh", "-c", "echo broken >&2; exit 3"}}}};
    WriteConfig(j);
    auto r = Runsc({"create", "--bundle", bundle_, "h"});
    EXPECT_EQ(r.code, 1) << kind;
    EXPECT_THAT(r.err, HasSubstr(std::string(kind) +
                                 " hook /bin/sh failed: exit status 3: broken"));
    EXPECT_TRUE(RootEmpty()) << kind;
  }
  json j = Config({"true"});
  j["hooks"]["prestart"] = {{{"path", "/no/such/hook"}}};
  WriteConfig(j);
  auto r = Runsc({"create", "--bundle", bundle_, "h"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("prestart hook /no/such/hook failed: exit "
                               "status 127: cannot run it"));
  EXPECT_TRUE(RootEmpty());
}

TEST_F(OciConfigTest, HookTimeoutKillsItAndFails) {
  json j = Config({"true"});
  j["hooks"]["createRuntime"] = {
      {{"path", "/bin/sleep"}, {"args", {"sleep", "1000"}}, {"timeout", 1}}};
  WriteConfig(j);
  auto r = Runsc({"create", "--bundle", bundle_, "t"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("createRuntime hook /bin/sleep timed out "
                               "after 1 s"));
  EXPECT_TRUE(RootEmpty());
}

TEST_F(OciConfigTest, FailingStartContainerHookStopsTheContainer) {
  json j = Config({"sh", "-c", "echo ran"});
  j["hooks"]["startContainer"] = {
      {{"path", "/bin/sh"}, {"args", {"sh", "-c", "exit 1"}}}};
  // A failed poststop hook is only a warning: delete goes on.
  j["hooks"]["poststop"] = {
      {{"path", "/bin/sh"}, {"args", {"sh", "-c", "exit 2"}}}};
  WriteConfig(j);
  auto r = Runsc({"create", "--bundle", bundle_, "s"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Runsc({"start", "s"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("startContainer hook /bin/sh failed"));
  EXPECT_EQ(r.out, "");
  r = Runsc({"state", "s"});
  EXPECT_THAT(r.out, HasSubstr("\"stopped\""));
  r = Runsc({"delete", "s"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("warning: poststop hook /bin/sh failed"));
}

// This process's cgroup in a v1 hierarchy ("" for the root).
std::string OwnCgroup(const std::string& controller) {
  std::istringstream lines(ReadFile("/proc/self/cgroup"));
  for (std::string line; std::getline(lines, line);) {
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::istringstream list(line.substr(a + 1, b - a - 1));
    for (std::string c; std::getline(list, c, ',');) {
      if (c == controller) {
        const std::string path = line.substr(b + 1);
        return path == "/" ? "" : path;
      }
    }
  }
  return "";
}

// Every cgroup directory of a container, in each v1 hierarchy: `path`
// from the root, or below this process's cgroup if relative.
std::vector<std::string> CgroupDirs(const std::string& path) {
  std::vector<std::string> dirs;
  for (const char* c : {"memory", "cpu", "cpuset", "pids"}) {
    dirs.push_back(std::string("/sys/fs/cgroup/") + c +
                   (path[0] == '/' ? path : OwnCgroup(c) + "/" + path));
  }
  return dirs;
}

bool HostHasCgroupV1() {
  return access("/sys/fs/cgroup/memory/cgroup.procs", F_OK) == 0 &&
         access("/sys/fs/cgroup/pids/cgroup.procs", F_OK) == 0 &&
         geteuid() == 0;
}

TEST_F(OciConfigTest, ResourcesGoToTheSandboxCgroup) {
  if (!HostHasCgroupV1()) GTEST_SKIP() << "needs root and cgroup v1";
  const std::string parent =
      "/runsc_test_" + std::to_string(getpid());
  const std::string path = parent + "/res";
  json j = Config({"true"});
  j["linux"]["cgroupsPath"] = path;
  j["linux"]["resources"] = {
      {"memory", {{"limit", 268435456}, {"reservation", 134217728}}},
      {"cpu", {{"shares", 512}, {"quota", 50000}, {"period", 100000},
               {"cpus", "0"}}},
      {"pids", {{"limit", 20}}}};
  WriteConfig(j);
  const std::string pid_file = dir_ + "/pid";
  auto r = Runsc({"create", "--bundle", bundle_, "--pid-file", pid_file, "cg"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string pid = ReadFile(pid_file);
  const std::string base = "/sys/fs/cgroup/";
  EXPECT_EQ(ReadFile(base + "memory" + path + "/memory.limit_in_bytes"),
            "268435456\n");
  EXPECT_EQ(ReadFile(base + "memory" + path + "/memory.soft_limit_in_bytes"),
            "134217728\n");
  EXPECT_EQ(ReadFile(base + "cpu" + path + "/cpu.shares"), "512\n");
  EXPECT_EQ(ReadFile(base + "cpu" + path + "/cpu.cfs_quota_us"), "50000\n");
  EXPECT_EQ(ReadFile(base + "cpu" + path + "/cpu.cfs_period_us"), "100000\n");
  EXPECT_EQ(ReadFile(base + "cpuset" + path + "/cpuset.cpus"), "0\n");
  EXPECT_EQ(ReadFile(base + "pids" + path + "/pids.max"), "124\n");
  for (const std::string& d : CgroupDirs(path)) {
    // The sandbox process, the gofer, and the sentry's helpers.
    const std::string procs = ReadFile(d + "/cgroup.procs");
    EXPECT_THAT(procs, HasSubstr(pid + "\n")) << d;
  }
  r = Runsc({"delete", "cg"});
  EXPECT_EQ(r.code, 0) << r.err;
  for (const std::string& d : CgroupDirs(parent))
    EXPECT_FALSE(std::filesystem::exists(d)) << d << " left behind";
}

TEST_F(OciConfigTest, PidsLimitStopsAForkBomb) {
  if (!HostHasCgroupV1()) GTEST_SKIP() << "needs root and cgroup v1";
  // Each round forks a sleeper that never exits: without a limit the
  // loop would run to its end and print "all".
  json j = Config({"sh", "-c",
                   "i=0; while [ $i -lt 64 ]; do sleep 1000 & i=$((i+1)); "
                   "done; echo all"});
  j["linux"]["resources"]["pids"]["limit"] = 16;
  auto r = Run(j, "bomb");
  EXPECT_THAT(r.err, HasSubstr("fork"));
  EXPECT_THAT(r.out, Not(HasSubstr("all")));
  // The default path, runsc/ID below ours, is gone with the container.
  for (const std::string& d : CgroupDirs("runsc/bomb"))
    EXPECT_FALSE(std::filesystem::exists(d)) << d << " left behind";
}

TEST_F(OciConfigTest, SystemdCgroupPath) {
  if (!HostHasCgroupV1()) GTEST_SKIP() << "needs root and cgroup v1";
  const std::string slice = "runsctest" + std::to_string(getpid()) + ".slice";
  json j = Config({"true"});
  j["linux"]["cgroupsPath"] = slice + ":pfx:sd";
  WriteConfig(j);
  auto r = Runsc({"create", "--bundle", bundle_, "sd"}, {"--systemd-cgroup"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const std::string& d : CgroupDirs("/" + slice + "/pfx-sd.scope"))
    EXPECT_TRUE(std::filesystem::exists(d)) << d;
  r = Runsc({"delete", "sd"});
  EXPECT_EQ(r.code, 0) << r.err;
  for (const std::string& d : CgroupDirs("/" + slice))
    EXPECT_FALSE(std::filesystem::exists(d)) << d << " left behind";
  j["linux"]["cgroupsPath"] = "no-colons";
  WriteConfig(j);
  r = Runsc({"create", "--bundle", bundle_, "sd"}, {"--systemd-cgroup"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("is not slice:prefix:name"));
  EXPECT_TRUE(RootEmpty());
}

TEST_F(OciConfigTest, InstallAndUninstallKeepTheRestOfDaemonJson) {
  const std::string file = dir_ + "/docker/daemon.json";
  // A missing file (and directory) is made.
  auto r = Runsc({"install", "--config-file", file});
  ASSERT_EQ(r.code, 0) << r.err;
  json j = json::parse(ReadFile(file), nullptr, false);
  const std::string self = std::filesystem::canonical(
      testing_util::RunscPath()).string();
  EXPECT_EQ(j["runtimes"]["runsc"]["path"], self);

  std::ofstream(file) << R"({"log-level": "warn",
      "runtimes": {"other": {"path": "/x", "runtimeArgs": ["--a"]}}})";
  r = Runsc({"install", "--runtime", "mine", "--config-file", file});
  ASSERT_EQ(r.code, 0) << r.err;
  j = json::parse(ReadFile(file), nullptr, false);
  EXPECT_EQ(j["log-level"], "warn");
  EXPECT_EQ(j["runtimes"]["other"]["runtimeArgs"][0], "--a");
  EXPECT_EQ(j["runtimes"]["mine"]["path"], self);

  r = Runsc({"uninstall", "--runtime", "mine", "--config-file", file});
  ASSERT_EQ(r.code, 0) << r.err;
  j = json::parse(ReadFile(file), nullptr, false);
  EXPECT_FALSE(j["runtimes"].contains("mine"));
  EXPECT_EQ(j["runtimes"]["other"]["path"], "/x");
  EXPECT_EQ(j["log-level"], "warn");
  r = Runsc({"uninstall", "--runtime", "mine", "--config-file", file});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("runtime \"mine\" is not in"));

  // A file that is not JSON is left alone.
  std::ofstream(file) << "{not json";
  r = Runsc({"install", "--config-file", file});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("not a JSON object; left unchanged"));
  EXPECT_EQ(ReadFile(file), "{not json");
}

}  // namespace
