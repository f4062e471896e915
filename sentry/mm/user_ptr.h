// UserPtr<T>: an address in the application's memory, never dereferenced
// by the sentry. All access goes through MemoryManager::CopyIn/CopyOut,
// which fail with EFAULT instead of crashing.
#ifndef SENTRY_MM_USER_PTR_H_
#define SENTRY_MM_USER_PTR_H_

#include <cstdint>
#include <type_traits>

namespace mm {

template <class T>
struct UserPtr {
  uint64_t addr = 0;

  constexpr UserPtr() = default;
  constexpr explicit UserPtr(uint64_t a) : addr(a) {}
  bool IsNull() const { return addr == 0; }
  // Element i of an array at this address. On overflow the result is an
  // address no mapping can contain, so the copy fails with EFAULT rather
  // than wrapping to a valid address.
  UserPtr<T> operator+(uint64_t i) const {
    uint64_t off, out;
    if (__builtin_mul_overflow(i, sizeof(T), &off) ||
        __builtin_add_overflow(addr, off, &out))
      return UserPtr<T>(~uint64_t{0});
    return UserPtr<T>(out);
  }
};

}  // namespace mm

#endif  // SENTRY_MM_USER_PTR_H_
