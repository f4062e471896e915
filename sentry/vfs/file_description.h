// FileDescription: an open file, shared by every fd that refers to it
// (dup, fork), as Linux's struct file.
//
// I/O goes through iovecs that point into sentry memory: for read(2) and
// write(2) those are the application's pages inside the memory file
// mapping (MemoryManager::WithIoBlocks), so data moves once, with no bounce
// buffer. Read/Write/PRead/PWrite then run with the app's address space
// held: they must not block (answer EAGAIN instead) and must not take any
// MemoryManager's lock.
#ifndef SENTRY_VFS_FILE_DESCRIPTION_H_
#define SENTRY_VFS_FILE_DESCRIPTION_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/result.h"
#include "sentry/mm/mappable.h"
#include "sentry/waiter/waiter.h"

namespace kernel {
class Task;
}

namespace vfs {

struct NotifyOrigin;  // inotify.h
class FileDescription;

// An epoll instance (sentry/event/epoll.h) that watches descriptions:
// told when one goes, with its last reference (Linux's eventpoll_release),
// so that the registration goes with it.
class EpollWatcher {
 public:
  virtual void FileReleased(FileDescription* f) = 0;

 protected:
  ~EpollWatcher() = default;
};

// How mmap(2) treats a file.
enum class MmapKind {
  kNotMappable,  // ENODEV (pipes, ttys, most devices)
  kFile,         // contents come from PRead
  kAnonymous,    // /dev/zero: an anonymous mapping
};

class FileDescription {
 public:
  // `flags` are the open(2) flags minus creation flags: the access mode
  // plus status flags (O_APPEND, O_NONBLOCK, ...).
  explicit FileDescription(int flags) : flags_(flags) {}
  // Releases the description's flock(2) lock and its OFD record locks, if
  // it took any: the last reference is the last close.
  virtual ~FileDescription();
  FileDescription(const FileDescription&) = delete;
  FileDescription& operator=(const FileDescription&) = delete;

  int flags() const { return flags_.load(std::memory_order_relaxed); }
  // F_SETFL: only the status flags Linux lets fcntl change.
  void SetStatusFlags(int flags);
  bool readable() const { return (flags() & O_ACCMODE) != O_WRONLY && !is_path(); }
  bool writable() const { return (flags() & O_ACCMODE) != O_RDONLY && !is_path(); }
  bool is_path() const { return flags() & O_PATH; }

  // Reads at the file offset and advances it.
  virtual base::Result<size_t> Read(std::span<const iovec> dst) {
    return base::Err(EINVAL);
  }
  virtual base::Result<size_t> Write(std::span<const iovec> src) {
    return base::Err(EINVAL);
  }
  // Positional I/O; ESPIPE for unseekable files.
  virtual base::Result<size_t> PRead(std::span<const iovec> dst,
                                     int64_t offset) {
    return base::Err(ESPIPE);
  }
  virtual base::Result<size_t> PWrite(std::span<const iovec> src,
                                      int64_t offset) {
    return base::Err(ESPIPE);
  }
  virtual base::Result<int64_t> Seek(int64_t offset, int whence) {
    return base::Err(ESPIPE);
  }
  virtual base::Result<struct stat> Stat() = 0;
  // Fills `buf` with linux_dirent64 records; 0 at the end.
  virtual base::Result<size_t> Getdents64(std::span<uint8_t> buf) {
    return base::Err(ENOTDIR);
  }
  // `arg` is an application address or value; the file copies through the
  // task's memory manager.
  virtual base::Result<uint64_t> Ioctl(kernel::Task& task, uint32_t cmd,
                                       uint64_t arg) {
    return base::Err(ENOTTY);
  }
  virtual MmapKind mmap_kind() const { return MmapKind::kNotMappable; }
  // Files whose data lives in the memory file (tmpfs, memfd) lend their
  // pages to MAP_SHARED mappings (mm::Mappable::PinPages, which says what
  // the caller gets); other files' shared mappings are snapshots.
  virtual bool shares_pages() const { return false; }
  virtual base::Result<std::vector<mm::BackingRun>> PinPages(uint64_t offset,
                                                             uint64_t len) {
    return base::Err(ENODEV);
  }
  // A shared mapping that may write now holds the file (it lives as long
  // as `mapping`): tmpfs refuses F_SEAL_WRITE meanwhile.
  virtual void AddWritableMapping(std::weak_ptr<const void> mapping) {}
  // Files that lend their pages: the file itself (the same for every
  // description of it), and the address spaces that map its pages, which
  // it tells of truncation and holes (mm::MappingSpace).
  virtual const void* mapped_identity() const { return this; }
  virtual void AddMapper(std::weak_ptr<mm::MappingSpace> space) {}
  // poll(2) events (EPOLLIN, EPOLLOUT, ...) that are ready now, of `mask`.
  // Regular files and devices are always ready.
  virtual uint64_t Readiness(uint64_t mask) { return mask & kAlwaysReady; }
  // Files that can become ready later (pipes, sockets) notify registered
  // entries through a waiter::Queue. The defaults never notify.
  virtual void EventRegister(waiter::Entry* e) {}
  virtual void EventUnregister(waiter::Entry* e) {}
  // Linux's file_can_poll: the file has a poll operation, so epoll_ctl
  // takes it (regular files and most devices: EPERM).
  virtual bool pollable() const { return false; }
  // epoll instances that registered this description (weak: the file
  // keeps none alive); each is told when the description goes.
  void AddEpollWatcher(std::weak_ptr<EpollWatcher> w);
  void RemoveEpollWatcher(const EpollWatcher* w);
  static constexpr uint64_t kAlwaysReady = 0x1 | 0x4 | 0x40 | 0x100;
  // (EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM)

  // Terminals: read(2) and write(2) depend on the caller (job control).
  // The blocking layer (syscalls/blocking.h) asks CheckIo before each
  // attempt (an error, such as EIO or ERESTARTSYS after SIGTTIN, ends the
  // call), runs AfterIo after it, outside the address space's lock (to
  // send the signals the transfer caused), and lets a blocking read that
  // began at `start` wait only until ReadDeadline (VTIME): then it
  // returns 0 bytes.
  virtual base::Result<void> CheckIo(kernel::Task& t, bool write) { return {}; }
  virtual void AfterIo(kernel::Task& t) {}
  virtual absl::Time ReadDeadline(absl::Time start) {
    return absl::InfiniteFuture();
  }

  // True for files whose I/O takes a memory manager's lock
  // (/proc/<pid>/mem): the syscall layer then moves their data through a
  // sentry buffer, outside the caller's address space lock, instead of
  // handing them the caller's pages.
  virtual bool bounces_io() const { return false; }
  // True for files whose write(2) is one message taken whole or not at
  // all (eventfd): a blocking write returns after one successful attempt
  // instead of going on with the rest of the buffer.
  virtual bool single_write() const { return false; }
  // Lines of /proc/<pid>/fdinfo/<n> after Linux's common ones, for the
  // kinds that add their own (eventfd-count, tfd, sigmask, Pid).
  virtual std::string FdInfo() { return ""; }

  // True for files whose write never looks at the data (/dev/null): Linux
  // then succeeds even for a buffer the app cannot read.
  virtual bool ignores_write_data() const { return false; }
  // The absolute path in the sandbox (or a "pipe:[...]"-style name): what
  // readlink("/proc/self/fd/N") shows and what relative *at() calls start
  // from when this is a directory.
  virtual std::string path() const = 0;

  // inotify: the file, directory and name this description was opened
  // by; set once by the VFS's open, before anyone else sees it. Its reads,
  // writes and last close are reported to their watches.
  void set_notify_origin(std::shared_ptr<const NotifyOrigin> origin);
  const NotifyOrigin* notify_origin() const { return notify_.get(); }

  // Set by FlockTable (file_lock.h) when this description takes a lock.
  void set_holds_flock() { holds_flock_.store(true); }
  // Set by fcntl before this description takes an OFD record lock
  // (record_lock.h).
  void set_holds_ofd_lock() { holds_ofd_lock_.store(true); }

 private:
  std::atomic<int> flags_;
  struct Watcher {
    const EpollWatcher* raw;  // to find it without locking `ref`
    std::weak_ptr<EpollWatcher> ref;
  };
  absl::Mutex epoll_mu_;
  std::vector<Watcher> epoll_watchers_ ABSL_GUARDED_BY(epoll_mu_);
  std::atomic<bool> holds_flock_{false};
  std::atomic<bool> holds_ofd_lock_{false};
  // (shared_ptr: its deleter needs no complete type here.)
  std::shared_ptr<const NotifyOrigin> notify_;
};

}  // namespace vfs

#endif  // SENTRY_VFS_FILE_DESCRIPTION_H_
