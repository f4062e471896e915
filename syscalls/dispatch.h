// Typed syscall handlers.
//
// A handler is an ordinary function with typed parameters:
//
//   Result<uint64_t> Read(Task& t, Fd fd, UserPtr<uint8_t> buf, size_t n);
//
// Invoke<&Read> decodes the raw registers into those types (ints use the
// low 32 bits, as Linux does) and turns the Result into the table's
// Result<uint64_t>. ArgKindsOf<&Read> tells --strace how to print each
// argument. No handler ever looks at raw registers.
#ifndef SYSCALLS_DISPATCH_H_
#define SYSCALLS_DISPATCH_H_

#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>

#include "base/result.h"
#include "sentry/kernel/syscall_table.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/user_ptr.h"

namespace syscalls {

using base::Err;
using base::Result;
using kernel::ArgKind;
using kernel::Task;
using mm::UserPtr;

// A file descriptor argument (AT_FDCWD included).
struct Fd {
  int value;
};

// A NUL-terminated path in app memory.
struct UserPath {
  uint64_t addr;
};

template <class T>
struct ArgTraits;

template <class T>
  requires std::is_integral_v<T>
struct ArgTraits<T> {
  static T Decode(uint64_t v) { return static_cast<T>(v); }
  static constexpr ArgKind kKind =
      std::is_signed_v<T> ? ArgKind::kInt : ArgKind::kUint;
};
template <>
struct ArgTraits<Fd> {
  static Fd Decode(uint64_t v) { return Fd{static_cast<int>(v)}; }
  static constexpr ArgKind kKind = ArgKind::kFd;
};
template <>
struct ArgTraits<UserPath> {
  static UserPath Decode(uint64_t v) { return UserPath{v}; }
  static constexpr ArgKind kKind = ArgKind::kPath;
};
template <class T>
struct ArgTraits<UserPtr<T>> {
  static UserPtr<T> Decode(uint64_t v) { return UserPtr<T>(v); }
  static constexpr ArgKind kKind = ArgKind::kHex;
};

template <class F>
struct FnTraits;
template <class R, class... A>
struct FnTraits<R (*)(Task&, A...)> {
  using Args = std::tuple<A...>;
  static constexpr size_t kArity = sizeof...(A);
};

template <class T>
uint64_t ToRax(T v) {
  if constexpr (std::is_signed_v<T>)
    return static_cast<uint64_t>(static_cast<int64_t>(v));
  else
    return static_cast<uint64_t>(v);
}

template <auto Fn>
Result<uint64_t> Invoke(Task& t, const kernel::SyscallArgs& raw) {
  using Traits = FnTraits<decltype(Fn)>;
  static_assert(Traits::kArity <= 6);
  return [&]<size_t... I>(std::index_sequence<I...>) -> Result<uint64_t> {
    auto r = Fn(t, ArgTraits<std::tuple_element_t<I, typename Traits::Args>>::
                       Decode(raw.a[I])...);
    if (!r) return std::unexpected(r.error());
    using V = typename decltype(r)::value_type;
    if constexpr (std::is_void_v<V>)
      return 0;
    else
      return ToRax(*r);
  }(std::make_index_sequence<Traits::kArity>{});
}

template <auto Fn>
constexpr std::array<ArgKind, 6> ArgKindsOf() {
  using Traits = FnTraits<decltype(Fn)>;
  std::array<ArgKind, 6> kinds{};
  [&]<size_t... I>(std::index_sequence<I...>) {
    ((kinds[I] =
          ArgTraits<std::tuple_element_t<I, typename Traits::Args>>::kKind),
     ...);
  }(std::make_index_sequence<Traits::kArity>{});
  return kinds;
}

template <auto Fn>
constexpr uint8_t ArityOf() {
  return FnTraits<decltype(Fn)>::kArity;
}

// Fills table entries; used by each family's Register*() function.
class Registrar {
 public:
  explicit Registrar(kernel::SyscallTable& table) : table_(table) {}

  // Registers handler Fn for `nr`, fully supported.
  template <auto Fn>
  Registrar& Full(uint64_t nr) {
    return Set<Fn>(nr, kernel::Support::kFull, "");
  }
  // Registers handler Fn for `nr`; `note` says what is missing.
  template <auto Fn>
  Registrar& Partial(uint64_t nr, const char* note) {
    return Set<Fn>(nr, kernel::Support::kPartial, note);
  }
  // `nr` always fails with `err`, on purpose (`note` says why).
  Registrar& Error(uint64_t nr, int err, const char* note);
  // Overrides how --strace shows argument `i` of `nr`.
  Registrar& Show(uint64_t nr, int i, ArgKind kind);

 private:
  template <auto Fn>
  Registrar& Set(uint64_t nr, kernel::Support support, const char* note) {
    kernel::SyscallEntry& e = table_.entries.at(nr);
    e.handler = &Invoke<Fn>;
    e.support = support;
    e.note = note;
    e.nargs = ArityOf<Fn>();
    e.args = ArgKindsOf<Fn>();
    return *this;
  }

  kernel::SyscallTable& table_;
};

}  // namespace syscalls

#endif  // SYSCALLS_DISPATCH_H_
