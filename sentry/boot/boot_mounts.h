// What an OCI spec asks of the sandbox's file tree, made in its first
// mount namespace before the app runs: config.mounts, the masked and
// read-only paths, and a read-only root.
#ifndef SENTRY_BOOT_BOOT_MOUNTS_H_
#define SENTRY_BOOT_BOOT_MOUNTS_H_

#include <string>

#include "base/result.h"
#include "sentry/boot/boot.h"
#include "sentry/vfs/vfs.h"

namespace boot {

// On failure *why names the mount and what went wrong.
base::Result<void> ApplyMounts(vfs::Vfs& vfs, const Config& config,
                               std::string* why);

}  // namespace boot

#endif  // SENTRY_BOOT_BOOT_MOUNTS_H_
