// The open files of a pseudo-terminal: the master (from /dev/ptmx) and the
// replica (/dev/pts/N, or /dev/tty for the controlling terminal).
#ifndef SENTRY_TTY_PTY_H_
#define SENTRY_TTY_PTY_H_

#include <sys/stat.h>

#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "sentry/tty/terminal.h"
#include "sentry/vfs/file_description.h"

namespace kernel {
class Kernel;
}

namespace tty {

// A master for `term`. `kernel` (may be null in tests) gets the hangup's
// signals when the master closes; `on_close` then runs (devpts forgets
// the name). `st` is what fstat shows (/dev/ptmx's inode).
std::shared_ptr<vfs::FileDescription> NewMaster(
    std::shared_ptr<Terminal> term, kernel::Kernel* kernel, int flags,
    struct stat st, std::string path, std::function<void()> on_close);

// A replica of `term`; EIO while it is locked or after a hangup.
base::Result<std::shared_ptr<vfs::FileDescription>> NewReplica(
    std::shared_ptr<Terminal> term, kernel::Kernel* kernel, int flags,
    struct stat st, std::string path);

// The terminal behind an open master or replica (null for other files).
std::shared_ptr<Terminal> TerminalOf(vfs::FileDescription& f);

// The ioctls both ends answer (tty_ioctl.cc). `master` says which end
// `f` is.
base::Result<uint64_t> TerminalIoctl(kernel::Task& t,
                                     const std::shared_ptr<Terminal>& term,
                                     bool master, vfs::FileDescription& f,
                                     uint32_t cmd, uint64_t arg);

}  // namespace tty

#endif  // SENTRY_TTY_PTY_H_
