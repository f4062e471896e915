#include "sentry/pipe/pipe.h"

#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <string>

#include "sentry/kernel/task.h"
#include "sentry/vfs/iov_cursor.h"
#include "sentry/vfs/node.h"

namespace pipes {
namespace {

using vfs::IovCursor;

using base::Err;
using base::Result;

// pipefs's st_dev: an anonymous device (major 0), like devfs's 0:6.
constexpr unsigned kPipefsMinor = 15;

// Pipe inode numbers: unique per pipe for the sentry's life, as Linux's
// get_next_ino().
uint64_t NextIno() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

struct stat MakeStat(uint64_t ino, uint32_t uid, uint32_t gid) {
  struct stat st {};
  st.st_dev = makedev(0, kPipefsMinor);
  st.st_ino = ino;
  st.st_mode = S_IFIFO | 0600;
  st.st_nlink = 1;
  st.st_uid = uid;
  st.st_gid = gid;
  st.st_blksize = Pipe::kPageSize;
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  st.st_atim = st.st_mtim = st.st_ctim = now;
  return st;
}

size_t TotalLength(std::span<const iovec> iov) {
  size_t n = 0;
  for (const iovec& v : iov) n += v.iov_len;
  return n;
}

// One end of a pipe, or of a FIFO (both for a FIFO opened O_RDWR). A
// FIFO's end describes its inode (`fifo_`): fstat, path and the fd calls
// (fchmod...) reach the file, as on Linux.
class PipeEnd final : public vfs::FileDescription, public vfs::NodeDescription {
 public:
  PipeEnd(std::shared_ptr<Pipe> pipe, int flags,
          std::shared_ptr<vfs::Node> fifo = nullptr, std::string path = "")
      : FileDescription(flags),
        pipe_(std::move(pipe)),
        reader_((flags & O_ACCMODE) != O_WRONLY),
        writer_((flags & O_ACCMODE) != O_RDONLY),
        fifo_(std::move(fifo)),
        path_(std::move(path)) {
    const Pipe::Counts c = pipe_->AddEnd(reader_, writer_);
    if (!fifo_ || (reader_ && writer_)) return;
    // Linux's fifo_open: a lone reader waits for w_counter to move, a
    // lone writer for r_counter; a non-blocking reader does not wait, but
    // sees no hangup until a writer has come (f_pipe).
    if (reader_ && c.writers == 0) {
      waits_for_ = c.opened_writers;
      must_wait_ = !(flags & O_NONBLOCK);
      no_writer_yet_ = true;
    } else if (writer_ && c.readers == 0) {
      waits_for_ = c.opened_readers;
      must_wait_ = true;  // O_NONBLOCK writers were refused (ENXIO)
    }
  }
  ~PipeEnd() override { pipe_->RemoveEnd(reader_, writer_); }

  Result<size_t> Read(std::span<const iovec> dst) override {
    return pipe_->Read(dst);
  }
  Result<size_t> Write(std::span<const iovec> src) override {
    // O_DIRECT is looked at per write, as Linux's is_packetized().
    return pipe_->Write(src, flags() & O_DIRECT);
  }
  Result<struct stat> Stat() override {
    return fifo_ ? fifo_->Stat() : pipe_->Stat();
  }
  Result<uint64_t> Ioctl(kernel::Task& task, uint32_t cmd,
                         uint64_t arg) override {
    if (cmd != FIONREAD) return Err(ENOTTY);
    const int n = static_cast<int>(pipe_->QueuedBytes());
    TRY(task.mm().CopyOut(arg, &n, sizeof n));
    return 0;
  }
  uint64_t Readiness(uint64_t mask) override {
    uint64_t ready = pipe_->Readiness(reader_, writer_, mask);
    if (no_writer_yet_ && pipe_->counts().opened_writers == waits_for_) {
      ready &= ~uint64_t{EPOLLHUP};
    }
    return ready;
  }
  void EventRegister(waiter::Entry* e) override { pipe_->queue().Register(e); }
  bool pollable() const override { return true; }
  void EventUnregister(waiter::Entry* e) override {
    pipe_->queue().Unregister(e);
  }
  std::string path() const override {
    if (fifo_) return path_;
    return "pipe:[" + std::to_string(pipe_->ino()) + "]";
  }
  // Null for an anonymous pipe: its attributes are the pipe's own.
  std::shared_ptr<vfs::Node> node() const override { return fifo_; }
  Pipe* pipe() const { return pipe_.get(); }

  bool MustWait() {
    if (!must_wait_) return false;
    const Pipe::Counts c = pipe_->counts();
    const uint64_t now = reader_ ? c.opened_writers : c.opened_readers;
    if (now != waits_for_) must_wait_ = false;
    return must_wait_;
  }

 private:
  const std::shared_ptr<Pipe> pipe_;
  const bool reader_;
  const bool writer_;
  const std::shared_ptr<vfs::Node> fifo_;
  const std::string path_;
  // Set at open, read by the opening task only.
  bool must_wait_ = false;
  bool no_writer_yet_ = false;
  uint64_t waits_for_ = 0;  // the other side's opened count at open
};

}  // namespace

Pipe::Pipe(uint32_t uid, uint32_t gid)
    : ino_(NextIno()), stat_(MakeStat(ino_, uid, gid)), slots_(kDefaultSlots) {}

void Pipe::PopHeadLocked() {
  Slot& s = SlotLocked(0);
  if (!spare_) spare_ = std::move(s.page);
  s = Slot{};
  head_ = (head_ + 1) % slots_.size();
  --used_;
}

Result<size_t> Pipe::Read(std::span<const iovec> dst) {
  const size_t want = TotalLength(dst);
  if (want == 0) return 0;  // even on an empty pipe, as Linux
  IovCursor out(dst);
  size_t done = 0;
  bool freed = false;
  {
    absl::MutexLock readers(&read_mu_);
    absl::MutexLock lock(&mu_);
    while (used_ > 0 && done < want) {
      Slot& s = SlotLocked(0);
      const size_t n = std::min(s.len, want - done);
      out.Scatter(s.page.get() + s.offset, n);
      done += n;
      s.offset += n;
      s.len -= n;
      const bool packet = s.packet;
      // A packet is read whole or its rest is dropped (pipe(7), O_DIRECT).
      if (packet) s.len = 0;
      if (s.len == 0) {
        PopHeadLocked();
        freed = true;
      }
      if (packet) break;
    }
    if (done == 0) {
      if (writers_ == 0) return 0;  // EOF
      return Err(EAGAIN);
    }
  }
  // After the unlock: a waiter registers before it checks, so it either
  // sees the new state or gets this notification (README.md).
  if (freed) queue_.Notify(EPOLLOUT | EPOLLWRNORM);
  return done;
}

Result<size_t> Pipe::Write(std::span<const iovec> src, bool packet) {
  const size_t want = TotalLength(src);
  if (want == 0) return 0;  // before the EPIPE check, as Linux
  IovCursor in(src);
  size_t done = 0;
  {
    absl::MutexLock lock(&mu_);
    // Linux also sends SIGPIPE here; having the task, the syscall layer
    // does (syscalls/blocking.cc).
    if (readers_ == 0) return Err(EPIPE);
    // As Linux: the first want % page bytes may top up the last slot, but
    // only whole; everything else goes into fresh slots a page at a time.
    // So a write of <= PIPE_BUF bytes lands whole or not at all.
    const size_t head_bytes = want % kPageSize;
    if (!packet && used_ > 0 && head_bytes > 0) {
      Slot& last = SlotLocked(used_ - 1);
      if (!last.packet && last.mergeable && last.offset + last.len + head_bytes <= kPageSize) {
        in.Gather(last.page.get() + last.offset + last.len, head_bytes);
        last.len += head_bytes;
        done = head_bytes;
      }
    }
    while (done < want && !FullLocked()) {
      Slot& s = SlotLocked(used_);
      s.page = spare_ ? std::move(spare_)
                      : std::make_unique_for_overwrite<uint8_t[]>(kPageSize);
      const size_t n = std::min(kPageSize, want - done);
      in.Gather(s.page.get(), n);
      s.offset = 0;
      s.len = n;
      s.packet = packet;
      ++used_;
      done += n;
    }
    if (done == 0) return Err(EAGAIN);
  }
  queue_.Notify(EPOLLIN | EPOLLRDNORM);
  return done;
}

Result<size_t> Pipe::WriteSegments(std::span<const iovec> src) {
  if (TotalLength(src) == 0) return 0;
  size_t done = 0;
  {
    absl::MutexLock lock(&mu_);
    if (readers_ == 0) return Err(EPIPE);
    for (const iovec& v : src) {
      auto* p = static_cast<const uint8_t*>(v.iov_base);
      const uint8_t* end = p + v.iov_len;
      while (p < end) {
        if (FullLocked()) goto full;
        const uintptr_t page_end =
            (reinterpret_cast<uintptr_t>(p) / kPageSize + 1) * kPageSize;
        const size_t n =
            std::min<size_t>(end - p, page_end - reinterpret_cast<uintptr_t>(p));
        Slot& s = SlotLocked(used_);
        s.page = spare_ ? std::move(spare_)
                        : std::make_unique_for_overwrite<uint8_t[]>(kPageSize);
        std::memcpy(s.page.get(), p, n);
        s.offset = 0;
        s.len = n;
        s.packet = false;
        s.mergeable = false;
        ++used_;
        done += n;
        p += n;
      }
    }
  full:
    if (done == 0) return Err(EAGAIN);
  }
  queue_.Notify(EPOLLIN | EPOLLRDNORM);
  return done;
}

Result<size_t> Pipe::ReadInto(size_t max, bool peek, Sink sink) {
  absl::MutexLock readers(&read_mu_);
  std::vector<uint8_t> bytes;
  {
    absl::MutexLock lock(&mu_);
    size_t queued = 0;
    for (size_t i = 0; i < used_; ++i) queued += SlotLocked(i).len;
    if (queued == 0) {
      if (writers_ == 0) return 0;  // EOF
      return Err(EAGAIN);
    }
    bytes.resize(std::min(queued, max));
    size_t off = 0;
    for (size_t i = 0; off < bytes.size(); ++i) {
      const Slot& s = SlotLocked(i);
      const size_t n = std::min(s.len, bytes.size() - off);
      std::memcpy(bytes.data() + off, s.page.get() + s.offset, n);
      off += n;
    }
  }
  // The sink may write to another pipe or a file: mu_ is not held, but
  // read_mu_ keeps other readers from taking these bytes meanwhile.
  const size_t took = TRY(sink(bytes));
  if (peek || took == 0) return took;
  bool freed = false;
  {
    absl::MutexLock lock(&mu_);
    size_t left = std::min(took, bytes.size());
    while (left > 0 && used_ > 0) {
      Slot& s = SlotLocked(0);
      const size_t n = std::min(s.len, left);
      s.offset += n;
      s.len -= n;
      left -= n;
      if (s.len == 0) {
        PopHeadLocked();
        freed = true;
      }
    }
  }
  if (freed) queue_.Notify(EPOLLOUT | EPOLLWRNORM);
  return took;
}

size_t Pipe::Capacity() {
  absl::MutexLock lock(&mu_);
  return max_slots_ * kPageSize;
}

Result<size_t> Pipe::SetCapacity(size_t bytes) {
  const size_t slots = bytes / kPageSize;
  bool grew;
  {
    absl::MutexLock lock(&mu_);
    if (slots < used_) return Err(EBUSY);
    // Lay the queued slots out again from index 0 in a ring of the new
    // size; their pages move, nothing is copied.
    std::vector<Slot> ring(slots);
    for (size_t i = 0; i < used_; ++i) ring[i] = std::move(SlotLocked(i));
    slots_ = std::move(ring);
    head_ = 0;
    grew = slots > max_slots_;
    max_slots_ = slots;
  }
  if (grew) queue_.Notify(EPOLLOUT | EPOLLWRNORM);
  return bytes;
}

size_t Pipe::FreeBytes() {
  absl::MutexLock lock(&mu_);
  return (max_slots_ - used_) * kPageSize;
}

bool Pipe::HasReaders() {
  absl::MutexLock lock(&mu_);
  return readers_ > 0;
}

uint64_t Pipe::Readiness(bool reader, bool writer, uint64_t mask) {
  absl::MutexLock lock(&mu_);
  uint64_t ready = 0;
  if (reader) {
    if (used_ > 0) ready |= EPOLLIN | EPOLLRDNORM;
    if (writers_ == 0) ready |= EPOLLHUP;
  }
  if (writer) {
    if (!FullLocked()) ready |= EPOLLOUT | EPOLLWRNORM;
    if (readers_ == 0) ready |= EPOLLERR;
  }
  return ready & mask;
}

size_t Pipe::QueuedBytes() {
  absl::MutexLock lock(&mu_);
  size_t n = 0;
  for (size_t i = 0; i < used_; ++i) n += SlotLocked(i).len;
  return n;
}

Pipe::Counts Pipe::AddEnd(bool reader, bool writer) {
  Counts c;
  {
    absl::MutexLock lock(&mu_);
    readers_ += reader;
    writers_ += writer;
    opened_readers_ += reader;
    opened_writers_ += writer;
    c = {readers_, writers_, opened_readers_, opened_writers_};
  }
  queue_.Notify(kFifoOpenEvent);
  return c;
}

Pipe::Counts Pipe::counts() {
  absl::MutexLock lock(&mu_);
  return {readers_, writers_, opened_readers_, opened_writers_};
}

void Pipe::RemoveEnd(bool reader, bool writer) {
  uint64_t events = 0;
  {
    absl::MutexLock lock(&mu_);
    if (reader && --readers_ == 0) events |= EPOLLERR;  // writers: EPIPE now
    if (writer && --writers_ == 0) events |= EPOLLHUP;  // readers: EOF now
  }
  if (events) queue_.Notify(events);
}

struct stat Pipe::Stat() const {
  return stat_;
}

Result<std::shared_ptr<vfs::FileDescription>> OpenFifo(
    std::shared_ptr<Pipe> pipe, int flags, std::shared_ptr<vfs::Node> node,
    std::string path) {
  if ((flags & O_ACCMODE) == O_WRONLY && (flags & O_NONBLOCK) &&
      !pipe->HasReaders()) {
    return Err(ENXIO);
  }
  return std::make_shared<PipeEnd>(std::move(pipe), flags, std::move(node),
                                   std::move(path));
}

bool FifoMustWait(vfs::FileDescription& f) {
  auto* end = dynamic_cast<PipeEnd*>(&f);
  return end && end->MustWait();
}

Pipe* PipeOf(vfs::FileDescription& f) {
  auto* end = dynamic_cast<PipeEnd*>(&f);
  return end ? end->pipe() : nullptr;
}

size_t RoundPipeSize(uint64_t size) {
  if (size > (uint64_t{1} << 31)) return 0;
  if (size < Pipe::kPageSize) return Pipe::kPageSize;
  return std::bit_ceil(size);
}

PipeEnds NewPipe(int flags, uint32_t uid, uint32_t gid) {
  auto pipe = std::make_shared<Pipe>(uid, gid);
  // Linux gives the read end O_NONBLOCK only: O_DIRECT matters to writers.
  return PipeEnds{
      .read = std::make_shared<PipeEnd>(pipe, O_RDONLY | (flags & O_NONBLOCK)),
      .write = std::make_shared<PipeEnd>(
          pipe, O_WRONLY | (flags & (O_NONBLOCK | O_DIRECT))),
  };
}

}  // namespace pipes
