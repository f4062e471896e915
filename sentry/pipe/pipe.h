// Pipes: pipe(2)'s buffer and its two ends, in sentry memory.
//
// A Pipe is Linux's pipe_inode_info: a ring of 16 page-sized slots
// (64 KiB), reader and writer counts, and one waiter::Queue for both ends.
// Its ends are FileDescriptions that never sleep: where Linux's pipe_read
// and pipe_write would wait they answer EAGAIN, and the syscall layer
// (syscalls/blocking.h) waits on the queue, interruptibly, and retries.
//
// Lock order: Pipe::mu_ is a leaf; the queue is notified after it is
// released. See README.md.
#ifndef SENTRY_PIPE_PIPE_H_
#define SENTRY_PIPE_PIPE_H_

#include <limits.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/result.h"
#include "sentry/vfs/file_description.h"
#include "sentry/waiter/waiter.h"

namespace pipes {

class Pipe {
 public:
  static constexpr size_t kPageSize = 4096;
  // Linux's PIPE_DEF_BUFFERS: 16 slots of a page each.
  static constexpr size_t kDefaultSlots = 16;
  // Writes of at most PIPE_BUF bytes are never split (PIPE_BUF == a page,
  // so one slot always holds them).
  static_assert(PIPE_BUF == kPageSize);

  // `uid`/`gid` own the pipe (fstat), as Linux's fsuid/fsgid at creation.
  Pipe(uint32_t uid, uint32_t gid);
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  // Moves queued bytes into `dst`: at most one packet from a packet slot.
  // 0 at EOF (empty, no writers); EAGAIN when empty with writers.
  base::Result<size_t> Read(std::span<const iovec> dst);
  // Queues `src`; `packet` (the writer's O_DIRECT) makes each slot a packet
  // of at most a page. Returns what fit (a short count when the pipe filled
  // up part way), EAGAIN when nothing fits or a write of <= PIPE_BUF bytes
  // does not fit whole, EPIPE without readers.
  base::Result<size_t> Write(std::span<const iovec> src, bool packet);

  // poll(2) events of an end that reads and/or writes, of `mask`, as
  // Linux's pipe_poll.
  uint64_t Readiness(bool reader, bool writer, uint64_t mask);
  // FIONREAD: the bytes queued.
  size_t QueuedBytes();

  // Counts an end in or out; the last reader or writer leaving wakes the
  // other side (EPOLLERR for writers, EPOLLHUP for readers).
  void AddEnd(bool reader, bool writer);
  void RemoveEnd(bool reader, bool writer);

  waiter::Queue& queue() { return queue_; }
  uint64_t ino() const { return ino_; }
  struct stat Stat() const;

 private:
  struct Slot {
    std::unique_ptr<uint8_t[]> page;
    size_t offset = 0;
    size_t len = 0;
    bool packet = false;
  };

  bool FullLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return used_ >= max_slots_;
  }
  Slot& SlotLocked(size_t i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return slots_[(head_ + i) % slots_.size()];
  }

  const uint64_t ino_;
  const struct stat stat_;  // a pipe's times do not change, as on Linux
  waiter::Queue queue_;

  absl::Mutex mu_;
  // A ring of pages; the queued ones are slots_[head_ .. head_+used_).
  std::vector<Slot> slots_ ABSL_GUARDED_BY(mu_);
  size_t head_ ABSL_GUARDED_BY(mu_) = 0;
  size_t used_ ABSL_GUARDED_BY(mu_) = 0;
  size_t max_slots_ ABSL_GUARDED_BY(mu_) = kDefaultSlots;  // F_SETPIPE_SZ
  // One emptied page kept for the next write, as Linux's tmp_page.
  std::unique_ptr<uint8_t[]> spare_ ABSL_GUARDED_BY(mu_);
  int readers_ ABSL_GUARDED_BY(mu_) = 0;
  int writers_ ABSL_GUARDED_BY(mu_) = 0;
};

// The two ends of a new pipe, as pipe2(2) makes them: the read end is
// O_RDONLY (plus O_NONBLOCK), the write end O_WRONLY (plus O_NONBLOCK and
// O_DIRECT); `flags` may hold only those two.
struct PipeEnds {
  std::shared_ptr<vfs::FileDescription> read;
  std::shared_ptr<vfs::FileDescription> write;
};
PipeEnds NewPipe(int flags, uint32_t uid, uint32_t gid);

}  // namespace pipes

#endif  // SENTRY_PIPE_PIPE_H_
