// Path resolution in the sandbox's namespace, one component at a time.
//
// The walker keeps the chain of directories from "/" to where it stands,
// so ".." is a pop (never above "/") and never a host lookup, and a symlink
// target is resolved by the walker itself from the link's directory (or
// from "/"). Filesystems only ever see single names.
#ifndef SENTRY_VFS_PATH_WALK_H_
#define SENTRY_VFS_PATH_WALK_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "sentry/vfs/node.h"
#include "sentry/vfs/vfs.h"

namespace vfs {

inline constexpr int kMaxSymlinks = 40;   // Linux's MAXSYMLINKS
inline constexpr size_t kPathMax = 4096;  // PATH_MAX, counting the NUL
inline constexpr size_t kNameMax = 255;   // NAME_MAX

// One mount: a filesystem, or for a bind mount one of its directories,
// at a canonical path.
struct Mount {
  Filesystem* fs = nullptr;
  // Made by mount(2): kept alive by every table (and walk) that holds it.
  std::shared_ptr<Filesystem> owned;
  std::shared_ptr<Node> root;  // a bind mount's directory; null: fs's root
  std::string root_path = "/";  // that directory within fs (mountinfo)
  unsigned long flags = 0;     // MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC...
  int id = 0;
  std::string fstype, source;  // mounts made by mount(2) (mountinfo)
  // What this mount hides at the same point (umount uncovers it).
  std::shared_ptr<const Mount> covered;
  // The mount this one is on (mountinfo's parent; 1 for "/"'s children).
  int parent = 1;
  bool expiring = false;  // umount2(MNT_EXPIRE) marked it
};

// Which filesystem is where. Mount points are canonical absolute paths
// ("/dev"); they need not exist in the filesystem beneath them. A table is
// never changed once walks can see it: mount(2) makes a new one.
struct MountTable {
  // "/": the sandbox's root filesystem (id 1), or what pivot_root(2) made
  // the root. Its `covered` is what pivot_root(".", ".") stacked it on.
  Mount root_mount;
  std::map<std::string, Mount, std::less<>> mounts;
  int next_id = 1;  // mount(2)'s ids start above the boot mounts'

  // The flags of the mount that holds canonical `path`.
  unsigned long FlagsOf(std::string_view path) const;
};

struct WalkOptions {
  bool follow = true;          // follow a symlink in the final component
  bool allow_missing = false;  // a missing final component is no error
};

struct Resolved {
  // The file; null if the final component does not exist (only with
  // allow_missing), in which case `parent` is its directory.
  std::shared_ptr<Node> node;
  std::shared_ptr<Node> parent;
  std::string name;  // the final component as looked up ("" for "/", ".")
  std::string path;  // canonical sandbox path of `node` (or of the name)
  // The filesystem whose directory holds `name` (`parent`'s), and the one
  // `node` belongs to: they differ at a mount point. node_fs is null where
  // a magic link landed on an open file.
  Filesystem* fs = nullptr;
  Filesystem* node_fs = nullptr;
  // The mount flags (MS_RDONLY...) of the mounts `parent` and `node` are
  // on.
  unsigned long parent_flags = 0;
  unsigned long node_flags = 0;
  // The table walked, which keeps the filesystems above alive (a mount
  // made by mount(2) goes with the last table that has it).
  std::shared_ptr<const MountTable> table;
};

// Resolves `path` (absolute, or relative to ctx.start) with Linux's rules
// and errors: ENOENT (also for ""), ENOTDIR, ELOOP after 40 links,
// ENAMETOOLONG for a component over 255 bytes or a path of 4096 or more.
// A trailing slash requires a directory and follows a final symlink.
// A final magic link (/proc/self/fd/N) lands on the open file: on its node
// if the description has one (NodeDescription: a later Open makes a new
// description, as Linux reopens), else on the description itself.
base::Result<Resolved> Walk(const MountTable& mounts, const PathContext& ctx,
                            std::string_view path, WalkOptions opts);

}  // namespace vfs

#endif  // SENTRY_VFS_PATH_WALK_H_
