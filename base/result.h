// Result<T>: a value or a Linux errno, the sentry's one error idiom.
//
// Handlers and sentry code return Result<T>; TRY(expr) unwraps a value or
// returns the error to the caller. Only the syscall dispatcher turns an
// error into -errno in rax.
#ifndef BASE_RESULT_H_
#define BASE_RESULT_H_

#include <cerrno>
#include <expected>
#include <string_view>

namespace base {

// Kernel-internal codes that never reach the application: the dispatcher
// turns them into a restart or into EINTR (see syscalls/README.md).
inline constexpr int kERESTARTSYS = 512;
inline constexpr int kERESTARTNOINTR = 513;
inline constexpr int kERESTARTNOHAND = 514;
inline constexpr int kERESTART_RESTARTBLOCK = 516;

// An errno value (EINVAL, EFAULT, ...). Always positive.
struct Errno {
  int value;
  constexpr explicit Errno(int v) : value(v) {}
  friend constexpr bool operator==(Errno a, Errno b) = default;
};

template <class T>
using Result = std::expected<T, Errno>;

// Err(EINVAL) is the error form of any Result<T>.
constexpr std::unexpected<Errno> Err(int e) {
  return std::unexpected<Errno>(Errno(e));
}

// The symbolic name of an errno value ("ENOENT"), or "E<n>".
std::string_view ErrnoName(int e);

}  // namespace base

// Unwraps a Result: evaluates to the value, or returns the error from the
// enclosing function (which must itself return some Result<U>). Works for
// Result<void> too, as a statement.
#define TRY(expr)                                            \
  ({                                                         \
    auto&& try_result_ = (expr);                             \
    if (!try_result_.has_value()) [[unlikely]]               \
      return std::unexpected<::base::Errno>(try_result_.error()); \
    std::move(try_result_).value();                          \
  })

#endif  // BASE_RESULT_H_
