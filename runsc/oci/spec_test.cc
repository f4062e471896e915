#include "runsc/oci/spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

namespace runsc::oci {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

class SpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/oci_spec_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    bundle_ = tmpl;
    ASSERT_EQ(mkdir((bundle_ + "/rootfs").c_str(), 0755), 0);
  }
  void TearDown() override { std::filesystem::remove_all(bundle_); }

  // A valid spec to break.
  json Good() {
    return {{"ociVersion", "1.0.2"},
            {"process",
             {{"args", {"sh", "-c", "true"}},
              {"env", {"PATH=/bin"}},
              {"cwd", "/"},
              {"user", {{"uid", 1000}, {"gid", 1000}}}}},
            {"root", {{"path", "rootfs"}, {"readonly", true}}},
            {"hostname", "box"},
            {"mounts",
             {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
              {{"destination", "/data"},
               {"source", "/tmp"},
               {"options", {"rbind", "ro"}}}}},
            {"annotations", {{"a", "b"}}},
            {"linux", {{"resources", {{"pids", {{"limit", 50}}}}}}}};
  }

  std::string Error(const json& j) {
    auto s = ParseSpec(j.dump(), bundle_);
    return s.ok() ? "" : std::string(s.status().message());
  }

  std::string bundle_;
};

TEST_F(SpecTest, ParsesTheFieldsRunscReads) {
  auto s = ParseSpec(Good().dump(), bundle_);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->oci_version, "1.0.2");
  EXPECT_THAT(s->process.args, ::testing::ElementsAre("sh", "-c", "true"));
  EXPECT_EQ(s->process.user.uid, 1000u);
  EXPECT_EQ(s->root.path, bundle_ + "/rootfs");
  EXPECT_TRUE(s->root.readonly);
  EXPECT_EQ(s->hostname, "box");
  ASSERT_EQ(s->mounts.size(), 2u);
  EXPECT_EQ(s->mounts[1].type, "bind");  // no type, but rbind
  EXPECT_EQ(s->annotations.at("a"), "b");
  EXPECT_EQ(s->pids_limit, 50);
}

TEST_F(SpecTest, MalformedJson) {
  auto s = ParseSpec("{\"process\": ", bundle_);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("malformed JSON"));
  EXPECT_THAT(Error(json::array()), HasSubstr("must be a JSON object"));
}

TEST_F(SpecTest, WrongTypes) {
  json j = Good();
  j["process"]["args"] = "sh";
  EXPECT_THAT(Error(j), HasSubstr("process.args must be an array of strings"));
  j = Good();
  j["process"]["user"]["uid"] = -1;
  EXPECT_THAT(Error(j), HasSubstr("process.user.uid must be a number"));
  j = Good();
  j["process"]["terminal"] = "yes";
  EXPECT_THAT(Error(j), HasSubstr("process.terminal must be true or false"));
  j = Good();
  j["mounts"] = json::array({"/x"});
  EXPECT_THAT(Error(j), HasSubstr("mounts[0] must be an object"));
  j = Good();
  j["annotations"]["n"] = 1;
  EXPECT_THAT(Error(j), HasSubstr("annotations.n must be a string"));
}

TEST_F(SpecTest, MissingArgs) {
  json j = Good();
  j["process"].erase("args");
  EXPECT_THAT(Error(j), HasSubstr("process.args must name the program"));
  j["process"]["args"] = json::array();
  EXPECT_THAT(Error(j), HasSubstr("process.args must name the program"));
  j = Good();
  j.erase("process");
  EXPECT_THAT(Error(j), HasSubstr("process is missing"));
}

TEST_F(SpecTest, RootMustExist) {
  json j = Good();
  j["root"]["path"] = "nonexistent";
  EXPECT_THAT(Error(j), HasSubstr("root.path \"" + bundle_ +
                                  "/nonexistent\": no such directory"));
  j["root"]["path"] = "/etc/passwd";
  EXPECT_THAT(Error(j), HasSubstr("is not a directory"));
  j.erase("root");
  EXPECT_THAT(Error(j), HasSubstr("root is missing"));
}

TEST_F(SpecTest, UnknownMountType) {
  json j = Good();
  j["mounts"][0]["type"] = "nfs";
  EXPECT_THAT(Error(j),
              HasSubstr("mounts[0].type \"nfs\" is not a mount type"));
  j["mounts"][0]["type"] = "proc";
  j["mounts"][0]["destination"] = "proc";
  EXPECT_THAT(Error(j), HasSubstr("mounts[0].destination must be an absolute"));
}

TEST_F(SpecTest, DefaultSpecParses) {
  auto s = ParseSpec(DefaultSpecJson(), bundle_);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(s->process.args, ::testing::ElementsAre("sh"));
  EXPECT_TRUE(s->process.terminal);
}

TEST_F(SpecTest, LoadSpecWithoutConfig) {
  auto s = LoadSpec(bundle_);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("config.json"));
}

TEST_F(SpecTest, ParsesProcessLimitsCapabilitiesAndLinux) {
  json j = Good();
  j["process"]["rlimits"] = {
      {{"type", "RLIMIT_NOFILE"}, {"soft", 10}, {"hard", 20}}};
  j["process"]["capabilities"] = {{"bounding", {"CAP_CHOWN", "CAP_KILL"}},
                                  {"ambient", {"CAP_BPF"}}};
  j["process"]["noNewPrivileges"] = true;
  j["domainname"] = "example.org";
  j["linux"]["maskedPaths"] = {"/proc/kcore"};
  j["linux"]["readonlyPaths"] = {"/proc/sys"};
  j["linux"]["sysctl"] = {{"kernel.domainname", "d"}};
  j["linux"]["cgroupsPath"] = "/a/b";
  j["linux"]["resources"]["memory"] = {{"limit", 1048576}};
  j["linux"]["resources"]["cpu"] = {{"shares", 2}, {"quota", -1},
                                    {"cpus", "0-1"}};
  j["hooks"]["poststop"] = {{{"path", "/bin/true"}, {"timeout", 5}}};
  auto s = ParseSpec(j.dump(), bundle_);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->process.rlimits.size(), 1u);
  EXPECT_EQ(s->process.rlimits[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ(s->process.rlimits[0].soft, 10u);
  EXPECT_EQ(s->process.rlimits[0].hard, 20u);
  ASSERT_TRUE(s->process.capabilities);
  EXPECT_EQ(s->process.capabilities->bounding, (1u << 0) | (1u << 5));
  EXPECT_EQ(s->process.capabilities->ambient, uint64_t{1} << 39);
  EXPECT_EQ(s->process.capabilities->effective, 0u);
  EXPECT_TRUE(s->process.no_new_privileges);
  EXPECT_EQ(s->domainname, "example.org");
  EXPECT_THAT(s->masked_paths, ::testing::ElementsAre("/proc/kcore"));
  EXPECT_THAT(s->readonly_paths, ::testing::ElementsAre("/proc/sys"));
  EXPECT_EQ(s->sysctl.at("kernel.domainname"), "d");
  EXPECT_EQ(s->cgroups_path, "/a/b");
  EXPECT_EQ(*s->resources.memory_limit, 1048576);
  EXPECT_EQ(*s->resources.cpu_shares, 2u);
  EXPECT_EQ(*s->resources.cpu_quota, -1);
  EXPECT_EQ(s->resources.cpus, "0-1");
  EXPECT_EQ(*s->pids_limit, 50);
  ASSERT_EQ(s->hooks.poststop.size(), 1u);
  EXPECT_EQ(s->hooks.poststop[0].timeout, 5);
  // Without process.capabilities, the process keeps its user's.
  EXPECT_FALSE(ParseSpec(Good().dump(), bundle_)->process.capabilities);
}

TEST_F(SpecTest, BadLimitsCapabilitiesAndHooks) {
  json j = Good();
  j["process"]["capabilities"] = {{"effective", {"CAP_NOPE"}}};
  EXPECT_THAT(Error(j), HasSubstr("process.capabilities.effective \"CAP_NOPE\""));
  j = Good();
  j["process"]["rlimits"] = {{{"type", "RLIMIT_CPU"}, {"soft", 1}}};
  EXPECT_THAT(Error(j), HasSubstr("process.rlimits[0].hard must be a number"));
  j = Good();
  j["process"]["rlimits"] = {{{"type", "RLIMIT_CPU"}, {"soft", 1}, {"hard", 1}},
                             {{"type", "RLIMIT_CPU"}, {"soft", 1}, {"hard", 1}}};
  EXPECT_THAT(Error(j), HasSubstr("RLIMIT_CPU is given twice"));
  j = Good();
  j["hooks"]["prestart"] = {{{"path", "relative"}}};
  EXPECT_THAT(Error(j), HasSubstr("hooks.prestart[0].path must be an absolute"));
  j = Good();
  j["hooks"]["prestart"] = {{{"path", "/bin/true"}, {"timeout", 0}}};
  EXPECT_THAT(Error(j), HasSubstr("hooks.prestart[0].timeout must be a positive"));
  j = Good();
  j["linux"]["resources"]["cpu"] = {{"shares", -2}};
  EXPECT_THAT(Error(j), HasSubstr("linux.resources.cpu.shares must be a whole"));
  j = Good();
  j["linux"]["sysctl"] = {{"kernel.x", 1}};
  EXPECT_THAT(Error(j), HasSubstr("linux.sysctl.kernel.x must be a string"));
}

TEST_F(SpecTest, HooksRoundTrip) {
  Hooks hooks;
  hooks.prestart.push_back(
      {.path = "/a", .args = {"a", "1"}, .env = {"X=1"}, .timeout = 3});
  hooks.poststop.push_back({.path = "/b"});
  auto back = HooksFromJson(HooksToJson(hooks));
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->prestart.size(), 1u);
  EXPECT_EQ(back->prestart[0].path, "/a");
  EXPECT_THAT(back->prestart[0].args, ::testing::ElementsAre("a", "1"));
  EXPECT_THAT(back->prestart[0].env, ::testing::ElementsAre("X=1"));
  EXPECT_EQ(back->prestart[0].timeout, 3);
  ASSERT_EQ(back->poststop.size(), 1u);
  EXPECT_EQ(back->poststop[0].timeout, 0);
  EXPECT_TRUE(back->create_runtime.empty());
}

TEST_F(SpecTest, CapabilityNumbers) {
  EXPECT_EQ(CapabilityNumber("CAP_CHOWN"), 0);
  EXPECT_EQ(CapabilityNumber("CAP_SYS_ADMIN"), 21);
  EXPECT_EQ(CapabilityNumber("CAP_CHECKPOINT_RESTORE"), 40);
  EXPECT_EQ(CapabilityNumber("CAP_NOPE"), -1);
}

}  // namespace
}  // namespace runsc::oci
