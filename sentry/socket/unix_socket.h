// AF_UNIX sockets, entirely in the sentry: stream, datagram and seqpacket
// sockets, their names (abstract and paths in the sandbox's filesystems),
// connections, and what travels with a message (fds, credentials).
//
// A UnixSocket is the open file; its state is an Endpoint (unix_endpoint.h)
// that messages, peers and listeners refer to. Like pipes, sockets never
// sleep: where Linux would wait, a call answers EAGAIN and says in a
// WaitOn what to wait for; the syscall layer (syscalls/socket_*.cc) waits,
// interruptibly, and tries again. See README.md for the design and the
// lock order.
#ifndef SENTRY_SOCKET_UNIX_SOCKET_H_
#define SENTRY_SOCKET_UNIX_SOCKET_H_

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "base/result.h"
#include "sentry/vfs/file_description.h"
#include "sentry/waiter/waiter.h"

namespace usock {

struct Endpoint;
using FilePtr = std::shared_ptr<vfs::FileDescription>;

// struct ucred as the receiver sees it.
struct Ucred {
  int32_t pid = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
};

// Linux's limits and defaults (net.core.wmem_default/max,
// net.unix.max_dgram_qlen, SCM_MAX_FD, somaxconn).
inline constexpr size_t kDefaultBuf = 212992;
inline constexpr size_t kMaxBuf = 212992;
inline constexpr size_t kMinSndBuf = 4608;
inline constexpr size_t kMinRcvBuf = 2304;
inline constexpr size_t kMaxDgramQlen = 10;
inline constexpr size_t kMaxRights = 253;
inline constexpr int kSomaxconn = 4096;

// What a call that answered EAGAIN waits for: events on an endpoint's
// queue (its own, a peer's whose queue is full, a listener's backlog).
struct WaitOn {
  std::shared_ptr<Endpoint> ep;
  uint64_t events = 0;
};

// A message being sent: its bytes are the call's iovecs; the rest is here.
struct SendArgs {
  int flags = 0;  // MSG_*
  // For an unconnected datagram socket: the receiver (sendto's address).
  std::shared_ptr<Endpoint> to;
  // SCM_RIGHTS, taken by the first message queued.
  std::vector<FilePtr> rights;
  Ucred creds;  // the sender's, or SCM_CREDENTIALS (already checked)
};

struct RecvResult {
  size_t copied = 0;   // bytes placed in the buffers
  size_t length = 0;   // the datagram's whole length (MSG_TRUNC)
  bool truncated = false;  // a datagram did not fit (msg_flags MSG_TRUNC)
  std::string from;    // the sender's address (empty: unnamed)
  std::vector<FilePtr> rights;
  std::optional<Ucred> creds;  // with SO_PASSCRED
};

// A socket's name as sockaddr_un's sun_path holds it: a path (no NUL), or
// "\0" followed by an abstract name. Empty: unbound.
// The sockaddr_un length of a name (getsockname, recvfrom).
size_t AddressLength(const std::string& name);

class UnixSocket final : public vfs::FileDescription {
 public:
  // socket(2): `flags` are the file's status flags (O_RDWR | O_NONBLOCK).
  // `owner` is the creator's fsuid/fsgid (fstat).
  static std::shared_ptr<UnixSocket> New(int type, int flags,
                                         const Ucred& owner);
  // socketpair(2): both connected, each the other's SO_PEERCRED `creds`.
  static std::pair<std::shared_ptr<UnixSocket>, std::shared_ptr<UnixSocket>>
  NewPair(int type, int flags, const Ucred& creds, const Ucred& owner);
  ~UnixSocket() override;

  int type() const;
  const std::shared_ptr<Endpoint>& endpoint() const { return ep_; }

  // ---- file calls (read/write are recv/send without flags) ----
  base::Result<size_t> Read(std::span<const iovec> dst) override;
  base::Result<size_t> Write(std::span<const iovec> src) override;
  base::Result<struct stat> Stat() override;
  base::Result<uint64_t> Ioctl(kernel::Task& task, uint32_t cmd,
                               uint64_t arg) override;
  uint64_t Readiness(uint64_t mask) override;
  void EventRegister(waiter::Entry* e) override;
  void EventUnregister(waiter::Entry* e) override;
  std::string path() const override;

  // ---- socket calls (unix_io.cc, unix_connect.cc) ----
  // Queues (part of) `src`. Stream sockets take what fits now (at least a
  // byte, else EAGAIN); others a whole message or nothing. EPIPE after a
  // shutdown or when the peer is gone (the caller sends SIGPIPE unless
  // MSG_NOSIGNAL).
  base::Result<size_t> Send(std::span<const iovec> src, SendArgs& args,
                            WaitOn* wait);
  // Takes (or with MSG_PEEK copies) what is queued into `dst`.
  base::Result<RecvResult> Recv(std::span<const iovec> dst, int flags,
                                WaitOn* wait);

  // bind(2) to a name already checked free by the caller (paths: the
  // socket file was just made; `key` is its device and inode).
  base::Result<void> BindAbstract(const std::string& name);
  base::Result<void> BindPath(const std::string& path, dev_t dev, ino_t ino);
  // bind(2) with only a family, or an implicit bind: an abstract name of
  // five hex digits.
  base::Result<void> Autobind();
  base::Result<void> Listen(int backlog, const Ucred& creds);
  // connect(2) of a stream or seqpacket socket to `server` (a listener);
  // EAGAIN (waiting on the listener) while its backlog is full.
  base::Result<void> Connect(const std::shared_ptr<Endpoint>& server,
                             const Ucred& creds, WaitOn* wait);
  // connect(2) of a datagram socket: the default destination, or
  // none (AF_UNSPEC: nullptr).
  base::Result<void> ConnectDgram(const std::shared_ptr<Endpoint>& to);
  // accept(2): a connected socket with `flags` (O_NONBLOCK), or EAGAIN.
  base::Result<std::shared_ptr<UnixSocket>> Accept(int flags, WaitOn* wait);
  base::Result<void> Shutdown(int how);
  std::string Name() const;
  base::Result<std::string> PeerName() const;

  // ---- options (unix_socket.cc) ----
  base::Result<Ucred> PeerCred() const;
  bool passcred() const;
  void set_passcred(bool on);
  size_t sndbuf() const;
  size_t rcvbuf() const;
  void set_sndbuf(size_t v);
  void set_rcvbuf(size_t v);
  bool listening() const;
  // SO_ERROR: the pending error, cleared.
  int TakeError();
  // SO_RCVTIMEO/SO_SNDTIMEO (zero: none).
  absl::Duration rcvtimeo() const;
  absl::Duration sndtimeo() const;
  void set_rcvtimeo(absl::Duration d);
  void set_sndtimeo(absl::Duration d);

  explicit UnixSocket(std::shared_ptr<Endpoint> ep, int flags);

 private:
  const std::shared_ptr<Endpoint> ep_;
};

// The endpoint bound to an abstract name or a socket file, if any (a
// socket that closed is gone): ECONNREFUSED otherwise.
base::Result<std::shared_ptr<Endpoint>> LookupAbstract(const std::string& name);
base::Result<std::shared_ptr<Endpoint>> LookupPath(dev_t dev, ino_t ino);
// The queue a WaitOn names (syscalls wait on it).
waiter::Queue& QueueOf(Endpoint& ep);
// EPROTOTYPE unless `ep` is of `type`.
base::Result<void> CheckType(const std::shared_ptr<Endpoint>& ep, int type);

}  // namespace usock

#endif  // SENTRY_SOCKET_UNIX_SOCKET_H_
