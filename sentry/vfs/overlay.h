// The sandbox's root as an overlay (Linux's overlayfs, gVisor's
// --overlay2=root:memory): a read-only lower filesystem (the host
// directory today, the gofer's tree later: any Filesystem) under a
// writable tmpfs upper layer kept in the memory file. Changes copy the
// file up first; removals of lower names leave whiteouts; the lower is
// never written. README.md has the design, the copy-up rules and the
// locks.
#ifndef SENTRY_VFS_OVERLAY_H_
#define SENTRY_VFS_OVERLAY_H_

#include <memory>

#include "base/result.h"
#include "sentry/vfs/node.h"

namespace mm {
class MemoryFile;
}

namespace vfs {

namespace overlay {
struct State;
class ONode;
}  // namespace overlay

// st_dev minor of the overlay (anonymous device 0:30); its upper tmpfs
// shares it, so a copied-up file keeps its st_dev and st_ino.
inline constexpr unsigned kOverlayMinor = 30;
inline constexpr long kOverlayMagic = 0x794c7630;  // OVERLAYFS_SUPER_MAGIC

class OverlayFs : public Filesystem {
 public:
  // `lower` is only read. File data of the upper layer lives in
  // `memory_file`, which must outlive every node (as for Tmpfs).
  static base::Result<std::unique_ptr<OverlayFs>> Create(
      std::unique_ptr<Filesystem> lower, mm::MemoryFile& memory_file);
  ~OverlayFs() override;
  std::shared_ptr<Node> Root(const PathContext& ctx) override;

 private:
  OverlayFs(std::unique_ptr<Filesystem> lower,
            std::shared_ptr<overlay::State> state,
            std::shared_ptr<overlay::ONode> root);
  const std::unique_ptr<Filesystem> lower_;
  const std::shared_ptr<overlay::State> state_;
  const std::shared_ptr<overlay::ONode> root_;
};

}  // namespace vfs

#endif  // SENTRY_VFS_OVERLAY_H_
