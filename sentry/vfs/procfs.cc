// /proc itself: the processes of the sandbox, self, thread-self, the
// system files (procfs_system.cc), sys/ (procfs_sys.cc) and sysvipc/
// (procfs_sysvipc.cc).
#include "sentry/vfs/procfs.h"

#include <string>
#include <utility>
#include <vector>

#include "sentry/vfs/procfs_internal.h"

namespace vfs {
namespace procfs {
namespace {

// The "mounts" link and the system files, in the order ls shows them.
class RootDir : public ProcDir {
 public:
  explicit RootDir(Walker w) : ProcDir(std::move(w), kRootIno, 0555) {}

  base::Result<std::shared_ptr<Node>> Lookup(std::string_view name) override {
    if (!w_.kernel) return base::Err(ENOENT);
    if (name == "self") {
      return std::make_shared<ProcLink>(kSelfIno, std::to_string(w_.pid));
    }
    if (name == "thread-self") {
      return std::make_shared<ProcLink>(
          kThreadSelfIno,
          std::to_string(w_.pid) + "/task/" + std::to_string(w_.tid));
    }
    if (name == "mounts") {
      return std::make_shared<ProcLink>(kTopFileIno, "self/mounts");
    }
    if (name == "sys") return MakeSysDir(w_);
    if (name == "sysvipc") return MakeSysvipcDir(w_);
    if (std::optional<int> id = ParseNumber(name)) {
      // Any thread id names a directory (Linux hides non-leaders from the
      // listing only).
      return MakePidDir(w_, *id, 0);
    }
    const std::vector<TopFile>& files = TopFiles();
    for (size_t i = 0; i < files.size(); ++i) {
      if (name != files[i].name) continue;
      const TopFile f = files[i];
      return std::make_shared<ProcFile>(kTopFileIno + 1 + i, 0444, Owner{},
                                        [w = w_, f] { return f.make(w); });
    }
    return base::Err(ENOENT);
  }

 protected:
  void List(std::vector<DirEntry>& out) const override {
    if (!w_.kernel) return;
    const std::vector<TopFile>& files = TopFiles();
    for (size_t i = 0; i < files.size(); ++i)
      out.push_back({kTopFileIno + 1 + i, DT_REG, files[i].name});
    out.push_back({kTopFileIno, DT_LNK, "mounts"});
    out.push_back({kSelfIno, DT_LNK, "self"});
    out.push_back({kThreadSelfIno, DT_LNK, "thread-self"});
    out.push_back({kSysIno, DT_DIR, "sys"});
    out.push_back({kSysvipcIno, DT_DIR, "sysvipc"});
    for (int pid : w_.kernel->Pids())
      out.push_back({PidIno(pid, false, 1), DT_DIR, std::to_string(pid)});
  }
};

}  // namespace
}  // namespace procfs

std::shared_ptr<Node> ProcFs::Root(const PathContext& ctx) {
  procfs::Walker w{.vfs = vfs_, .creds = ctx.creds};
  if (ctx.process) {
    w.kernel = ctx.process->kernel();
    w.pid = ctx.process->pid();
    w.tid = ctx.process->tid();
  }
  return std::make_shared<procfs::RootDir>(std::move(w));
}

}  // namespace vfs
