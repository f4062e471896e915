// Filesystem statistics: statfs(2), fstatfs(2).
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "syscalls/fs_util.h"

namespace syscalls {
namespace {

// Statfs implements Linux syscall statfs(2).
Result<void> Statfs(Task& t, UserPath path, UserPtr<struct statfs> buf) {
  std::string p = TRY(CopyInPath(t, path));
  vfs::PathContext ctx = TRY(PathContextFor(t, AT_FDCWD, p));
  struct statfs s = TRY(t.kernel().vfs().Statfs(ctx, p));
  return t.mm().CopyOutObj(buf, s);
}

// Fstatfs implements Linux syscall fstatfs(2) (O_PATH descriptors too).
Result<void> Fstatfs(Task& t, Fd fd, UserPtr<struct statfs> buf) {
  FilePtr f = TRY(GetFile(t, fd));
  struct statfs s = TRY(t.kernel().vfs().Statfs(*f));
  return t.mm().CopyOutObj(buf, s);
}

}  // namespace

void RegisterStatfs(Registrar& r) {
  r.Partial<&Statfs>(SYS_statfs,
                     "tmpfs, devfs and procfs made up; the host root shows "
                     "the host's numbers, read-only");
  r.Partial<&Fstatfs>(SYS_fstatfs,
                      "as statfs; pipes and sockets get their magic only");
}

}  // namespace syscalls
