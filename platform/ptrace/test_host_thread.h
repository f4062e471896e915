// HostThread: a sentry host thread with a Context of its own, as a task's
// thread would be, driven from a test: it runs closures, one at a time.
#ifndef PLATFORM_PTRACE_TEST_HOST_THREAD_H_
#define PLATFORM_PTRACE_TEST_HOST_THREAD_H_

#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "platform/platform.h"

namespace platform::ptrace {

class HostThread {
 public:
  using Fn = std::function<void(std::unique_ptr<Context>&)>;

  explicit HostThread(Platform& platform)
      : ctx_(platform.NewContext()), thread_([this] { Loop(); }) {
    Run([this](auto&) { tid_ = gettid(); });
  }
  // Ends the thread. If the context is still there it stays alive (the
  // thread-exit release ends its stub threads).
  ~HostThread() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  // Starts `fn` on the thread; Wait() for it.
  void Start(Fn fn) {
    std::lock_guard lock(mu_);
    fn_ = std::move(fn);
    done_ = false;
    cv_.notify_all();
  }
  // Waits for the last Start's closure; false after `timeout`.
  bool Wait(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return done_; });
  }
  void Run(Fn fn) {
    Start(std::move(fn));
    Wait(std::chrono::hours(1));
  }

  Context& ctx() { return *ctx_; }  // for Interrupt from another thread
  std::unique_ptr<Context>& ctx_ptr() { return ctx_; }
  pid_t tid() const { return tid_; }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || fn_ != nullptr; });
      if (fn_ == nullptr) return;
      Fn fn = std::move(fn_);
      fn_ = nullptr;
      lock.unlock();
      fn(ctx_);
      lock.lock();
      done_ = true;
      cv_.notify_all();
    }
  }

  std::unique_ptr<Context> ctx_;
  pid_t tid_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  Fn fn_;
  bool done_ = true;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace platform::ptrace

#endif  // PLATFORM_PTRACE_TEST_HOST_THREAD_H_
