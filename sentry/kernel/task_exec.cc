// execve(2): replacing a process's image.
#include <sys/personality.h>
#include <sys/stat.h>

#include <cstring>
#include <optional>

#include "base/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/loader/loader.h"
#include "sentry/vfs/node.h"
#include "sentry/vfs/permission.h"

namespace kernel {

using base::Err;
using base::Result;

namespace {

// Linux reads a "#!" line from the first BINPRM_BUF_SIZE bytes, and its
// exec_binprm allows 5 rewrites by script interpreters (depth > 5: ELOOP).
constexpr size_t kShebangBytes = 256;
constexpr int kMaxRewrites = 5;

std::string Describe(const std::string& path, int err) {
  switch (err) {
    case ENOENT:
      return path + ": no such file";
    case EACCES:
      return path + ": permission denied";
    default:
      return path + ": " + std::string(base::ErrnoName(err));
  }
}

struct Shebang {
  std::string interp;
  std::optional<std::string> arg;
};

bool SpaceTab(char c) { return c == ' ' || c == '\t'; }
bool Terminator(char c) { return SpaceTab(c) || c == '\0'; }

// Linux's load_script on the first kShebangBytes of a file (NUL-padded):
// nullopt if it is no script; ENOEXEC if it names no interpreter, or one
// that may be cut off by the end of the buffer (no newline, and no space,
// tab or NUL after the name). The name ends at a space, tab or NUL; the
// one optional argument is the rest, trimmed (a NUL ends it too).
std::optional<Result<Shebang>> ParseShebang(std::string buf) {
  buf.resize(kShebangBytes, '\0');
  if (buf[0] != '#' || buf[1] != '!') return std::nullopt;
  const size_t last = kShebangBytes - 1;  // Linux's buf_end
  size_t end = buf.find('\n');
  if (end == std::string::npos) {
    size_t i = 2;
    while (i < last && SpaceTab(buf[i])) ++i;
    if (i == last) return Err(ENOEXEC);
    while (i < last && !Terminator(buf[i])) ++i;
    if (i == last) return Err(ENOEXEC);
    end = last;
  }
  while (SpaceTab(buf[end - 1])) --end;
  size_t name = 2;
  while (name < end && SpaceTab(buf[name])) ++name;
  if (name == end) return Err(ENOEXEC);
  size_t sep = name;
  while (sep < end && !Terminator(buf[sep])) ++sep;
  Shebang sb;
  sb.interp = buf.substr(name, sep - name);
  if (sep < end && buf[sep] != '\0') {
    size_t arg = sep;
    while (arg < end && SpaceTab(buf[arg])) ++arg;
    const std::string rest = buf.substr(arg, end - arg);
    sb.arg = rest.substr(0, rest.find('\0'));  // a C string in Linux
  }
  return sb;
}

// Linux's cap_bprm_creds_from_file for a file without capabilities or
// set-id bits (securebits aside): the saved and filesystem ids become the
// effective ones; root (real or effective) gets the bounding and
// inheritable sets as permitted, effective too if its euid is 0, and
// loses the ambient set; anyone else keeps just the ambient set.
Credentials CredsAfterExec(Credentials c) {
  c.securebits &= ~(1u << 4);  // SECBIT_KEEP_CAPS does not survive exec
  c.suid = c.fsuid = c.euid;
  c.sgid = c.fsgid = c.egid;
  if (c.ruid == 0 || c.euid == 0) {
    c.cap_permitted = c.cap_bounding | c.cap_inheritable;
    c.cap_ambient = 0;
  } else {
    c.cap_permitted = c.cap_ambient;
  }
  c.cap_effective = c.euid == 0 ? c.cap_permitted : c.cap_ambient;
  return c;
}

vfs::Creds VfsCreds(const Credentials& c) {
  return vfs::Creds{c.fsuid, c.fsgid, c.groups};
}

}  // namespace

Result<std::shared_ptr<vfs::FileDescription>> Task::OpenExecutable(
    int dirfd, const std::string& path, int flags) {
  vfs::PathContext ctx;
  std::shared_ptr<vfs::FileDescription> found;
  if (path.empty()) {
    if (!(flags & AT_EMPTY_PATH)) return Err(ENOENT);
    // The file dirfd is open on (the cwd for AT_FDCWD: a directory).
    ctx = TRY(PathContextAt(AT_FDCWD));
    if (dirfd == AT_FDCWD) {
      found = TRY(kernel_.vfs().Open(ctx, ".", O_PATH, 0));
    } else {
      found = TRY(fds_->Get(dirfd));
    }
  } else {
    ctx = TRY(PathContextAt(path[0] == '/' ? AT_FDCWD : dirfd));
    const int nofollow = (flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0;
    found = TRY(kernel_.vfs().Open(ctx, path, O_PATH | nofollow, 0));
  }
  // Linux's may_open for MAY_EXEC, with the caller's filesystem ids.
  const struct stat st = TRY(found->Stat());
  if (S_ISLNK(st.st_mode)) return Err(ELOOP);  // AT_SYMLINK_NOFOLLOW
  if (!S_ISREG(st.st_mode)) return Err(EACCES);
  // A file on a noexec mount cannot be run (path_noexec).
  if (kernel_.vfs().NoExec(ctx, found->path())) return Err(EACCES);
  TRY(vfs::CheckPermission(st, vfs::kMayExec, ctx.creds));
  // The kernel reads the file whatever its read permission. Descriptions
  // that know their node (tmpfs, O_PATH) open it again; others (an fd of
  // a host file) are found again by path, which is stable outside tmpfs,
  // with the kernel's rights: Linux checks no directories for an open fd.
  std::shared_ptr<vfs::Node> node;
  if (auto* nd = dynamic_cast<vfs::NodeDescription*>(found.get())) {
    node = nd->node();
  } else {
    const vfs::PathContext kernel_ctx{
        .start = "/", .process = ctx.process, .mnt_ns = ctx.mnt_ns};
    auto again = TRY(kernel_.vfs().Open(kernel_ctx, found->path(), O_PATH, 0));
    if (auto* nd = dynamic_cast<vfs::NodeDescription*>(again.get()))
      node = nd->node();
    const struct stat st2 = TRY(again->Stat());
    if (!node || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino)
      return Err(EACCES);
  }
  return node->Open(O_RDONLY, found->path());
}

Result<void> Task::Exec(const std::string& path, std::vector<std::string> argv,
                        std::vector<std::string> envp, std::string* why) {
  auto file = OpenExecutable(AT_FDCWD, path, 0);
  if (!file) {
    *why = Describe(path, file.error().value);
    return std::unexpected(file.error());
  }
  return Exec(ExecArgs{.file = std::move(*file),
                       .filename = path,
                       .argv = std::move(argv),
                       .envp = std::move(envp)},
              why);
}

Result<void> Task::Exec(ExecArgs a, std::string* why) {
  const Credentials creds = this->creds();
  const vfs::Creds vcreds = VfsCreds(creds);
  // Linux's would_dump: a file the caller may not read makes the process
  // not dumpable.
  bool readable = true;
  auto note_readable = [&](vfs::FileDescription& f) {
    auto st = f.Stat();
    if (!st || !vfs::CheckPermission(*st, vfs::kMayRead, vcreds))
      readable = false;
  };
  std::shared_ptr<vfs::FileDescription> file = std::move(a.file);
  std::string file_name = a.filename;    // for messages
  std::string script_name = a.filename;  // Linux's bprm->interp
  std::vector<std::string> argv = std::move(a.argv);
  for (int depth = 0;; ++depth) {
    if (depth > kMaxRewrites) {
      *why = a.filename + ": too many levels of #! interpreters";
      return Err(ELOOP);
    }
    note_readable(*file);
    std::string head(kShebangBytes, '\0');
    iovec iov{head.data(), head.size()};
    size_t n = TRY(file->PRead({&iov, 1}, 0));
    head.resize(n);
    auto script = ParseShebang(std::move(head));
    if (!script) break;  // not a script: the ELF loader decides
    if (!*script) {
      *why = file_name + ": bad #! line";
      return std::unexpected(script->error());
    }
    if (a.path_inaccessible) {
      *why = a.filename + ": a script on a close-on-exec fd";
      return Err(ENOENT);
    }
    // argv becomes: interp [arg] script argv[1:].
    Shebang& sb = **script;
    std::vector<std::string> next = {sb.interp};
    if (sb.arg) next.push_back(*sb.arg);
    next.push_back(script_name);
    if (argv.size() > 1) next.insert(next.end(), argv.begin() + 1, argv.end());
    argv = std::move(next);
    script_name = file_name = sb.interp;
    // An empty name (a NUL right after "#!"): Linux opens "", which is the
    // cwd, a directory.
    Result<std::shared_ptr<vfs::FileDescription>> opened = Err(EACCES);
    if (!sb.interp.empty()) opened = OpenExecutable(AT_FDCWD, sb.interp, 0);
    if (!opened) {
      *why = Describe(sb.interp, opened.error().value);
      return std::unexpected(opened.error());
    }
    file = std::move(*opened);
  }

  // The new address space is created on this (the task's) host thread,
  // which the platform requires of its tracer.
  auto new_mm =
      mm::MemoryManager::Create(kernel_.memory_file(), kernel_.platform());
  if (!new_mm) {
    *why = "cannot create an address space";
    return std::unexpected(new_mm.error());
  }
  loader::LoadArgs args{
      .file = file,
      .argv = std::move(argv),
      .envp = std::move(a.envp),
      .execfn = a.filename,
      .uid = creds.ruid,
      .euid = creds.euid,
      .gid = creds.rgid,
      .egid = creds.egid,
      .stack_limit = tg_->GetRlimit(RLIMIT_STACK).rlim_cur,
      .randomize = !(personality & ADDR_NO_RANDOMIZE),
      .vdso = &kernel_.timekeeper().params_page(),
      .open_interpreter = [&](const std::string& interp)
          -> Result<std::shared_ptr<vfs::FileDescription>> {
        auto f = TRY(OpenExecutable(AT_FDCWD, interp, 0));
        note_readable(*f);
        return f;
      },
  };
  std::string load_why;
  kernel_.timekeeper().AwaitCalibration();
  auto loaded = loader::Load(**new_mm, args, &load_why);
  if (!loaded) {
    *why = file_name + ": " + load_why;
    return std::unexpected(loaded.error());
  }

  // Like Linux's de_thread, the other threads end first; a non-leader
  // takes over the leader's id. Failing here means this process is dying.
  TRY(KillOtherThreads());
  const int pid = tg_->pid();
  const int old_tid = kernel_.TakeOverLeader(*this);
  if (const int old = old_tid; old != pid) {
    kernel_.processes().ThreadExited(pid, old, pid);  // its children
    kernel_.processes().RemoveThread(old);
  }
  // The point of no return: nothing below can fail.
  // Like Linux's exec_mm_release (after de_thread, so with the new tid):
  // robust futexes and clear_child_tid are released in the old space.
  ReleaseThreadFutexes(*this);
  std::shared_ptr<mm::MemoryManager> old_mm = std::move(*new_mm);
  {
    // The old address space goes after the lock: its teardown takes
    // other locks (procfs takes view_mu_ under ThreadGroup::mu_).
    absl::MutexLock lock(&view_mu_);
    mm_.swap(old_mm);
  }
  old_mm.reset();
  regs_ = platform::Registers{};
  regs_.rip = loaded->entry;
  regs_.rsp = loaded->stack_pointer;
  regs_.cs = 0x33;  // the x86-64 user code and stack selectors
  regs_.ss = 0x2b;
  regs_.eflags = 0x202;           // IF, and the always-one bit
  regs_.orig_rax = ~uint64_t{0};  // not in a syscall: nothing to restart
  tg_->set_exe_path(file->path());
  // Linux's set_personality_64bit: a 64-bit image drops READ_IMPLIES_EXEC
  // (every image here is 64-bit). PER_CLEAR_ON_SETID would go on a set-id
  // exec, which the sandbox does not have yet (no set-id bits honoured).
  personality &= ~static_cast<uint32_t>(READ_IMPLIES_EXEC);
  const Credentials after = CredsAfterExec(creds);
  // The process and its one remaining thread.
  tg_->set_creds(after);
  set_creds(after);
  // Linux's begin_new_exec: dumpable unless the ids differ or a file was
  // unreadable (then suid_dumpable, 0 here).
  tg_->set_dumpable(readable && after.euid == after.ruid &&
                    after.egid == after.rgid);
  tg_->ResetHandlersForExec();
  tg_->posix_timers().DeleteAll();  // itimers survive execve; these do not
  signal_state().altstack.Reset();
  signal_state().restart = nullptr;
  kernel_.processes().MarkExeced(pid);
  // Linux's unshare_files: a table shared with another process
  // (CLONE_FILES) keeps its close-on-exec fds there.
  if (fds_.use_count() > 1) UnshareFds();
  fds_->RemoveCloexec();
  // Linux names a task after the basename of bprm->filename.
  const std::string& named = a.comm_from_file ? file->path() : a.filename;
  set_comm(named.substr(named.rfind('/') + 1));
  ReleaseVforkParent();
  PtraceExec(old_tid);  // a tracer sees the new image (ptrace_stop.cc)
  return {};
}

Result<void> Task::KillOtherThreads() {
  for (;;) {
    // Under the ThreadGroup's lock, so that of two threads exec'ing at
    // once, the one that marks the other first wins (Linux's
    // group_exec_task): the loser finds itself marked.
    bool lost = false, first = true;
    tg_->ForEachThread([&](Task* t) {
      if (first) lost = thread_exited_ || tg_->exiting();
      first = false;
      if (lost || t == this) return;
      t->thread_exited_ = true;
      t->Interrupt();
    });
    if (lost) return Err(EAGAIN);
    // They leave at their next return to the task loop. A thread that a
    // clone(2) racing with us added after the marking is marked next time.
    if (kernel_.AwaitOnlyThread(*this, absl::Milliseconds(10))) return {};
  }
}

}  // namespace kernel
