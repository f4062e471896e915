// The mount table as /proc/<pid>/mounts and mountinfo show it: what the
// sandbox has mounted, never the host's mounts.
#include <sys/mount.h>

#include "sentry/vfs/vfs_impl.h"

namespace vfs {
namespace {

// mountinfo's per-mount options: "rw,nosuid,nodev,noexec,relatime".
std::string MountOptions(unsigned long flags) {
  std::string s = (flags & MS_RDONLY) ? "ro" : "rw";
  if (flags & MS_NOSUID) s += ",nosuid";
  if (flags & MS_NODEV) s += ",nodev";
  if (flags & MS_NOEXEC) s += ",noexec";
  if (flags & MS_NOATIME) {
    s += ",noatime";
  } else if (flags & MS_NODIRATIME) {
    s += ",nodiratime";
  } else if (!(flags & MS_STRICTATIME)) {
    s += ",relatime";
  }
  return s;
}

}  // namespace

std::vector<MountEntry> VfsImpl::Mounts() const {
  auto dev_of = [](Filesystem* fs) -> dev_t {
    auto st = fs->Root(PathContext{.start = "/"})->Stat();
    return st ? st->st_dev : 0;
  };
  std::shared_ptr<const MountTable> table = Table();
  std::vector<MountEntry> out;
  const bool overlay = dynamic_cast<OverlayFs*>(root_.get()) != nullptr;
  out.push_back({.id = 1,
                 .parent_id = 0,
                 .dev = dev_of(root_.get()),
                 .point = "/",
                 .options = MountOptions(table->root_flags |
                                         (overlay ? 0 : MS_RDONLY)),
                 .fstype = overlay ? "overlay" : "rootfs",
                 .source = overlay ? "overlay" : "none",
                 .super_options = overlay ? "rw" : "ro"});
  // The map is sorted by path, so a mount comes after every mount that
  // holds it; its parent is the longest of those.
  for (const auto& [path, m] : table->mounts) {
    Filesystem* fs = m.fs;
    MountEntry e{.id = m.id,
                 .parent_id = 1,
                 .dev = dev_of(fs),
                 .root = m.root_path,
                 .point = path,
                 .options = MountOptions(m.flags)};
    for (const MountEntry& p : out) {
      if (p.point != "/" && path.starts_with(p.point + "/"))
        e.parent_id = p.id;
    }
    e.super_options = "rw";
    if (fs == &procfs_) {
      e.fstype = e.source = "proc";
    } else if (fs == &devfs_) {
      e.fstype = e.source = "tmpfs";
      e.super_options = "rw,mode=755";
    } else if (fs == &devpts_) {
      e.fstype = e.source = "devpts";
    } else if (fs == &sysfs_) {
      e.fstype = e.source = "sysfs";
      e.super_options = "ro";
    } else if (IsTmpfs(fs)) {
      e.fstype = e.source = "tmpfs";
    } else if (fs == root_.get()) {
      // A bind mount of part of "/".
      e.fstype = overlay ? "overlay" : "rootfs";
      e.source = overlay ? "overlay" : "none";
    } else {
      // A host directory shown read-only (runsc do's working directory),
      // named as gVisor names what its gofer serves.
      e.options = MountOptions(m.flags | MS_RDONLY);
      e.fstype = "9p";
      e.source = "none";
      e.super_options = "ro";
    }
    if (!m.source.empty()) e.source = m.source;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace vfs
