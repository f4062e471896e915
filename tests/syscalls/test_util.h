// Shared helpers for syscall tests: syscall-result matchers, an owning fd,
// and small read-only file utilities. Depends only on libc and gtest/gmock.
#ifndef TESTS_SYSCALLS_TEST_UTIL_H_
#define TESTS_SYSCALLS_TEST_UTIL_H_

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace syscall_test {

// "ENOENT" for ENOENT; falls back to the number for unknown values.
inline std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name != nullptr ? std::string(name) : std::to_string(err);
}

// Syscall results come as int, long, ssize_t, off_t or void* (mmap). All are
// widened to a signed 64-bit value; MAP_FAILED becomes -1 like the others.
template <typename T>
int64_t ToSyscallValue(const T& v) {
  if constexpr (std::is_pointer_v<T>) {
    return static_cast<int64_t>(reinterpret_cast<intptr_t>(v));
  } else {
    return static_cast<int64_t>(v);
  }
}

// Matches a syscall result. errno is sampled first thing in MatchAndExplain.
// EXPECT_THAT(call, m) evaluates `m` before `call`; between the call and this
// read gtest only copies matcher objects (malloc, which leaves errno alone
// when it succeeds), so errno is still the syscall's.
class SyscallResultMatcher {
 public:
  // expect_errno == 0: success, optionally with a value matching `value`.
  // expect_errno != 0: result is -1 and errno equals expect_errno.
  // A value matcher of nullopt accepts any successful result.
  SyscallResultMatcher(int expect_errno,
                       std::optional<::testing::Matcher<int64_t>> value)
      : expect_errno_(expect_errno), value_(std::move(value)) {}

  template <typename T>
  bool MatchAndExplain(const T& result,
                       ::testing::MatchResultListener* listener) const {
    const int err = errno;
    const int64_t v = ToSyscallValue(result);
    if (expect_errno_ == 0) {
      if (v == -1) {
        *listener << "failed with errno " << ErrnoName(err);
        return false;
      }
      return !value_ || value_->MatchAndExplain(v, listener);
    }
    if (v != -1) {
      *listener << "succeeded";
      return false;
    }
    if (err != expect_errno_) {
      *listener << "failed with errno " << ErrnoName(err);
      return false;
    }
    return true;
  }

  void DescribeTo(std::ostream* os) const {
    if (expect_errno_ == 0) {
      *os << "succeeds";
      if (value_) {
        *os << " with a value that ";
        value_->DescribeTo(os);
      }
    } else {
      *os << "fails with errno " << ErrnoName(expect_errno_);
    }
  }

  void DescribeNegationTo(std::ostream* os) const {
    *os << "not (";
    DescribeTo(os);
    *os << ")";
  }

 private:
  int expect_errno_;
  std::optional<::testing::Matcher<int64_t>> value_;
};

// EXPECT_THAT(close(fd), SyscallSucceeds());
inline ::testing::PolymorphicMatcher<SyscallResultMatcher> SyscallSucceeds() {
  return ::testing::MakePolymorphicMatcher(
      SyscallResultMatcher(0, std::nullopt));
}

// EXPECT_THAT(read(fd, buf, 0), SyscallSucceedsWithValue(0));
// Accepts a plain value or a matcher such as Gt(0).
template <typename M>
::testing::PolymorphicMatcher<SyscallResultMatcher> SyscallSucceedsWithValue(
    const M& value) {
  return ::testing::MakePolymorphicMatcher(
      SyscallResultMatcher(0, ::testing::MatcherCast<int64_t>(value)));
}

// EXPECT_THAT(open("/nonexistent", O_RDONLY), SyscallFailsWithErrno(ENOENT));
inline ::testing::PolymorphicMatcher<SyscallResultMatcher>
SyscallFailsWithErrno(int err) {
  return ::testing::MakePolymorphicMatcher(
      SyscallResultMatcher(err, std::nullopt));
}

// Owns a file descriptor; closes it on destruction.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(FileDescriptor&& o) noexcept : fd_(o.release()) {}
  FileDescriptor& operator=(FileDescriptor&& o) noexcept {
    reset(o.release());
    return *this;
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() { reset(); }

  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Opens `path` or fails the current test (use with ASSERT_NO_FATAL_FAILURE
// or in a fixture). Returns an invalid descriptor on failure.
inline FileDescriptor OpenOrFail(const char* path, int flags) {
  const int fd = ::open(path, flags);
  EXPECT_GE(fd, 0) << "open(" << path << "): " << ErrnoName(errno);
  return FileDescriptor(fd);
}

// Reads all of `fd` from its current offset with read(2); empty on error.
inline std::string ReadToEnd(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      ADD_FAILURE() << "read: " << ErrnoName(errno);
      return "";
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

// Reads the whole file at `path` with open(2)+read(2).
inline std::string ReadFileContents(const char* path) {
  FileDescriptor fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    ADD_FAILURE() << "open(" << path << "): " << ErrnoName(errno);
    return "";
  }
  return ReadToEnd(fd.get());
}

// Hides a value from the optimiser, so deliberately invalid arguments (e.g.
// a negative count) reach the syscall without compile-time warnings.
template <typename T>
T Opaque(T v) {
  asm volatile("" : "+r"(v));
  return v;
}

// An address that is never mapped (below mmap_min_addr): passing it as a
// user buffer must give EFAULT, unless the kernel never touches the buffer.
template <typename T = void>
T* BadAddress() {
  return reinterpret_cast<T*>(Opaque<uintptr_t>(1));
}

inline size_t PageSize() {
  return static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

// A regular, non-empty, world-readable file present on every Debian 12
// system (it is a symlink to ../usr/lib/os-release; open(2) follows it).
inline constexpr const char kRegularFile[] = "/etc/os-release";

// True if [addr, addr+len) is unmapped: MAP_FIXED_NOREPLACE succeeds there.
inline bool IsUnmapped(void* addr, size_t len) {
  void* p = ::mmap(addr, len, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED) return false;
  ::munmap(p, len);
  return p == addr;
}

// Runs `body` in a forked child; returns its exit code (0: success, else
// the step that went wrong), 128 + N if signal N killed it, -1 if fork or
// wait failed. For tests that change what they cannot put back (ids,
// capabilities).
inline int InChild(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace syscall_test

#endif  // TESTS_SYSCALLS_TEST_UTIL_H_
