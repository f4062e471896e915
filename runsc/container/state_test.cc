#include "runsc/container/state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace runsc::container {
namespace {

using ::testing::HasSubstr;

TEST(ContainerIdTest, Validation) {
  EXPECT_TRUE(ValidateId("abc-1.2_x+y").ok());
  EXPECT_TRUE(ValidateId(std::string(kMaxIdLength, 'a')).ok());
  EXPECT_FALSE(ValidateId("").ok());
  EXPECT_FALSE(ValidateId(".").ok());
  EXPECT_FALSE(ValidateId("..").ok());
  EXPECT_FALSE(ValidateId("a/b").ok());
  EXPECT_FALSE(ValidateId("../x").ok());
  EXPECT_FALSE(ValidateId("a b").ok());
  EXPECT_FALSE(ValidateId(std::string(kMaxIdLength + 1, 'a')).ok());
}

class StateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/oci_state_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::string root_;
};

TEST_F(StateTest, SaveLoadRoundTrip) {
  State s{.oci_version = "1.0.2",
          .id = "c1",
          .pid = getpid(),
          .pid_start = ProcessStartTime(getpid()),
          .status = "created",
          .bundle = "/b",
          .rootfs = "/b/rootfs",
          .created = "now",
          .annotations = {{"k", "v"}}};
  ASSERT_EQ(mkdir((root_ + "/c1").c_str(), 0700), 0);
  ASSERT_TRUE(SaveState(root_, s).ok());
  EXPECT_FALSE(std::filesystem::exists(root_ + "/c1/state.json.tmp"));
  auto l = LoadState(root_, "c1");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->pid, getpid());
  EXPECT_EQ(l->annotations.at("k"), "v");
  EXPECT_EQ(CurrentStatus(*l), "created");  // this process is alive
  auto j = nlohmann::json::parse(StateJson(*l, "created"));
  EXPECT_EQ(j["status"], "created");
  EXPECT_EQ(j["pid"], getpid());
  EXPECT_EQ(j["bundle"], "/b");
  EXPECT_EQ(nlohmann::json::parse(StateJson(*l, "stopped"))["pid"], 0);
}

TEST_F(StateTest, UnknownIdDoesNotExist) {
  auto l = LoadState(root_, "nope");
  ASSERT_FALSE(l.ok());
  EXPECT_THAT(l.status().message(), HasSubstr("does not exist"));
  EXPECT_FALSE(LoadState(root_, "../etc").ok());
}

TEST_F(StateTest, DamagedStateSaysSo) {
  ASSERT_EQ(mkdir((root_ + "/c2").c_str(), 0700), 0);
  std::ofstream(root_ + "/c2/state.json") << "{\"id\": 3}";
  auto l = LoadState(root_, "c2");
  ASSERT_FALSE(l.ok());
  EXPECT_THAT(l.status().message(), HasSubstr("damaged"));
}

TEST_F(StateTest, ExitedProcessIsStopped) {
  pid_t child = fork();
  if (child == 0) _exit(0);
  State s{
      .pid = child, .pid_start = ProcessStartTime(child), .status = "running"};
  int status;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_EQ(CurrentStatus(s), "stopped");
  EXPECT_EQ(ProcessStartTime(child), 0u);
  // A live process with another start time is not the container's.
  State other{.pid = getpid(), .pid_start = 1, .status = "running"};
  EXPECT_EQ(CurrentStatus(other), "stopped");
}

}  // namespace
}  // namespace runsc::container
