// The state of an AF_UNIX socket (Linux's struct unix_sock), shared by its
// file, its peer, the messages it sent and its listener's backlog.
//
// Every endpoint's mutable state is guarded by one mutex, Mu(): a
// connection touches two or three endpoints at once (a send queues on the
// peer and charges the sender; connect links a client, a new server-side
// endpoint and a listener), and one lock makes those steps atomic without
// a lock order between endpoints. Queues are notified after it is
// released (Notifier).
#ifndef SENTRY_SOCKET_UNIX_ENDPOINT_H_
#define SENTRY_SOCKET_UNIX_ENDPOINT_H_

#include <sys/epoll.h>

#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "sentry/socket/unix_socket.h"

namespace usock {

absl::Mutex& Mu();

inline constexpr int kRcvShutdown = 1;   // Linux's RCV_SHUTDOWN
inline constexpr int kSendShutdown = 2;  // SEND_SHUTDOWN
inline constexpr int kShutdownMask = 3;

// Not a poll event: what a full receiver or listener notifies when it
// makes room (Linux's peer_wait).
inline constexpr uint64_t kRoomEvent = uint64_t{1} << 41;

enum class State { kClose, kListen, kEstablished };

struct Message {
  std::vector<uint8_t> data;
  size_t off = 0;  // stream: bytes already read
  std::vector<FilePtr> rights;
  Ucred creds;
  std::string from;  // the sender's name when it was sent
  std::shared_ptr<Endpoint> sender;  // charged (wmem) until read
};

struct Endpoint {
  Endpoint(int type, const Ucred& owner);

  const int type;
  const uint64_t ino;
  const Ucred owner;  // fstat's uid and gid
  waiter::Queue queue;

  State state ABSL_GUARDED_BY(Mu()) = State::kClose;
  int shutdown ABSL_GUARDED_BY(Mu()) = 0;
  bool dead ABSL_GUARDED_BY(Mu()) = false;  // its file closed
  // The connected peer (stream, seqpacket) or default destination (dgram).
  std::shared_ptr<Endpoint> peer ABSL_GUARDED_BY(Mu());
  std::deque<Message> rq ABSL_GUARDED_BY(Mu());
  size_t rq_bytes ABSL_GUARDED_BY(Mu()) = 0;
  size_t wmem ABSL_GUARDED_BY(Mu()) = 0;  // sent, not yet read
  std::string name ABSL_GUARDED_BY(Mu());
  bool path_bound ABSL_GUARDED_BY(Mu()) = false;
  std::pair<dev_t, ino_t> path_key ABSL_GUARDED_BY(Mu());
  // A listener's connections not yet accepted (server-side endpoints).
  std::deque<std::shared_ptr<Endpoint>> backlog_q ABSL_GUARDED_BY(Mu());
  int backlog ABSL_GUARDED_BY(Mu()) = 0;
  int err ABSL_GUARDED_BY(Mu()) = 0;  // sk_err (ECONNRESET)
  bool passcred ABSL_GUARDED_BY(Mu()) = false;
  size_t sndbuf ABSL_GUARDED_BY(Mu()) = kDefaultBuf;
  size_t rcvbuf ABSL_GUARDED_BY(Mu()) = kDefaultBuf;
  absl::Duration rcvtimeo ABSL_GUARDED_BY(Mu()) = absl::ZeroDuration();
  absl::Duration sndtimeo ABSL_GUARDED_BY(Mu()) = absl::ZeroDuration();
  bool has_peer_cred ABSL_GUARDED_BY(Mu()) = false;
  Ucred peer_cred ABSL_GUARDED_BY(Mu());
  Ucred listen_cred ABSL_GUARDED_BY(Mu());  // a listener's, for its clients
};

// Collects wakeups under Mu() and delivers them after it is released;
// also keeps what must be destroyed outside Mu() (fds in purged messages
// may be sockets whose release takes Mu()).
class Notifier {
 public:
  void Add(const std::shared_ptr<Endpoint>& ep, uint64_t events) {
    if (ep) wakes_.push_back({ep, events});
  }
  void Drop(std::vector<FilePtr>&& files) {
    for (FilePtr& f : files) garbage_.push_back(std::move(f));
  }
  void Drop(std::shared_ptr<Endpoint>&& ep) { eps_.push_back(std::move(ep)); }
  ~Notifier() {
    for (auto& [ep, ev] : wakes_) ep->queue.Notify(ev);
  }

 private:
  std::vector<std::pair<std::shared_ptr<Endpoint>, uint64_t>> wakes_;
  std::vector<FilePtr> garbage_;
  std::vector<std::shared_ptr<Endpoint>> eps_;
};

// Readiness of an endpoint (Linux's unix_poll / unix_dgram_poll).
uint64_t ReadinessLocked(Endpoint& ep) ABSL_EXCLUSIVE_LOCKS_REQUIRED(Mu());
// Removes the first message (its bytes uncharged from its sender, whose
// queue and ours are told there is room).
void PopLocked(Endpoint& ep, Notifier& n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(Mu());
// Empties the receive queue (a closed or shut-down receiver).
void PurgeLocked(Endpoint& ep, Notifier& n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(Mu());
// The file is closed: disconnects, unbinds, drops queued messages and
// pending connections (their clients see ECONNRESET).
void ReleaseLocked(const std::shared_ptr<Endpoint>& ep, Notifier& n)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(Mu());
void UnbindLocked(Endpoint& ep) ABSL_EXCLUSIVE_LOCKS_REQUIRED(Mu());

inline constexpr uint64_t kInEvents = EPOLLIN | EPOLLRDNORM;
inline constexpr uint64_t kOutEvents = EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
inline constexpr uint64_t kAllEvents = ~uint64_t{0};

}  // namespace usock

#endif  // SENTRY_SOCKET_UNIX_ENDPOINT_H_
