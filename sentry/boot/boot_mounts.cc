#include "sentry/boot/boot_mounts.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include "base/log.h"

namespace boot {
namespace {

std::string ErrText(const base::Errno& e) {
  return std::string(base::ErrnoName(e.value));
}

// mkdir -p in the sandbox (as root, in the overlay's upper layer): runc
// makes each mount's destination the same way.
base::Result<void> MkdirAll(vfs::Vfs& vfs, const vfs::PathContext& ctx,
                            const std::string& path) {
  for (size_t end = path.find('/', 1);; end = path.find('/', end + 1)) {
    const std::string prefix = path.substr(0, end);
    auto r = vfs.Mkdir(ctx, prefix, 0755);
    if (!r && r.error().value != EEXIST) return r;
    if (end == std::string::npos) break;
  }
  return {};
}

// The one tmpfs option the sandbox's tmpfs takes: its root's mode.
// size= and nr_inodes= are accepted and not enforced (docs/running.md):
// every tmpfs draws on the sandbox's memory, bounded by its cgroup.
std::optional<mode_t> ModeOption(const std::vector<std::string>& data) {
  for (const std::string& d : data) {
    if (d.starts_with("mode=")) {
      try {
        return static_cast<mode_t>(std::stoul(d.substr(5), nullptr, 8) & 07777);
      } catch (...) {
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

base::Result<void> MountOne(vfs::Vfs& vfs, const vfs::PathContext& ctx,
                            const MountSpec& m) {
  if (m.type == "tmpfs" && m.destination == "/dev") {
    // The sandbox's /dev is its own devfs (null, zero, full, random,
    // urandom, tty, ptmx, pts, shm), what runc would build in that tmpfs.
    LOG(Info) << "mount of tmpfs on /dev: the sandbox's own /dev stays";
    return {};
  }
  if (m.type == "mqueue" || m.type == "cgroup" || m.type == "cgroup2") {
    LOG(Warning) << "mount of " << m.type << " on " << m.destination
                 << ": the sandbox has no such filesystem; not mounted";
    return {};
  }
  TRY(MkdirAll(vfs, ctx, m.destination));
  TRY(vfs.Mount(ctx, m.type, m.destination, m.type, m.flags));
  if (m.type == "tmpfs") {
    if (auto mode = ModeOption(m.data)) {
      TRY(vfs.SetAttr(ctx, m.destination, true, {.mode = *mode}));
    }
  }
  return {};
}

}  // namespace

base::Result<void> ApplyMounts(vfs::Vfs& vfs, const Config& config,
                               std::string* why) {
  const vfs::PathContext ctx{.start = "/"};
  for (const MountSpec& m : config.mounts) {
    if (auto r = MountOne(vfs, ctx, m); !r) {
      *why = "cannot mount " + m.type + " on " + m.destination + ": " +
             ErrText(r.error());
      return r;
    }
  }
  // As runc: a masked directory is covered by an empty read-only tmpfs,
  // a masked file by /dev/null; a path that does not exist is skipped.
  for (const std::string& path : config.masked_paths) {
    auto st = vfs.Stat(ctx, path, /*follow=*/true);
    if (!st) continue;
    auto r = S_ISDIR(st->st_mode)
                 ? vfs.Mount(ctx, "tmpfs", path, "tmpfs", MS_RDONLY)
                 : vfs.Mount(ctx, "/dev/null", path, "", MS_BIND);
    if (!r) {
      *why = "cannot mask " + path + ": " + ErrText(r.error());
      return r;
    }
  }
  // A read-only path is bound onto itself, then made read-only.
  for (const std::string& path : config.readonly_paths) {
    if (!vfs.Stat(ctx, path, /*follow=*/true)) continue;
    auto r = vfs.Mount(ctx, path, path, "", MS_BIND | MS_REC);
    if (r) r = vfs.Mount(ctx, "", path, "", MS_REMOUNT | MS_BIND | MS_RDONLY);
    if (!r) {
      *why = "cannot make " + path + " read-only: " + ErrText(r.error());
      return r;
    }
  }
  if (config.root_readonly) {
    if (auto r = vfs.Mount(ctx, "", "/", "", MS_REMOUNT | MS_RDONLY); !r) {
      *why = "cannot make the root read-only: " + ErrText(r.error());
      return r;
    }
  }
  return {};
}

}  // namespace boot
