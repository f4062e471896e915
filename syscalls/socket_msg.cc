// sendto(2), recvfrom(2), sendmsg(2), recvmsg(2), sendmmsg(2),
// recvmmsg(2) on AF_UNIX sockets, with SCM_RIGHTS and SCM_CREDENTIALS.
#include <sys/syscall.h>

#include <climits>
#include <optional>
#include <vector>

#include "syscalls/blocking.h"
#include "syscalls/iovec.h"
#include "syscalls/socket.h"

namespace syscalls {
namespace {

constexpr int kCapSetgid = 6, kCapSetuid = 7, kCapSysAdmin = 21;
// Control data a message may carry (net.core.optmem_max).
constexpr size_t kMaxControl = 131072;

// What the app's msghdr asks for, checked as copy_msghdr_from_user.
struct MsgArgs {
  std::vector<mm::UserRange> ranges;
  uint64_t name = 0;
  int namelen = 0;
  uint64_t control = 0;
  size_t controllen = 0;
};

Result<MsgArgs> CopyInMsghdr(Task& t, uint64_t addr) {
  msghdr m;
  TRY(t.mm().CopyIn(addr, &m, sizeof m));
  if (static_cast<int>(m.msg_namelen) < 0) return Err(EINVAL);
  if (m.msg_iovlen > static_cast<size_t>(kMaxIovecs)) return Err(EMSGSIZE);
  MsgArgs a;
  a.name = reinterpret_cast<uint64_t>(m.msg_name);
  a.namelen = a.name ? static_cast<int>(m.msg_namelen) : 0;
  a.control = reinterpret_cast<uint64_t>(m.msg_control);
  a.controllen = m.msg_controllen;
  a.ranges = TRY(VectorRanges(
      t, UserPtr<struct iovec>(reinterpret_cast<uint64_t>(m.msg_iov)),
      static_cast<int>(m.msg_iovlen)));
  return a;
}

// scm_check_creds: a process may claim only its own pid and ids, unless
// capable.
Result<void> CheckCreds(Task& t, const ucred& u) {
  const kernel::Credentials c = t.creds();
  const bool pid_ok =
      u.pid == t.thread_group().pid() || c.HasCap(kCapSysAdmin);
  const bool uid_ok = u.uid == c.ruid || u.uid == c.euid || u.uid == c.suid ||
                      c.HasCap(kCapSetuid);
  const bool gid_ok = u.gid == c.rgid || u.gid == c.egid || u.gid == c.sgid ||
                      c.HasCap(kCapSetgid);
  if (!pid_ok || !uid_ok || !gid_ok) return Err(EPERM);
  return {};
}

// __scm_send: SOL_SOCKET messages are SCM_RIGHTS (at most SCM_MAX_FD
// open fds in all) or SCM_CREDENTIALS; other levels are ignored.
Result<void> ParseControl(Task& t, const MsgArgs& a, usock::SendArgs& out) {
  if (a.controllen == 0) return {};
  if (a.controllen > INT_MAX || a.controllen > kMaxControl)
    return Err(ENOBUFS);
  std::vector<uint8_t> ctl(a.controllen);
  TRY(t.mm().CopyIn(a.control, ctl.data(), ctl.size()));
  for (size_t off = 0; ctl.size() - off >= sizeof(cmsghdr);) {
    cmsghdr h;
    memcpy(&h, ctl.data() + off, sizeof h);
    if (h.cmsg_len < sizeof(cmsghdr) || h.cmsg_len > ctl.size() - off)
      return Err(EINVAL);
    const uint8_t* data = ctl.data() + off + CMSG_LEN(0);
    const size_t dlen = h.cmsg_len - CMSG_LEN(0);
    if (h.cmsg_level == SOL_SOCKET) {
      switch (h.cmsg_type) {
        case SCM_RIGHTS: {
          const size_t n = dlen / sizeof(int);
          if (out.rights.size() + n > usock::kMaxRights) return Err(EINVAL);
          for (size_t i = 0; i < n; ++i) {
            int fd;
            memcpy(&fd, data + i * sizeof(int), sizeof fd);
            out.rights.push_back(TRY(t.fds().Get(fd)));
          }
          break;
        }
        case SCM_CREDENTIALS: {
          if (h.cmsg_len != CMSG_LEN(sizeof(ucred))) return Err(EINVAL);
          ucred u;
          memcpy(&u, data, sizeof u);
          TRY(CheckCreds(t, u));
          out.creds = {u.pid, u.uid, u.gid};
          break;
        }
        default:
          return Err(EINVAL);
      }
    }
    const size_t step = CMSG_ALIGN(h.cmsg_len);
    if (step > ctl.size() - off) break;
    off += step;
  }
  return {};
}

size_t Total(std::span<const mm::UserRange> ranges) {
  size_t n = 0;
  for (const mm::UserRange& r : ranges) n += r.len;
  return n;
}

// One sendmsg: a stream socket blocks until everything is queued (a
// signal or error part way returns the count); others send one message.
Result<size_t> DoSend(Task& t, const SocketPtr& s, const MsgArgs& a,
                      int flags) {
  usock::SendArgs args;
  args.flags = flags;
  args.creds = CurrentCreds(t);
  const std::string sa = TRY(CopyInSockaddr(t, a.name, a.namelen));
  TRY(ParseControl(t, a, args));
  if (flags & MSG_OOB) return Err(EOPNOTSUPP);
  if (!sa.empty()) {
    if (s->type() == SOCK_STREAM) {
      return Err(s->PeerName() ? EISCONN : EOPNOTSUPP);
    }
    if (s->type() == SOCK_DGRAM) {
      const std::string name = TRY(UnixName(sa));
      args.to = TRY(ResolveName(t, name, SOCK_DGRAM));
    }
  }
  const bool nonblocking = (s->flags() & O_NONBLOCK) || (flags & MSG_DONTWAIT);
  const size_t total = Total(a.ranges);
  std::vector<mm::UserRange> rest;
  std::span<const mm::UserRange> left = a.ranges;
  size_t done = 0;
  for (;;) {
    Result<size_t> r =
        SocketBlock(t, nonblocking, s->sndtimeo(), [&](usock::WaitOn& w) {
          return t.mm().WithIoBlocks(
              left, mm::Access::kRead,
              [&](std::span<const iovec> iov) { return s->Send(iov, args, &w); });
        });
    if (!r) {
      if (r.error().value == EPIPE && !(flags & MSG_NOSIGNAL))
        kernel::SendSigpipe(t);
      if (done > 0) return done;
      return r;
    }
    done += *r;
    if (s->type() != SOCK_STREAM || done >= total || nonblocking || *r == 0)
      return done;
    rest = DropFront(left, *r);
    left = rest;
  }
}

// Writes the control messages of a received message as put_cmsg and
// scm_detach_fds do; returns the bytes used, and MSG_CTRUNC in *flags
// when something did not fit. Received fds are installed here.
Result<size_t> PutControl(Task& t, uint64_t addr, size_t len,
                          usock::RecvResult& r, int flags, int* msg_flags) {
  size_t used = 0;
  auto put = [&](int type, const void* data, size_t dlen) -> Result<void> {
    const size_t room = len - used;
    if (room < sizeof(cmsghdr)) {
      *msg_flags |= MSG_CTRUNC;
      return {};
    }
    size_t cmlen = CMSG_LEN(dlen);
    if (room < cmlen) {
      *msg_flags |= MSG_CTRUNC;
      cmlen = room;
    }
    cmsghdr h{};
    h.cmsg_len = cmlen;
    h.cmsg_level = SOL_SOCKET;
    h.cmsg_type = type;
    TRY(t.mm().CopyOut(addr + used, &h, sizeof h));
    TRY(t.mm().CopyOut(addr + used + CMSG_LEN(0), data, cmlen - CMSG_LEN(0)));
    used += std::min<size_t>(CMSG_SPACE(dlen), room);
    return {};
  };
  if (r.creds) {
    const ucred u{r.creds->pid, r.creds->uid, r.creds->gid};
    TRY(put(SCM_CREDENTIALS, &u, sizeof u));
  }
  if (r.rights.empty()) return used;
  const size_t room = len - used;
  size_t fdmax = room > sizeof(cmsghdr) ? (room - sizeof(cmsghdr)) / 4 : 0;
  fdmax = std::min(fdmax, r.rights.size());
  std::vector<int> fds;
  for (size_t i = 0; i < fdmax; ++i) {
    auto fd = t.fds().Install(r.rights[i], flags & MSG_CMSG_CLOEXEC, 0,
                              NofileLimit(t));
    if (!fd) break;
    fds.push_back(*fd);
  }
  if (fds.size() < r.rights.size()) *msg_flags |= MSG_CTRUNC;
  if (!fds.empty()) {
    if (auto p = put(SCM_RIGHTS, fds.data(), fds.size() * sizeof(int)); !p) {
      for (int fd : fds) (void)t.fds().Remove(fd);
      return std::unexpected(p.error());
    }
  }
  return used;
}

struct RecvOut {
  size_t value = 0;  // recvmsg's result
  usock::RecvResult r;
  int msg_flags = 0;
};

Result<RecvOut> DoRecv(Task& t, const SocketPtr& s,
                       std::span<const mm::UserRange> ranges, int flags) {
  if (flags & MSG_OOB) return Err(EOPNOTSUPP);
  const bool nonblocking = (s->flags() & O_NONBLOCK) || (flags & MSG_DONTWAIT);
  const bool waitall = (flags & MSG_WAITALL) && !(flags & MSG_PEEK) &&
                       s->type() == SOCK_STREAM;
  const size_t total = Total(ranges);
  RecvOut out;
  std::vector<mm::UserRange> rest;
  std::span<const mm::UserRange> left = ranges;
  size_t done = 0;
  for (;;) {
    usock::RecvResult got;
    Result<size_t> n =
        SocketBlock(t, nonblocking, s->rcvtimeo(), [&](usock::WaitOn& w) {
          return t.mm().WithIoBlocks(left, mm::Access::kWrite,
                                     [&](std::span<const iovec> iov)
                                         -> Result<size_t> {
                                       got = TRY(s->Recv(iov, flags, &w));
                                       return got.copied;
                                     });
        });
    if (!n) {
      if (done > 0) break;
      return std::unexpected(n.error());
    }
    if (done == 0) {
      out.r = std::move(got);
    } else {
      for (auto& f : got.rights) out.r.rights.push_back(std::move(f));
    }
    done += *n;
    if (!waitall || done >= total || *n == 0 || !out.r.rights.empty()) break;
    rest = DropFront(left, *n);
    left = rest;
  }
  out.r.copied = done;
  if (out.r.truncated) out.msg_flags |= MSG_TRUNC;
  out.value = (flags & MSG_TRUNC) && s->type() != SOCK_STREAM ? out.r.length
                                                               : done;
  return out;
}

// Sendto implements Linux syscall sendto(2).
Result<size_t> Sendto(Task& t, Fd fd, UserPtr<uint8_t> buf, size_t len,
                      int flags, UserPtr<sockaddr> addr, int addrlen) {
  SocketPtr s = TRY(SocketOf(t, fd));
  MsgArgs a;
  a.ranges = {{buf.addr, std::min(len, kMaxRwCount)}};
  a.name = addr.addr;
  a.namelen = addr.addr ? addrlen : 0;
  return DoSend(t, s, a, flags);
}

// Recvfrom implements Linux syscall recvfrom(2).
Result<size_t> Recvfrom(Task& t, Fd fd, UserPtr<uint8_t> buf, size_t len,
                        int flags, UserPtr<sockaddr> addr,
                        UserPtr<socklen_t> addrlen) {
  SocketPtr s = TRY(SocketOf(t, fd));
  const std::vector<mm::UserRange> ranges = {
      {buf.addr, std::min(len, kMaxRwCount)}};
  RecvOut out = TRY(DoRecv(t, s, ranges, flags));
  if (addr.addr)
    TRY(CopyOutName(t, out.r.from, addr.addr, addrlen.addr, true));
  return out.value;
}

Result<size_t> DoSendmsg(Task& t, const SocketPtr& s, uint64_t msg,
                         int flags) {
  MsgArgs a = TRY(CopyInMsghdr(t, msg));
  return DoSend(t, s, a, flags);
}

Result<size_t> DoRecvmsg(Task& t, const SocketPtr& s, uint64_t msg,
                         int flags) {
  MsgArgs a = TRY(CopyInMsghdr(t, msg));
  RecvOut out = TRY(DoRecv(t, s, a.ranges, flags));
  if (a.name) {
    TRY(CopyOutName(t, out.r.from, a.name, msg + offsetof(msghdr, msg_namelen),
                    true));
  }
  const size_t used =
      TRY(PutControl(t, a.control, a.control ? a.controllen : 0, out.r, flags,
                     &out.msg_flags));
  const uint64_t controllen = used;
  TRY(t.mm().CopyOut(msg + offsetof(msghdr, msg_controllen), &controllen,
                     sizeof controllen));
  TRY(t.mm().CopyOut(msg + offsetof(msghdr, msg_flags), &out.msg_flags,
                     sizeof out.msg_flags));
  return out.value;
}

// Sendmsg implements Linux syscall sendmsg(2).
Result<size_t> Sendmsg(Task& t, Fd fd, UserPtr<msghdr> msg, int flags) {
  SocketPtr s = TRY(SocketOf(t, fd));
  return DoSendmsg(t, s, msg.addr, flags);
}

// Recvmsg implements Linux syscall recvmsg(2).
Result<size_t> Recvmsg(Task& t, Fd fd, UserPtr<msghdr> msg, int flags) {
  SocketPtr s = TRY(SocketOf(t, fd));
  return DoRecvmsg(t, s, msg.addr, flags);
}

// Sendmmsg implements Linux syscall sendmmsg(2).
Result<int> Sendmmsg(Task& t, Fd fd, UserPtr<mmsghdr> vec, unsigned vlen,
                     int flags) {
  SocketPtr s = TRY(SocketOf(t, fd));
  vlen = std::min<unsigned>(vlen, kMaxIovecs);
  unsigned i = 0;
  for (; i < vlen; ++i) {
    const uint64_t m = vec.addr + uint64_t{i} * sizeof(mmsghdr);
    Result<size_t> n = DoSendmsg(t, s, m, flags);
    if (!n) {
      if (i > 0) break;
      return std::unexpected(n.error());
    }
    const unsigned len = static_cast<unsigned>(*n);
    TRY(t.mm().CopyOut(m + offsetof(mmsghdr, msg_len), &len, sizeof len));
  }
  return static_cast<int>(i);
}

// Recvmmsg implements Linux syscall recvmmsg(2).
Result<int> Recvmmsg(Task& t, Fd fd, UserPtr<mmsghdr> vec, unsigned vlen,
                     int flags, UserPtr<struct timespec> timeout) {
  SocketPtr s = TRY(SocketOf(t, fd));
  std::optional<absl::Time> deadline;
  if (timeout.addr) {
    struct timespec ts;
    TRY(t.mm().CopyIn(timeout.addr, &ts, sizeof ts));
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
      return Err(EINVAL);
    deadline = absl::Now() + absl::DurationFromTimespec(ts);
  }
  vlen = std::min<unsigned>(vlen, kMaxIovecs);
  unsigned i = 0;
  for (; i < vlen; ++i) {
    const uint64_t m = vec.addr + uint64_t{i} * sizeof(mmsghdr);
    Result<size_t> n = DoRecvmsg(t, s, m, flags);
    if (!n) {
      if (i > 0) break;
      return std::unexpected(n.error());
    }
    const unsigned len = static_cast<unsigned>(*n);
    TRY(t.mm().CopyOut(m + offsetof(mmsghdr, msg_len), &len, sizeof len));
    // MSG_WAITFORONE: only the first may wait.
    if (flags & MSG_WAITFORONE) flags |= MSG_DONTWAIT;
    // As Linux, the timeout is looked at only between messages.
    if (deadline && absl::Now() >= *deadline) {
      ++i;
      break;
    }
  }
  return static_cast<int>(i);
}

}  // namespace

void RegisterSocketMsg(Registrar& r) {
  constexpr const char* kUnixOnly =
      "AF_UNIX only; SCM_RIGHTS and SCM_CREDENTIALS; no MSG_OOB";
  r.Partial<&Sendto>(SYS_sendto, kUnixOnly).Show(SYS_sendto, 1,
                                                 ArgKind::kInBuf);
  r.Partial<&Recvfrom>(SYS_recvfrom, kUnixOnly)
      .Show(SYS_recvfrom, 1, ArgKind::kOutBuf);
  r.Partial<&Sendmsg>(SYS_sendmsg, kUnixOnly);
  r.Partial<&Recvmsg>(SYS_recvmsg, kUnixOnly);
  r.Partial<&Sendmmsg>(SYS_sendmmsg, kUnixOnly);
  r.Partial<&Recvmmsg>(SYS_recvmmsg,
                       "AF_UNIX only; the timeout is checked between "
                       "messages, as Linux");
}

}  // namespace syscalls
