// execve(2): replacing a process's image.
#include <sys/stat.h>

#include "base/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/loader/loader.h"

namespace kernel {

using base::Err;
using base::Result;

namespace {

// Linux follows at most this many #! interpreters (BINPRM_MAX_RECURSION)
// and reads the #! line from the first 256 bytes (BINPRM_BUF_SIZE).
constexpr int kMaxInterpreters = 4;
constexpr size_t kShebangBytes = 256;

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

// "#!interp [arg]": false if `head` is not a script.
bool ParseShebang(const std::string& head, std::string* interp,
                  std::string* arg) {
  if (head.size() < 2 || head[0] != '#' || head[1] != '!') return false;
  std::string line = head.substr(2, head.find('\n') == std::string::npos
                                        ? std::string::npos
                                        : head.find('\n') - 2);
  auto first = line.find_first_not_of(" \t");
  if (first == std::string::npos) {
    interp->clear();
    return true;
  }
  auto end = line.find_first_of(" \t", first);
  *interp = line.substr(first, end == std::string::npos ? end : end - first);
  arg->clear();
  if (end != std::string::npos) {
    auto a = line.find_first_not_of(" \t", end);
    auto last = line.find_last_not_of(" \t");
    if (a != std::string::npos) *arg = line.substr(a, last - a + 1);
  }
  return true;
}

}  // namespace

Result<void> Task::Exec(const std::string& path, std::vector<std::string> argv,
                        std::vector<std::string> envp, std::string* why) {
  vfs::PathContext ctx = TRY(PathContextAt(AT_FDCWD));
  Credentials creds = tg_->creds();
  std::string file_path = path;
  std::shared_ptr<vfs::FileDescription> file;
  for (int depth = 0;; ++depth) {
    auto opened = kernel_.vfs().Open(ctx, file_path, O_RDONLY, 0);
    if (!opened) {
      *why = Describe(file_path, opened.error().value);
      return std::unexpected(opened.error());
    }
    file = *opened;
    struct stat st = TRY(file->Stat());
    if (!S_ISREG(st.st_mode)) {
      *why = file_path + ": not a regular file";
      return Err(EACCES);
    }
    if (auto r = kernel_.vfs().Access(ctx, file_path, X_OK, true, creds.euid,
                                      creds.egid);
        !r) {
      *why = file_path + ": permission denied (not executable)";
      return std::unexpected(r.error());
    }
    std::string head(kShebangBytes, '\0');
    iovec iov{head.data(), head.size()};
    size_t n = TRY(file->PRead({&iov, 1}, 0));
    head.resize(n);
    std::string interp, arg;
    if (!ParseShebang(head, &interp, &arg)) break;
    if (interp.empty()) {
      *why = file_path + ": empty #! line";
      return Err(ENOEXEC);
    }
    if (depth == kMaxInterpreters) {
      *why = file_path + ": too many levels of #! interpreters";
      return Err(ELOOP);
    }
    // argv becomes: interp [arg] script original-argv[1:].
    std::vector<std::string> next = {interp};
    if (!arg.empty()) next.push_back(arg);
    next.push_back(file_path);
    if (argv.size() > 1) next.insert(next.end(), argv.begin() + 1, argv.end());
    argv = std::move(next);
    file_path = interp;
  }

  // The new address space is created on this (the task's) host thread,
  // which the platform requires of its tracer.
  auto new_mm = mm::MemoryManager::Create(kernel_.memory_file(),
                                          kernel_.platform());
  if (!new_mm) {
    *why = "cannot create an address space";
    return std::unexpected(new_mm.error());
  }
  loader::LoadArgs args{
      .file = file,
      .argv = std::move(argv),
      .envp = std::move(envp),
      .execfn = path,
      .uid = creds.ruid,
      .euid = creds.euid,
      .gid = creds.rgid,
      .egid = creds.egid,
      .stack_limit = tg_->GetRlimit(RLIMIT_STACK).rlim_cur,
      .open_interpreter =
          [this, ctx](const std::string& interp) {
            return kernel_.vfs().Open(ctx, interp, O_RDONLY, 0);
          },
  };
  std::string load_why;
  auto loaded = loader::Load(**new_mm, args, &load_why);
  if (!loaded) {
    *why = file_path + ": " + load_why;
    return std::unexpected(loaded.error());
  }

  // The point of no return: nothing below can fail. Like Linux, exec in a
  // multi-threaded process ends the other threads first.
  KillOtherThreads();
  // Like Linux's exec_mm_release: robust futexes and clear_child_tid are
  // released in the old address space.
  ReleaseThreadFutexes(*this);
  mm_ = std::move(*new_mm);
  regs_ = platform::Registers{};
  regs_.rip = loaded->entry;
  regs_.rsp = loaded->stack_pointer;
  regs_.cs = 0x33;  // the x86-64 user code and stack selectors
  regs_.ss = 0x2b;
  regs_.eflags = 0x202;  // IF, and the always-one bit
  regs_.orig_rax = ~uint64_t{0};  // not in a syscall: nothing to restart
  tg_->set_exe_path(file->path());
  tg_->ResetHandlersForExec();
  tg_->posix_timers().DeleteAll();  // itimers survive execve; these do not
  signal_state().altstack.Reset();
  signal_state().restart = nullptr;
  kernel_.processes().MarkExeced(tg_->pid());
  fds_->RemoveCloexec();
  // Linux names a task after the basename of the file it executes.
  std::string base = path.substr(path.rfind('/') + 1);
  name = base.substr(0, 15);
  ReleaseVforkParent();
  return {};
}

void Task::KillOtherThreads() {
  tg_->ForEachThread([this](Task* t) {
    if (t == this) return;
    t->thread_exited_ = true;
    t->Interrupt();
  });
  // They leave at their next return to the task loop; wait for that.
  while (tg_->Threads().size() > 1 && !tg_->exiting())
    Block(absl::Now() + absl::Milliseconds(1));
}

}  // namespace kernel
