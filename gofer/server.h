// The gofer's file server: answers gofer protocol requests
// (gofer/proto/gofer.proto) over one socket, from a table of host O_PATH
// fds, concurrently on a small pool of worker threads.
//
// The server trusts nothing it receives: every handle is looked up, every
// name is one checked component, every size is bounded; a bad request gets
// an error answer. It never follows a symlink and never resolves a path of
// more than one component, so nothing it does leaves the trees it serves.
//
// Lock order: Server::mu_ (the handle table) is a leaf, except that
// namespace_mu_ may be held while taking it. namespace_mu_ is held shared
// by operations that change names and exclusively by those that must see
// no name change (connect) or use the process cwd (bind, connect).
#ifndef GOFER_SERVER_H_
#define GOFER_SERVER_H_

#include <fcntl.h>
#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "gofer/proto/gofer.pb.h"

namespace gofer {

// The open(2) flags a client may ask Open for; anything else is EINVAL (no
// O_CREAT, O_PATH, O_TMPFILE: those have operations of their own). Create
// takes the same but O_DIRECTORY.
inline constexpr int kOpenFlags = O_ACCMODE | O_TRUNC | O_APPEND | O_NONBLOCK |
                                  O_DIRECTORY | O_DIRECT | O_NOATIME | O_SYNC |
                                  O_DSYNC | O_LARGEFILE | O_CLOEXEC;

// A tree the gofer serves: the root filesystem ("/") or a bind-mount
// source, named as the client attaches to it.
struct Mount {
  std::string name;
  base::UniqueFd root;  // O_PATH | O_DIRECTORY, opened before confinement
  bool read_only = true;
};

// A file the client holds a handle to.
struct Node {
  base::UniqueFd fd;  // O_PATH | O_NOFOLLOW
  const Mount* mount = nullptr;
  dev_t dev = 0;
  ino_t ino = 0;
  mode_t type = 0;  // S_IFMT bits
  // For a non-directory, where it was reached from, to reopen it by name;
  // kept current by Rename. Guarded by Server::mu_.
  std::shared_ptr<Node> parent;
  std::string name;
};

class Server {
 public:
  struct Options {
    int workers = 4;
    // The most handles the table holds at once (each is a host fd).
    size_t max_handles = 16384;
  };
  Server(std::vector<Mount> mounts, Options options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves `sock` (SOCK_SEQPACKET) until the peer closes it or it fails.
  // Returns 0 at a clean end of stream.
  int Serve(int sock);

  // One request in, its answer and fds out. Public for tests.
  void Handle(const proto::Request& req, proto::Response* resp,
              std::vector<base::UniqueFd>* fds);

  size_t HandleCount() const;

 private:
  using NodeRef = std::shared_ptr<Node>;

  // Reads and answers requests until the end of the stream (0) or a
  // failed read (1).
  int Worker(int sock);

  // The handle table.
  base::Result<NodeRef> Lookup(uint64_t handle) const;
  base::Result<NodeRef> LookupDir(uint64_t handle) const;
  base::Result<uint64_t> Insert(NodeRef node);
  // A node for `name` in `dir`, opened O_PATH | O_NOFOLLOW, with its stat.
  base::Result<NodeRef> OpenChild(const NodeRef& dir, const std::string& name,
                                  struct stat* st);
  base::Result<proto::Node> AddChild(const NodeRef& dir,
                                     const std::string& name);
  template <class Request>
  base::Result<proto::Node> AddNew(const NodeRef& dir, const Request& req,
                                   mode_t type);
  // The directory and name a non-directory was last reached by (ESTALE
  // for a directory or a mount root).
  base::Result<std::pair<NodeRef, std::string>> Where(
      const NodeRef& node) const;
  // Opens the node's file itself (not O_PATH), checking it is still the
  // same file. Never blocks on a FIFO, never follows a symlink.
  base::Result<base::UniqueFd> Reopen(const NodeRef& node, int flags);
  // Updates nodes reached through a name that Rename moved.
  void Renamed(const NodeRef& old_dir, const std::string& old_name,
               const NodeRef& new_dir, const std::string& new_name,
               bool exchange);
  void Chown(int dirfd, const std::string& name, const proto::Owner& owner);

  // One function per operation (ops_lookup.cc, ops_create.cc, ops_attr.cc).
  base::Result<void> Attach(const proto::AttachRequest&,
                            proto::AttachResponse*);
  base::Result<void> Walk(const proto::WalkRequest&, proto::WalkResponse*);
  base::Result<void> GetStat(const proto::StatRequest&, proto::StatResponse*);
  base::Result<base::UniqueFd> Open(const proto::OpenRequest&);
  base::Result<base::UniqueFd> Create(const proto::CreateRequest&,
                                      proto::CreateResponse*);
  base::Result<void> Mkdir(const proto::MkdirRequest&, proto::MkdirResponse*);
  base::Result<void> Mknod(const proto::MknodRequest&, proto::MknodResponse*);
  base::Result<void> Symlink(const proto::SymlinkRequest&,
                             proto::SymlinkResponse*);
  base::Result<void> Link(const proto::LinkRequest&, proto::LinkResponse*);
  base::Result<void> Unlink(const proto::UnlinkRequest&);
  base::Result<void> Rmdir(const proto::RmdirRequest&);
  base::Result<void> Rename(const proto::RenameRequest&);
  base::Result<void> Readlink(const proto::ReadlinkRequest&,
                              proto::ReadlinkResponse*);
  base::Result<void> Getdents(const proto::GetdentsRequest&,
                              proto::GetdentsResponse*);
  base::Result<void> Setattr(const proto::SetattrRequest&,
                             proto::SetattrResponse*);
  base::Result<void> Statfs(const proto::StatfsRequest&,
                            proto::StatfsResponse*);
  base::Result<void> Getxattr(const proto::GetxattrRequest&,
                              proto::GetxattrResponse*);
  base::Result<void> Setxattr(const proto::SetxattrRequest&);
  base::Result<void> Listxattr(const proto::ListxattrRequest&,
                               proto::ListxattrResponse*);
  base::Result<void> Removexattr(const proto::RemovexattrRequest&);
  base::Result<base::UniqueFd> Bind(const proto::BindRequest&,
                                    proto::BindResponse*);
  base::Result<base::UniqueFd> Connect(const proto::ConnectRequest&);
  void Close(const proto::CloseRequest&, proto::CloseResponse*);

  const std::vector<Mount> mounts_;
  const Options options_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, NodeRef> nodes_ ABSL_GUARDED_BY(mu_);
  uint64_t next_handle_ ABSL_GUARDED_BY(mu_) = 1;

  absl::Mutex namespace_mu_ ABSL_ACQUIRED_BEFORE(mu_);
};

// Copies a host stat into its protocol form.
void FillStat(const struct stat& st, proto::Stat* out);

}  // namespace gofer

#endif  // GOFER_SERVER_H_
