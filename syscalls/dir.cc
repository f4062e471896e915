// Directories: getdents(2), getdents64(2), getcwd(2), chdir(2), fchdir(2).
#include <stddef.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cstring>
#include <vector>

#include "sentry/vfs/inotify.h"
#include "syscalls/common.h"

namespace syscalls {
namespace {

// Lists up to `count` bytes of linux_dirent64 records of `fd`'s directory
// into a sentry buffer (copied out whole by the caller).
Result<std::vector<uint8_t>> ReadDirents64(Task& t, Fd fd, unsigned count) {
  FilePtr f = TRY(GetFile(t, fd));
  if (f->is_path()) return Err(EBADF);
  constexpr unsigned kMaxChunk = 1 << 20;
  std::vector<uint8_t> buf(count < kMaxChunk ? count : kMaxChunk);
  buf.resize(TRY(f->Getdents64(buf)));
  vfs::NotifyDescription(*f, IN_ACCESS);  // as Linux's iterate_dir
  return buf;
}

// Getdents64 implements Linux syscall getdents64(2).
Result<size_t> Getdents64(Task& t, Fd fd, UserPtr<uint8_t> dirp,
                          unsigned count) {
  std::vector<uint8_t> buf = TRY(ReadDirents64(t, fd, count));
  TRY(t.mm().CopyOut(dirp.addr, buf.data(), buf.size()));
  return buf.size();
}

// The two record layouts (Linux's fs/readdir.c). Both need
// ALIGN(name + 20, 8) bytes for a name, so a getdents64 listing is turned
// into a getdents one in place, record by record: the same entries fit
// the same buffer, and the offsets and EINVAL rules stay the
// filesystem's. d_ino is 64 bits in both, so EOVERFLOW (a compat-only
// error) never happens on x86-64.
struct Dirent64Head {
  uint64_t d_ino;
  int64_t d_off;
  uint16_t d_reclen;
  uint8_t d_type;
};
constexpr size_t kDirent64Name = 19;  // offsetof(linux_dirent64, d_name)
constexpr size_t kDirentName = 18;    // offsetof(linux_dirent, d_name)

// Rewrites the linux_dirent64 records in `buf` as linux_dirent records:
// the name moves down a byte, NUL-terminated, and d_type goes to the
// record's last byte.
void ToOldDirents(std::span<uint8_t> buf) {
  for (size_t pos = 0; pos + sizeof(Dirent64Head) <= buf.size();) {
    Dirent64Head head;
    std::memcpy(&head, &buf[pos], sizeof(head));
    if (head.d_reclen < kDirent64Name + 1 || pos + head.d_reclen > buf.size())
      return;  // never from our filesystems
    uint8_t* rec = &buf[pos];
    const size_t name_len =
        strnlen(reinterpret_cast<const char*>(rec + kDirent64Name),
                head.d_reclen - kDirent64Name);
    std::memmove(rec + kDirentName, rec + kDirent64Name, name_len);
    // The name's NUL, then zeros up to d_type.
    std::memset(rec + kDirentName + name_len, 0,
                head.d_reclen - kDirentName - name_len - 1);
    rec[head.d_reclen - 1] = head.d_type;
    pos += head.d_reclen;
  }
}

// Getdents implements Linux syscall getdents(2).
Result<size_t> Getdents(Task& t, Fd fd, UserPtr<uint8_t> dirp,
                        unsigned count) {
  std::vector<uint8_t> buf = TRY(ReadDirents64(t, fd, count));
  ToOldDirents(buf);
  TRY(t.mm().CopyOut(dirp.addr, buf.data(), buf.size()));
  return buf.size();
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
  kernel::Credentials c = t.creds();
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
  r.Full<&Getdents>(SYS_getdents);
  r.Full<&Getdents64>(SYS_getdents64);
  r.Full<&Getcwd>(SYS_getcwd).Show(SYS_getcwd, 0, ArgKind::kOutBuf);
  r.Full<&Chdir>(SYS_chdir);
  r.Full<&Fchdir>(SYS_fchdir);
}

}  // namespace syscalls
