// --console-socket, as runc does it: a host pseudo-terminal whose master
// goes to the caller's unix socket (one sendmsg, "/dev/ptmx" and the fd
// by SCM_RIGHTS) and whose replica goes to the sandbox. The sentry relays
// the replica to a terminal of its own (sentry/tty/console.h), which is
// the process's stdio and controlling terminal. A host pty, not a socket
// or pipe pair, because the shims treat the master as a terminal: the
// containerd shim checks it with TCGETS and resizes it with TIOCSWINSZ.
#ifndef RUNSC_HOST_PTY_H_
#define RUNSC_HOST_PTY_H_

#include <sys/ioctl.h>

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"
#include "runsc/oci/spec.h"

namespace runsc {

// process.consoleSize as a struct winsize.
std::optional<winsize> WinsizeOf(const std::optional<oci::ConsoleSize>& size);

// Makes the pair (replica in raw mode; the master sized `size` if given),
// sends the master to `console_socket` and returns the replica.
absl::StatusOr<base::UniqueFd> ConsoleForSocket(
    const std::string& console_socket, std::optional<winsize> size);

}  // namespace runsc

#endif  // RUNSC_HOST_PTY_H_
