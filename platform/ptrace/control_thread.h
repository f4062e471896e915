// ControlThread: the platform's one sentry host thread that traces the
// leader ("control" stub thread) of every stub process.
//
// ptrace requests on a stub thread must come from its tracer, and a task's
// host thread is often busy running app code (or blocked in the sentry)
// when another thread needs something done in that task's process. The
// leaders are therefore traced by a thread that does nothing else: it
// seizes each new stub process, clones new stub threads in it, and runs
// injected syscalls for sentry threads with no stub thread of their own
// there (a parent populating a forked child). Each request is a handoff
// (~10-30 us here) plus the ptrace work; the per-trap path never uses it.
//
// It exits with the platform; PTRACE_O_EXITKILL then kills every leader
// it still traces, and with them every stub process.
#ifndef PLATFORM_PTRACE_CONTROL_THREAD_H_
#define PLATFORM_PTRACE_CONTROL_THREAD_H_

#include <sys/types.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace platform::ptrace {

class ControlThread {
 public:
  // Starts the thread, with every signal blocked: it only ever waits for
  // requests and for its tracees.
  ControlThread();
  // Finishes the queued requests and joins the thread.
  ~ControlThread();

  ControlThread(const ControlThread&) = delete;
  ControlThread& operator=(const ControlThread&) = delete;

  // Runs `fn` on the control thread and returns when it has. Any thread
  // but the control thread itself; requests run one at a time, in order.
  void Run(const std::function<void()>& fn);

  pid_t tid() const { return tid_; }  // for tests and diagnostics

 private:
  struct Request;
  void Loop();

  std::mutex mu_;
  std::condition_variable wake_;  // a request was queued, or stop_
  std::condition_variable done_;  // a request finished
  std::deque<Request*> queue_;    // guarded by mu_
  bool stop_ = false;             // guarded by mu_
  pid_t tid_ = 0;
  std::thread thread_;
};

}  // namespace platform::ptrace

#endif  // PLATFORM_PTRACE_CONTROL_THREAD_H_
