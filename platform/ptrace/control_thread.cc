#include "platform/ptrace/control_thread.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "base/log.h"

namespace platform::ptrace {

struct ControlThread::Request {
  const std::function<void()>* fn;
  bool done = false;  // guarded by mu_
};

ControlThread::ControlThread() {
  // The new thread inherits the mask: block everything around its start.
  sigset_t all, old;
  sigfillset(&all);
  CHECK(pthread_sigmask(SIG_SETMASK, &all, &old) == 0);
  thread_ = std::thread([this] { Loop(); });
  CHECK(pthread_sigmask(SIG_SETMASK, &old, nullptr) == 0);
  pthread_setname_np(thread_.native_handle(), "ptrace-control");
  Run([this] { tid_ = gettid(); });
}

ControlThread::~ControlThread() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void ControlThread::Run(const std::function<void()>& fn) {
  CHECK(std::this_thread::get_id() != thread_.get_id());
  Request request{&fn};
  std::unique_lock lock(mu_);
  queue_.push_back(&request);
  wake_.notify_one();
  done_.wait(lock, [&] { return request.done; });
}

void ControlThread::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stop_, and nothing left to do
    Request* request = queue_.front();
    queue_.pop_front();
    lock.unlock();
    (*request->fn)();
    lock.lock();
    request->done = true;
    // Several callers may wait on done_; each checks its own flag.
    done_.notify_all();
  }
}

}  // namespace platform::ptrace
