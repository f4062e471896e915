#include "runsc/oci/spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
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

}  // namespace
}  // namespace runsc::oci
