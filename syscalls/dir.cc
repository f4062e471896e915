// Directories: getdents64(2), getcwd(2), chdir(2), fchdir(2).
#include <sys/stat.h>
#include <sys/syscall.h>

#include <vector>

#include "syscalls/common.h"

namespace syscalls {
namespace {

// Getdents64 implements Linux syscall getdents64(2).
Result<size_t> Getdents64(Task& t, Fd fd, UserPtr<uint8_t> dirp,
                          unsigned count) {
  FilePtr f = TRY(GetFile(t, fd));
  if (f->is_path()) return Err(EBADF);
  // The records are built in a sentry buffer, then copied out whole.
  constexpr unsigned kMaxChunk = 1 << 20;
  std::vector<uint8_t> buf(count < kMaxChunk ? count : kMaxChunk);
  size_t n = TRY(f->Getdents64(buf));
  TRY(t.mm().CopyOut(dirp.addr, buf.data(), n));
  return n;
}

// Getcwd implements Linux syscall getcwd(2).
// After chroot(2) the path is the part below the root; a cwd outside the
// root reads "(unreachable)/...", as Linux.
Result<size_t> Getcwd(Task& t, UserPtr<char> buf, size_t size) {
  std::string cwd = t.fs().cwd();
  const std::string root = t.fs().root();
  if (root != "/") {
    if (cwd == root) {
      cwd = "/";
    } else if (cwd.starts_with(root) && cwd[root.size()] == '/') {
      cwd = cwd.substr(root.size());
    } else {
      cwd = "(unreachable)" + cwd;
    }
  }
  if (size < cwd.size() + 1) return Err(ERANGE);
  TRY(t.mm().CopyOut(buf.addr, cwd.c_str(), cwd.size() + 1));
  return cwd.size() + 1;
}

// `dir` is a real path (from the real "/", whatever the task's root).
Result<void> CheckSearchable(Task& t, const vfs::PathContext& ctx,
                             const std::string& dir) {
  kernel::Credentials c = t.thread_group().creds();
  vfs::PathContext real = ctx;
  real.root = "/";
  return t.kernel().vfs().Access(real, dir, X_OK, true, c.euid, c.egid);
}

// Chdir implements Linux syscall chdir(2).
Result<void> Chdir(Task& t, UserPath path) {
  std::string p = TRY(CopyInPath(t, path));
  vfs::PathContext ctx = TRY(t.PathContextAt(AT_FDCWD));
  std::string dir = TRY(t.kernel().vfs().ResolveDirectory(ctx, p));
  TRY(CheckSearchable(t, ctx, dir));
  t.fs().set_cwd(std::move(dir));
  return {};
}

// Fchdir implements Linux syscall fchdir(2).
Result<void> Fchdir(Task& t, Fd fd) {
  vfs::PathContext ctx = TRY(t.PathContextAt(fd.value));  // ENOTDIR, EBADF
  TRY(CheckSearchable(t, ctx, ctx.start));
  t.fs().set_cwd(ctx.start);
  return {};
}

}  // namespace

void RegisterDir(Registrar& r) {
  r.Full<&Getdents64>(SYS_getdents64);
  r.Full<&Getcwd>(SYS_getcwd).Show(SYS_getcwd, 0, ArgKind::kOutBuf);
  r.Full<&Chdir>(SYS_chdir);
  r.Full<&Fchdir>(SYS_fchdir);
}

}  // namespace syscalls
