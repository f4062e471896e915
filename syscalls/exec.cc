// execve(2) and execveat(2).
#include <sys/syscall.h>

#include <algorithm>
#include <vector>

#include "base/log.h"
#include "sentry/loader/initial_stack.h"
#include "syscalls/common.h"

namespace syscalls {
namespace {

constexpr uint64_t kPage = mm::kPageSize;

// The pointers of a NULL-terminated array (argv or envp; a NULL array is
// empty, as Linux accepts), at most `max` of them: E2BIG beyond (Linux's
// count() stops at MAX_ARG_STRINGS; every array longer than `max` fails
// with E2BIG at its stack-limit check anyway, except one that faults after
// `max` entries, where Linux says EFAULT). Read a page at a time: the array
// may end right before an unmapped page.
Result<std::vector<uint64_t>> ReadPointers(Task& t, uint64_t array,
                                           uint64_t max) {
  std::vector<uint64_t> out;
  if (array == 0) return out;
  uint64_t buf[kPage / 8];
  for (uint64_t addr = array;;) {
    const uint64_t n = std::max<uint64_t>((kPage - addr % kPage) / 8, 1);
    uint64_t next;
    if (__builtin_add_overflow(addr, n * 8, &next)) return Err(EFAULT);
    TRY(t.mm().CopyIn(addr, buf, n * 8));
    for (uint64_t i = 0; i < n; ++i) {
      if (buf[i] == 0) return out;
      if (out.size() >= max) return Err(E2BIG);
      out.push_back(buf[i]);
    }
    addr = next;
  }
}

// Copies the strings at `ptrs` into `out`, last first, as Linux's
// copy_strings: one longer than MAX_ARG_STRLEN (NUL included) or running
// past `*room` bytes is E2BIG.
Result<void> CopyStrings(Task& t, const std::vector<uint64_t>& ptrs,
                         uint64_t* room, std::vector<std::string>* out) {
  out->resize(ptrs.size());
  for (size_t i = ptrs.size(); i-- > 0;) {
    auto s = t.mm().CopyInString(ptrs[i], loader::kMaxArgStrlen - 1);
    if (!s)
      return Err(s.error().value == ENAMETOOLONG ? E2BIG : s.error().value);
    if (s->size() + 1 > *room) return Err(E2BIG);
    *room -= s->size() + 1;
    (*out)[i] = std::move(*s);
  }
  return {};
}

Result<void> DoExecve(Task& t, int dirfd, UserPath path, uint64_t argv,
                      uint64_t envp, int flags) {
  if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) return Err(EINVAL);
  const std::string p = TRY(CopyInPath(t, path));
  // Since Linux 6.8 the file is opened before argv and envp are read.
  kernel::Task::ExecArgs args{.file = TRY(t.OpenExecutable(dirfd, p, flags))};
  // bprm->filename: what the new image is told it is (AT_EXECFN, comm,
  // and a script's argv). A name relative to a dirfd goes through
  // /dev/fd, which the interpreter of a script cannot open once a
  // close-on-exec fd is closed.
  if (dirfd == AT_FDCWD || (!p.empty() && p[0] == '/')) {
    args.filename = p;
  } else {
    args.filename =
        "/dev/fd/" + std::to_string(dirfd) + (p.empty() ? "" : "/" + p);
    args.path_inaccessible = TRY(t.fds().GetCloexec(dirfd));
    args.comm_from_file = p.empty();
  }

  // fs/exec.c: count both arrays, check the room for their pointers, then
  // copy the filename, envp and argv against the room left.
  const uint64_t limit =
      loader::ArgSpaceLimit(t.thread_group().GetRlimit(RLIMIT_STACK).rlim_cur);
  const std::vector<uint64_t> argv_ptrs = TRY(ReadPointers(t, argv, limit / 8));
  const std::vector<uint64_t> envp_ptrs =
      TRY(ReadPointers(t, envp, limit / 8 - argv_ptrs.size()));
  const uint64_t ptr_bytes =
      (std::max<uint64_t>(argv_ptrs.size(), 1) + envp_ptrs.size()) * 8;
  if (limit <= ptr_bytes) return Err(E2BIG);
  uint64_t room = limit - ptr_bytes;
  if (args.filename.size() + 1 > std::min(room, loader::kMaxArgStrlen))
    return Err(E2BIG);
  room -= args.filename.size() + 1;
  TRY(CopyStrings(t, envp_ptrs, &room, &args.envp));
  TRY(CopyStrings(t, argv_ptrs, &room, &args.argv));
  // Linux >= 5.18: an empty argv gets "" as argv[0], so that programs that
  // start at argv[1] do not walk into envp.
  if (args.argv.empty()) {
    if (room == 0) return Err(E2BIG);
    args.argv.push_back("");
  }
  std::string why;
  auto r = t.Exec(std::move(args), &why);
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
  constexpr const char* kNotDone =
      "set-user-ID/set-group-ID bits and file capabilities are not honoured; "
      "no ETXTBSY";
  r.Partial<&Execve>(SYS_execve, kNotDone);
  r.Partial<&Execveat>(SYS_execveat, kNotDone);
}

}  // namespace syscalls
