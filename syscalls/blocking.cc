#include "syscalls/blocking.h"

#include <sys/epoll.h>

#include <memory>
#include <optional>
#include <vector>

#include "sentry/vfs/inotify.h"

namespace syscalls {
namespace {

// What wakes a blocked reader or writer. Errors and hangups too: the retry
// then reports them (EOF, EPIPE).
constexpr uint64_t kReadEvents =
    EPOLLIN | EPOLLRDNORM | EPOLLRDHUP | EPOLLHUP | EPOLLERR;
constexpr uint64_t kWriteEvents = EPOLLOUT | EPOLLWRNORM | EPOLLHUP | EPOLLERR;

// A task's wait on one file, registered on the first Wait and unregistered
// when it goes out of scope.
class FileWaiter {
 public:
  FileWaiter(Task& t, vfs::FileDescription& f, uint64_t events)
      : task_(t), file_(f), entry_(t, events) {}
  ~FileWaiter() {
    if (registered_) file_.EventUnregister(&entry_);
  }

  // The first call only registers and returns, so the caller tries again
  // before sleeping: a wakeup between its failed try and the registration
  // would otherwise be lost. Later calls sleep until notified.
  // Returns false if `deadline` passed first.
  Result<bool> Wait(absl::Time deadline = absl::InfiniteFuture()) {
    if (!registered_) {
      file_.EventRegister(&entry_);
      registered_ = true;
      return true;
    }
    Task::WakeReason why = task_.Block(deadline, &entry_.ready);
    // Cleared before the next try, so a notification after it is kept.
    entry_.ready.store(false);
    if (why == Task::WakeReason::kInterrupted) return Err(base::kERESTARTSYS);
    return why != Task::WakeReason::kTimeout;
  }

 private:
  Task& task_;
  vfs::FileDescription& file_;
  Task::WaitEntry entry_;
  bool registered_ = false;
};

bool WouldBlock(const Result<size_t>& r) {
  return !r && r.error().value == EAGAIN;
}

bool Nonblocking(const vfs::FileDescription& f) {
  return f.flags() & O_NONBLOCK;
}


// One attempt for a file that takes memory managers' locks itself
// (bounces_io: /proc/<pid>/mem, whose target may be the caller): through a
// sentry buffer a chunk at a time, copied from or to the app's buffers
// outside the file's I/O. A short chunk ends it, as does a fault after the
// first byte (the count so far).
Result<size_t> BounceAttempt(Task& t, std::span<const mm::UserRange> ranges,
                             mm::Access access, size_t done,
                             IoAttempt attempt) {
  constexpr size_t kChunk = 64 * 1024;
  std::vector<uint8_t> buf;
  size_t moved = 0;
  auto partial = [&](Result<size_t> r) -> Result<size_t> {
    if (moved > 0) return moved;
    return r;
  };
  for (const mm::UserRange& r : ranges) {
    for (size_t off = 0; off < r.len;) {
      const size_t n = std::min(kChunk, r.len - off);
      buf.resize(n);
      const iovec v{buf.data(), n};
      size_t got;
      if (access == mm::Access::kRead) {  // write(2): the app's bytes out
        if (!t.mm().CopyIn(r.addr + off, buf.data(), n))
          return partial(Err(EFAULT));
        Result<size_t> w = attempt({&v, 1}, done + moved);
        if (!w) return partial(w);
        got = std::min(*w, n);
      } else {  // read(2): into the app's buffer
        Result<size_t> rd = attempt({&v, 1}, done + moved);
        if (!rd) return partial(rd);
        got = std::min(*rd, n);
        if (!t.mm().CopyOut(r.addr + off, buf.data(), got))
          return partial(Err(EFAULT));
      }
      moved += got;
      off += got;
      if (got < n) return moved;
    }
  }
  return moved;
}

// One attempt through the app's buffers as they are mapped now.
Result<size_t> Attempt(Task& t, vfs::FileDescription& f,
                       std::span<const mm::UserRange> ranges,
                       mm::Access access, size_t done, IoAttempt attempt) {
  if (f.bounces_io()) return BounceAttempt(t, ranges, access, done, attempt);
  return t.mm().WithIoBlocks(ranges, access,
                             [&](std::span<const iovec> iov) {
                               return attempt(iov, done);
                             });
}

}  // namespace

std::vector<mm::UserRange> DropFront(std::span<const mm::UserRange> ranges,
                                     size_t n) {
  std::vector<mm::UserRange> out;
  for (const mm::UserRange& r : ranges) {
    if (n >= r.len) {
      n -= r.len;
      continue;
    }
    out.push_back({r.addr + n, r.len - n});
    n = 0;
  }
  return out;
}

Result<size_t> BlockingTransfer(Task& t, bool nonblocking,
                                WaitingAttempt attempt) {
  // A pointer rather than std::optional: g++ 12 warns (falsely) that an
  // optional's FileWaiter may be used uninitialized.
  std::unique_ptr<FileWaiter> waiter;
  WaitFor waiting;  // what `waiter` is registered for
  for (;;) {
    WaitFor wait;
    Result<size_t> r = attempt(wait);
    if (!WouldBlock(r) || nonblocking || wait.file == nullptr) return r;
    if (!waiter || waiting.file != wait.file || waiting.write != wait.write) {
      // A new condition: register, then try again before sleeping.
      waiter.reset();
      waiter = std::make_unique<FileWaiter>(
          t, *wait.file, wait.write ? kWriteEvents : kReadEvents);
      waiting = wait;
    }
    TRY(waiter->Wait());
  }
}

Result<size_t> BlockingRead(Task& t, vfs::FileDescription& f,
                            std::span<const mm::UserRange> dst,
                            IoAttempt attempt) {
  FileWaiter waiter(t, f, kReadEvents);
  std::optional<absl::Time> start;
  for (bool timed_out = false;;) {
    TRY(f.CheckIo(t, /*write=*/false));
    Result<size_t> r = Attempt(t, f, dst, mm::Access::kWrite, 0, attempt);
    f.AfterIo(t);
    // fsnotify_access, once per read(2) of the VFS's files.
    if (r && *r > 0) vfs::NotifyDescription(f, IN_ACCESS);
    if (!WouldBlock(r) || Nonblocking(f)) return r;
    if (timed_out) return 0;  // a terminal's VTIME passed
    if (!start) start = absl::Now();
    timed_out = !TRY(waiter.Wait(f.ReadDeadline(*start)));
  }
}

namespace {

Result<size_t> WriteLoop(Task& t, vfs::FileDescription& f,
                         std::span<const mm::UserRange> src,
                         IoAttempt attempt) {
  size_t total = 0;
  for (const mm::UserRange& r : src) total += r.len;
  std::vector<mm::UserRange> rest;  // what is left after a short write
  std::span<const mm::UserRange> left = src;
  size_t done = 0;
  FileWaiter waiter(t, f, kWriteEvents);
  for (;;) {
    if (auto c = f.CheckIo(t, /*write=*/true); !c) {
      if (done > 0) return done;
      return std::unexpected(c.error());
    }
    Result<size_t> r = Attempt(t, f, left, mm::Access::kRead, done, attempt);
    f.AfterIo(t);
    if (r) {
      done += *r;
      // A short write to a blocking file goes on with the rest: a pipe
      // takes a large write a page at a time as its reader drains it.
      // Where a short write means an error (a full disk, a buffer that
      // became inaccessible), the next try reports it and we return the
      // count.
      if (done >= total || *r == 0 || Nonblocking(f) || f.single_write())
        return done;
      rest = DropFront(left, *r);
      left = rest;
      continue;
    }
    // SIGPIPE, as Linux's pipe_write sends it (even after a partial write;
    // sockets unless MSG_NOSIGNAL).
    if (r.error().value == EPIPE) kernel::SendSigpipe(t);
    if (!WouldBlock(r) || Nonblocking(f)) {
      if (done > 0) return done;
      return r;
    }
    if (auto w = waiter.Wait(); !w) {
      if (done > 0) return done;  // interrupted part way: what was written
      return std::unexpected(w.error());
    }
  }
}

}  // namespace

Result<size_t> BlockingWrite(Task& t, vfs::FileDescription& f,
                             std::span<const mm::UserRange> src,
                             IoAttempt attempt) {
  Result<size_t> r = WriteLoop(t, f, src, attempt);
  // fsnotify_modify, once per write(2) of the VFS's files.
  if (r && *r > 0) vfs::NotifyDescription(f, IN_MODIFY);
  return r;
}

}  // namespace syscalls
