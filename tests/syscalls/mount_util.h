// What the mount tests share (mount_test.cc, mount_namespace_test.cc).
#ifndef TESTS_SYSCALLS_MOUNT_UTIL_H_
#define TESTS_SYSCALLS_MOUNT_UTIL_H_

#include <linux/capability.h>

#include <fstream>
#include <sstream>
#include <string>

#include "cap_util.h"
#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {

// In a child: returns `step` from the body if `cond` fails.
#define REQUIRE(step, cond)     \
  do {                          \
    if (!(cond)) return (step); \
  } while (0)

// The line of the topmost mount at `point` in `mountinfo` (a
// /proc/<pid>/mountinfo path); "" if none is there.
inline std::string MountInfoLineAt(const std::string& mountinfo,
                                   const std::string& point) {
  std::ifstream in(mountinfo);
  std::string line, found;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, dev, root, at;
    f >> id >> parent >> dev >> root >> at;
    if (at == point) found = line;
  }
  return found;
}

// Mount tests need CAP_SYS_ADMIN, and make their mounts under dir_.
class MountTestBase : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HasEffectiveCap(CAP_SYS_ADMIN)) GTEST_SKIP() << "needs CAP_SYS_ADMIN";
  }
  TempDir dir_;
};

}  // namespace syscall_test

#endif  // TESTS_SYSCALLS_MOUNT_UTIL_H_
