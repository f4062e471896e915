// Shared by the socket syscalls (socket.cc, socket_msg.cc, sockopt.cc):
// finding the socket of an fd, socket addresses, and waiting.
#ifndef SYSCALLS_SOCKET_H_
#define SYSCALLS_SOCKET_H_

#include <sys/socket.h>
#include <sys/un.h>

#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "sentry/socket/unix_socket.h"
#include "syscalls/common.h"

namespace syscalls {

using SocketPtr = std::shared_ptr<usock::UnixSocket>;

// The socket behind `fd`: EBADF, or ENOTSOCK for other files.
Result<SocketPtr> SocketOf(Task& t, Fd fd);

// The sender's credentials as SCM_CREDENTIALS shows them (real ids).
usock::Ucred CurrentCreds(Task& t);
// The caller's as SO_PEERCRED shows them to its peer (effective ids).
usock::Ucred PeerCreds(Task& t);

// A sockaddr from the app (move_addr_to_kernel): EINVAL if `len` is
// negative or past sockaddr_storage, EFAULT if unreadable.
Result<std::string> CopyInSockaddr(Task& t, uint64_t addr, int len);

// A sockaddr_un parsed (unix_validate_addr): EINVAL for a length of at
// most the family or past sockaddr_un, or another family. Its name: a
// path, or "\0" and an abstract name.
Result<std::string> UnixName(const std::string& sa);

// The bound endpoint of `name` for a socket of `type`: ENOENT (and the
// other path errors), EACCES without write permission on the socket file,
// ECONNREFUSED if nothing is bound there, EPROTOTYPE for another type.
Result<std::shared_ptr<usock::Endpoint>> ResolveName(Task& t,
                                                     const std::string& name,
                                                     int type);

// Writes a socket name to the app as move_addr_to_user: at most *lenp
// bytes of it, then its whole length into *lenp (EINVAL if negative).
// `unnamed_empty`: an unnamed socket has length 0 (a message's sender),
// not just the family (getsockname, accept).
Result<void> CopyOutName(Task& t, const std::string& name, uint64_t addr,
                         uint64_t lenp, bool unnamed_empty = false);

// Runs `attempt` until it answers anything but EAGAIN, waiting between
// tries for what it named, unless `nonblocking`. `timeout` (SO_RCVTIMEO,
// SO_SNDTIMEO; zero: none) ends the wait with EAGAIN; a signal ends it
// with ERESTARTSYS, or EINTR when there is a timeout (as Linux's
// sock_intr_errno).
template <class T>
using SocketAttempt = absl::FunctionRef<Result<T>(usock::WaitOn& wait)>;
Result<size_t> SocketBlock(Task& t, bool nonblocking, absl::Duration timeout,
                           SocketAttempt<size_t> attempt);

// The socket families' registration functions, called by BuildTable.
void RegisterSocket(Registrar& r);
void RegisterSocketMsg(Registrar& r);
void RegisterSockopt(Registrar& r);

}  // namespace syscalls

#endif  // SYSCALLS_SOCKET_H_
