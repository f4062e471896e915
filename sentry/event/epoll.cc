#include "sentry/event/epoll.h"

#include <algorithm>
#include <functional>

#include "absl/strings/str_format.h"
#include "sentry/vfs/anon_inode.h"

namespace event {
namespace {

// Guards every instance's children_ and parents_ (Linux's epnested_mutex):
// a loop or depth check and the edge it allows are one step.
ABSL_CONST_INIT absl::Mutex nesting_mu(absl::kConstInit);

// Bits that are flags, not events (Linux's EP_PRIVATE_BITS).
constexpr uint32_t kPrivateBits =
    EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;

}  // namespace

// One registration: a tracked entry on the file's queue that accepts
// every notification and filters by its current events.
class Epoll::Item final : public waiter::Entry {
 public:
  Item(Epoll& ep, std::weak_ptr<vfs::FileDescription> file, int fd,
       Epoll* nested)
      : Entry(~uint64_t{0}, /*tracked=*/true),
        ep_(ep),
        file(std::move(file)),
        fd(fd),
        nested(nested) {}

  void Notify(uint64_t events) override {
    // A disabled EPOLLONESHOT item, or events it did not ask for.
    const uint32_t want = this->events.load() & ~kPrivateBits;
    if (!(events & want)) return;
    ep_.ItemNotified(this);
  }

  Epoll& ep_;
  const std::weak_ptr<vfs::FileDescription> file;
  const int fd;
  Epoll* const nested;  // the file, if it is an epoll instance
  // What the app asked for, with EPOLLERR | EPOLLHUP; the flags survive
  // an EPOLLONESHOT report, the events do not.
  std::atomic<uint32_t> events{0};
  std::atomic<uint64_t> data{0};
  // On ready_ (guarded by the instance's ready_mu_).
  bool ready = false;
};

Epoll::Epoll(int flags) : FileDescription(flags) {}

std::shared_ptr<Epoll> Epoll::Create(int flags) {
  return std::shared_ptr<Epoll>(new Epoll(O_RDWR | flags));
}

Epoll::~Epoll() {
  {
    // Out of the nesting graph first: the instances this one is in may
    // still unlink its registration, and must not look at it then.
    absl::MutexLock nest(&nesting_mu);
    for (Epoll* p : parents_) std::erase(p->children_, this);
    for (Epoll* c : children_) std::erase(c->parents_, this);
    parents_.clear();
    children_.clear();
  }
  absl::MutexLock lock(&mu_);
  while (!items_.empty()) {
    auto it = items_.begin();
    std::shared_ptr<vfs::FileDescription> file = it->second->file.lock();
    Unlink(it->second.get(), file.get());
    items_.erase(it);
    // `file` may be the last reference: its release finds this instance
    // gone (its weak reference expired) and does nothing.
  }
}

void Epoll::ItemNotified(Item* item) {
  {
    absl::MutexLock lock(&ready_mu_);
    if (!item->ready) {
      item->ready = true;
      ready_.push_back(item);
    }
  }
  queue_.Notify(EPOLLIN | EPOLLRDNORM);
}

void Epoll::Unlink(Item* item, vfs::FileDescription* file) {
  if (file) {
    file->EventUnregister(item);
    file->RemoveEpollWatcher(this);
  }
  // Whatever the file left (its queue outlived it, or it is gone).
  waiter::Queue::DetachAll(item);
  {
    absl::MutexLock lock(&ready_mu_);
    if (item->ready) {
      ready_.remove(item);
      item->ready = false;
    }
  }
  if (item->nested) {
    absl::MutexLock lock(&nesting_mu);
    // Not there if the nested instance is already being destroyed.
    auto child = std::find(children_.begin(), children_.end(), item->nested);
    if (child != children_.end()) {
      children_.erase(child);
      auto& up = item->nested->parents_;
      if (auto p = std::find(up.begin(), up.end(), this); p != up.end())
        up.erase(p);
    }
  }
}

base::Result<void> Epoll::Add(
    const std::shared_ptr<vfs::FileDescription>& file, int fd,
    const epoll_event& ev) {
  auto* nested = dynamic_cast<Epoll*>(file.get());
  absl::MutexLock lock(&mu_);
  const Key key{file.get(), fd};
  if (items_.count(key)) return base::Err(EEXIST);
  if (nested) {
    absl::MutexLock nest(&nesting_mu);
    // Linux's ep_loop_check: no path from the target back to this
    // instance, and no chain of more than kEpollMaxNests below the top.
    std::function<int(const Epoll*, int)> below = [&](const Epoll* e,
                                                      int limit) -> int {
      if (e == this) return 1 << 20;  // a loop
      if (limit < 0) return 1 << 20;
      int d = 0;
      for (const Epoll* c : e->children_)
        d = std::max(d, 1 + below(c, limit - 1));
      return d;
    };
    std::function<int(const Epoll*, int)> above = [&](const Epoll* e,
                                                      int limit) -> int {
      if (limit < 0) return 1 << 20;
      int d = 0;
      for (const Epoll* p : e->parents_)
        d = std::max(d, 1 + above(p, limit - 1));
      return d;
    };
    const int depth = below(nested, kEpollMaxNests + 1);
    if (depth > kEpollMaxNests) return base::Err(ELOOP);
    if (depth + 1 + above(this, kEpollMaxNests + 1) > kEpollMaxNests)
      return base::Err(ELOOP);
    children_.push_back(nested);
    nested->parents_.push_back(this);
  }
  auto item = std::make_unique<Item>(*this, file, fd, nested);
  item->events.store(ev.events | EPOLLERR | EPOLLHUP);
  item->data.store(ev.data.u64);
  Item* raw = item.get();
  items_.emplace(key, std::move(item));
  file->AddEpollWatcher(weak_from_this());
  // Registered before the first look, so no change is missed.
  file->EventRegister(raw);
  const uint32_t want = raw->events.load() & ~kPrivateBits;
  if (file->Readiness(want) & want) ItemNotified(raw);
  return {};
}

base::Result<void> Epoll::Modify(vfs::FileDescription* file, int fd,
                                 const epoll_event& ev) {
  absl::MutexLock lock(&mu_);
  auto it = items_.find(Key{file, fd});
  if (it == items_.end()) return base::Err(ENOENT);
  Item* item = it->second.get();
  if (item->events.load() & EPOLLEXCLUSIVE) return base::Err(EINVAL);
  item->events.store(ev.events | EPOLLERR | EPOLLHUP);
  item->data.store(ev.data.u64);
  const uint32_t want = item->events.load() & ~kPrivateBits;
  if (file->Readiness(want) & want) ItemNotified(item);
  return {};
}

base::Result<void> Epoll::Delete(vfs::FileDescription* file, int fd) {
  absl::MutexLock lock(&mu_);
  auto it = items_.find(Key{file, fd});
  if (it == items_.end()) return base::Err(ENOENT);
  Unlink(it->second.get(), file);
  items_.erase(it);
  return {};
}

void Epoll::FileReleased(vfs::FileDescription* f) {
  absl::MutexLock lock(&mu_);
  for (auto it = items_.lower_bound(Key{f, INT32_MIN});
       it != items_.end() && it->first.file == f;) {
    // The description is being destroyed: only its queue, if it outlives
    // it, still knows the item.
    Unlink(it->second.get(), nullptr);
    it = items_.erase(it);
  }
}

size_t Epoll::CollectLocked(
    std::span<epoll_event> out,
    std::vector<std::shared_ptr<vfs::FileDescription>>* keep) {
  std::list<Item*> batch;
  {
    absl::MutexLock lock(&ready_mu_);
    batch.swap(ready_);
    for (Item* item : batch) item->ready = false;
  }
  size_t n = 0;
  std::vector<Item*> again;  // level-triggered items still ready
  while (!batch.empty() && n < out.size()) {
    Item* item = batch.front();
    batch.pop_front();
    std::shared_ptr<vfs::FileDescription> file = item->file.lock();
    if (!file) continue;  // going away: FileReleased removes it
    const uint32_t events = item->events.load();
    const uint32_t want = events & ~kPrivateBits;
    const uint32_t ready = static_cast<uint32_t>(file->Readiness(want)) & want;
    keep->push_back(std::move(file));
    if (!ready) continue;
    out[n].events = ready;
    out[n].data.u64 = item->data.load();
    ++n;
    if (events & EPOLLONESHOT) {
      item->events.store(events & kPrivateBits);
    } else if (!(events & EPOLLET)) {
      again.push_back(item);
    }
  }
  absl::MutexLock lock(&ready_mu_);
  // What was not looked at goes back in front, in order; what stays
  // ready level-triggered goes to the end (Linux's ep_send_events).
  for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
    if ((*it)->ready) continue;  // notified meanwhile: already queued
    (*it)->ready = true;
    ready_.push_front(*it);
  }
  for (Item* item : again) {
    if (item->ready) continue;
    item->ready = true;
    ready_.push_back(item);
  }
  return n;
}

size_t Epoll::Collect(std::span<epoll_event> out) {
  // Files looked at are released after mu_: a last reference dropped
  // here would call FileReleased, which takes it.
  std::vector<std::shared_ptr<vfs::FileDescription>> keep;
  absl::MutexLock lock(&mu_);
  return CollectLocked(out, &keep);
}

uint64_t Epoll::Readiness(uint64_t mask) {
  std::vector<std::shared_ptr<vfs::FileDescription>> keep;
  absl::MutexLock lock(&mu_);
  std::vector<Item*> batch;
  {
    absl::MutexLock r(&ready_mu_);
    batch.assign(ready_.begin(), ready_.end());
  }
  // Linux's ep_read_events_proc: ready if any item on the list is; the
  // list itself is left for epoll_wait.
  for (Item* item : batch) {
    std::shared_ptr<vfs::FileDescription> file = item->file.lock();
    if (!file) continue;
    const uint32_t want = item->events.load() & ~kPrivateBits;
    const bool ready = file->Readiness(want) & want;
    keep.push_back(std::move(file));
    if (ready) return mask & (EPOLLIN | EPOLLRDNORM);
  }
  return 0;
}

base::Result<struct stat> Epoll::Stat() { return vfs::AnonInodeStat(); }

std::string Epoll::FdInfo() {
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const auto& [key, item] : items_) {
    absl::StrAppendFormat(&out, "tfd: %8d events: %8x data: %16x\n", key.fd,
                          item->events.load(), item->data.load());
  }
  return out;
}

}  // namespace event
