// The sentry's side of the gofer protocol (gofer/proto/gofer.proto): a
// typed call per operation over the gofer socket.
//
// Thread-safe: any number of threads call at once; each request carries an
// id and a receiver thread hands each answer to the caller waiting for it.
// There are no timeouts: when the gofer dies (its socket ends, or it sends
// something that is not a valid answer) every pending and every later call
// fails with EIO at once.
#ifndef SENTRY_FS_GOFER_CLIENT_H_
#define SENTRY_FS_GOFER_CLIENT_H_

#include <sys/stat.h>
#include <sys/statfs.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "gofer/proto/gofer.pb.h"

namespace gofer {

class Client {
 public:
  // A handle and the file it names.
  struct Node {
    uint64_t handle = 0;
    struct stat stat = {};
  };
  // A new file with an fd for it (Create, Bind).
  struct OpenNode {
    Node node;
    base::UniqueFd fd;
  };
  struct Owner {
    uint32_t uid = 0;
    uint32_t gid = 0;
  };
  struct Dirent {
    uint64_t ino = 0;
    int64_t offset = 0;
    uint8_t type = 0;
    std::string name;
  };
  // Setattr: each engaged field is changed. Times take UTIME_NOW in nsec.
  struct Attr {
    std::optional<uint32_t> mode;
    std::optional<uint32_t> uid;
    std::optional<uint32_t> gid;
    std::optional<int64_t> size;
    std::optional<struct timespec> atime;
    std::optional<struct timespec> mtime;
  };
  // An answer as it came, for the typed calls and for tests.
  struct Reply {
    proto::Response response;
    std::vector<base::UniqueFd> fds;
  };

  // Takes the SOCK_SEQPACKET socket connected to the gofer. `on_death`,
  // if set, runs once on the receiver thread when the gofer goes away
  // (after every pending call has failed), not when the client is
  // destroyed.
  explicit Client(base::UniqueFd sock, std::function<void()> on_death = {});
  // Ends the connection (the gofer then exits). No call may still be
  // running: callers must be done before the client goes away.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The root of the tree `mount` ("" for the root filesystem).
  base::Result<Node> Attach(const std::string& mount,
                            bool* read_only = nullptr);
  base::Result<Node> Walk(uint64_t dir, const std::string& name);
  base::Result<struct stat> Stat(uint64_t handle);
  base::Result<base::UniqueFd> Open(uint64_t handle, int flags);
  base::Result<OpenNode> Create(uint64_t dir, const std::string& name,
                                int flags, uint32_t mode,
                                std::optional<Owner> owner = {});
  base::Result<Node> Mkdir(uint64_t dir, const std::string& name, uint32_t mode,
                           std::optional<Owner> owner = {});
  base::Result<Node> Mknod(uint64_t dir, const std::string& name, uint32_t mode,
                           std::optional<Owner> owner = {});
  base::Result<Node> Symlink(uint64_t dir, const std::string& name,
                             const std::string& target,
                             std::optional<Owner> owner = {});
  base::Result<Node> Link(uint64_t dir, const std::string& name,
                          uint64_t target);
  base::Result<void> Unlink(uint64_t dir, const std::string& name);
  base::Result<void> Rmdir(uint64_t dir, const std::string& name);
  base::Result<void> Rename(uint64_t old_dir, const std::string& old_name,
                            uint64_t new_dir, const std::string& new_name,
                            uint32_t flags = 0);
  base::Result<std::string> Readlink(uint64_t handle);
  base::Result<std::vector<Dirent>> Getdents(uint64_t dir, int64_t offset,
                                             uint32_t count = 0);
  base::Result<struct stat> Setattr(uint64_t handle, const Attr& attr);
  base::Result<struct statfs> Statfs(uint64_t handle);
  base::Result<std::string> Getxattr(uint64_t handle, const std::string& name);
  base::Result<void> Setxattr(uint64_t handle, const std::string& name,
                              const std::string& value, int flags = 0);
  base::Result<std::vector<std::string>> Listxattr(uint64_t handle);
  base::Result<void> Removexattr(uint64_t handle, const std::string& name);
  base::Result<OpenNode> Bind(uint64_t dir, const std::string& name, int type,
                              uint32_t mode, std::optional<Owner> owner = {});
  base::Result<base::UniqueFd> Connect(uint64_t handle, int type);
  base::Result<void> Close(const std::vector<uint64_t>& handles);

  // Sends `req` (its id is set here) and waits for the answer. EIO when
  // the gofer is gone; the answer's own error is not looked at.
  base::Result<Reply> Call(proto::Request req);

  // Calls waiting for an answer; for tests.
  size_t pending() const;

 private:
  void Receive();
  void FailAll() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Call, then the answer's error, then that it answers `want`.
  base::Result<Reply> Do(proto::Request req, proto::Response::ResultCase want);

  struct Waiter {
    bool done = false;
    bool failed = false;  // the gofer went away first
    Reply reply;
  };

  const base::UniqueFd sock_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, Waiter*> waiting_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool dead_ ABSL_GUARDED_BY(mu_) = false;

  const std::function<void()> on_death_;
  std::atomic<bool> closing_{false};  // the destructor ended the stream
  std::thread receiver_;
};

}  // namespace gofer

#endif  // SENTRY_FS_GOFER_CLIENT_H_
