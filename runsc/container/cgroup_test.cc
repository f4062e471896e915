#include "runsc/container/cgroup.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>

#include "runsc/container/sandbox_config.h"

namespace runsc::container {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(CgroupPathTest, CgroupfsPaths) {
  EXPECT_EQ(*CgroupPath("", false, "c1"), "runsc/c1");
  EXPECT_EQ(*CgroupPath("/docker/abc", false, "c1"), "/docker/abc");
  EXPECT_EQ(*CgroupPath("rel/x/", false, "c1"), "rel/x");
  EXPECT_THAT(std::string(CgroupPath("/a/../b", false, "c").status().message()),
              HasSubstr("may not hold \"..\""));
  EXPECT_FALSE(CgroupPath("/", false, "c").ok());
}

TEST(CgroupPathTest, SystemdPaths) {
  EXPECT_EQ(*CgroupPath("system.slice:docker:abc", true, "c"),
            "/system.slice/docker-abc.scope");
  EXPECT_EQ(*CgroupPath("", true, "c1"), "/system.slice/runsc-c1.scope");
  EXPECT_EQ(*CgroupPath("a-b-c.slice:p:n", true, "c"),
            "/a.slice/a-b.slice/a-b-c.slice/p-n.scope");
  EXPECT_EQ(*CgroupPath(":p:n", true, "c"), "/system.slice/p-n.scope");
  EXPECT_EQ(*CgroupPath("-.slice:p:n", true, "c"), "/p-n.scope");
  EXPECT_EQ(*CgroupPath("user.slice::inner.slice", true, "c"),
            "/user.slice/inner.slice");
  for (const char* bad : {"nocolons", "a:b", "x.scope:p:n", "a--b.slice:p:n",
                          "system.slice:p:"}) {
    EXPECT_FALSE(CgroupPath(bad, true, "c").ok()) << bad;
  }
}

TEST(MountOptionsTest, FlagsBindAndData) {
  MountOptions o = ParseMountOptions(
      {"nosuid", "ro", "rprivate", "mode=755", "size=65536k", "noexec", "exec"});
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOSUID | MS_RDONLY));
  EXPECT_FALSE(o.bind);
  EXPECT_THAT(o.data, ElementsAre("mode=755", "size=65536k"));
  o = ParseMountOptions({"rbind", "rw"});
  EXPECT_TRUE(o.bind);
  EXPECT_EQ(o.flags, 0u);
}

TEST(HostPidsMaxTest, LeavesRoomForTheSentrysThreads) {
  EXPECT_EQ(HostPidsMax(20), 124);
}

}  // namespace
}  // namespace runsc::container
