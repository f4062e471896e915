#include "gofer/wire.h"

#include <google/protobuf/message_lite.h>
#include <limits.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace gofer {

using base::Err;
using base::Result;

Result<void> SendMessage(int sock, const google::protobuf::MessageLite& msg,
                         const std::vector<int>& fds) {
  size_t size = msg.ByteSizeLong();
  if (size > kMaxMessage || fds.size() > kMaxFds) return Err(EMSGSIZE);
  std::string buf(4 + size, '\0');
  uint32_t len = static_cast<uint32_t>(size);
  for (int i = 0; i < 4; ++i) buf[i] = static_cast<char>(len >> (8 * i));
  if (!msg.SerializeToArray(buf.data() + 4, static_cast<int>(size)))
    return Err(EINVAL);
  return SendPacket(sock, buf, fds);
}

Result<void> SendPacket(int sock, std::string_view bytes,
                        const std::vector<int>& fds) {
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  std::vector<cmsghdr> control;  // cmsghdr-aligned storage
  if (!fds.empty()) {
    size_t space = CMSG_SPACE(fds.size() * sizeof(int));
    control.resize((space + sizeof(cmsghdr) - 1) / sizeof(cmsghdr));
    mh.msg_control = control.data();
    mh.msg_controllen = space;
    cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
    memcpy(CMSG_DATA(c), fds.data(), fds.size() * sizeof(int));
  }
  for (;;) {
    ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
    if (n >= 0) return {};
    if (errno != EINTR) return Err(errno);
  }
}

Result<Packet> ReceivePacket(int sock) {
  // One byte more than the largest valid packet, so an oversized one shows
  // as MSG_TRUNC or as a length we refuse.
  thread_local std::string buf(4 + kMaxMessage + 1, '\0');
  iovec iov{buf.data(), buf.size()};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(kMaxFds * sizeof(int))];
  mh.msg_control = control;
  mh.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Err(errno);
  if (n == 0) return Err(ENODATA);

  Packet p;
  bool bad_control = false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        p.fds.emplace_back(fd);
      }
    } else {
      bad_control = true;  // e.g. SCM_CREDENTIALS we did not ask for
    }
  }
  if (bad_control || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || n < 4)
    return Err(EBADMSG);  // p's fds close here
  uint32_t len = 0;
  for (int i = 0; i < 4; ++i)
    len |= static_cast<uint32_t>(static_cast<unsigned char>(buf[i])) << (8 * i);
  if (len > kMaxMessage || static_cast<size_t>(n) != 4 + len)
    return Err(EBADMSG);
  p.bytes.assign(buf.data() + 4, len);
  return p;
}

int CheckName(const std::string& name) {
  if (name.empty() || name == "." || name == ".." ||
      name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos)
    return EINVAL;
  return name.size() > NAME_MAX ? ENAMETOOLONG : 0;
}

}  // namespace gofer
