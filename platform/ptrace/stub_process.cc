#include "platform/ptrace/stub_process.h"

#include <sched.h>

#include <algorithm>
#include <utility>

#include "base/log.h"
#include "platform/ptrace/pidfd.h"

namespace platform::ptrace {

static_assert(kStubThreadCloneFlags ==
              (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
               CLONE_THREAD | CLONE_SYSVSEM));

StubProcess::StubProcess(std::unique_ptr<StubThread> leader,
                         base::UniqueFd pidfd, const StubLayout& layout)
    : leader_(std::move(leader)), pidfd_(std::move(pidfd)), layout_(layout) {}

StubProcess::~StubProcess() { Kill(); }

base::Result<void> StubProcess::Add(std::shared_ptr<StubThread> thread) {
  std::lock_guard lock(mu_);
  if (killed()) return base::Err(ESRCH);
  threads_.push_back(std::move(thread));
  return {};
}

std::shared_ptr<StubThread> StubProcess::FindMine() {
  std::lock_guard lock(mu_);
  for (const auto& thread : threads_) {
    if (thread->IsTracer() && !thread->dead()) return thread;
  }
  return nullptr;
}

void StubProcess::Release(StubThread& thread) {
  thread.Exit();  // CHECKs the caller; a no-op once dead
  Remove(&thread);
}

void StubProcess::Remove(const StubThread* thread) {
  std::lock_guard lock(mu_);
  std::erase_if(threads_, [&](const auto& t) { return t.get() == thread; });
}

void StubProcess::Kill() {
  std::vector<std::shared_ptr<StubThread>> threads;
  {
    // From here Add refuses: every thread that may become a tracee is in
    // `threads`, so the leader's reap below cannot wait forever for a
    // thread nobody reaps.
    std::lock_guard lock(mu_);
    if (killed_.exchange(true)) return;
    threads.swap(threads_);
  }
  // Through the pidfd: a recycled pid can never be hit. ESRCH: the leader
  // was never seized and the zygote has reaped it.
  if (PidfdSendSignal(pidfd_.get(), SIGKILL) != 0 && errno != ESRCH)
    LOG(Error) << "ptrace stub " << pid() << ": kill: "
               << base::ErrnoName(errno);
  // A wait for a tracee works from every thread of the tracer's process,
  // so this thread can reap threads traced by others. Their tracers, if
  // waiting too, see ECHILD and call them dead. The leader last: it is
  // reported only once every other thread is reaped.
  for (const auto& thread : threads) thread->Reap();
  leader_->Reap();
}

// ---------------------------------------------------------------------------
// Release at host thread exit

namespace {

// The stub threads the current host thread traces. Its destructor runs
// when the thread exits normally (returns or pthread_exit), while it is
// still their tracer. A thread that dies otherwise (a raw exit, a crash)
// leaves them to EXITKILL, which kills their whole processes: right for a
// crashing sentry.
class TracedByThisThread {
 public:
  ~TracedByThisThread() {
    for (auto& [process, thread] : stubs_) {
      auto p = process.lock();
      auto t = thread.lock();
      if (p && t && !t->dead()) p->Release(*t);
    }
  }
  void Add(const std::shared_ptr<StubProcess>& process,
           const std::shared_ptr<StubThread>& thread) {
    std::erase_if(stubs_, [](const auto& entry) {
      auto t = entry.second.lock();
      return entry.first.expired() || t == nullptr || t->dead();
    });
    stubs_.emplace_back(process, thread);
  }

 private:
  std::vector<std::pair<std::weak_ptr<StubProcess>, std::weak_ptr<StubThread>>>
      stubs_;
};

thread_local TracedByThisThread traced_by_this_thread;

}  // namespace

void ReleaseAtThreadExit(const std::shared_ptr<StubProcess>& process,
                         const std::shared_ptr<StubThread>& thread) {
  CHECK(thread->IsTracer());
  traced_by_this_thread.Add(process, thread);
}

}  // namespace platform::ptrace
