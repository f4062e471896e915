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
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "base/result.h"
#include "sentry/vfs/file_description.h"
#include "sentry/waiter/waiter.h"

namespace vfs {
class Node;
}

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

  // vmsplice(2) into the pipe: each piece of `src` within one page (of the
  // sentry's view, which has the app's page offsets) becomes a slot of its
  // own that later writes never top up, as Linux's iter_to_pipe gives each
  // user page a buffer. Whole pieces only; EAGAIN when none fits, EPIPE
  // without readers.
  base::Result<size_t> WriteSegments(std::span<const iovec> src);

  // splice(2) and tee(2) out of the pipe: copies up to `max` queued bytes
  // and hands them to `sink`, which returns how many it took (or fails);
  // those are then consumed, unless `peek` (tee). Readers are serialised
  // meanwhile (Linux's pipe mutex), so no read takes the bytes while the
  // sink writes them elsewhere. 0 at EOF; EAGAIN when empty with writers;
  // the sink's error when it took nothing.
  using Sink = absl::FunctionRef<base::Result<size_t>(std::span<const uint8_t>)>;
  base::Result<size_t> ReadInto(size_t max, bool peek, Sink sink);

  // F_GETPIPE_SZ: the capacity in bytes.
  size_t Capacity();
  // F_SETPIPE_SZ with a size already rounded to a power of two of pages:
  // EBUSY if more slots are in use. Returns the new capacity.
  base::Result<size_t> SetCapacity(size_t bytes);
  // Bytes a write could queue now in fresh pages (0 when full).
  size_t FreeBytes();
  bool HasReaders();

  // poll(2) events of an end that reads and/or writes, of `mask`, as
  // Linux's pipe_poll.
  uint64_t Readiness(bool reader, bool writer, uint64_t mask);
  // FIONREAD: the bytes queued.
  size_t QueuedBytes();

  // The ends open now, and how many were ever opened (Linux's r_counter
  // and w_counter: a FIFO's open waits for the other one to move).
  struct Counts {
    int readers = 0, writers = 0;
    uint64_t opened_readers = 0, opened_writers = 0;
  };
  // Counts an end in or out; a new end wakes FIFO opens waiting for it
  // (kFifoOpenEvent), the last reader or writer leaving wakes the other
  // side (EPOLLERR for writers, EPOLLHUP for readers). AddEnd returns the
  // counts with the new end.
  Counts AddEnd(bool reader, bool writer);
  void RemoveEnd(bool reader, bool writer);
  Counts counts();

  waiter::Queue& queue() { return queue_; }
  uint64_t ino() const { return ino_; }
  struct stat Stat() const;

 private:
  struct Slot {
    std::unique_ptr<uint8_t[]> page;
    size_t offset = 0;
    size_t len = 0;
    bool packet = false;
    bool mergeable = true;  // false: vmsplice'd, later writes take new slots
  };

  bool FullLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return used_ >= max_slots_;
  }
  Slot& SlotLocked(size_t i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return slots_[(head_ + i) % slots_.size()];
  }
  // Frees the emptied first slot (its page becomes the spare).
  void PopHeadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const uint64_t ino_;
  const struct stat stat_;  // a pipe's times do not change, as on Linux
  waiter::Queue queue_;

  // Held by every consumer (Read, ReadInto) around taking bytes, and
  // across ReadInto's sink, so a splice's copy-then-consume is atomic
  // for readers. Outside mu_; writers never take it.
  absl::Mutex read_mu_ ABSL_ACQUIRED_BEFORE(mu_);
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
  uint64_t opened_readers_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t opened_writers_ ABSL_GUARDED_BY(mu_) = 0;
};

// What a FIFO's pipe notifies when an end is opened, for open(2)s waiting
// for their partner (not an epoll event: no poller asks for it).
inline constexpr uint64_t kFifoOpenEvent = uint64_t{1} << 40;

// The two ends of a new pipe, as pipe2(2) makes them: the read end is
// O_RDONLY (plus O_NONBLOCK), the write end O_WRONLY (plus O_NONBLOCK and
// O_DIRECT); `flags` may hold only those two.
struct PipeEnds {
  std::shared_ptr<vfs::FileDescription> read;
  std::shared_ptr<vfs::FileDescription> write;
};
PipeEnds NewPipe(int flags, uint32_t uid, uint32_t gid);

// Opens an end of a named pipe (a FIFO inode's `pipe`) as Linux's
// fifo_open: O_RDONLY, O_WRONLY or O_RDWR ends of one pipe, fstat and
// the fd calls going to `node` (the inode), shown as `path`. A writer with
// O_NONBLOCK and no reader is ENXIO. An end opened without O_NONBLOCK
// while the other side is missing must wait (FifoMustWait) until another
// end of that side is opened; the open itself never blocks.
base::Result<std::shared_ptr<vfs::FileDescription>> OpenFifo(
    std::shared_ptr<Pipe> pipe, int flags, std::shared_ptr<vfs::Node> node,
    std::string path);
// For a FIFO end just opened: true while its open(2) must still wait for
// the other side (wait on its queue for kFifoOpenEvent). False for pipes.
bool FifoMustWait(vfs::FileDescription& f);

// The pipe behind `f` if it is a pipe end (or a FIFO's), else nullptr.
Pipe* PipeOf(vfs::FileDescription& f);

// F_SETPIPE_SZ's rounding (Linux's round_pipe_size): at least a page, a
// power of two; 0 (EINVAL) above 2 GiB.
size_t RoundPipeSize(uint64_t size);
// /proc/sys/fs/pipe-max-size: the most a user without CAP_SYS_RESOURCE may
// grow a pipe to (Linux's default, 1 MiB).
inline constexpr size_t kPipeMaxSize = 1 << 20;

}  // namespace pipes

#endif  // SENTRY_PIPE_PIPE_H_
