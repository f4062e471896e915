// inotify(7): inotify_init(2), inotify_init1(2), inotify_add_watch(2),
// inotify_rm_watch(2). The instance and the events are sentry/vfs's
// (inotify.h); the VFS reports each operation where it performs it.
#include <sys/inotify.h>
#include <sys/syscall.h>

#include "sentry/vfs/inotify.h"
#include "syscalls/fs_util.h"

namespace syscalls {
namespace {

// Every bit inotify_add_watch accepts (Linux's ALL_INOTIFY_BITS).
constexpr uint32_t kAllInotifyBits =
    IN_ALL_EVENTS | IN_UNMOUNT | IN_Q_OVERFLOW | IN_IGNORED | IN_ONLYDIR |
    IN_DONT_FOLLOW | IN_EXCL_UNLINK | IN_MASK_ADD | vfs::kInMaskCreate |
    IN_ISDIR | IN_ONESHOT;

Result<int> DoInotifyInit(Task& t, int flags) {
  if (flags & ~(IN_NONBLOCK | IN_CLOEXEC)) return Err(EINVAL);
  // Charged to the real uid, as Linux's inc_ucount.
  auto in = TRY(vfs::Inotify::Create(t.creds().ruid,
                                     O_RDONLY | (flags & O_NONBLOCK)));
  return t.fds().Install(std::move(in), flags & IN_CLOEXEC, 0,
                         NofileLimit(t));
}

// The inotify instance behind `fd`: EBADF, or EINVAL for another file.
Result<vfs::Inotify*> InstanceOf(Task& t, const FilePtr& f) {
  auto* in = dynamic_cast<vfs::Inotify*>(f.get());
  if (in == nullptr) return Err(EINVAL);
  return in;
}

// InotifyInit implements Linux syscall inotify_init(2).
Result<int> InotifyInit(Task& t) { return DoInotifyInit(t, 0); }

// InotifyInit1 implements Linux syscall inotify_init1(2).
Result<int> InotifyInit1(Task& t, int flags) {
  return DoInotifyInit(t, flags);
}

// InotifyAddWatch implements Linux syscall inotify_add_watch(2).
Result<int> InotifyAddWatch(Task& t, Fd fd, UserPath path, uint32_t mask) {
  // Linux's order: the bits, then the fd, then the flag pair, then the
  // instance, then the path.
  if ((mask & ~kAllInotifyBits) || !(mask & kAllInotifyBits)) {
    return Err(EINVAL);
  }
  FilePtr f = TRY(GetFile(t, fd));
  if ((mask & IN_MASK_ADD) && (mask & vfs::kInMaskCreate)) return Err(EINVAL);
  vfs::Inotify* in = TRY(InstanceOf(t, f));
  std::string p = TRY(CopyInPath(t, path));
  vfs::PathContext ctx = TRY(PathContextFor(t, AT_FDCWD, p));
  const struct stat st = TRY(t.kernel().vfs().WatchTarget(
      ctx, p, !(mask & IN_DONT_FOLLOW), mask & IN_ONLYDIR));
  return in->AddWatch(st, mask);
}

// InotifyRmWatch implements Linux syscall inotify_rm_watch(2).
Result<int> InotifyRmWatch(Task& t, Fd fd, int wd) {
  FilePtr f = TRY(GetFile(t, fd));
  vfs::Inotify* in = TRY(InstanceOf(t, f));
  TRY(in->RmWatch(wd));
  return 0;
}

}  // namespace

void RegisterInotify(Registrar& r) {
  constexpr const char* kNote =
      "events for changes made in the sandbox, reported where the VFS "
      "performs them; IN_DELETE_SELF comes at the last unlink even while "
      "the file is open; sendfile/splice/copy_file_range "
      "and mmap writes report nothing; a file reopened through "
      "/proc/self/fd reports no parent events";
  r.Full<&InotifyInit>(SYS_inotify_init);
  r.Full<&InotifyInit1>(SYS_inotify_init1);
  r.Partial<&InotifyAddWatch>(SYS_inotify_add_watch, kNote);
  r.Full<&InotifyRmWatch>(SYS_inotify_rm_watch);
}

}  // namespace syscalls
