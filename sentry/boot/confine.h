// The sentry confines itself once the kernel is up, before the app's first
// instruction: the app is assumed able to take over the sentry, so the
// sentry must hold nothing of the host worth having.
//
// 1. Its root becomes an empty, read-only tmpfs in a mount namespace of
//    its own (the host's tree detached): every file it serves came from
//    the gofer or was handed to it at start.
// 2. A seccomp allowlist (sentry_seccomp.cc; docs/security.md lists every
//    syscall and why) covers every thread: anything else kills the
//    sandbox. Opening a path is refused (EACCES) rather than fatal, so a
//    library probing a file cannot end the sandbox; it finds nothing.
#ifndef SENTRY_BOOT_CONFINE_H_
#define SENTRY_BOOT_CONFINE_H_

#include "base/result.h"

namespace boot {

// Pivots into an empty tmpfs in a new mount namespace. EPERM without
// CAP_SYS_ADMIN (an unprivileged runsc do: the caller logs it and goes on
// with the host's root, which the sentry still never walks).
base::Result<void> EnterEmptyRoot();

// Installs the sentry's seccomp allowlist on every thread of the process
// (SECCOMP_FILTER_FLAG_TSYNC). No new privileges first, as seccomp needs.
base::Result<void> InstallSentrySeccomp();

}  // namespace boot

#endif  // SENTRY_BOOT_CONFINE_H_
