// getrandom: fills exactly the requested bytes, differs between calls,
// accepts GRND_NONBLOCK/GRND_RANDOM/GRND_INSECURE, rejects bad flags and
// bad buffers.
#include <string.h>
#include <sys/random.h>  // GRND_* flags.
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "test_util.h"

namespace syscall_test {
namespace {

long RawGetrandom(void* buf, size_t len, unsigned flags) {
  return syscall(SYS_getrandom, buf, len, flags);
}

bool AllZero(const std::vector<unsigned char>& v, size_t from, size_t to) {
  return std::all_of(v.begin() + from, v.begin() + to,
                     [](unsigned char c) { return c == 0; });
}

TEST(GetrandomTest, FillsExactlyTheRequestedBytes) {
  std::vector<unsigned char> buf(128, 0);
  ASSERT_THAT(RawGetrandom(buf.data(), 64, 0), SyscallSucceedsWithValue(64));
  // 64 random bytes are all zero with probability 2^-512.
  EXPECT_FALSE(AllZero(buf, 0, 64));
  EXPECT_TRUE(AllZero(buf, 64, 128)) << "wrote past the requested length";
}

TEST(GetrandomTest, TwoCallsDiffer) {
  unsigned char a[32], b[32];
  ASSERT_THAT(RawGetrandom(a, sizeof(a), 0), SyscallSucceedsWithValue(32));
  ASSERT_THAT(RawGetrandom(b, sizeof(b), 0), SyscallSucceedsWithValue(32));
  EXPECT_NE(memcmp(a, b, sizeof(a)), 0);
}

TEST(GetrandomTest, LargeRequestIsFilledByRepeatedCalls) {
  std::vector<unsigned char> buf(1 << 16, 0);
  size_t done = 0;
  while (done < buf.size()) {
    const long n = RawGetrandom(buf.data() + done, buf.size() - done, 0);
    ASSERT_THAT(n, SyscallSucceedsWithValue(::testing::Gt(0)));
    done += static_cast<size_t>(n);
  }
  // Every 4 KiB block has some non-zero byte.
  for (size_t off = 0; off < buf.size(); off += 4096) {
    EXPECT_FALSE(AllZero(buf, off, off + 4096)) << "at " << off;
  }
}

TEST(GetrandomTest, SupportedFlags) {
  unsigned char buf[16];
  // Up to 256 bytes are never short once the pool is initialised, which it
  // is long before a test runs (and GRND_INSECURE never blocks).
  EXPECT_THAT(RawGetrandom(buf, sizeof(buf), GRND_NONBLOCK),
              SyscallSucceedsWithValue(16));
  EXPECT_THAT(RawGetrandom(buf, sizeof(buf), GRND_RANDOM),
              SyscallSucceedsWithValue(16));
  EXPECT_THAT(RawGetrandom(buf, sizeof(buf), GRND_RANDOM | GRND_NONBLOCK),
              SyscallSucceedsWithValue(16));
  EXPECT_THAT(RawGetrandom(buf, sizeof(buf), GRND_INSECURE),
              SyscallSucceedsWithValue(16));
}

TEST(GetrandomTest, ZeroLengthReturnsZero) {
  unsigned char buf[1];
  EXPECT_THAT(RawGetrandom(buf, 0, 0), SyscallSucceedsWithValue(0));
}

TEST(GetrandomTest, BadFlagsAreEinval) {
  unsigned char buf[16];
  EXPECT_THAT(RawGetrandom(buf, sizeof(buf), Opaque(0x8u)),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(RawGetrandom(buf, sizeof(buf), Opaque(~0u)),
              SyscallFailsWithErrno(EINVAL));
  // GRND_INSECURE and GRND_RANDOM are mutually exclusive.
  EXPECT_THAT(RawGetrandom(buf, sizeof(buf), GRND_INSECURE | GRND_RANDOM),
              SyscallFailsWithErrno(EINVAL));
}

TEST(GetrandomTest, BadBufferIsEfault) {
  EXPECT_THAT(RawGetrandom(BadAddress(), 16, 0), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(RawGetrandom(BadAddress(), 16, GRND_NONBLOCK),
              SyscallFailsWithErrno(EFAULT));
}

}  // namespace
}  // namespace syscall_test
