// A task's user and group ids. Checked in the sentry; never host ids.
#ifndef SENTRY_KERNEL_CREDENTIALS_H_
#define SENTRY_KERNEL_CREDENTIALS_H_

#include <cstdint>
#include <vector>

namespace kernel {

struct Credentials {
  uint32_t ruid = 0, euid = 0, suid = 0, fsuid = 0;
  uint32_t rgid = 0, egid = 0, sgid = 0, fsgid = 0;
  std::vector<uint32_t> groups;
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_CREDENTIALS_H_
