#include "sentry/tty/pty.h"

#include "absl/synchronization/mutex.h"
#include "sentry/kernel/task.h"
#include "sentry/tty/job_control.h"

namespace tty {
namespace {

using base::Err;
using base::Result;

// What both ends share: the terminal, fstat's answer, the path.
class TerminalFile : public vfs::FileDescription {
 public:
  TerminalFile(int flags, std::shared_ptr<Terminal> term, kernel::Kernel* k,
               struct stat st, std::string path)
      : FileDescription(flags),
        term_(std::move(term)),
        kernel_(k),
        stat_(st),
        path_(std::move(path)) {}

  const std::shared_ptr<Terminal>& terminal() const { return term_; }
  Result<struct stat> Stat() override { return stat_; }
  std::string path() const override { return path_; }

 protected:
  const std::shared_ptr<Terminal> term_;
  kernel::Kernel* const kernel_;

 private:
  const struct stat stat_;
  const std::string path_;
};

class MasterFile final : public TerminalFile {
 public:
  MasterFile(int flags, std::shared_ptr<Terminal> term, kernel::Kernel* k,
             struct stat st, std::string path, std::function<void()> on_close)
      : TerminalFile(flags, std::move(term), k, st, std::move(path)),
        on_close_(std::move(on_close)) {}
  ~MasterFile() override {
    term_->MasterClosed();
    if (kernel_ != nullptr) Hangup(*kernel_, *term_);
    if (on_close_) on_close_();
  }

  Result<size_t> Read(std::span<const iovec> dst) override {
    return term_->MasterRead(dst);
  }
  // Runs under the writer's address space lock: the signals typed
  // (ISIG) are sent by AfterIo.
  Result<size_t> Write(std::span<const iovec> src) override {
    Signals s;
    Result<size_t> r = term_->MasterWrite(src, &s);
    if (!s.sigs.empty()) {
      absl::MutexLock lock(&mu_);
      pending_.pgrp = s.pgrp;
      pending_.sigs.insert(pending_.sigs.end(), s.sigs.begin(), s.sigs.end());
    }
    return r;
  }
  void AfterIo(kernel::Task& t) override {
    Signals s;
    {
      absl::MutexLock lock(&mu_);
      if (pending_.sigs.empty()) return;
      std::swap(s, pending_);
    }
    SendSignals(t.kernel(), s);
  }
  Result<uint64_t> Ioctl(kernel::Task& t, uint32_t cmd,
                         uint64_t arg) override {
    return TerminalIoctl(t, term_, /*master=*/true, *this, cmd, arg);
  }
  uint64_t Readiness(uint64_t mask) override {
    return term_->MasterReadiness(mask);
  }
  void EventRegister(waiter::Entry* e) override {
    term_->master_queue().Register(e);
  }
  bool pollable() const override { return true; }
  void EventUnregister(waiter::Entry* e) override {
    term_->master_queue().Unregister(e);
  }

 private:
  const std::function<void()> on_close_;
  absl::Mutex mu_;
  Signals pending_ ABSL_GUARDED_BY(mu_);
};

class ReplicaFile final : public TerminalFile {
 public:
  using TerminalFile::TerminalFile;
  ~ReplicaFile() override { term_->ReplicaClosed(); }

  Result<size_t> Read(std::span<const iovec> dst) override {
    return term_->ReplicaRead(dst);
  }
  Result<size_t> Write(std::span<const iovec> src) override {
    return term_->ReplicaWrite(src);
  }
  // n_tty_read's job_control, and n_tty_write's TOSTOP check.
  Result<void> CheckIo(kernel::Task& t, bool write) override {
    if (!write) return CheckChange(t, *term_, SIGTTIN);
    if (term_->GetTermios().c_lflag & TOSTOP)
      return CheckChange(t, *term_, SIGTTOU);
    return {};
  }
  absl::Time ReadDeadline(absl::Time start) override {
    return term_->ReplicaReadDeadline(start);
  }
  Result<uint64_t> Ioctl(kernel::Task& t, uint32_t cmd,
                         uint64_t arg) override {
    return TerminalIoctl(t, term_, /*master=*/false, *this, cmd, arg);
  }
  uint64_t Readiness(uint64_t mask) override {
    return term_->ReplicaReadiness(mask);
  }
  void EventRegister(waiter::Entry* e) override {
    term_->replica_queue().Register(e);
  }
  bool pollable() const override { return true; }
  void EventUnregister(waiter::Entry* e) override {
    term_->replica_queue().Unregister(e);
  }
};

}  // namespace

std::shared_ptr<vfs::FileDescription> NewMaster(
    std::shared_ptr<Terminal> term, kernel::Kernel* kernel, int flags,
    struct stat st, std::string path, std::function<void()> on_close) {
  return std::make_shared<MasterFile>(flags, std::move(term), kernel, st,
                                      std::move(path), std::move(on_close));
}

Result<std::shared_ptr<vfs::FileDescription>> NewReplica(
    std::shared_ptr<Terminal> term, kernel::Kernel* kernel, int flags,
    struct stat st, std::string path) {
  TRY(term->OpenReplica());
  return std::make_shared<ReplicaFile>(flags, std::move(term), kernel, st,
                                       std::move(path));
}

std::shared_ptr<Terminal> TerminalOf(vfs::FileDescription& f) {
  if (auto* t = dynamic_cast<TerminalFile*>(&f)) return t->terminal();
  return nullptr;
}

}  // namespace tty
