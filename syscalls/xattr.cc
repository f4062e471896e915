// Extended attributes: setxattr(2), lsetxattr(2), fsetxattr(2),
// getxattr(2), lgetxattr(2), fgetxattr(2), listxattr(2), llistxattr(2),
// flistxattr(2), removexattr(2), lremovexattr(2), fremovexattr(2).
//
// As Linux (fs/xattr.c): the flags, the name and the value are checked
// and copied in before the path is walked or the fd looked up; a size of
// 0 asks for the length; a buffer too small is ERANGE (E2BIG if it was
// already the largest possible).
#include <sys/syscall.h>
#include <sys/xattr.h>

#include "sentry/vfs/xattr.h"
#include "syscalls/fs_util.h"

namespace syscalls {
namespace {

using vfs::kXattrListMax;
using vfs::kXattrNameMax;
using vfs::kXattrSizeMax;

// import_xattr_name: 1 to 255 bytes, else ERANGE.
Result<std::string> CopyInName(Task& t, UserPath name) {
  auto s = t.mm().CopyInString(name.addr, kXattrNameMax);
  if (!s && s.error() == base::Errno(ENAMETOOLONG)) return Err(ERANGE);
  if (s && s->empty()) return Err(ERANGE);
  return s;
}

// setxattr_copy: the flags, the name, then the value.
struct SetArgs {
  std::string name;
  std::string value;
  int flags;
};

Result<SetArgs> CopyInSet(Task& t, UserPath name, UserPtr<uint8_t> value,
                          size_t size, int flags) {
  if (flags & ~(XATTR_CREATE | XATTR_REPLACE)) return Err(EINVAL);
  SetArgs a{TRY(CopyInName(t, name)), {}, flags};
  if (size > kXattrSizeMax) return Err(E2BIG);
  a.value.resize(size);
  if (size) TRY(t.mm().CopyIn(value.addr, a.value.data(), size));
  return a;
}

// The file of an f*xattr call: O_PATH descriptors are EBADF, as for
// every call that reads or changes the file itself.
Result<FilePtr> XattrFile(Task& t, Fd fd) {
  FilePtr f = TRY(GetFile(t, fd));
  if (f->is_path()) return Err(EBADF);
  return f;
}

// Copies what getxattr or listxattr found out, or says how long it is.
Result<size_t> CopyOutSized(Task& t, const std::string& data,
                            UserPtr<uint8_t> buf, size_t size, size_t max) {
  if (size == 0) return data.size();
  if (data.size() > std::min(size, max)) {
    return Err(size >= max ? E2BIG : ERANGE);
  }
  TRY(t.mm().CopyOut(buf.addr, data.data(), data.size()));
  return data.size();
}

// The names, each followed by its NUL, as listxattr(2) returns them.
std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    out += n;
    out.push_back('\0');
  }
  return out;
}

Result<void> SetxattrAt(Task& t, UserPath path, bool follow, UserPath name,
                        UserPtr<uint8_t> value, size_t size, int flags) {
  SetArgs a = TRY(CopyInSet(t, name, value, size, flags));
  std::string p = TRY(CopyInPath(t, path));
  vfs::PathContext ctx = TRY(PathContextFor(t, AT_FDCWD, p));
  return t.kernel().vfs().SetXattr(ctx, p, follow, a.name, a.value, a.flags);
}

Result<size_t> GetxattrAt(Task& t, UserPath path, bool follow, UserPath name,
                          UserPtr<uint8_t> value, size_t size) {
  std::string n = TRY(CopyInName(t, name));
  std::string p = TRY(CopyInPath(t, path));
  vfs::PathContext ctx = TRY(PathContextFor(t, AT_FDCWD, p));
  std::string v = TRY(t.kernel().vfs().GetXattr(ctx, p, follow, n));
  return CopyOutSized(t, v, value, size, kXattrSizeMax);
}

Result<size_t> ListxattrAt(Task& t, UserPath path, bool follow,
                           UserPtr<uint8_t> list, size_t size) {
  std::string p = TRY(CopyInPath(t, path));
  vfs::PathContext ctx = TRY(PathContextFor(t, AT_FDCWD, p));
  auto names = TRY(t.kernel().vfs().ListXattr(ctx, p, follow));
  return CopyOutSized(t, JoinNames(names), list, size, kXattrListMax);
}

Result<void> RemovexattrAt(Task& t, UserPath path, bool follow,
                           UserPath name) {
  std::string n = TRY(CopyInName(t, name));
  std::string p = TRY(CopyInPath(t, path));
  vfs::PathContext ctx = TRY(PathContextFor(t, AT_FDCWD, p));
  return t.kernel().vfs().RemoveXattr(ctx, p, follow, n);
}

// Setxattr implements Linux syscall setxattr(2).
Result<void> Setxattr(Task& t, UserPath path, UserPath name,
                      UserPtr<uint8_t> value, size_t size, int flags) {
  return SetxattrAt(t, path, true, name, value, size, flags);
}

// Lsetxattr implements Linux syscall lsetxattr(2).
Result<void> Lsetxattr(Task& t, UserPath path, UserPath name,
                       UserPtr<uint8_t> value, size_t size, int flags) {
  return SetxattrAt(t, path, false, name, value, size, flags);
}

// Fsetxattr implements Linux syscall fsetxattr(2).
Result<void> Fsetxattr(Task& t, Fd fd, UserPath name, UserPtr<uint8_t> value,
                       size_t size, int flags) {
  SetArgs a = TRY(CopyInSet(t, name, value, size, flags));
  FilePtr f = TRY(XattrFile(t, fd));
  return t.kernel().vfs().SetXattr(*f, FileCreds(t), a.name, a.value, a.flags);
}

// Getxattr implements Linux syscall getxattr(2).
Result<size_t> Getxattr(Task& t, UserPath path, UserPath name,
                        UserPtr<uint8_t> value, size_t size) {
  return GetxattrAt(t, path, true, name, value, size);
}

// Lgetxattr implements Linux syscall lgetxattr(2).
Result<size_t> Lgetxattr(Task& t, UserPath path, UserPath name,
                         UserPtr<uint8_t> value, size_t size) {
  return GetxattrAt(t, path, false, name, value, size);
}

// Fgetxattr implements Linux syscall fgetxattr(2).
Result<size_t> Fgetxattr(Task& t, Fd fd, UserPath name, UserPtr<uint8_t> value,
                         size_t size) {
  std::string n = TRY(CopyInName(t, name));
  FilePtr f = TRY(XattrFile(t, fd));
  std::string v = TRY(t.kernel().vfs().GetXattr(*f, FileCreds(t), n));
  return CopyOutSized(t, v, value, size, kXattrSizeMax);
}

// Listxattr implements Linux syscall listxattr(2).
Result<size_t> Listxattr(Task& t, UserPath path, UserPtr<uint8_t> list,
                         size_t size) {
  return ListxattrAt(t, path, true, list, size);
}

// Llistxattr implements Linux syscall llistxattr(2).
Result<size_t> Llistxattr(Task& t, UserPath path, UserPtr<uint8_t> list,
                          size_t size) {
  return ListxattrAt(t, path, false, list, size);
}

// Flistxattr implements Linux syscall flistxattr(2).
Result<size_t> Flistxattr(Task& t, Fd fd, UserPtr<uint8_t> list, size_t size) {
  FilePtr f = TRY(XattrFile(t, fd));
  auto names = TRY(t.kernel().vfs().ListXattr(*f, FileCreds(t)));
  return CopyOutSized(t, JoinNames(names), list, size, kXattrListMax);
}

// Removexattr implements Linux syscall removexattr(2).
Result<void> Removexattr(Task& t, UserPath path, UserPath name) {
  return RemovexattrAt(t, path, true, name);
}

// Lremovexattr implements Linux syscall lremovexattr(2).
Result<void> Lremovexattr(Task& t, UserPath path, UserPath name) {
  return RemovexattrAt(t, path, false, name);
}

// Fremovexattr implements Linux syscall fremovexattr(2).
Result<void> Fremovexattr(Task& t, Fd fd, UserPath name) {
  std::string n = TRY(CopyInName(t, name));
  FilePtr f = TRY(XattrFile(t, fd));
  return t.kernel().vfs().RemoveXattr(*f, FileCreds(t), n);
}

// The table keeps the pointer: static storage.
constexpr char kNote[] =
    "user.*, trusted.* and security.* on tmpfs and the overlay root "
    "(lower files show user.* only); no POSIX ACLs (system.*: "
    "EOPNOTSUPP); devfs, procfs and sysfs keep none (EOPNOTSUPP)";

}  // namespace

void RegisterXattr(Registrar& r) {
  r.Partial<&Setxattr>(SYS_setxattr, kNote);
  r.Partial<&Lsetxattr>(SYS_lsetxattr, kNote);
  r.Partial<&Fsetxattr>(SYS_fsetxattr, kNote);
  r.Partial<&Getxattr>(SYS_getxattr, kNote);
  r.Partial<&Lgetxattr>(SYS_lgetxattr, kNote);
  r.Partial<&Fgetxattr>(SYS_fgetxattr, kNote);
  r.Partial<&Listxattr>(SYS_listxattr, kNote);
  r.Partial<&Llistxattr>(SYS_llistxattr, kNote);
  r.Partial<&Flistxattr>(SYS_flistxattr, kNote);
  r.Partial<&Removexattr>(SYS_removexattr, kNote);
  r.Partial<&Lremovexattr>(SYS_lremovexattr, kNote);
  r.Partial<&Fremovexattr>(SYS_fremovexattr, kNote);
}

}  // namespace syscalls
