#include "sentry/kernel/process_tree.h"

#include <sys/wait.h>

#include <algorithm>

#include "base/log.h"

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

Result<std::shared_ptr<ThreadGroup>> ProcessTree::AddChild(
    int parent, bool clone_parent, int exit_signal, const TaskLimits& limits,
    const std::function<std::shared_ptr<ThreadGroup>(int, int)>& make) {
  absl::MutexLock lock(&mu_);
  Node* p = FindLocked(parent);
  if (!p) return Err(ESRCH);
  TRY(CheckLimitsLocked(limits));
  int ppid = parent;
  if (clone_parent) {
    // init's siblings would have no parent in the namespace.
    if (p->ppid == 0) return Err(EINVAL);
    ppid = p->ppid;
  }
  int pid = TRY(NextIdLocked());

  Node n;
  n.tg = make(pid, ppid);
  n.ppid = ppid;
  n.pgid = p->pgid;
  n.sid = p->sid;
  n.exit_signal = exit_signal;
  nodes_[ppid].children.insert(pid);
  auto tg = n.tg;
  nodes_.emplace(pid, std::move(n));
  return tg;
}

Result<int> ProcessTree::NextIdLocked() {
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

Result<int> ProcessTree::AddThread(const TaskLimits& limits) {
  absl::MutexLock lock(&mu_);
  TRY(CheckLimitsLocked(limits));
  int tid = TRY(NextIdLocked());
  thread_ids_.insert(tid);
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

int ProcessTree::Parent(int pid) {
  absl::MutexLock lock(&mu_);
  Node* n = FindLocked(pid);
  return n ? n->ppid : 0;
}

std::vector<std::shared_ptr<ThreadGroup>> ProcessTree::Live() {
  absl::MutexLock lock(&mu_);
  std::vector<std::shared_ptr<ThreadGroup>> out;
  for (auto& [pid, n] : nodes_)
    if (!n.zombie) out.push_back(n.tg);
  return out;
}

std::vector<std::shared_ptr<ThreadGroup>> ProcessTree::Group(int pgid) {
  absl::MutexLock lock(&mu_);
  std::vector<std::shared_ptr<ThreadGroup>> out;
  for (auto& [pid, n] : nodes_)
    if (!n.zombie && n.pgid == pgid) out.push_back(n.tg);
  return out;
}

size_t ProcessTree::Count() {
  absl::MutexLock lock(&mu_);
  return nodes_.size();
}

std::shared_ptr<ThreadGroup> ProcessTree::Exited(int pid, ExitStatus status,
                                                 int* exit_signal) {
  absl::MutexLock lock(&mu_);
  Node* n = FindLocked(pid);
  if (!n) return nullptr;
  n->zombie = true;
  n->status = status;
  *exit_signal = n->exit_signal;
  // Orphans go to init, which reaps them (its zombies are reported to it).
  if (pid != 1) {
    Node* init = FindLocked(1);
    for (int child : n->children) {
      Node* c = FindLocked(child);
      if (!c) continue;
      c->ppid = 1;
      if (init) init->children.insert(child);
    }
    if (init && !n->children.empty()) init->child_events->Notify(~0ull);
    n->children.clear();
  }
  Node* parent = FindLocked(n->ppid);
  if (!parent) return nullptr;
  parent->child_events->Notify(~0ull);
  return parent->tg;
}

std::shared_ptr<ThreadGroup> ProcessTree::Stopped(int pid, int signal) {
  absl::MutexLock lock(&mu_);
  Node* n = FindLocked(pid);
  if (!n) return nullptr;
  n->stop_signal = signal;
  n->continued = false;
  Node* p = FindLocked(n->ppid);
  if (!p) return nullptr;
  p->child_events->Notify(~0ull);
  return p->tg;
}

std::shared_ptr<ThreadGroup> ProcessTree::Continued(int pid) {
  absl::MutexLock lock(&mu_);
  Node* n = FindLocked(pid);
  if (!n) return nullptr;
  n->stop_signal.reset();
  n->continued = true;
  Node* p = FindLocked(n->ppid);
  if (!p) return nullptr;
  p->child_events->Notify(~0ull);
  return p->tg;
}

void ProcessTree::Reap(int pid) {
  absl::MutexLock lock(&mu_);
  Node* n = FindLocked(pid);
  if (!n || !n->zombie) return;
  if (Node* p = FindLocked(n->ppid)) p->children.erase(pid);
  nodes_.erase(pid);
}

bool ProcessTree::Matches(const Node& waiter, int child_pid, const Node& child,
                          int selector) {
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
    if (!c || !Matches(*w, pid, *c, opts.selector)) continue;
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
