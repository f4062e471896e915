#include "sentry/loader/initial_stack.h"

#include <elf.h>

#include <cstring>

#include "gtest/gtest.h"

namespace loader {
namespace {

TEST(InitialStackTest, LayoutMatchesLinux) {
  StackInputs in;
  in.argv = {"a", "bc"};
  in.envp = {"X=1"};
  in.execfn = "/x";
  in.auxv = {
      {AT_PAGESZ, 4096}, {AT_RANDOM, 0}, {AT_EXECFN, 0}, {AT_PLATFORM, 0}};
  for (int i = 0; i < 16; ++i) in.random[i] = i + 1;
  for (uint64_t pad : {0, 1, 15, 16, 8191}) {
    in.pad = pad;
    const uint64_t top = 0x7fff0000;
    StackImage im = BuildInitialStack(top, in);
    EXPECT_EQ(im.sp % 16, 0u);
    EXPECT_EQ(im.sp + im.bytes.size(), top);
    EXPECT_LE(im.bytes.size(), InitialStackSize(in));
    auto word = [&](uint64_t addr) {
      uint64_t v;
      memcpy(&v, &im.bytes[addr - im.sp], 8);
      return v;
    };
    auto str = [&](uint64_t addr) {
      return std::string(reinterpret_cast<char*>(&im.bytes[addr - im.sp]));
    };
    EXPECT_EQ(word(im.sp), 2u);
    EXPECT_EQ(str(word(im.sp + 8)), "a");
    EXPECT_EQ(str(word(im.sp + 16)), "bc");
    EXPECT_EQ(word(im.sp + 24), 0u);
    EXPECT_EQ(str(word(im.sp + 32)), "X=1");
    EXPECT_EQ(word(im.sp + 40), 0u);
    EXPECT_EQ(word(im.sp + 48), uint64_t{AT_PAGESZ});
    const uint64_t random = word(im.sp + 72);
    EXPECT_EQ(im.bytes[random - im.sp], 1);
    EXPECT_EQ(im.bytes[random + 15 - im.sp], 16);
    const uint64_t execfn = word(im.sp + 88);
    EXPECT_EQ(execfn, top - 8 - 3);
    EXPECT_EQ(str(execfn), "/x");
    EXPECT_EQ(str(word(im.sp + 104)), "x86_64");
    EXPECT_EQ(word(im.sp + 112), uint64_t{AT_NULL});
    // Exactly Linux's strings block: argv, envp, execfn back to back.
    EXPECT_EQ(word(im.sp + 32), execfn - 4);
    EXPECT_EQ(word(im.sp + 16), execfn - 4 - 3);
    EXPECT_EQ(word(im.sp + 8), execfn - 4 - 3 - 2);
    // Platform then random below the (padded, aligned) strings.
    EXPECT_EQ(word(im.sp + 104), ((execfn - 9 - pad) & ~15ull) - 7);
    EXPECT_EQ(random, word(im.sp + 104) - 16);
  }
}

TEST(InitialStackTest, ArgLimits) {
  EXPECT_TRUE(CheckArgLimits({"a"}, {}, "/a", 8 << 20).has_value());
  EXPECT_TRUE(
      CheckArgLimits({std::string(kMaxArgStrlen - 1, 'a')}, {}, "/a", 8 << 20)
          .has_value());
  EXPECT_FALSE(
      CheckArgLimits({std::string(kMaxArgStrlen, 'a')}, {}, "/a", 8 << 20)
          .has_value());
  // Tiny limits still allow ARG_MAX (128 KiB) minus the pointers.
  EXPECT_TRUE(
      CheckArgLimits({std::string(100000, 'a')}, {}, "/a", 0).has_value());
  EXPECT_FALSE(CheckArgLimits({std::string(100000, 'a')},
                              {std::string(40000, 'b')}, "/a", 0)
                   .has_value());
  // At most 6 MiB however large the stack.
  std::vector<std::string> many(50, std::string(130000, 'c'));
  EXPECT_FALSE(CheckArgLimits(many, {}, "/a", uint64_t{1} << 40).has_value());
  many.resize(40);
  EXPECT_TRUE(CheckArgLimits(many, {}, "/a", uint64_t{1} << 40).has_value());
}

}  // namespace
}  // namespace loader
