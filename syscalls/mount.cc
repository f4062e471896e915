// Mounts and the root directory: mount(2), umount2(2), pivot_root(2),
// chroot(2).
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "syscalls/common.h"

namespace syscalls {
namespace {

constexpr size_t kMaxFstype = 4096;  // a page, as Linux's copy_mount_string

// Mount implements Linux syscall mount(2).
// `data` (filesystem options) is not read: no filesystem here takes any.
Result<void> Mount(Task& t, UserPath source, UserPath target,
                   UserPtr<char> fstype, unsigned long flags,
                   UserPtr<char> data) {
  std::string target_path = TRY(CopyInPath(t, target));
  std::string source_path;
  if (source.addr != 0) source_path = TRY(CopyInPath(t, source));
  std::string type;
  if (fstype.addr != 0)
    type = TRY(t.mm().CopyInString(fstype.addr, kMaxFstype));
  // The old magic number in the high half means nothing any more.
  if ((flags & 0xffff0000) == MS_MGC_VAL) flags &= ~0xffff0000UL;
  if (flags & MS_NOUSER) return Err(EINVAL);
  vfs::PathContext ctx = TRY(t.PathContextAt(AT_FDCWD));
  if (!t.creds().HasCap(CAP_SYS_ADMIN)) {
    // Linux looks the target up first: a missing one is ENOENT.
    TRY(t.kernel().vfs().Stat(ctx, target_path, true));
    return Err(EPERM);
  }
  return t.kernel().vfs().Mount(ctx, source_path, target_path, type, flags);
}

// Umount2 implements Linux syscall umount2(2).
Result<void> Umount2(Task& t, UserPath target, int flags) {
  std::string path = TRY(CopyInPath(t, target));
  vfs::PathContext ctx = TRY(t.PathContextAt(AT_FDCWD));
  if (!t.creds().HasCap(CAP_SYS_ADMIN)) return Err(EPERM);
  return t.kernel().vfs().Umount(ctx, path, flags);
}

// PivotRoot implements Linux syscall pivot_root(2).
Result<void> PivotRoot(Task& t, UserPath new_root, UserPath put_old) {
  if (!t.creds().HasCap(CAP_SYS_ADMIN)) return Err(EPERM);
  std::string new_path = TRY(CopyInPath(t, new_root));
  std::string old_path = TRY(CopyInPath(t, put_old));
  vfs::PathContext ctx = TRY(t.PathContextAt(AT_FDCWD));
  vfs::PivotMove move =
      TRY(t.kernel().vfs().PivotRoot(ctx, new_path, old_path));
  t.kernel().ApplyPivot(ctx.mnt_ns, move);
  return {};
}

// Chroot implements Linux syscall chroot(2).
Result<void> Chroot(Task& t, UserPath path) {
  std::string p = TRY(CopyInPath(t, path));
  vfs::PathContext ctx = TRY(t.PathContextAt(AT_FDCWD));
  std::string dir = TRY(t.kernel().vfs().ResolveDirectory(ctx, p));
  kernel::Credentials c = t.creds();
  vfs::PathContext real = ctx;  // `dir` is a real path
  real.root = "/";
  TRY(t.kernel().vfs().Access(real, dir, X_OK, true, c.fsuid, c.fsgid));
  if (!c.HasCap(CAP_SYS_CHROOT)) return Err(EPERM);
  t.fs().set_root(std::move(dir));
  return {};
}

}  // namespace

void RegisterMount(Registrar& r) {
  r.Partial<&Mount>(SYS_mount,
                    "tmpfs, proc, sysfs, devpts, MS_BIND (MS_REC), "
                    "MS_REMOUNT, MS_MOVE; MS_RDONLY and MS_NOEXEC enforced, "
                    "MS_NOSUID/MS_NODEV shown only; propagation flags "
                    "accepted (every mount private); no options (data)");
  r.Partial<&Umount2>(SYS_umount2,
                      "MNT_FORCE is a plain umount; files open on the mount "
                      "keep it alive (no EBUSY for them)");
  r.Partial<&PivotRoot>(SYS_pivot_root,
                        "not from a chroot (EINVAL); open files keep "
                        "showing their old paths in /proc");
  r.Partial<&Chroot>(SYS_chroot,
                     "/proc/<pid>/fd, cwd, exe and mountinfo show paths "
                     "from the real root");
}

}  // namespace syscalls
