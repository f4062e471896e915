// inotify(7): instances (an fd of their own), watches keyed by file
// identity, and the hooks the VFS calls where it changes or uses a file.
//
// A watch is on a file's (st_dev, st_ino), as FlockTable keys its locks:
// tmpfs and overlay numbers are stable and never reused, so whatever name
// or link reached the file, its events reach the watch. The VFS reports
// each operation once, where it performs it (vfs.cc, vfs_namei.cc,
// vfs_attr.cc, vfs_xattr.cc; reads and writes in syscalls/blocking.cc;
// the close in ~FileDescription), through the Notify* calls below, which
// cost one atomic load while no watch exists.
//
// Lock order: Registry::mu_ (inotify.cc) -> Inotify::mu_ -> the waiter
// queue's. Nothing else is taken under them.
#ifndef SENTRY_VFS_INOTIFY_H_
#define SENTRY_VFS_INOTIFY_H_

#include <sys/inotify.h>
#include <sys/stat.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/vfs/file_description.h"

namespace vfs {

class Node;

// The per-user limits of /proc/sys/fs/inotify (Linux's defaults; the
// watch limit is what Linux computes for a machine of a few GiB).
inline constexpr int kInotifyMaxUserInstances = 128;
inline constexpr int kInotifyMaxUserWatches = 8192;
inline constexpr int kInotifyMaxQueuedEvents = 16384;

// Linux's IN_MASK_CREATE (5.1), newer than some headers.
inline constexpr uint32_t kInMaskCreate = 0x10000000;

// What a description remembers of how it was opened, so that its reads,
// writes and close reach the watches of the file and of its directory
// (set by the VFS's open, never changed).
struct NotifyOrigin {
  std::shared_ptr<Node> node;
  std::shared_ptr<Node> dir;  // null where Linux has no parent to tell
  std::string name;
};

// An inotify instance: an open description whose read(2) returns
// struct inotify_event records.
class Inotify final : public FileDescription {
 public:
  // EMFILE past the user's max_user_instances.
  static base::Result<std::shared_ptr<Inotify>> Create(uint32_t uid,
                                                       int flags);
  ~Inotify() override;

  // inotify_add_watch(2) on the file `st` (the caller walked the path and
  // checked read permission): the watch's descriptor, an existing one's
  // if the file is watched (EEXIST with IN_MASK_CREATE); ENOSPC past
  // max_user_watches.
  base::Result<int> AddWatch(const struct stat& st, uint32_t mask);
  // inotify_rm_watch(2): queues IN_IGNORED; EINVAL for an unknown wd.
  base::Result<void> RmWatch(int wd);

  // Whole events only; EINVAL if the first one does not fit.
  base::Result<size_t> Read(std::span<const iovec> dst) override;
  base::Result<struct stat> Stat() override;
  // FIONREAD: the bytes of the queued events.
  base::Result<uint64_t> Ioctl(kernel::Task& task, uint32_t cmd,
                               uint64_t arg) override;
  uint64_t Readiness(uint64_t mask) override;
  void EventRegister(waiter::Entry* e) override { queue_.Register(e); }
  bool pollable() const override { return true; }
  void EventUnregister(waiter::Entry* e) override { queue_.Unregister(e); }
  std::string path() const override { return "anon_inode:inotify"; }

 private:
  friend class Registry;
  struct Event {
    int32_t wd;
    uint32_t mask, cookie;
    std::string name;
    // Linux pads the name (with its NUL) to a multiple of the header size.
    size_t name_len() const {
      return name.empty() ? 0 : (name.size() + 16) / 16 * 16;
    }
    size_t size() const { return sizeof(inotify_event) + name_len(); }
  };
  Inotify(uint32_t uid, int flags) : FileDescription(flags), uid_(uid) {}
  // Queues an event unless it repeats the last one unread (coalescing),
  // or IN_Q_OVERFLOW once the queue is full, and wakes readers.
  void Post(int32_t wd, uint32_t mask, uint32_t cookie, std::string_view name);

  const uint32_t uid_;
  // Guarded by the Registry's mutex: this instance's watches, by
  // descriptor, and the last descriptor handed out.
  std::map<int, std::pair<dev_t, ino_t>> watches_;
  int last_wd_ = 0;
  waiter::Queue queue_;
  absl::Mutex mu_;
  std::deque<Event> events_ ABSL_GUARDED_BY(mu_);
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

// True while any watch exists: the callers below skip their stats
// otherwise.
bool NotifyWatched();
// An event on the file `st` (IN_ACCESS, IN_MODIFY, IN_ATTRIB, IN_OPEN,
// IN_CLOSE_*, IN_MOVE_SELF), for its own watches and, with `name`, for
// those of its directory `dir` (if not null), as fsnotify_parent.
void NotifyFile(const struct stat* dir, std::string_view name,
                const struct stat& st, uint32_t mask);
// A directory-entry event (IN_CREATE, IN_DELETE, IN_MOVED_FROM,
// IN_MOVED_TO) on `dir` about `name`.
void NotifyEntry(const struct stat& dir, std::string_view name, bool is_dir,
                 uint32_t mask, uint32_t cookie = 0);
// The file `st` is gone (its last name removed): IN_DELETE_SELF, then
// its watches end with IN_IGNORED.
void NotifyDeleted(const struct stat& st);
// The filesystem of st_dev `dev` is unmounted: IN_UNMOUNT, then
// IN_IGNORED, for every watch on its files.
void NotifyUnmounted(dev_t dev);
// A fresh cookie tying an IN_MOVED_FROM to its IN_MOVED_TO.
uint32_t NotifyCookie();

// The same from nodes and descriptions, stat'ing only if watched.
void NotifyNode(Node* dir, std::string_view name, Node& node, uint32_t mask);
void NotifyNodeEntry(Node& dir, std::string_view name, bool is_dir,
                     uint32_t mask, uint32_t cookie = 0);
// IN_ACCESS, IN_MODIFY... on an open file, if the VFS opened it by name.
void NotifyDescription(const FileDescription& f, uint32_t mask);

}  // namespace vfs

#endif  // SENTRY_VFS_INOTIFY_H_
