// POSIX message queues: mq_open(2), mq_unlink(2), mq_timedsend(2),
// mq_timedreceive(2), mq_notify(2), mq_getsetattr(2). The queues live in
// sentry/kernel/ipc/mqueue.h.
#include <mqueue.h>
#include <signal.h>
#include <sys/syscall.h>

#include "sentry/kernel/ipc/mqueue.h"
#include "syscalls/common.h"

namespace syscalls {
namespace {

using kernel::ipc::MqFile;
using kernel::ipc::MqQueue;

constexpr int kNotifyCookieLen = 32;  // NOTIFY_COOKIE_LEN
constexpr int kMaxSignal = 64;        // _NSIG

kernel::ipc::Mqueues& MqueuesOf(Task& t) { return t.ns.ipc->mqueues(); }

// The queue behind `fd`: EBADF for anything else, as Linux.
Result<std::shared_ptr<vfs::FileDescription>> MqFileOf(Task& t, Fd fd,
                                                       MqFile** mq) {
  auto f = TRY(t.fds().Get(fd.value));
  *mq = dynamic_cast<MqFile*>(f.get());
  if (*mq == nullptr) return Err(EBADF);
  return f;
}

// Linux's prepare_timeout: an absolute CLOCK_REALTIME time, checked before
// anything else (EFAULT, then EINVAL even when the call would not block).
Result<absl::Time> Deadline(Task& t, UserPtr<timespec> abs) {
  if (abs.addr == 0) return absl::InfiniteFuture();
  timespec ts = TRY(t.mm().CopyInObj(abs));
  if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
    return Err(EINVAL);
  return absl::TimeFromTimespec(ts);
}

// The name as mq_open/mq_unlink get it: getname's EFAULT, ENAMETOOLONG;
// the rest (ENOENT for "", EACCES, NAME_MAX) is kernel::ipc's.
Result<std::string> CopyInName(Task& t, UserPath name) {
  return CopyInPath(t, name);
}

// MqOpen implements Linux syscall mq_open(2).
Result<int> MqOpen(Task& t, UserPath uname, int oflag, uint32_t mode,
                   UserPtr<mq_attr> uattr) {
  kernel::ipc::Mqueues::OpenArgs args;
  // Copied whenever given, O_CREAT or not, as Linux.
  if (uattr.addr != 0) args.attr = TRY(t.mm().CopyInObj(uattr));
  args.name = TRY(CopyInName(t, uname));
  args.oflag = oflag;
  args.mode = (mode & 0xffff) & ~t.fs().umask();
  args.rlimit_msgqueue =
      t.thread_group().GetRlimit(RLIMIT_MSGQUEUE).rlim_cur;
  auto q = TRY(MqueuesOf(t).Open(t.creds(), args));
  // dentry_open drops the creation flags (and O_PATH/O_DIRECTORY mean
  // nothing for a queue); the descriptor is always close-on-exec
  // (do_mq_open's get_unused_fd_flags(O_CLOEXEC)).
  const int flags = oflag & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC |
                              O_CLOEXEC | O_PATH | O_DIRECTORY);
  return t.fds().Install(std::make_shared<MqFile>(std::move(q), flags),
                         /*cloexec=*/true, 0, NofileLimit(t));
}

// MqUnlink implements Linux syscall mq_unlink(2).
Result<void> MqUnlink(Task& t, UserPath uname) {
  std::string name = TRY(CopyInName(t, uname));
  return MqueuesOf(t).Unlink(t.creds(), name);
}

// MqTimedsend implements Linux syscall mq_timedsend(2).
Result<void> MqTimedsend(Task& t, Fd fd, uint64_t msg_ptr, size_t len,
                         uint32_t prio, UserPtr<timespec> abs) {
  const absl::Time deadline = TRY(Deadline(t, abs));
  if (prio >= kernel::ipc::kMqPrioMax) return Err(EINVAL);
  MqFile* mq;
  auto hold = TRY(MqFileOf(t, fd, &mq));
  if (!mq->can_send()) return Err(EBADF);
  if (len > static_cast<size_t>(mq->queue().Attr().mq_msgsize))
    return Err(EMSGSIZE);
  MqQueue::Message msg{.prio = prio, .data = std::vector<uint8_t>(len)};
  TRY(t.mm().CopyIn(msg_ptr, msg.data.data(), len));
  const kernel::Credentials creds = t.creds();
  auto signal = TRY(mq->queue().Send(
      t, std::move(msg), mq->flags() & O_NONBLOCK, deadline,
      MqQueue::Sender{.pid = t.thread_group().pid(), .uid = creds.ruid}));
  // Sent with no lock held; Linux's __do_notify skips the permission check.
  if (signal) signal->tg->SendSignal(signal->info);
  return {};
}

// MqTimedreceive implements Linux syscall mq_timedreceive(2).
Result<int64_t> MqTimedreceive(Task& t, Fd fd, uint64_t msg_ptr, size_t len,
                               UserPtr<uint32_t> uprio,
                               UserPtr<timespec> abs) {
  const absl::Time deadline = TRY(Deadline(t, abs));
  MqFile* mq;
  auto hold = TRY(MqFileOf(t, fd, &mq));
  if (!mq->can_receive()) return Err(EBADF);
  if (len < static_cast<size_t>(mq->queue().Attr().mq_msgsize))
    return Err(EMSGSIZE);
  MqQueue::Message msg =
      TRY(mq->queue().Receive(t, mq->flags() & O_NONBLOCK, deadline));
  // The message is taken: a bad buffer loses it, as on Linux.
  if (uprio.addr != 0) TRY(t.mm().CopyOutObj(uprio, msg.prio));
  TRY(t.mm().CopyOut(msg_ptr, msg.data.data(), msg.data.size()));
  return static_cast<int64_t>(msg.data.size());
}

// MqNotify implements Linux syscall mq_notify(2).
Result<void> MqNotify(Task& t, Fd fd, UserPtr<sigevent> usev) {
  sigevent sev;
  if (usev.addr != 0) {
    sev = TRY(t.mm().CopyInObj(usev));
    switch (sev.sigev_notify) {
      case SIGEV_NONE:
        break;
      case SIGEV_SIGNAL:
        if (static_cast<unsigned>(sev.sigev_signo) > kMaxSignal)
          return Err(EINVAL);
        break;
      case SIGEV_THREAD: {
        // The cookie, then sigev_signo must be a netlink socket: the
        // sandbox has no sockets, so ENOTSOCK for any open file.
        uint8_t cookie[kNotifyCookieLen];
        TRY(t.mm().CopyIn(reinterpret_cast<uint64_t>(sev.sigev_value.sival_ptr),
                          cookie, sizeof cookie));
        TRY(t.fds().Get(sev.sigev_signo));
        return Err(ENOTSOCK);
      }
      default:
        return Err(EINVAL);
    }
  }
  MqFile* mq;
  auto hold = TRY(MqFileOf(t, fd, &mq));
  return mq->queue().Notify(t, usev.addr != 0 ? &sev : nullptr);
}

// MqGetsetattr implements Linux syscall mq_getsetattr(2).
Result<void> MqGetsetattr(Task& t, Fd fd, UserPtr<mq_attr> unew,
                          UserPtr<mq_attr> uold) {
  mq_attr set;
  if (unew.addr != 0) {
    set = TRY(t.mm().CopyInObj(unew));
    if (set.mq_flags & ~static_cast<long>(O_NONBLOCK)) return Err(EINVAL);
  }
  MqFile* mq;
  auto hold = TRY(MqFileOf(t, fd, &mq));
  mq_attr old = mq->queue().Attr();
  const int flags = mq->flags();
  old.mq_flags = flags & O_NONBLOCK;
  // Only O_NONBLOCK changes; set before the old attributes are copied out.
  if (unew.addr != 0)
    mq->SetStatusFlags((flags & ~O_NONBLOCK) | static_cast<int>(set.mq_flags));
  if (uold.addr != 0) TRY(t.mm().CopyOutObj(uold, old));
  return {};
}

}  // namespace

void RegisterMqueue(Registrar& r) {
  r.Partial<&MqOpen>(SYS_mq_open,
                     "queues per IPC namespace, permissions, mq_attr limits, "
                     "queues_max, RLIMIT_MSGQUEUE (per uid); limits are Linux's "
                     "defaults (no /proc/sys/fs/mqueue), no mqueue mount")
      .Show(SYS_mq_open, 1, ArgKind::kHex)
      .Full<&MqUnlink>(SYS_mq_unlink)
      .Full<&MqTimedsend>(SYS_mq_timedsend)
      .Full<&MqTimedreceive>(SYS_mq_timedreceive)
      .Partial<&MqNotify>(SYS_mq_notify,
                          "SIGEV_SIGNAL and SIGEV_NONE; SIGEV_THREAD needs a "
                          "netlink socket (ENOTSOCK: no sockets); closing a "
                          "descriptor does not drop the registration, and it "
                          "fires after the owner's execve")
      .Full<&MqGetsetattr>(SYS_mq_getsetattr);
}

}  // namespace syscalls
