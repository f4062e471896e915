#include "sentry/kernel/process_tree.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>

#include "base/log.h"
#include "sentry/kernel/pidfd_queue.h"
#include "sentry/kernel/task.h"

namespace kernel {

using base::Err;
using base::Result;

int WaitEvent::WaitStatus() const {
  switch (kind) {
    case Kind::kExited:
      if (status.signal) return status.signal | (status.core_dumped ? 0x80 : 0);
      return (status.code & 0xff) << 8;
    case Kind::kStopped:
      return (status.signal << 8) | 0x7f;
    case Kind::kContinued:
      return 0xffff;
  }
  return 0;
}

ProcessTree::Node* ProcessTree::FindLocked(int pid) {
  auto it = nodes_.find(pid);
  return it == nodes_.end() ? nullptr : &it->second;
}

void ProcessTree::AddInit(std::shared_ptr<ThreadGroup> init) {
  absl::MutexLock lock(&mu_);
  Node& n = nodes_[init->pid()];
  n.tg = std::move(init);
  n.pgid = n.sid = 1;
}

Result<std::shared_ptr<ThreadGroup>> ProcessTree::AddDetached(
    const TaskLimits& limits,
    const std::function<std::shared_ptr<ThreadGroup>(int)>& make) {
  absl::MutexLock lock(&mu_);
  TRY(CheckLimitsLocked(limits));
  const int pid = TRY(NextIdLocked());
  Node& n = nodes_[pid];
  n.tg = make(pid);
  n.pgid = n.sid = pid;
  return n.tg;
}

void ProcessTree::Reap(int pid) {
  absl::MutexLock lock(&mu_);
  // Its tasks have all finished (Kernel::WaitProcess), or never started.
  if (Node* n = FindLocked(pid); n && n->ppid == 0 && pid != 1)
    nodes_.erase(pid);
}

Result<std::shared_ptr<ThreadGroup>> ProcessTree::AddChild(
    int parent, bool clone_parent, int exit_signal, const TaskLimits& limits,
    const std::function<std::shared_ptr<ThreadGroup>(int, int)>& make, int want,
    int parent_tid) {
  absl::MutexLock lock(&mu_);
  Node* p = FindLocked(parent);
  if (!p) return Err(ESRCH);
  TRY(CheckLimitsLocked(limits));
  int ppid = parent;
  if (clone_parent) {
    // init's siblings would have no parent in the namespace.
    if (p->ppid == 0) return Err(EINVAL);
    ppid = p->ppid;
    exit_signal = p->exit_signal;  // a sibling reports as its creator
    parent_tid = p->parent_tid;    // and has its parent thread
  }
  int pid = TRY(NextIdLocked(want));

  Node n;
  n.tg = make(pid, ppid);
  // The creator's dumpable flag goes with its copied address space.
  n.tg->set_dumpable(p->tg->dumpable());
  n.ppid = ppid;
  n.parent_tid = parent_tid ? parent_tid : ppid;
  n.pgid = p->pgid;
  n.sid = p->sid;
  n.exit_signal = exit_signal;
  nodes_[ppid].children.insert(pid);
  auto tg = n.tg;
  nodes_.emplace(pid, std::move(n));
  return tg;
}

Result<int> ProcessTree::NextIdLocked(int want) {
  if (want) {
    // Linux's set_tid: exactly this id, and the cursor stays.
    if (nodes_.count(want) || thread_ids_.count(want)) return Err(EEXIST);
    return want;
  }
  // The next free id after the last one, wrapping like Linux (never 1).
  int id = last_pid_;
  do {
    id = id >= kMaxPid - 1 ? 2 : id + 1;
  } while ((nodes_.count(id) || thread_ids_.count(id)) && id != last_pid_);
  if (nodes_.count(id) || thread_ids_.count(id)) return Err(EAGAIN);
  last_pid_ = id;
  return id;
}

Result<void> ProcessTree::CheckLimitsLocked(const TaskLimits& limits) {
  if (nodes_.size() + thread_ids_.size() >= limits.pids) return Err(EAGAIN);
  if (limits.nproc == RLIM_INFINITY) return {};
  // Linux keeps a count per user; counting here is cheap next to a clone
  // and stays right across setuid(2) without any bookkeeping.
  uint64_t tasks = 0;
  for (auto& [pid, n] : nodes_) {
    if (n.tg->creds().ruid != limits.uid) continue;
    // A zombie still counts, as its task until it is reaped.
    tasks += std::max<size_t>(1, n.tg->Threads().size());
  }
  if (tasks >= limits.nproc) return Err(EAGAIN);
  return {};
}

Result<void> ProcessTree::CheckLimits(const TaskLimits& limits) {
  absl::MutexLock lock(&mu_);
  return CheckLimitsLocked(limits);
}

Result<int> ProcessTree::AddThread(const TaskLimits& limits, int pid,
                                   int want) {
  absl::MutexLock lock(&mu_);
  TRY(CheckLimitsLocked(limits));
  int tid = TRY(NextIdLocked(want));
  thread_ids_.emplace(tid, pid);
  return tid;
}

void ProcessTree::RemoveThread(int tid) {
  absl::MutexLock lock(&mu_);
  thread_ids_.erase(tid);
}

std::shared_ptr<ThreadGroup> ProcessTree::Find(int pid) {
  absl::MutexLock lock(&mu_);
  Node* n = FindLocked(pid);
  return n && !n->zombie ? n->tg : nullptr;
}

std::shared_ptr<ThreadGroup> ProcessTree::FindByTid(int tid) {
  absl::MutexLock lock(&mu_);
  if (auto it = thread_ids_.find(tid); it != thread_ids_.end()) tid = it->second;
  Node* n = FindLocked(tid);
  return n ? n->tg : nullptr;
}

int ProcessTree::Parent(int pid) {
  absl::MutexLock lock(&mu_);
  Node* n = FindLocked(pid);
  return n ? n->ppid : 0;
}

int ProcessTree::ParentThread(int pid) {
  absl::MutexLock lock(&mu_);
  Node* n = FindLocked(pid);
  return n ? n->parent_tid : 0;
}

std::optional<ProcessTree::Info> ProcessTree::InfoOf(int pid) {
  absl::MutexLock lock(&mu_);
  Node* n = FindLocked(pid);
  if (!n) return std::nullopt;
  return Info{.ppid = n->ppid,
              .pgid = n->pgid,
              .sid = n->sid,
              .exit_signal = n->exit_signal,
              .zombie = n->zombie};
}

int ProcessTree::last_pid() {
  absl::MutexLock lock(&mu_);
  return last_pid_;
}

std::vector<std::shared_ptr<ThreadGroup>> ProcessTree::Live(bool zombies) {
  absl::MutexLock lock(&mu_);
  std::vector<std::shared_ptr<ThreadGroup>> out;
  for (auto& [pid, n] : nodes_)
    if (zombies || !n.zombie) out.push_back(n.tg);
  return out;
}

std::vector<std::shared_ptr<ThreadGroup>> ProcessTree::Group(int pgid,
                                                             bool zombies) {
  absl::MutexLock lock(&mu_);
  std::vector<std::shared_ptr<ThreadGroup>> out;
  for (auto& [pid, n] : nodes_)
    if ((zombies || !n.zombie) && n.pgid == pgid) out.push_back(n.tg);
  return out;
}

bool ProcessTree::OrphanedGroupOf(int pid) {
  absl::MutexLock lock(&mu_);
  const Node* self = FindLocked(pid);
  return self && WillBeOrphanedLocked(self->pgid, 0);
}

bool ProcessTree::WillBeOrphanedLocked(int pgid, int ignored) {
  for (auto& [pid, n] : nodes_) {
    if (n.pgid != pgid || n.zombie || pid == ignored) continue;
    const Node* parent = FindLocked(n.ppid);  // none for init
    if (parent && parent->pgid != pgid && parent->sid == n.sid) return false;
  }
  return true;
}

bool ProcessTree::HasStoppedJobsLocked(int pgid) {
  for (auto& [pid, n] : nodes_)
    if (n.pgid == pgid && !n.zombie && n.tg->signals().group_stopped())
      return true;
  return false;
}

size_t ProcessTree::Count() {
  absl::MutexLock lock(&mu_);
  return nodes_.size();
}

namespace {

// A thread of `tg` that is not exiting (Linux's find_alive_thread), or 0.
int AliveThread(const ThreadGroup& tg) {
  int tid = 0;
  tg.ForEachThread([&](Task* t) {
    if (!tid && !t->exiting()) tid = t->tid();
  });
  return tid;
}

// The siginfo of a child's exit signal (and wait(2)'s for it).
siginfo_t ChildExitInfo(int sig, int pid, uint32_t uid, ExitStatus status) {
  siginfo_t info{};
  info.si_signo = sig;
  info.si_pid = pid;
  info.si_uid = uid;
  if (status.signal) {
    info.si_code = status.core_dumped ? CLD_DUMPED : CLD_KILLED;
    info.si_status = status.signal;
  } else {
    info.si_code = CLD_EXITED;
    info.si_status = status.code;
  }
  return info;
}

}  // namespace

bool ProcessTree::NotifyParentLocked(int child_pid, const Node& child,
                                     Node& parent) {
  int sig = child.exit_signal;
  bool autoreap = false;
  if (sig == SIGCHLD) {
    const KernelSigaction act = parent.tg->GetSigaction(SIGCHLD);
    // SA_NOCLDWAIT still sends SIGCHLD to a handler; SIG_IGN drops it.
    if (act.flags & SA_NOCLDWAIT) autoreap = true;
    if (act.handler == reinterpret_cast<uint64_t>(SIG_IGN)) {
      autoreap = true;
      sig = 0;
    }
  }
  if (sig) {
    parent.tg->SendSignal(
        ChildExitInfo(sig, child_pid, child.tg->creds().ruid, child.status));
  }
  parent.child_events->Notify(~0ull);
  return autoreap;
}

int ProcessTree::ReaperLocked(const Node& n) {
  // Linux's find_new_reaper: the ancestors up to init, skipping those
  // that are not subreapers or are on their way out.
  for (Node* a = FindLocked(n.ppid); a && a->ppid != 0;
       a = FindLocked(a->ppid)) {
    if (a->subreaper && !a->zombie && AliveThread(*a->tg)) return a->tg->pid();
  }
  return 1;
}

Orphans ProcessTree::Reparent(int pid) {
  Orphans orphans;
  // init's children die with it (Kernel::Shutdown).
  if (pid == 1) return orphans;
  absl::MutexLock lock(&mu_);
  Node* n = FindLocked(pid);
  if (!n) return orphans;
  // Linux's kill_orphaned_pgrp. Our own group, if we were its last link
  // to a parent in another group of the session:
  auto hang_up_if_orphaned = [&](int pgid, int ignored) {
    if (HasStoppedJobsLocked(pgid) && WillBeOrphanedLocked(pgid, ignored) &&
        std::find(orphans.hangup_groups.begin(), orphans.hangup_groups.end(),
                  pgid) == orphans.hangup_groups.end())
      orphans.hangup_groups.push_back(pgid);
  };
  if (const Node* parent = FindLocked(n->ppid);
      parent && parent->pgid != n->pgid && parent->sid == n->sid)
    hang_up_if_orphaned(n->pgid, pid);
  if (n->children.empty()) return orphans;
  const int reaper_pid = ReaperLocked(*n);
  Node* reaper = FindLocked(reaper_pid);
  const int reaper_tid = reaper ? AliveThread(*reaper->tg) : 0;
  for (int child : n->children) {
    Node* c = FindLocked(child);
    if (!c) continue;
    c->ppid = reaper_pid;
    c->parent_tid = reaper_tid ? reaper_tid : reaper_pid;
    // Linux's reparent_leader: the reaper is told with SIGCHLD, whatever
    // the child's exit signal was, so its plain wait(2) reaps it.
    c->exit_signal = SIGCHLD;
    if (!c->zombie) {
      orphans.children.push_back(c->tg);
    } else if (reaper && NotifyParentLocked(child, *c, *reaper)) {
      // A zombie its new parent will never wait for goes at once.
      orphans.reaped.push_back(child);
      continue;
    }
    if (reaper) reaper->children.insert(child);
  }
  // Our children's groups, if we were their last link (now that they
  // have their new parent).
  for (int child : n->children) {
    const Node* c = FindLocked(child);
    if (c && !c->zombie && c->pgid != n->pgid && c->sid == n->sid)
      hang_up_if_orphaned(c->pgid, 0);
  }
  n->children.clear();
  for (int child : orphans.reaped) {
    nodes_.erase(child);
    NotifyPidfds(child, /*reaped=*/true);
  }
  if (reaper) reaper->child_events->Notify(~0ull);
  return orphans;
}

bool ProcessTree::Exited(int pid, ExitStatus status) {
  absl::MutexLock lock(&mu_);
  Node* n = FindLocked(pid);
  if (!n) return false;
  n->zombie = true;
  n->status = status;
  NotifyPidfds(pid, /*reaped=*/false);
  Node* parent = FindLocked(n->ppid);
  if (!parent || !NotifyParentLocked(pid, *n, *parent)) return false;
  parent->children.erase(pid);
  nodes_.erase(pid);
  NotifyPidfds(pid, /*reaped=*/true);
  return true;
}

std::vector<std::shared_ptr<ThreadGroup>> ProcessTree::ThreadExited(
    int pid, int tid, int successor) {
  std::vector<std::shared_ptr<ThreadGroup>> out;
  if (!successor) return out;
  absl::MutexLock lock(&mu_);
  Node* n = FindLocked(pid);
  if (!n) return out;
  for (int child : n->children) {
    Node* c = FindLocked(child);
    if (!c || c->parent_tid != tid) continue;
    c->parent_tid = successor;
    if (!c->zombie) out.push_back(c->tg);
  }
  return out;
}

void ProcessTree::SetChildSubreaper(int pid, bool on) {
  absl::MutexLock lock(&mu_);
  if (Node* n = FindLocked(pid)) n->subreaper = on;
}

bool ProcessTree::ChildSubreaper(int pid) {
  absl::MutexLock lock(&mu_);
  Node* n = FindLocked(pid);
  return n && n->subreaper;
}

void ProcessTree::StoppedOrContinued(int pid, int code, int signal) {
  absl::MutexLock lock(&mu_);
  Node* n = FindLocked(pid);
  if (!n) return;
  if (code == CLD_STOPPED) {
    n->stop_signal = signal;
    n->continued = false;
  } else {
    n->stop_signal.reset();
    n->continued = true;
  }
  Node* p = FindLocked(n->ppid);
  if (!p) return;
  if (!(p->tg->GetSigaction(SIGCHLD).flags & SA_NOCLDSTOP)) {
    siginfo_t info{};
    info.si_signo = SIGCHLD;
    info.si_code = code;
    info.si_pid = pid;
    info.si_uid = n->tg->creds().ruid;
    info.si_status = signal;
    p->tg->SendSignal(info);
  }
  p->child_events->Notify(~0ull);
}

bool ProcessTree::Matches(const Node& waiter, int child_pid, const Node& child,
                          const WaitOptions& opts) {
  // Linux's eligible_child: __WALL takes every child, __WCLONE only those
  // not reporting with SIGCHLD, neither only those that do.
  if (!opts.wall && (child.exit_signal != SIGCHLD) != opts.wclone) return false;
  if (opts.thread && child.parent_tid != opts.thread) return false;
  const int selector = opts.selector;
  if (selector > 0) return child_pid == selector;
  if (selector == -1) return true;
  if (selector == 0) return child.pgid == waiter.pgid;
  return child.pgid == -selector;
}

Result<std::optional<WaitEvent>> ProcessTree::TryWait(int waiter_pid,
                                                      const WaitOptions& opts) {
  absl::MutexLock lock(&mu_);
  Node* w = FindLocked(waiter_pid);
  if (!w) return Err(ECHILD);
  bool any = false;
  for (int pid : w->children) {
    Node* c = FindLocked(pid);
    if (!c || !Matches(*w, pid, *c, opts)) continue;
    // A zombie has nothing but its exit to report: without WEXITED it
    // does not count, and a wait for it alone is ECHILD, not a wait
    // without end (Linux's wait_task_zombie; a zombie's unreported stop
    // or continue is never reported).
    if (c->zombie && !opts.exited) continue;
    any = true;
    WaitEvent ev{.pid = pid, .uid = c->tg->creds().ruid};
    auto usage = [&] { return c->tg->CpuTime() + c->tg->ChildrenCpuTime(); };
    if (c->zombie && opts.exited) {
      ev.kind = WaitEvent::Kind::kExited;
      ev.status = c->status;
      ev.usage = usage();
      if (opts.consume) {
        // Reaping moves the child's time to the parent (RUSAGE_CHILDREN).
        w->tg->AddChildrenCpuTime(ev.usage);
        w->children.erase(pid);
        nodes_.erase(pid);
        NotifyPidfds(pid, /*reaped=*/true);
      }
      return std::optional<WaitEvent>(ev);
    }
    if (c->stop_signal && opts.stopped) {
      ev.kind = WaitEvent::Kind::kStopped;
      ev.status.signal = *c->stop_signal;
      ev.usage = usage();
      if (opts.consume) c->stop_signal.reset();
      return std::optional<WaitEvent>(ev);
    }
    if (c->continued && opts.continued) {
      ev.kind = WaitEvent::Kind::kContinued;
      ev.usage = usage();
      if (opts.consume) c->continued = false;
      return std::optional<WaitEvent>(ev);
    }
  }
  if (!any) return Err(ECHILD);
  return std::optional<WaitEvent>();
}

std::shared_ptr<waiter::Queue> ProcessTree::ChildEvents(int pid) {
  absl::MutexLock lock(&mu_);
  Node* n = FindLocked(pid);
  return n ? n->child_events : std::make_shared<waiter::Queue>();
}

int ProcessTree::Pgid(int pid) {
  absl::MutexLock lock(&mu_);
  Node* n = FindLocked(pid);
  return n ? n->pgid : -1;
}

int ProcessTree::Sid(int pid) {
  absl::MutexLock lock(&mu_);
  Node* n = FindLocked(pid);
  return n ? n->sid : -1;
}

Result<void> ProcessTree::SetPgid(int caller, int pid, int pgid) {
  if (pid < 0 || pgid < 0) return Err(EINVAL);
  absl::MutexLock lock(&mu_);
  if (pid == 0) pid = caller;
  if (pgid == 0) pgid = pid;
  Node* self = FindLocked(caller);
  Node* target = FindLocked(pid);
  if (!self || !target || target->zombie) return Err(ESRCH);
  if (pid != caller) {
    if (target->ppid != caller) return Err(ESRCH);
    if (target->sid != self->sid) return Err(EPERM);
    if (target->execed) return Err(EACCES);
  }
  if (target->sid == pid) return Err(EPERM);  // a session leader
  if (pgid != pid) {
    // The group must exist in the same session.
    bool found = false;
    for (auto& [p, n] : nodes_)
      if (!n.zombie && n.pgid == pgid && n.sid == target->sid) found = true;
    if (!found) return Err(EPERM);
  }
  target->pgid = pgid;
  return {};
}

Result<int> ProcessTree::SetSid(int caller) {
  absl::MutexLock lock(&mu_);
  Node* self = FindLocked(caller);
  if (!self) return Err(ESRCH);
  // A group leader, or anyone whose pid names a group, may not.
  for (auto& [p, n] : nodes_)
    if (n.pgid == caller) return Err(EPERM);
  self->pgid = self->sid = caller;
  return caller;
}

void ProcessTree::MarkExeced(int pid) {
  absl::MutexLock lock(&mu_);
  if (Node* n = FindLocked(pid)) n->execed = true;
}

}  // namespace kernel
