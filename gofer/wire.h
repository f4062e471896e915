// Framing of the gofer protocol (gofer/proto/gofer.proto), shared by the
// gofer and its client: one message per SOCK_SEQPACKET packet, a 4-byte
// little-endian length then the serialized message, fds as SCM_RIGHTS.
#ifndef GOFER_WIRE_H_
#define GOFER_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace google::protobuf {
class MessageLite;
}

namespace gofer {

// The largest serialized message either side sends or accepts: room for a
// 64 KiB xattr value or a full getdents answer plus the envelope.
inline constexpr size_t kMaxMessage = 128 * 1024;
// The most fds one message carries.
inline constexpr size_t kMaxFds = 4;
// The most entries one Getdents answer holds, and the longest name in it.
inline constexpr uint32_t kMaxDirents = 256;

// SetattrRequest.mask bits.
inline constexpr uint32_t kSetattrMode = 1u << 0;
inline constexpr uint32_t kSetattrUid = 1u << 1;
inline constexpr uint32_t kSetattrGid = 1u << 2;
inline constexpr uint32_t kSetattrSize = 1u << 3;
inline constexpr uint32_t kSetattrAtime = 1u << 4;
inline constexpr uint32_t kSetattrMtime = 1u << 5;
inline constexpr uint32_t kSetattrAll = (1u << 6) - 1;

// Sends `msg` with `fds` (not consumed). Never raises SIGPIPE: a closed
// peer is EPIPE.
base::Result<void> SendMessage(int sock,
                               const google::protobuf::MessageLite& msg,
                               const std::vector<int>& fds = {});

// Sends `bytes` as one packet, as they are, with any number of fds
// (SendMessage frames a message and checks it first; tests send malformed
// packets with this).
base::Result<void> SendPacket(int sock, std::string_view bytes,
                              const std::vector<int>& fds = {});

// What one packet held.
struct Packet {
  std::string bytes;  // the message, length prefix removed
  std::vector<base::UniqueFd> fds;
};

// Receives one packet. ENODATA at end of stream (the peer closed), EBADMSG
// for a packet whose framing is wrong (truncated, bad length, too many
// fds; any fds it carried are closed). Other errors are the socket's.
base::Result<Packet> ReceivePacket(int sock);

// 0 if `name` is a single path component the gofer accepts: not empty,
// not "." or "..", no '/' or NUL (else EINVAL), at most NAME_MAX bytes
// (else ENAMETOOLONG).
int CheckName(const std::string& name);

}  // namespace gofer

#endif  // GOFER_WIRE_H_
