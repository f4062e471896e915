#include "base/result.h"

#include <gtest/gtest.h>

namespace base {
namespace {

Result<int> Half(int x) {
  if (x % 2) return Err(EINVAL);
  return x / 2;
}

Result<int> Quarter(int x) {
  int h = TRY(Half(x));
  return TRY(Half(h));
}

Result<void> Check(int x) {
  if (x < 0) return Err(ERANGE);
  return {};
}

Result<int> CheckThenDouble(int x) {
  TRY(Check(x));
  return x * 2;
}

TEST(ResultTest, TryPropagatesValuesAndErrors) {
  EXPECT_EQ(Quarter(8).value(), 2);
  EXPECT_EQ(Quarter(6).error(), Errno(EINVAL));
  EXPECT_EQ(CheckThenDouble(3).value(), 6);
  EXPECT_EQ(CheckThenDouble(-1).error(), Errno(ERANGE));
}

TEST(ResultTest, ErrnoNames) {
  EXPECT_EQ(ErrnoName(ENOENT), "ENOENT");
  EXPECT_EQ(ErrnoName(kERESTARTSYS), "ERESTARTSYS");
  EXPECT_EQ(ErrnoName(4000), "E4000");
}

}  // namespace
}  // namespace base
