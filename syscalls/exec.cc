// execve(2) and execveat(2).
#include <sys/syscall.h>

#include <vector>

#include "base/log.h"
#include "syscalls/common.h"

namespace syscalls {
namespace {

constexpr size_t kMaxArgStrlen = 131072;  // MAX_ARG_STRLEN (32 pages)
constexpr size_t kMaxArgStrings = 0x7fffffff;

// A NULL-terminated array of string pointers (argv or envp). A NULL array
// is empty, as Linux accepts.
Result<std::vector<std::string>> CopyInStrings(Task& t, uint64_t array) {
  std::vector<std::string> out;
  if (array == 0) return out;
  for (size_t i = 0;; ++i) {
    if (i >= kMaxArgStrings) return Err(E2BIG);
    uint64_t p = TRY(t.mm().CopyInObj(UserPtr<uint64_t>(array) + i));
    if (p == 0) break;
    auto s = t.mm().CopyInString(p, kMaxArgStrlen - 1);
    if (!s) return Err(s.error().value == ENAMETOOLONG ? E2BIG : s.error().value);
    out.push_back(std::move(*s));
  }
  return out;
}

Result<void> DoExecve(Task& t, int dirfd, UserPath path, uint64_t argv,
                      uint64_t envp, int flags) {
  if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) return Err(EINVAL);
  std::string p = TRY(CopyInPath(t, path));
  if (p.empty()) {
    if (!(flags & AT_EMPTY_PATH)) return Err(ENOENT);
    FilePtr f = TRY(t.fds().Get(dirfd));
    p = f->path();
  } else if (p[0] != '/' && dirfd != AT_FDCWD) {
    vfs::PathContext ctx = TRY(t.PathContextAt(dirfd));
    p = ctx.start + (ctx.start == "/" ? "" : "/") + p;
  }
  std::vector<std::string> args = TRY(CopyInStrings(t, argv));
  std::vector<std::string> env = TRY(CopyInStrings(t, envp));
  std::string why;
  auto r = t.Exec(p, std::move(args), std::move(env), &why);
  if (!r) LOG(Info) << "execve " << p << " failed: " << why;
  return r;
}

// Execve implements Linux syscall execve(2).
Result<void> Execve(Task& t, UserPath path, uint64_t argv, uint64_t envp) {
  return DoExecve(t, AT_FDCWD, path, argv, envp, 0);
}

// Execveat implements Linux syscall execveat(2).
Result<void> Execveat(Task& t, Fd dirfd, UserPath path, uint64_t argv,
                      uint64_t envp, int flags) {
  return DoExecve(t, dirfd.value, path, argv, envp, flags);
}

}  // namespace

void RegisterExec(Registrar& r) {
  r.Full<&Execve>(SYS_execve);
  r.Partial<&Execveat>(SYS_execveat,
                       "AT_SYMLINK_NOFOLLOW is accepted but not enforced");
}

}  // namespace syscalls
