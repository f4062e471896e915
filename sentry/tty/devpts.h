// devpts: /dev/pts, one entry per pseudo-terminal whose master is open,
// plus ptmx (c 5:2, mode 0000, as devpts with ptmxmode=000), which opens a
// new terminal's master like /dev/ptmx.
//
// Entries are `N` for terminal N (c 136:N, mode 0620, owned by the
// master's opener and group tty (5)), inode N+3 as on Linux; the lowest
// free index is taken, at most kMaxPtys. An entry goes away when its
// master closes. A new terminal is locked: opening its replica is EIO
// until TIOCSPTLCK (unlockpt) unlocks it.
#ifndef SENTRY_TTY_DEVPTS_H_
#define SENTRY_TTY_DEVPTS_H_

#include <sys/stat.h>

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/result.h"
#include "sentry/tty/terminal.h"
#include "sentry/vfs/node.h"

namespace kernel {
class Kernel;
}

namespace tty {

class DevPtsFs : public vfs::Filesystem {
 public:
  // Linux's default /proc/sys/kernel/pty/max.
  static constexpr uint32_t kMaxPtys = 4096;
  // The group of replica devices ("tty" on Debian).
  static constexpr uint32_t kTtyGid = 5;

  DevPtsFs();
  std::shared_ptr<vfs::Node> Root(const vfs::PathContext& ctx) override;

  // open("/dev/ptmx"): a new terminal owned by `uid`; its master as
  // `path`, with `st` for fstat. ENOSPC past kMaxPtys. `kernel` (null in
  // tests) gets the hangup signals when the master closes.
  base::Result<std::shared_ptr<vfs::FileDescription>> OpenMaster(
      kernel::Kernel* kernel, uint32_t uid, int flags, struct stat st,
      std::string path);

  // A terminal for the container's console (runsc do -t): unlocked, its
  // replica reachable as /dev/console too.
  struct Console {
    std::shared_ptr<Terminal> terminal;
    std::shared_ptr<vfs::FileDescription> master;
    std::shared_ptr<vfs::FileDescription> replica;
  };
  base::Result<Console> NewConsole(kernel::Kernel* kernel, uint32_t uid);
  // /dev/console's terminal, or null.
  std::shared_ptr<Terminal> console();

  struct State;

 private:
  const std::shared_ptr<State> state_;
};

// The st_dev minor of devpts.
inline constexpr unsigned kDevptsMinor = 24;

}  // namespace tty

#endif  // SENTRY_TTY_DEVPTS_H_
