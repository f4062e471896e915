// fork(2), vfork(2) and clone(2): making a new process.
#include <linux/capability.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <signal.h>

#include "base/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace kernel {

using base::Err;
using base::Result;

namespace {

constexpr uint64_t kNamespaceFlags =
    CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
    CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME;
// Namespaces the sandbox cannot make: a user, pid, network, cgroup or time
// namespace would need ids, pids, interfaces ... translated per namespace.
constexpr uint64_t kUnsupportedNamespaces = CLONE_NEWUSER | CLONE_NEWPID |
                                            CLONE_NEWNET | CLONE_NEWCGROUP |
                                            CLONE_NEWTIME;

// copy_process's checks, in its order; `init` is the sandbox's init.
Result<void> CheckFlags(uint64_t flags, bool init) {
  if ((flags & CLONE_FS) && (flags & (CLONE_NEWNS | CLONE_NEWUSER)))
    return Err(EINVAL);
  if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND)) return Err(EINVAL);
  if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM)) return Err(EINVAL);
  // init's siblings would have no parent in the namespace.
  if ((flags & CLONE_PARENT) && init) return Err(EINVAL);
  // A thread stays in its process's user and pid namespaces.
  if ((flags & CLONE_THREAD) && (flags & (CLONE_NEWUSER | CLONE_NEWPID)))
    return Err(EINVAL);
  return {};
}

// Linux's copy_namespaces (and create_user_ns for CLONE_NEWUSER): the
// child's namespaces, shared with `ns` unless a CLONE_NEW* flag asks for
// new ones. Only UTS, IPC and mount namespaces exist; the others are
// refused with EPERM, whatever the privilege, rather than faked.
Result<Namespaces> CopyNamespaces(uint64_t flags, const Namespaces& ns,
                                  const Credentials& creds) {
  if (!(flags & kNamespaceFlags)) return ns;
  if (!creds.HasCap(CAP_SYS_ADMIN)) return Err(EPERM);
  // A new IPC namespace cannot share the parent's SEM_UNDO list.
  if ((flags & CLONE_NEWIPC) && (flags & CLONE_SYSVSEM)) return Err(EINVAL);
  if (flags & kUnsupportedNamespaces) return Err(EPERM);
  Namespaces out = ns;
  if (flags & CLONE_NEWUTS) out.uts = ns.uts->Copy();
  if (flags & CLONE_NEWIPC) out.ipc = std::make_shared<IpcNamespace>();
  if (flags & CLONE_NEWNS) out.mnt = ns.mnt->Copy();
  return out;
}

// Linux's flush_signal_handlers(t, 0), for CLONE_CLEAR_SIGHAND: handlers
// go back to SIG_DFL (ignored signals stay ignored), without flags or mask.
void ClearHandlers(ThreadGroup& tg) {
  for (int sig = 1; sig <= kNumSignals; ++sig) {
    const KernelSigaction old = tg.GetSigaction(sig);
    KernelSigaction cleared{};
    if (old.handler == reinterpret_cast<uint64_t>(SIG_IGN))
      cleared.handler = old.handler;
    tg.SetSigaction(sig, cleared);
  }
}

}  // namespace

Result<int> Task::Clone(const CloneArgs& a) {
  TRY(CheckFlags(a.flags, tg_->pid() == 1));
  const bool vfork = a.flags & CLONE_VFORK;
  const bool thread = a.flags & CLONE_THREAD;

  // RLIMIT_NPROC binds the caller's real uid unless it is root or holds
  // CAP_SYS_RESOURCE or CAP_SYS_ADMIN (Linux's copy_process).
  const Credentials creds = this->creds();
  TaskLimits limits{.pids = kernel_.pids_limit(), .uid = creds.ruid};
  if (creds.ruid != 0 && !creds.HasCap(CAP_SYS_RESOURCE) &&
      !creds.HasCap(CAP_SYS_ADMIN))
    limits.nproc = tg_->GetRlimit(RLIMIT_NPROC).rlim_cur;
  // A fork bomb at the limit fails here, before copying anything.
  TRY(kernel_.processes().CheckLimits(limits));
  if ((a.flags & CLONE_SETTLS) && a.tls >= mm::kTaskSizeMax) return Err(EPERM);
  if (a.set_tid) {
    // clone3's set_tid (alloc_pid): a pid, then the privilege to choose
    // it; one in use is EEXIST (AddChild, AddThread).
    if (a.set_tid < 1 || a.set_tid >= ProcessTree::kMaxPid) return Err(EINVAL);
    if (!creds.HasCap(CAP_SYS_ADMIN) && !creds.HasCap(CAP_CHECKPOINT_RESTORE))
      return Err(EPERM);
  }

  // CLONE_VM shares the address space (threads, vfork); otherwise the
  // child gets a copy.
  std::shared_ptr<mm::MemoryManager> child_mm =
      (a.flags & CLONE_VM) ? mm_ : TRY(mm_->Fork());
  std::shared_ptr<FdTable> child_fds =
      (a.flags & CLONE_FILES) ? fds_ : fds_->Fork();
  const Namespaces child_ns = TRY(CopyNamespaces(a.flags, ns, creds));
  std::shared_ptr<FsContext> child_fs = fs_;
  if (!(a.flags & CLONE_FS)) {
    child_fs = fs_->Copy();
  }
  std::vector<uint8_t> fp_state;
  bool have_fp = context_->GetFpState(&fp_state).has_value();

  std::shared_ptr<ThreadGroup> tg;
  int tid;
  if (thread) {
    tg = tg_;
    tid = TRY(kernel_.processes().AddThread(limits, tg_->pid(), a.set_tid));
  } else {
    ThreadGroup& parent_tg = *tg_;
    tg = TRY(kernel_.processes().AddChild(
        tg_->pid(), a.flags & CLONE_PARENT, a.exit_signal, limits,
        [&](int pid, int ppid) {
          auto child =
              std::make_shared<ThreadGroup>(pid, ppid, creds);
          child->CopyFrom(parent_tg);
          // CLONE_SIGHAND without CLONE_THREAD: two processes, one table.
          if (a.flags & CLONE_SIGHAND) child->ShareHandlers(parent_tg);
          if (a.flags & CLONE_CLEAR_SIGHAND) ClearHandlers(*child);
          return child;
        },
        a.set_tid, tid_));
    tid = tg->pid();
  }

  auto child = std::make_unique<Task>(kernel_, tg, tid, child_fds, child_fs);
  child->mm_ = std::move(child_mm);
  child->regs_ = regs_;
  child->regs_.rax = 0;  // the child's return value
  if (a.stack) child->regs_.rsp = a.stack;
  if (a.flags & CLONE_SETTLS) child->regs_.fs_base = a.tls;
  child->signal_mask = signal_mask;
  child->signal_state().altstack = signal_state().altstack;
  child->set_comm(comm());
  child->no_new_privs = no_new_privs;
  child->personality = personality;
  child->set_creds(creds);  // the creator's, as Linux's copy_creds
  child->ns = child_ns;
  child->sched.Set(sched.ForFork());
  child->sched.SetAffinity(sched.Affinity());  // Linux's dup_task_struct
  if (a.flags & CLONE_CHILD_CLEARTID) child->clear_child_tid = a.child_tid;
  if (a.flags & CLONE_CHILD_SETTID)
    (void)child->mm_->CopyOutObj(mm::UserPtr<int32_t>(a.child_tid), tid);
  if (a.flags & CLONE_PARENT_SETTID)
    (void)mm_->CopyOutObj(mm::UserPtr<int32_t>(a.parent_tid), tid);
  if (have_fp) (void)child->context_->SetFpState(fp_state);

  // A traced parent's tracer may trace the child too (PTRACE_O_TRACEFORK
  // ...): attached before it runs, it stops first thing.
  const int ptrace_event = kernel_.ptrace().CloneEvent(*this, a.flags,
                                                       a.exit_signal);
  if (ptrace_event && kernel_.ptrace().AttachChild(*this, *child) &&
      !child->ptrace_.seized) {
    absl::MutexLock lock(&tg->signals().mu_);
    child->signals_.pending.Enqueue(MakeSigInfo(SIGSTOP, SI_USER));
  }

  std::shared_ptr<std::atomic<bool>> vfork_done;
  if (vfork) {
    vfork_done = std::make_shared<std::atomic<bool>>(false);
    child->vfork_done = vfork_done;
    child->vfork_parent = tid_;
  }
  const bool forked = !(a.flags & CLONE_VM);
  tg->AddThread(child.get());
  kernel_.StartTask(std::move(child), [forked](Task& c) -> Result<void> {
    if (!forked) return {};  // the address space exists already
    // A forked child's address space is new: populate it.
    auto r = c.mm_->Attach(c.kernel_.platform());
    if (!r) {
      LOG(Warning) << "task " << c.tid_ << ": cannot map the forked address "
                   << "space: " << base::ErrnoName(r.error().value);
      c.ExitGroup(ExitStatus{.signal = SIGKILL});
    }
    return r;
  });

  if (ptrace_event > 0) PtraceEvent(ptrace_event, tid);
  if (vfork) {
    // Like Linux, only a fatal signal ends this wait early; other signals
    // wait until after it, so pending ones must not end the sleep (each
    // new one wakes it once, and it sleeps again).
    while (!vfork_done->load() && !exiting())
      Block(absl::InfiniteFuture(), vfork_done.get(),
            /*pending_interrupts=*/false);
    PtraceEvent(PTRACE_EVENT_VFORK_DONE, tid);
  }
  return tid;
}

Result<void> Task::Unshare(uint64_t flags) {
  // Linux's ksys_unshare: some flags imply others.
  if (flags & CLONE_NEWUSER) flags |= CLONE_THREAD | CLONE_FS;
  if (flags & CLONE_VM) flags |= CLONE_SIGHAND;
  if (flags & CLONE_SIGHAND) flags |= CLONE_THREAD;
  if (flags & CLONE_NEWNS) flags |= CLONE_FS;
  // check_unshare_flags: sharing a thread group, handlers or memory cannot
  // be undone, but unsharing what is not shared is fine.
  constexpr uint64_t kKnown = CLONE_THREAD | CLONE_FS | CLONE_SIGHAND |
                              CLONE_VM | CLONE_FILES | CLONE_SYSVSEM |
                              kNamespaceFlags;
  if (flags & ~kKnown) return Err(EINVAL);
  if ((flags & (CLONE_THREAD | CLONE_SIGHAND | CLONE_VM)) &&
      tg_->Threads().size() > 1)
    return Err(EINVAL);
  if ((flags & (CLONE_SIGHAND | CLONE_VM)) && tg_->HandlersShared())
    return Err(EINVAL);
  // current_is_single_threaded: no other task (a CLONE_VM child) uses the
  // address space. Only tasks hold it.
  if ((flags & CLONE_VM) && mm_.use_count() > 1) return Err(EINVAL);

  // What to change is computed first; nothing changes on an error.
  const Credentials creds = this->creds();
  if (flags & CLONE_NEWUSER) return Err(EPERM);  // see kUnsupportedNamespaces
  Namespaces new_ns = ns;
  if (flags & kNamespaceFlags) {
    if (!creds.HasCap(CAP_SYS_ADMIN)) return Err(EPERM);
    if (flags & kUnsupportedNamespaces) return Err(EPERM);
    if (flags & CLONE_NEWUTS) new_ns.uts = ns.uts->Copy();
    if (flags & CLONE_NEWIPC) new_ns.ipc = std::make_shared<IpcNamespace>();
    if (flags & CLONE_NEWNS) new_ns.mnt = ns.mnt->Copy();
  }
  if ((flags & CLONE_FS) && fs_.use_count() > 1) {
    auto copy = fs_->Copy();
    absl::MutexLock lock(&view_mu_);
    fs_.swap(copy);  // the old one goes with `copy`, after the lock
  }
  if ((flags & CLONE_FILES) && fds_.use_count() > 1) UnshareFds();
  // CLONE_SYSVSEM (and CLONE_NEWIPC) detach from the SEM_UNDO list, which
  // does not exist without SysV semaphores.
  {
    absl::MutexLock lock(&view_mu_);
    std::swap(ns, new_ns);  // the old set goes with new_ns, after the lock
  }
  return {};
}

void Task::ReleaseVforkParent() {
  if (!vfork_done) return;
  vfork_done->store(true);
  kernel_.WakeTask(vfork_parent);
  vfork_done.reset();
}

}  // namespace kernel
