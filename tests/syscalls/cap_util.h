// Capability helpers for syscall tests: read and drop effective
// capabilities through raw capget/capset.
#ifndef TESTS_SYSCALLS_CAP_UTIL_H_
#define TESTS_SYSCALLS_CAP_UTIL_H_

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace syscall_test {

// Whether the effective set holds `cap`.
inline bool HasEffectiveCap(int cap) {
  __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2] = {};
  if (syscall(SYS_capget, &h, d) != 0) return false;
  return d[cap / 32].effective & (1u << (cap % 32));
}

// Drops `cap` from the effective set, keeping it permitted (use in a
// child: it is not put back).
inline bool DropEffectiveCap(int cap) {
  __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2] = {};
  if (syscall(SYS_capget, &h, d) != 0) return false;
  d[cap / 32].effective &= ~(1u << (cap % 32));
  return syscall(SYS_capset, &h, d) == 0;
}

}  // namespace syscall_test

#endif  // TESTS_SYSCALLS_CAP_UTIL_H_
