// POSIX message queues (Linux's ipc/mqueue.c).
#include "sentry/kernel/ipc/mqueue.h"

#include <fcntl.h>
#include <sys/epoll.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>

#include "sentry/kernel/process_tree.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/signal_state.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/vfs/permission.h"

namespace kernel::ipc {
namespace {

constexpr int kCapSysResource = 24;
constexpr int kNameMax = 255;

// RLIMIT_MSGQUEUE is charged per user for the whole sandbox, as Linux
// charges it per user namespace, not per IPC namespace.
absl::Mutex charges_mu;
std::map<uint32_t, uint64_t>& Charges() ABSL_EXCLUSIVE_LOCKS_REQUIRED(charges_mu) {
  static auto* m = new std::map<uint32_t, uint64_t>;
  return *m;
}

vfs::Creds FsCreds(const Credentials& c) {
  return vfs::Creds{c.fsuid, c.fsgid, c.groups};
}

struct stat StatOf(const MqQueue& q) {
  struct stat st = {};
  st.st_mode = S_IFREG | q.mode();
  st.st_uid = q.uid();
  st.st_gid = q.gid();
  st.st_nlink = q.unlinked.load() ? 0 : 1;
  st.st_size = 80;  // Linux's FILENT_SIZE
  st.st_blksize = 4096;
  return st;
}

// The mqueue file system's root directory: mode 01777, owned by root.
struct stat RootStat() {
  struct stat st = {};
  st.st_mode = S_IFDIR | 01777;
  return st;
}

// Linux's lookup_one_len and simple_lookup on the name mq_open and
// mq_unlink get (glibc strips the leading '/'); "" is getname's ENOENT.
base::Result<void> CheckName(const std::string& name) {
  if (name.empty()) return base::Err(ENOENT);
  if (name == "." || name == ".." || name.find('/') != std::string::npos)
    return base::Err(EACCES);
  if (name.size() > kNameMax) return base::Err(ENAMETOOLONG);
  return {};
}

}  // namespace

MqQueue::MqQueue(std::string name, const mq_attr& attr, uint32_t uid,
                 uint32_t gid, mode_t mode, uint32_t charged_uid,
                 uint64_t charged, std::shared_ptr<std::atomic<int>> count)
    : name_(std::move(name)),
      maxmsg_(attr.mq_maxmsg),
      msgsize_(attr.mq_msgsize),
      uid_(uid),
      gid_(gid),
      mode_(mode),
      charged_uid_(charged_uid),
      charged_(charged),
      count_(std::move(count)) {}

MqQueue::~MqQueue() {
  count_->fetch_sub(1);
  absl::MutexLock lock(&charges_mu);
  auto it = Charges().find(charged_uid_);
  if (it == Charges().end()) return;
  it->second -= charged_;
  if (it->second == 0) Charges().erase(it);
}

void MqQueue::InsertLocked(Message msg) {
  // After every message of the same or a higher priority.
  auto it = messages_.end();
  while (it != messages_.begin() && std::prev(it)->prio < msg.prio) --it;
  bytes_ += msg.data.size();
  messages_.insert(it, std::move(msg));
}

int MqQueue::WaitLocked(Task& t, std::list<Waiter*>& list, Waiter& w,
                        absl::Time deadline) {
  auto it = list.insert(list.end(), &w);
  for (;;) {
    mu_.Unlock();
    Task::WakeReason why = t.Block(deadline, &w.woken);
    mu_.Lock();
    // A message that moved counts, whatever else woke us (Linux checks
    // STATE_READY first too).
    if (w.done) return 0;
    if (why == Task::WakeReason::kWoken) {
      w.woken.store(false);  // not ours to take: sleep again
      continue;
    }
    list.erase(it);
    // Linux's wq_sleep: -ERESTARTSYS, restarted under SA_RESTART.
    if (why == Task::WakeReason::kInterrupted) return base::kERESTARTSYS;
    return ETIMEDOUT;
  }
}

base::Result<std::optional<MqQueue::Signal>> MqQueue::Send(
    Task& t, Message msg, bool nonblock, absl::Time deadline, Sender from) {
  absl::MutexLock lock(&mu_);
  if (static_cast<long>(messages_.size()) >= maxmsg_) {
    if (nonblock) return base::Err(EAGAIN);
    Waiter w{.task = &t, .msg = std::move(msg)};
    if (int e = WaitLocked(t, senders_, w, deadline)) return base::Err(e);
    return std::nullopt;  // a receiver moved it into the queue
  }
  if (!receivers_.empty()) {
    // pipelined_send: straight to the first receiver, no notification.
    Waiter* r = receivers_.front();
    receivers_.pop_front();
    r->msg = std::move(msg);
    r->done = true;
    r->woken.store(true);
    r->task->Wake();
    return std::nullopt;
  }
  InsertLocked(std::move(msg));
  events_.Notify(EPOLLIN | EPOLLRDNORM);
  // __do_notify: only a message that arrives on an empty queue.
  if (!notify_ || messages_.size() != 1) return std::nullopt;
  Registration reg = *notify_;
  notify_.reset();
  std::shared_ptr<ThreadGroup> tg = reg.owner.lock();
  // do_mq_notify accepts signal 0 and then sends nothing.
  if (reg.notify != SIGEV_SIGNAL || reg.signo == 0 || !tg) return std::nullopt;
  siginfo_t info = MakeSigInfoFrom(reg.signo, SI_MESGQ, from.pid, from.uid);
  info.si_value = reg.value;
  return Signal{std::move(tg), info};
}

base::Result<MqQueue::Message> MqQueue::Receive(Task& t, bool nonblock,
                                                absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  if (messages_.empty()) {
    if (nonblock) return base::Err(EAGAIN);
    Waiter w{.task = &t};
    if (int e = WaitLocked(t, receivers_, w, deadline)) return base::Err(e);
    return std::move(w.msg);
  }
  Message msg = std::move(messages_.front());
  messages_.pop_front();
  bytes_ -= msg.data.size();
  if (!senders_.empty()) {
    // pipelined_receive: the first waiting sender's message takes the slot.
    Waiter* s = senders_.front();
    senders_.pop_front();
    InsertLocked(std::move(s->msg));
    s->done = true;
    s->woken.store(true);
    s->task->Wake();
  } else {
    events_.Notify(EPOLLOUT | EPOLLWRNORM);
  }
  return msg;
}

base::Result<void> MqQueue::Notify(Task& t, const sigevent* sev) {
  ThreadGroup& me = t.thread_group();
  absl::MutexLock lock(&mu_);
  const bool mine = notify_ && notify_->owner.lock().get() == &me;
  if (sev == nullptr) {
    // Only the owner removes it; anyone else succeeds doing nothing.
    if (mine) notify_.reset();
    return {};
  }
  if (notify_ && !notify_->owner.expired()) return base::Err(EBUSY);
  notify_ = Registration{.notify = sev->sigev_notify,
                         .signo = sev->sigev_signo,
                         .value = sev->sigev_value,
                         .pid = me.pid(),
                         .owner = t.kernel().processes().Find(me.pid())};
  return {};
}

mq_attr MqQueue::Attr() {
  absl::MutexLock lock(&mu_);
  mq_attr a = {};
  a.mq_maxmsg = maxmsg_;
  a.mq_msgsize = msgsize_;
  a.mq_curmsgs = static_cast<long>(messages_.size());
  return a;
}

std::string MqQueue::Status() {
  absl::MutexLock lock(&mu_);
  const bool live = notify_ && !notify_->owner.expired();
  char buf[128];
  snprintf(buf, sizeof buf,
           "QSIZE:%-10lu NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n",
           static_cast<unsigned long>(bytes_), live ? notify_->notify : 0,
           live && notify_->notify == SIGEV_SIGNAL ? notify_->signo : 0,
           live ? notify_->pid : 0);
  return buf;
}

uint64_t MqQueue::Readiness(uint64_t mask) {
  absl::MutexLock lock(&mu_);
  uint64_t r = 0;
  if (!messages_.empty()) r |= EPOLLIN | EPOLLRDNORM;
  if (static_cast<long>(messages_.size()) < maxmsg_) r |= EPOLLOUT | EPOLLWRNORM;
  return r & mask;
}

// Access mode 3 gives neither (Linux's OPEN_FMODE).
bool MqFile::can_send() const {
  int acc = flags() & O_ACCMODE;
  return acc == O_WRONLY || acc == O_RDWR;
}
bool MqFile::can_receive() const {
  int acc = flags() & O_ACCMODE;
  return acc == O_RDONLY || acc == O_RDWR;
}

base::Result<size_t> MqFile::PRead(std::span<const iovec> dst,
                                   int64_t offset) {
  const std::string s = q_->Status();
  if (offset < 0) return base::Err(EINVAL);
  size_t done = 0;
  size_t pos = std::min<uint64_t>(offset, s.size());
  for (const iovec& v : dst) {
    size_t n = std::min(v.iov_len, s.size() - pos);
    memcpy(v.iov_base, s.data() + pos, n);
    pos += n;
    done += n;
    if (pos == s.size()) break;
  }
  return done;
}

base::Result<size_t> MqFile::Read(std::span<const iovec> dst) {
  absl::MutexLock lock(&mu_);
  size_t n = TRY(PRead(dst, offset_));
  offset_ += n;
  return n;
}

base::Result<int64_t> MqFile::Seek(int64_t offset, int whence) {
  absl::MutexLock lock(&mu_);
  if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
    return base::Err(EINVAL);
  // SEEK_END is from i_size (FILENT_SIZE), as default_llseek.
  const int64_t from =
      whence == SEEK_SET ? 0 : whence == SEEK_CUR ? offset_ : 80;
  int64_t pos;
  if (__builtin_add_overflow(from, offset, &pos) || pos < 0)
    return base::Err(EINVAL);
  offset_ = pos;
  return pos;
}

base::Result<struct stat> MqFile::Stat() { return StatOf(*q_); }

std::string MqFile::path() const {
  // As d_path on Linux's internal mqueue mount.
  return "/" + q_->name() + (q_->unlinked.load() ? " (deleted)" : "");
}

base::Result<std::shared_ptr<MqQueue>> Mqueues::Open(const Credentials& creds,
                                                     const OpenArgs& a) {
  TRY(CheckName(a.name));
  absl::MutexLock lock(&mu_);
  if (auto it = names_.find(a.name); it != names_.end()) {
    // prepare_open on an existing queue.
    if ((a.oflag & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
      return base::Err(EEXIST);
    static constexpr int kAcc[] = {vfs::kMayRead, vfs::kMayWrite,
                                   vfs::kMayRead | vfs::kMayWrite};
    const int acc = a.oflag & O_ACCMODE;
    if (acc == O_ACCMODE) return base::Err(EINVAL);
    TRY(vfs::CheckPermission(StatOf(*it->second), kAcc[acc], FsCreds(creds)));
    return it->second;
  }
  if (!(a.oflag & O_CREAT)) return base::Err(ENOENT);
  // mqueue_create_attr, then mqueue_get_inode's checks.
  const bool resource = creds.HasCap(kCapSysResource);
  if (count_->load() >= kMqQueuesMax && !resource) return base::Err(ENOSPC);
  mq_attr attr = {};
  attr.mq_maxmsg = std::min(kMqMsgMax, kMqMsgDefault);
  attr.mq_msgsize = std::min(kMqMsgsizeMax, kMqMsgsizeDefault);
  if (a.attr) {
    attr.mq_maxmsg = a.attr->mq_maxmsg;
    attr.mq_msgsize = a.attr->mq_msgsize;
  }
  if (attr.mq_maxmsg <= 0 || attr.mq_msgsize <= 0) return base::Err(EINVAL);
  if (resource ? attr.mq_maxmsg > kMqHardMsgMax ||
                     attr.mq_msgsize > kMqHardMsgsizeMax
               : attr.mq_maxmsg > kMqMsgMax || attr.mq_msgsize > kMqMsgsizeMax)
    return base::Err(EINVAL);
  // Both are bounded above, so this cannot overflow.
  const uint64_t maxmsg = attr.mq_maxmsg;
  const uint64_t charge =
      maxmsg * attr.mq_msgsize + maxmsg * kMqMsgOverhead +
      std::min<uint64_t>(maxmsg, kMqPrioMax) * kMqNodeOverhead;
  {
    // The real uid's count (Linux's ucounts), against the caller's limit;
    // root is not exempt.
    absl::MutexLock c(&charges_mu);
    uint64_t& used = Charges()[creds.ruid];
    if (used + charge > a.rlimit_msgqueue) {
      if (used == 0) Charges().erase(creds.ruid);
      return base::Err(EMFILE);
    }
    used += charge;
  }
  count_->fetch_add(1);
  auto q = std::make_shared<MqQueue>(a.name, attr, creds.fsuid, creds.fsgid,
                                     a.mode & 07777, creds.ruid, charge,
                                     count_);
  names_[a.name] = q;
  return q;
}

base::Result<void> Mqueues::Unlink(const Credentials& creds,
                                   const std::string& name) {
  TRY(CheckName(name));
  absl::MutexLock lock(&mu_);
  auto it = names_.find(name);
  if (it == names_.end()) return base::Err(ENOENT);
  TRY(vfs::MayDelete(RootStat(), StatOf(*it->second), FsCreds(creds)));
  it->second->unlinked.store(true);
  names_.erase(it);
  return {};
}

}  // namespace kernel::ipc
