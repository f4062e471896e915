#include "sentry/kernel/kernel.h"

#include "absl/container/flat_hash_set.h"
#include "base/log.h"

namespace kernel {

using base::Err;
using base::Result;

Result<std::unique_ptr<Kernel>> Kernel::Create(const Options& options,
                                               std::string* why) {
  CHECK(options.syscalls != nullptr);
  std::unique_ptr<Kernel> k(new Kernel(options));
  auto memory_file = mm::MemoryFile::Create();
  if (!memory_file) {
    *why = "cannot create the memory file";
    return std::unexpected(memory_file.error());
  }
  k->memory_file_ = std::move(*memory_file);
  auto platform =
      platform::Platform::Create(options.platform, k->memory_file_->fd(),
                                 options.platform_options);
  if (!platform) {
    *why = "cannot start platform \"" + options.platform + "\"";
    return std::unexpected(platform.error());
  }
  k->platform_ = std::move(*platform);
  // Its thread starts now that the platform has forked its helpers.
  auto timekeeper = Timekeeper::Create(*k->memory_file_);
  if (!timekeeper) {
    *why = "cannot set up the clocks";
    return std::unexpected(timekeeper.error());
  }
  k->timekeeper_ = std::move(*timekeeper);
  auto vfs = vfs::Vfs::Create({.host_root = options.host_root,
                               .overlay_root = true,
                               .host_mounts = options.host_mounts,
                               .memory_file = k->memory_file_.get(),
                               .open_tree = options.open_tree});
  if (!vfs) {
    *why = "cannot open the root filesystem " + options.host_root;
    return std::unexpected(vfs.error());
  }
  k->vfs_ = std::move(*vfs);
  return k;
}

Kernel::~Kernel() {
  Shutdown(ExitStatus{.signal = SIGKILL});
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* live) { return *live == 0; }, &live_tasks_));
  for (auto& [tid, t] : tasks_)
    if (t->host_thread.joinable()) t->host_thread.join();
  tasks_.clear();
}

Task* Kernel::StartTask(std::unique_ptr<Task> task,
                        std::function<Result<void>(Task&)> first) {
  absl::MutexLock lock(&mu_);
  CollectLocked();
  Task* t = task.get();
  // The id may still name a task whose host thread is finishing: its
  // process was reaped, or the thread released, a moment ago, and clone3's
  // set_tid (or the pid counter) handed the id out again. That thread must
  // be joined before its Task goes; it is past everything but TaskExited.
  struct Reuse {
    Kernel* kernel;
    int tid;
  } reuse{this, t->tid()};
  // Looked up by id each time: another thread may collect the old task
  // while this one waits.
  mu_.Await(absl::Condition(
      +[](Reuse* r) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        auto it = r->kernel->tasks_.find(r->tid);
        return it == r->kernel->tasks_.end() || it->second->finished.load();
      },
      &reuse));
  if (auto it = tasks_.find(t->tid()); it != tasks_.end()) {
    if (it->second->host_thread.joinable()) it->second->host_thread.join();
    released_.erase(t->tid());
    tasks_.erase(it);
  }
  ++live_tasks_;
  tasks_[t->tid()] = std::move(task);
  // Only raw pointers cross into the thread: the kernel owns the task and
  // deletes it only after joining this thread.
  t->host_thread = std::thread([this, t, first = std::move(first)]() {
    if (first(*t)) t->Run();
    t->Exited();
    TaskExited(t);
  });
  return t;
}

Result<void> Kernel::StartInit(InitProcess init, std::string* why) {
  auto tg = std::make_shared<ThreadGroup>(/*pid=*/1, /*ppid=*/0, init.creds);
  tg->set_unkillable(init.unkillable);
  for (const auto& [resource, limit] : init.rlimits)
    tg->SetRlimit(resource, limit);
  processes_.AddInit(tg);
  {
    absl::MutexLock lock(&mu_);
    init_ = tg;
  }
  auto fs = std::make_shared<FsContext>(init.cwd);
  fs->set_umask(init.umask);
  auto task = std::make_unique<Task>(*this, tg, /*tid=*/1,
                                     std::make_shared<FdTable>(), fs);
  task->no_new_privs = init.no_new_privs;
  task->ns = Namespaces{
      .uts = std::make_shared<UtsNamespace>(options_.hostname, init.domainname),
      .ipc = std::make_shared<IpcNamespace>(),
      .mnt = vfs_->InitialMountNamespace()};
  {
    absl::MutexLock lock(&gate_mu_);
    if (!init.hold && gate_ == Gate::kHeld) gate_ = Gate::kRun;
  }
  return ExecNewTask(std::move(task), std::move(init), why);
}

Result<void> Kernel::ExecNewTask(std::unique_ptr<Task> task, InitProcess spec,
                                 std::string* why) {
  for (size_t i = 0; i < spec.stdio.size(); ++i) {
    if (spec.stdio[i])
      TRY(task->SharedState().fds->InstallAt(static_cast<int>(i),
                                             spec.stdio[i], false, 1 << 20));
  }
  // The exec runs on the task's own host thread, since that thread must be
  // the one that creates and traces the address space. The handshake is
  // shared so that neither side outlives state the other still touches.
  struct ExecHandshake {
    absl::Mutex mu;
    bool done ABSL_GUARDED_BY(mu) = false;
    Result<void> result;
    std::string why;
  };
  auto hs = std::make_shared<ExecHandshake>();
  task->thread_group().AddThread(task.get());
  const bool hold = spec.hold;
  StartTask(std::move(task),
            [this, hs, hold, spec = std::move(spec)](Task& t) mutable {
              std::string path = !spec.path.empty()    ? spec.path
                                 : spec.argv.empty() ? ""
                                                     : spec.argv[0];
              std::string exec_why;
              Result<void> r = t.Exec(path, std::move(spec.argv),
                                      std::move(spec.envp), &exec_why);
              if (!r) t.thread_group().BeginExit(ExitStatus{.code = 127});
              {
                absl::MutexLock l(&hs->mu);
                hs->result = r;
                hs->why = std::move(exec_why);
                hs->done = true;
              }
              if (r && hold && !AwaitInitRelease()) {
                // Killed before start: it never runs a single instruction.
                t.thread_group().BeginExit(ExitStatus{.signal = SIGKILL});
                return Result<void>(Err(EINTR));
              }
              return r;
            });
  absl::MutexLock l(&hs->mu);
  hs->mu.Await(absl::Condition(&hs->done));
  if (!hs->result) *why = hs->why;
  return hs->result;
}

bool Kernel::AwaitInitRelease() {
  absl::MutexLock lock(&gate_mu_);
  gate_mu_.Await(absl::Condition(
      +[](Gate* g) { return *g != Gate::kHeld; }, &gate_));
  return gate_ == Gate::kRun;
}

void Kernel::ReleaseInit() {
  absl::MutexLock lock(&gate_mu_);
  if (gate_ == Gate::kHeld) gate_ = Gate::kRun;
}

Result<int> Kernel::StartProcess(InitProcess spec, std::string* why) {
  // The new process joins init's namespaces, as runc's exec joins the
  // container's.
  Namespaces ns;
  bool init_alive = false;
  WithTask(1, [&](Task& t) {
    if (t.finished) return;
    ns = t.SharedState().ns;
    init_alive = true;
  });
  if (!init_alive || !ns.mnt) {
    *why = "container not running";
    return Err(ESRCH);
  }
  std::shared_ptr<ThreadGroup> tg = TRY(processes_.AddDetached(
      TaskLimits{.pids = pids_limit()}, [&](int pid) {
        return std::make_shared<ThreadGroup>(pid, /*ppid=*/0, spec.creds);
      }));
  const int pid = tg->pid();
  auto task = std::make_unique<Task>(*this, tg, pid,
                                     std::make_shared<FdTable>(),
                                     std::make_shared<FsContext>(spec.cwd));
  task->ns = std::move(ns);
  spec.hold = false;
  if (spec.before_exec) spec.before_exec(pid);
  if (auto r = ExecNewTask(std::move(task), std::move(spec), why); !r) {
    (void)WaitProcess(pid);  // it exits at once: reap it
    return std::unexpected(r.error());
  }
  return pid;
}

bool Kernel::ProcessDoneLocked(int pid) {
  // None at all: its task never started (StartProcess failed first).
  for (const auto& [tid, t] : tasks_) {
    if (t->thread_group().pid() == pid && !t->finished) return false;
  }
  return true;
}

ExitStatus Kernel::WaitProcess(int pid) {
  ExitStatus status;
  {
    struct Args {
      Kernel* kernel;
      int pid;
    } args{this, pid};
    absl::MutexLock lock(&mu_);
    // The leader's task stays until ReleaseProcess below: nobody else
    // reaps a process without a parent.
    mu_.Await(absl::Condition(
        +[](Args* a) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return a->kernel->ProcessDoneLocked(a->pid);
        },
        &args));
    for (const auto& [tid, t] : tasks_) {
      if (t->thread_group().pid() == pid) {
        status = t->thread_group().exit_status();
        break;
      }
    }
  }
  processes_.Reap(pid);
  ReleaseProcess(pid);
  return status;
}

void Kernel::TaskExited(Task* task) {
  absl::MutexLock lock(&mu_);
  task->finished = true;
  --live_tasks_;
}

Task* Kernel::FindTask(int tid) {
  absl::MutexLock lock(&mu_);
  auto it = tasks_.find(tid);
  return it == tasks_.end() ? nullptr : it->second.get();
}

void Kernel::WithTask(int tid, const std::function<void(Task&)>& fn,
                      bool exited_leaders) {
  absl::MutexLock lock(&mu_);
  auto it = tasks_.find(tid);
  // A reaped process's tasks may still be finishing on their threads;
  // their ids are gone all the same, as is a finished thread's that does
  // not lead its process (released at its exit, or unreaped only because
  // its process is a zombie).
  if (it == tasks_.end() || released_.count(tid)) return;
  Task& t = *it->second;
  if (t.finished && !(exited_leaders && tid == t.thread_group().pid())) return;
  fn(t);
}

void Kernel::WakeTask(int tid) {
  absl::MutexLock lock(&mu_);
  auto it = tasks_.find(tid);
  if (it != tasks_.end()) it->second->Wake();
}

void Kernel::ReleaseProcess(int pid) {
  absl::MutexLock lock(&mu_);
  for (auto& [tid, t] : tasks_)
    if (t->thread_group().pid() == pid) released_.insert(tid);
  CollectLocked();
}

void Kernel::ReleaseThread(int tid) {
  absl::MutexLock lock(&mu_);
  released_.insert(tid);
}

bool Kernel::OnlyThreadLocked(const Task& task) {
  for (const auto& [tid, t] : tasks_) {
    if (t.get() != &task && &t->thread_group() == &task.thread_group() &&
        !t->finished)
      return false;
  }
  return true;
}

bool Kernel::AwaitOnlyThread(const Task& task, absl::Duration timeout) {
  struct Args {
    Kernel* kernel;
    const Task* task;
  } args{this, &task};
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(
      absl::Condition(
          +[](Args* a) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return a->kernel->OnlyThreadLocked(*a->task);
          },
          &args),
      timeout);
}

int Kernel::TakeOverLeader(Task& task) {
  const int pid = task.thread_group().pid();
  std::unique_ptr<Task> leader;
  int old;
  {
    absl::MutexLock lock(&mu_);
    old = task.tid_;
    if (old == pid) return old;
    // The leader has finished (AwaitOnlyThread): it goes now, as Linux's
    // de_thread releases it, so that its id can name `task`.
    if (auto it = tasks_.find(pid); it != tasks_.end()) {
      CHECK(it->second->finished);
      leader = std::move(it->second);
      tasks_.erase(it);
    }
    auto self = tasks_.extract(old);
    CHECK(!self.empty());
    // Readers on other threads hold one of these two locks.
    task.thread_group().ForEachThread([&](Task* t) {
      if (t == &task) t->tid_ = pid;
    });
    self.key() = pid;
    tasks_.insert(std::move(self));
    released_.erase(pid);
  }
  // Its host thread has returned or is about to (it set `finished`).
  if (leader && leader->host_thread.joinable()) leader->host_thread.join();
  return old;
}

void Kernel::CollectLocked() {
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    Task* t = it->second.get();
    if (t->finished && released_.count(t->tid())) {
      if (t->host_thread.joinable()) t->host_thread.join();
      released_.erase(t->tid());
      it = tasks_.erase(it);
    } else {
      ++it;
    }
  }
}

ExitStatus Kernel::WaitInit() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* live) { return *live == 0; }, &live_tasks_));
  return init_ ? init_->exit_status() : ExitStatus{};
}

void Kernel::Pause() {
  {
    absl::MutexLock lock(&pause_mu_);
    paused_ = true;
    paused_fast_.store(true, std::memory_order_release);
  }
  // Out of app code now; the loop's check stops them there.
  absl::MutexLock lock(&mu_);
  for (auto& [tid, t] : tasks_)
    if (!t->finished) t->KickOutOfApp();
}

void Kernel::Resume() {
  absl::MutexLock lock(&pause_mu_);
  paused_ = false;
  paused_fast_.store(false, std::memory_order_release);
}

void Kernel::WaitWhilePaused() {
  absl::MutexLock lock(&pause_mu_);
  pause_mu_.Await(absl::Condition(
      +[](bool* p) { return !*p; }, &paused_));
}

void Kernel::Shutdown(ExitStatus status) {
  Resume();
  {
    // A held init ends without running.
    absl::MutexLock lock(&gate_mu_);
    if (gate_ == Gate::kHeld) gate_ = Gate::kAbort;
  }
  absl::MutexLock lock(&mu_);
  for (auto& [tid, t] : tasks_)
    if (!t->finished) t->ExitGroup(status);
}

void Kernel::SignalFromHost(int sig) { (void)SignalProcessFromHost(1, sig); }

bool Kernel::SignalProcessFromHost(int pid, int sig) {
  LOG(Info) << "signal " << sig << " from the host, for pid " << pid;
  std::shared_ptr<ThreadGroup> tg = processes_.Find(pid);
  if (!tg) return false;
  // As if sent by a process outside the sandbox's pid namespace: si_pid 0.
  siginfo_t info{};
  info.si_signo = sig;
  info.si_code = SI_USER;
  tg->SendSignal(info);
  return true;
}

void Kernel::NoteUnimplemented(uint64_t nr, const char* name) {
  if (nr >= unimplemented_seen_.size()) {
    LOG(Warning) << "unknown syscall number " << nr;
    return;
  }
  if (!unimplemented_seen_[nr].exchange(true))
    LOG(Warning) << "unimplemented syscall " << (name ? name : "?") << " ("
                 << nr << "): returning ENOSYS";
}

void Kernel::ApplyPivot(const vfs::MountNamespace* ns,
                        const vfs::PivotMove& move) {
  absl::flat_hash_set<std::shared_ptr<FsContext>> contexts;
  for (int pid : proc_view_.Pids()) {
    for (int tid : proc_view_.Tids(pid)) {
      WithTask(tid, [&](Task& t) {
        if (t.finished) return;
        Task::Shared s = t.SharedState();
        if (s.ns.mnt.get() == ns && s.fs) contexts.insert(std::move(s.fs));
      });
    }
  }
  for (const std::shared_ptr<FsContext>& fs : contexts) {
    fs->set_root(move.Apply(fs->root()));
    fs->set_cwd(move.Apply(fs->cwd()));
  }
}

}  // namespace kernel
