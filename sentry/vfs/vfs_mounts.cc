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

std::vector<MountEntry> VfsImpl::Mounts(const MountNamespace* ns) const {
  std::shared_ptr<const MountTable> table =
      ns ? ns->Table() : initial_ns_->Table();
  const bool overlay = dynamic_cast<OverlayFs*>(root_.get()) != nullptr;
  auto describe = [&](const vfs::Mount& m, std::string point) {
    Filesystem* fs = m.fs;
    auto st = fs->Root(PathContext{.start = "/"})->Stat();
    MountEntry e{.id = m.id,
                 .parent_id = m.parent,
                 .dev = st ? st->st_dev : 0,
                 .root = m.root_path,
                 .point = std::move(point),
                 .options = MountOptions(m.flags)};
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
      // The sandbox's root (or a bind mount of part of it): the overlay,
      // or the host tree read-only.
      e.fstype = overlay ? "overlay" : "rootfs";
      e.source = overlay ? "overlay" : "none";
      if (!overlay) {
        e.options = MountOptions(m.flags | MS_RDONLY);
        e.super_options = "ro";
      }
    } else {
      // A host directory shown read-only (runsc do's working directory),
      // named as gVisor names what its gofer serves.
      e.options = MountOptions(m.flags | MS_RDONLY);
      e.fstype = "9p";
      e.source = "none";
      e.super_options = "ro";
    }
    if (!m.source.empty()) e.source = m.source;
    return e;
  };
  // Each stack bottom-up, so a mount comes after the one it covers; the
  // map is sorted by path, so after every mount that holds it.
  std::vector<MountEntry> out;
  auto add_stack = [&](const vfs::Mount& top, const std::string& point) {
    std::vector<const vfs::Mount*> stack;
    for (const vfs::Mount* m = &top; m; m = m->covered.get())
      stack.push_back(m);
    for (auto it = stack.rbegin(); it != stack.rend(); ++it)
      out.push_back(describe(**it, point));
  };
  add_stack(table->root_mount, "/");
  for (const auto& [path, m] : table->mounts) add_stack(m, path);
  return out;
}

}  // namespace vfs
