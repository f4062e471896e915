// Blocking I/O, done in the syscall layer.
//
// Files never sleep (their Read/Write have no Task): one that cannot make
// progress answers EAGAIN. For a description without O_NONBLOCK these
// helpers then wait on the file's readiness, interruptibly (a signal or
// exit ends the wait with ERESTARTSYS), and try again, as gVisor's
// read/write syscalls do. Files that never say EAGAIN pass straight
// through, at the cost of one flags() load.
#ifndef SYSCALLS_BLOCKING_H_
#define SYSCALLS_BLOCKING_H_

#include <sys/uio.h>

#include <span>
#include <vector>

#include "absl/functional/function_ref.h"
#include "syscalls/common.h"

namespace syscalls {

// One attempt at the transfer: `iov` is the sentry's view of what is left
// of the app's buffers, valid only during the call (the address space is
// held meanwhile: MemoryManager::WithIoBlocks), or for a file that
// bounces_io a sentry buffer; `done` is the bytes moved so far (for
// positional I/O: offset + done). The attempt must not block.
using IoAttempt =
    absl::FunctionRef<Result<size_t>(std::span<const iovec> iov, size_t done)>;

// read(2) semantics: returns as soon as one attempt moves anything (or
// fails otherwise than EAGAIN). The buffers `dst` are resolved again at
// each attempt, so the bytes land where the app sees them when they
// arrive, whatever fork, munmap or mprotect did during a wait.
Result<size_t> BlockingRead(Task& t, vfs::FileDescription& f,
                            std::span<const mm::UserRange> dst,
                            IoAttempt attempt);

// write(2) semantics: a blocking write goes on until everything is written
// (a pipe write of more than PIPE_BUF bytes may take several attempts);
// interrupted or failing part way (a buffer unmapped meanwhile), it reports
// what was written.
Result<size_t> BlockingWrite(Task& t, vfs::FileDescription& f,
                             std::span<const mm::UserRange> src,
                             IoAttempt attempt);

// `ranges` without their first `n` bytes (what a short transfer left).
std::vector<mm::UserRange> DropFront(std::span<const mm::UserRange> ranges,
                                     size_t n);

// What an attempt that cannot make progress waits for: `file` becoming
// readable (or at EOF/hangup), or writable (room, or no readers).
struct WaitFor {
  vfs::FileDescription* file = nullptr;
  bool write = false;
};
using WaitingAttempt = absl::FunctionRef<Result<size_t>(WaitFor& wait)>;

// For calls that move data between two files (splice, tee, sendfile,
// vmsplice): runs `attempt` until it answers anything but EAGAIN. After
// EAGAIN it waits, interruptibly (ERESTARTSYS), for what the attempt
// named in `wait`, unless `nonblocking` or it named nothing.
Result<size_t> BlockingTransfer(Task& t, bool nonblocking,
                                WaitingAttempt attempt);

}  // namespace syscalls

#endif  // SYSCALLS_BLOCKING_H_
