#include "sentry/kernel/task.h"

#include <sys/stat.h>

#include "base/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/loader/loader.h"

namespace kernel {

using base::Err;
using base::Result;

Task::Task(Kernel& kernel, std::shared_ptr<ThreadGroup> tg, int tid,
           std::shared_ptr<FdTable> fds, std::shared_ptr<FsContext> fs)
    : kernel_(kernel),
      tg_(std::move(tg)),
      tid_(tid),
      fds_(std::move(fds)),
      fs_(std::move(fs)),
      context_(kernel.platform().NewContext()) {}

Task::~Task() = default;

Result<void> Task::Exec(const std::string& path, std::vector<std::string> argv,
                        std::vector<std::string> envp, std::string* why) {
  vfs::PathContext ctx = TRY(PathContextAt(AT_FDCWD));
  auto file = kernel_.vfs().Open(ctx, path, O_RDONLY, 0);
  if (!file) {
    *why = path + ": " +
           (file.error().value == ENOENT ? std::string("no such file")
                                         : std::string(base::ErrnoName(
                                               file.error().value)));
    return std::unexpected(file.error());
  }
  struct stat st = TRY((*file)->Stat());
  if (!S_ISREG(st.st_mode)) {
    *why = path + ": not a regular file";
    return Err(EACCES);
  }
  Credentials creds = tg_->creds();
  if (auto r = kernel_.vfs().Access(ctx, path, X_OK, true, creds.euid,
                                    creds.egid);
      !r) {
    *why = path + ": permission denied (not executable)";
    return std::unexpected(r.error());
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
      .file = *file,
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
    *why = path + ": " + load_why;
    return std::unexpected(loaded.error());
  }

  mm_ = std::move(*new_mm);
  regs_ = platform::Registers{};
  regs_.rip = loaded->entry;
  regs_.rsp = loaded->stack_pointer;
  regs_.cs = 0x33;  // the x86-64 user code and stack selectors
  regs_.ss = 0x2b;
  regs_.eflags = 0x202;  // IF, and the always-one bit
  regs_.orig_rax = ~uint64_t{0};  // not in a syscall: nothing to restart
  tg_->set_exe_path((*file)->path());
  // Linux names a task after the basename of the file it executes.
  std::string base = path.substr(path.rfind('/') + 1);
  name = base.substr(0, 15);
  fds_->RemoveCloexec();
  return {};
}

void Task::ExitGroup(ExitStatus status) {
  tg_->BeginExit(status);
  Interrupt();
}

void Task::ExitThread(int code) {
  // Single-threaded processes for now: the thread's exit is the process's.
  tg_->BeginExit(ExitStatus{.code = code});
  thread_exited_ = true;
}

bool Task::exiting() const { return thread_exited_ || tg_->exiting(); }

Task::WakeReason Task::Block(absl::Time deadline,
                             const std::atomic<bool>* woken) {
  absl::MutexLock lock(&mu_);
  for (;;) {
    if (woken && woken->load()) return WakeReason::kWoken;
    if (interrupted_ || exiting()) {
      interrupted_ = false;
      return WakeReason::kInterrupted;
    }
    if (wake_.WaitWithDeadline(&mu_, deadline) && absl::Now() >= deadline) {
      if (woken && woken->load()) return WakeReason::kWoken;
      return WakeReason::kTimeout;
    }
  }
}

Result<void> Task::BlockUntil(absl::Time deadline) {
  if (Block(deadline) == WakeReason::kInterrupted) return Err(EINTR);
  return {};
}

void Task::Wake() {
  absl::MutexLock lock(&mu_);
  wake_.Signal();
}

void Task::Interrupt() {
  {
    absl::MutexLock lock(&mu_);
    interrupted_ = true;
    wake_.Signal();
  }
  context_->Interrupt();
}

Result<vfs::PathContext> Task::PathContextAt(int dirfd) const {
  vfs::PathContext ctx{.process = &process_view_};
  if (dirfd == AT_FDCWD) {
    ctx.start = fs_->cwd();
    return ctx;
  }
  auto file = TRY(fds_->Get(dirfd));
  struct stat st = TRY(file->Stat());
  if (!S_ISDIR(st.st_mode)) return Err(ENOTDIR);
  ctx.start = file->path();
  return ctx;
}

int Task::ProcessView::pid() const { return task_.tg_->pid(); }
std::string Task::ProcessView::exe_path() const {
  return task_.tg_->exe_path();
}
std::vector<int> Task::ProcessView::fds() const { return task_.fds_->Fds(); }
std::shared_ptr<vfs::FileDescription> Task::ProcessView::fd(int fd) const {
  auto f = task_.fds_->Get(fd);
  return f ? *f : nullptr;
}

}  // namespace kernel
