#include "sentry/kernel/kernel.h"

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
      platform::Platform::Create(options.platform, k->memory_file_->fd());
  if (!platform) {
    *why = "cannot start platform \"" + options.platform + "\"";
    return std::unexpected(platform.error());
  }
  k->platform_ = std::move(*platform);
  auto vfs = vfs::Vfs::Create({.host_root = options.host_root});
  if (!vfs) {
    *why = "cannot open the root filesystem " + options.host_root;
    return std::unexpected(vfs.error());
  }
  k->vfs_ = std::move(*vfs);
  return k;
}

Kernel::~Kernel() {
  Shutdown(ExitStatus{.signal = SIGKILL});
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
}

Result<void> Kernel::StartInit(InitProcess init, std::string* why) {
  auto tg = std::make_shared<ThreadGroup>(/*pid=*/1, /*ppid=*/0, init.creds);
  auto fds = std::make_shared<FdTable>();
  for (size_t i = 0; i < init.stdio.size(); ++i) {
    if (init.stdio[i])
      TRY(fds->InstallAt(static_cast<int>(i), init.stdio[i], false, 1 << 20));
  }
  auto fs = std::make_shared<FsContext>(init.cwd);
  auto task = std::make_unique<Task>(*this, tg, /*tid=*/1, fds, fs);
  Task* t = task.get();

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
  {
    absl::MutexLock lock(&mu_);
    init_ = tg;
    tasks_.push_back(std::move(task));
    ++live_tasks_;
    threads_.emplace_back([this, hs, t, init = std::move(init)]() mutable {
      std::string path = init.argv.empty() ? "" : init.argv[0];
      std::string exec_why;
      Result<void> r = t->Exec(path, std::move(init.argv),
                               std::move(init.envp), &exec_why);
      bool ok = r.has_value();
      if (!ok) t->thread_group().BeginExit(ExitStatus{.code = 127});
      {
        absl::MutexLock l(&hs->mu);
        hs->result = std::move(r);
        hs->why = std::move(exec_why);
        hs->done = true;
      }
      if (ok) t->Run();
      TaskExited(t);
    });
  }
  absl::MutexLock l(&hs->mu);
  hs->mu.Await(absl::Condition(&hs->done));
  if (!hs->result) *why = hs->why;
  return hs->result;
}

void Kernel::TaskExited(Task* task) {
  absl::MutexLock lock(&mu_);
  --live_tasks_;
}

ExitStatus Kernel::WaitInit() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* live) { return *live == 0; }, &live_tasks_));
  return init_ ? init_->exit_status() : ExitStatus{};
}

void Kernel::Shutdown(ExitStatus status) {
  absl::MutexLock lock(&mu_);
  for (auto& t : tasks_) t->ExitGroup(status);
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

}  // namespace kernel
