// The zygote: one small process, forked from the sentry while it is still
// single-threaded, that forks every stub.
//
// Forking a multi-threaded C++ process is hazardous (locks held by other
// threads, a half-updated heap), and every stub must start with nothing of
// the sentry in it. So the sentry forks exactly once, early: the child
// drops its fds, signal handlers and rseq, installs a seccomp filter, jumps
// to the stub code (stub.S), which unmaps every page of the sentry and
// resets the FPU, then serves "fork a stub" requests over a socket.
#ifndef PLATFORM_PTRACE_ZYGOTE_H_
#define PLATFORM_PTRACE_ZYGOTE_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>

#include "base/result.h"
#include "base/unique_fd.h"

namespace platform::ptrace {

// Where the stub code lives. Every stub has it at the same addresses.
struct StubLayout {
  uint64_t region_start = 0;  // STUB_REGION_SIZE bytes: code page, data page
  uint64_t region_end = 0;
  uint64_t code_start = 0;  // the code page (r-x)
  uint64_t code_end = 0;
  uint64_t syscall_gadget = 0;      // `syscall; int3`
  uint64_t syscall_gadget_end = 0;  // %rip at the int3 stop
  uint64_t clone_gadget = 0;        // `syscall`, then int3 in the parent
  uint64_t clone_gadget_end = 0;    // the parent's %rip at that int3
  // The systrap platform's code (platform/systrap/stub_code.inc.S).
  uint64_t systrap_handler = 0;
  uint64_t systrap_restorer = 0;
  uint64_t systrap_syscall_loop = 0;
  uint64_t systrap_memfd_name = 0;
  uint64_t systrap_fastcall = 0;  // the syscall fast path's entry
};

class Zygote {
 public:
  // Reserves the stub region, forks the zygote and waits until it has shed
  // the sentry's mappings. The caller must be single-threaded, and the
  // calling thread must live as long as the zygote: the zygote's
  // PR_SET_PDEATHSIG fires when the thread that forked it exits.
  // `memory_fd` is not owned; the zygote and every stub keep a copy.
  // `systrap`: every stub gets the systrap signal handler for every signal
  // (on the alternate stack) and starts with all but the CPU's signals
  // blocked (platform/systrap/); otherwise no handler and nothing blocked.
  static base::Result<std::unique_ptr<Zygote>> Start(int memory_fd,
                                                     bool systrap = false);

  // Closes the request socket and reaps the zygote. Stubs forked from it
  // die with it (PR_SET_PDEATHSIG), so destroy every stub first.
  ~Zygote();

  Zygote(const Zygote&) = delete;
  Zygote& operator=(const Zygote&) = delete;

  // Forks a new stub and returns its pid. The stub is fully set up (fds
  // closed, death signal armed) and waits in pause() to be seized. Its
  // parent is the zygote, not the sentry. Thread-safe.
  base::Result<pid_t> NewStub();

  const StubLayout& layout() const { return layout_; }
  pid_t pid() const { return pid_; }

 private:
  Zygote(base::UniqueFd socket, base::UniqueFd pidfd, pid_t pid,
         const StubLayout& layout);
  // Waits for the zygote's ready byte; on failure logs why it died.
  base::Result<void> AwaitReady();
  // Closes the socket, makes sure the zygote exits and reaps it; returns
  // the wait status.
  int Stop();

  std::mutex mu_;  // one request/response on socket_ at a time
  base::UniqueFd socket_;
  base::UniqueFd pidfd_;
  pid_t pid_;
  StubLayout layout_;
};

}  // namespace platform::ptrace

#endif  // PLATFORM_PTRACE_ZYGOTE_H_
