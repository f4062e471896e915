// The mount table as /proc/<pid>/mounts and mountinfo show it: what the
// sandbox has mounted, never the host's mounts.
#include "sentry/vfs/vfs_impl.h"

namespace vfs {

std::vector<MountEntry> VfsImpl::Mounts() const {
  auto dev_of = [](Filesystem* fs) -> dev_t {
    auto st = fs->Root(PathContext{.start = "/"})->Stat();
    return st ? st->st_dev : 0;
  };
  std::vector<MountEntry> out;
  const bool overlay = dynamic_cast<OverlayFs*>(root_.get()) != nullptr;
  out.push_back({.id = 1,
                 .parent_id = 0,
                 .dev = dev_of(root_.get()),
                 .point = "/",
                 .options = overlay ? "rw,relatime" : "ro,relatime",
                 .fstype = overlay ? "overlay" : "rootfs",
                 .source = overlay ? "overlay" : "none",
                 .super_options = overlay ? "rw" : "ro"});
  // The map is sorted by path, so a mount comes after every mount that
  // holds it; its parent is the longest of those.
  for (const auto& [path, fs] : mounts_.mounts) {
    MountEntry e{.id = static_cast<int>(out.size()) + 1,
                 .parent_id = 1,
                 .dev = dev_of(fs),
                 .point = path};
    for (const MountEntry& m : out) {
      if (m.point != "/" && path.starts_with(m.point + "/")) e.parent_id = m.id;
    }
    if (fs == &procfs_) {
      e.options = "rw,nosuid,nodev,noexec,relatime";
      e.fstype = e.source = "proc";
      e.super_options = "rw";
    } else if (fs == &devfs_) {
      e.options = "rw,nosuid";
      e.fstype = e.source = "tmpfs";
      e.super_options = "rw,mode=755";
    } else if (fs == &devpts_) {
      e.options = "rw,nosuid,noexec,relatime";
      e.fstype = e.source = "devpts";
      e.super_options = "rw";
    } else if (fs == &sysfs_) {
      e.options = "ro,nosuid,nodev,noexec,relatime";
      e.fstype = e.source = "sysfs";
      e.super_options = "ro";
    } else if (IsTmpfs(fs)) {
      e.options = "rw,relatime";
      e.fstype = e.source = "tmpfs";
      e.super_options = "rw";
    } else {
      // A host directory shown read-only (runsc do's working directory),
      // named as gVisor names what its gofer serves.
      e.options = "ro,relatime";
      e.fstype = "9p";
      e.source = "none";
      e.super_options = "ro";
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace vfs
