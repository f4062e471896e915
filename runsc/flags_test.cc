#include "runsc/flags.h"

#include <gtest/gtest.h>

namespace runsc {
namespace {

TEST(FlagsTest, AcceptsTheFormsRuncCallersUse) {
  auto f = ParseFlags({"--platform=ptrace", "-debug-log", "/tmp/x", "--strace",
                       "--", "ls", "-l"},
                      {"platform", "debug-log"}, {"strace"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->Get("platform"), "ptrace");
  EXPECT_EQ(f->Get("debug-log"), "/tmp/x");
  EXPECT_TRUE(f->Bool("strace"));
  EXPECT_EQ(f->rest, (std::vector<std::string>{"ls", "-l"}));
}

TEST(FlagsTest, StopsAtFirstWord) {
  auto f = ParseFlags({"--strace", "echo", "--strace"}, {}, {"strace"});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->rest, (std::vector<std::string>{"echo", "--strace"}));
}

TEST(FlagsTest, RejectsUnknownAndMissingValues) {
  EXPECT_FALSE(ParseFlags({"--bogus"}, {}, {}).ok());
  EXPECT_FALSE(ParseFlags({"--platform"}, {"platform"}, {}).ok());
}

TEST(FlagsTest, BoolFalse) {
  auto f = ParseFlags({"--strace=false"}, {}, {"strace"});
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->Bool("strace"));
}

}  // namespace
}  // namespace runsc
