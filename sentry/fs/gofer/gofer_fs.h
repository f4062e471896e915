// A tree the gofer serves (the container's root filesystem, or a bind-mount
// source), seen by the VFS as a read-only Filesystem: the overlay's lower
// layer, and the host directories runsc keeps visible. The sentry opens no
// host path for it: every file comes from the gofer, as a handle to walk
// from or a donated fd to read.
//
// The lower layer is never written and runsc gives the gofer's tree to one
// sandbox only, so what a walk finds stays true: lookups (found or not),
// stats and link targets are cached, and a path walked twice costs no
// round trip the second time. The cache is bounded (each entry holds a
// gofer handle, which is a host fd in the gofer); entries evicted, and
// nodes dropped, give their handles back in batches.
#ifndef SENTRY_FS_GOFER_GOFER_FS_H_
#define SENTRY_FS_GOFER_GOFER_FS_H_

#include <cstddef>
#include <memory>
#include <string>

#include "base/result.h"
#include "sentry/fs/gofer/client.h"
#include "sentry/vfs/node.h"

namespace gofer {

namespace internal {
class Tree;
}

class GoferFs : public vfs::Filesystem {
 public:
  struct Options {
    // Lookups kept (found and not found). Each found one holds a handle.
    size_t cache_entries = 4096;
  };
  // Attaches to `mount` ("" for the root filesystem) of the gofer behind
  // `client`.
  static base::Result<std::unique_ptr<GoferFs>> Create(
      std::shared_ptr<Client> client, const std::string& mount,
      const Options& options);
  ~GoferFs() override;

  std::shared_ptr<vfs::Node> Root(const vfs::PathContext& ctx) override;

  // Lookups served from the cache and by the gofer; for tests and
  // benchmarks.
  struct Counters {
    uint64_t hits = 0;
    uint64_t walks = 0;
  };
  Counters counters() const;

 private:
  GoferFs(std::shared_ptr<internal::Tree> tree, std::shared_ptr<vfs::Node> root);
  const std::shared_ptr<internal::Tree> tree_;
  const std::shared_ptr<vfs::Node> root_;
};

}  // namespace gofer

#endif  // SENTRY_FS_GOFER_GOFER_FS_H_
