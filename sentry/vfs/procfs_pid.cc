// /proc/<pid>/ and /proc/<pid>/task/<tid>/: the directories of one
// process or thread, their links, fd/, fdinfo/, ns/ and task/.
#include <dirent.h>
#include <fcntl.h>

#include <string>
#include <utility>
#include <vector>

#include "sentry/vfs/procfs_internal.h"

namespace vfs::procfs {
namespace {

// ProcFile kinds, for inode numbers (PidIno).
enum Kind : unsigned {
  kDir = 1,
  kTask,
  kFd,
  kFdinfo,
  kNs,
  kEnviron,
  kAuxv,
  kStatus,
  kLimits,
  kComm,
  kCmdline,
  kStat,
  kStatm,
  kMaps,
  kCwd,
  kRoot,
  kExe,
  kMounts,
  kMountinfo,
  kSmaps,
  kWchan,
  kCgroup,
  kOomScore,
  kOomScoreAdj,
  kLoginuid,
  kSessionid,
  kFdLink,
  kFdinfoFile,
  kNsLink,
  kMem,
};

// A link whose target the walker may not see (Linux's proc_fd_access_allowed
// fails): readlink and following it are EACCES.
class DeniedLink : public Node {
 public:
  DeniedLink(uint64_t ino, Owner owner) : ino_(ino), owner_(owner) {}
  mode_t type() const override { return S_IFLNK; }
  base::Result<struct stat> Stat() const override {
    struct stat st = SyntheticStat(kProcfsMinor, ino_, S_IFLNK | 0777);
    st.st_uid = owner_.uid;
    st.st_gid = owner_.gid;
    return st;
  }
  base::Result<std::string> Readlink() const override {
    return base::Err(EACCES);
  }
  base::Result<std::shared_ptr<FileDescription>> Open(
      int flags, const std::string& path) override {
    return base::Err(EACCES);
  }

 private:
  const uint64_t ino_;
  const Owner owner_;
};

// Linux's namespace inode numbers: the initial namespaces' fixed ones
// (PROC_*_INIT_INO); namespaces made in the sandbox (ids above 1) get
// numbers of their own above them.
uint64_t NsInode(std::string_view type, const ProcTask& t) {
  if (type == "uts") {
    return t.uts_ns <= 1 ? 4026531838ull : 4026532160ull + 2 * t.uts_ns;
  }
  if (type == "ipc") {
    return t.ipc_ns <= 1 ? 4026531839ull : 4026532161ull + 2 * t.ipc_ns;
  }
  if (type == "cgroup") return 4026531835ull;
  if (type == "mnt") {
    return t.mnt_ns <= 1 ? 4026531841ull : 4026532162ull + 2 * t.mnt_ns;
  }
  if (type == "net") return 4026531840ull;
  if (type == "user") return 4026531837ull;
  if (type.starts_with("time")) return 4026531834ull;
  return 4026531836ull;  // pid, pid_for_children
}

class FdDir : public ProcDir {
 public:
  FdDir(Walker w, int pid, bool task, Owner owner)
      : ProcDir(std::move(w), PidIno(pid, task, kFd), 0500, owner),
        pid_(pid),
        task_(task),
        owner_(owner) {}

  base::Result<std::shared_ptr<Node>> Lookup(std::string_view name) override {
    const std::optional<int> fd = ParseNumber(name);
    if (!fd) return base::Err(ENOENT);
    std::shared_ptr<FileDescription> desc = w_.kernel->Fd(pid_, *fd);
    if (!desc) return base::Err(ENOENT);
    // Linux: r-x for a readable file, -wx for a writable one.
    mode_t perm = 0;
    if (desc->readable()) perm |= S_IRUSR | S_IXUSR;
    if (desc->writable()) perm |= S_IWUSR | S_IXUSR;
    if (desc->is_path()) perm = S_IRUSR | S_IXUSR;
    std::string target = desc->path();
    return std::make_shared<ProcLink>(PidIno(pid_, task_, kFdLink, *fd),
                                      std::move(target), owner_, perm,
                                      std::move(desc));
  }

 protected:
  // A snapshot at open: an fd opened to list this directory is in it
  // only if it was open before (the walk happens before the fd exists).
  void List(std::vector<DirEntry>& out) const override {
    for (int fd : w_.kernel->Fds(pid_)) {
      out.push_back(
          {PidIno(pid_, task_, kFdLink, fd), DT_LNK, std::to_string(fd)});
    }
  }

 private:
  const int pid_;
  const bool task_;
  const Owner owner_;
};

class FdinfoDir : public ProcDir {
 public:
  FdinfoDir(Walker w, int pid, bool task, Owner owner)
      : ProcDir(std::move(w), PidIno(pid, task, kFdinfo), 0555, owner),
        pid_(pid),
        task_(task),
        owner_(owner) {}

  base::Result<std::shared_ptr<Node>> Lookup(std::string_view name) override {
    const std::optional<int> fd = ParseNumber(name);
    if (!fd || !w_.kernel->Fd(pid_, *fd)) return base::Err(ENOENT);
    return std::make_shared<ProcFile>(
        PidIno(pid_, task_, kFdinfoFile, *fd), 0444, owner_,
        [w = w_, pid = pid_, fd = *fd] { return FdInfo(w, pid, fd); });
  }

 protected:
  void List(std::vector<DirEntry>& out) const override {
    for (int fd : w_.kernel->Fds(pid_)) {
      out.push_back(
          {PidIno(pid_, task_, kFdinfoFile, fd), DT_REG, std::to_string(fd)});
    }
  }

 private:
  const int pid_;
  const bool task_;
  const Owner owner_;
};

class TaskDir : public ProcDir {
 public:
  TaskDir(Walker w, int pid, Owner owner)
      : ProcDir(std::move(w), PidIno(pid, false, kTask), 0555, owner),
        pid_(pid) {}

  base::Result<std::shared_ptr<Node>> Lookup(std::string_view name) override {
    const std::optional<int> tid = ParseNumber(name);
    if (!tid) return base::Err(ENOENT);
    for (int t : w_.kernel->Tids(pid_)) {
      if (t == *tid) return MakePidDir(w_, pid_, t);
    }
    return base::Err(ENOENT);
  }

 protected:
  void List(std::vector<DirEntry>& out) const override {
    for (int tid : w_.kernel->Tids(pid_))
      out.push_back({PidIno(tid, true, kDir), DT_DIR, std::to_string(tid)});
  }

 private:
  const int pid_;
};

}  // namespace

base::Result<std::shared_ptr<Node>> MakePidDir(const Walker& w, int id,
                                               int tid) {
  // /proc/<tid> of a non-leader thread shows its process, as the leader.
  const int pid = tid ? id : w.kernel->ProcessOf(id);
  if (pid == 0) return base::Err(ENOENT);
  auto found = w.kernel->Task(pid, tid);
  if (!found) return base::Err(ENOENT);
  const ProcTask t = std::move(*found);
  // Linux's task_dump_owner: the effective ids, root's if not dumpable.
  const Owner owner = t.dumpable ? Owner{t.euid, t.egid} : Owner{0, 0};
  const bool may_read = w.MayRead(t.euid);
  const bool task = tid != 0;
  const int id_for_ino = task ? tid : pid;
  auto ino = [&](unsigned kind) { return PidIno(id_for_ino, task, kind); };

  std::vector<TableEntry> e;
  auto file = [&](std::string name, unsigned kind, mode_t perm, Generator g,
                  WriterFactory wf = nullptr) {
    const uint64_t i = ino(kind);
    e.push_back({std::move(name), i, DT_REG,
                 [i, perm, owner, g = std::move(g), wf = std::move(wf)] {
                   return std::make_shared<ProcFile>(i, perm, owner, g, wf);
                 }});
  };
  auto link = [&](std::string name, unsigned kind,
                  std::function<base::Result<std::string>()> target) {
    const uint64_t i = ino(kind);
    e.push_back({std::move(name), i, DT_LNK,
                 [i, owner, may_read,
                  target = std::move(target)]() -> std::shared_ptr<Node> {
                   if (!may_read) return std::make_shared<DeniedLink>(i, owner);
                   auto to = target();
                   if (!to) return nullptr;  // ENOENT (a zombie's exe)
                   return std::make_shared<ProcLink>(i, std::move(*to), owner);
                 }});
  };
  auto dir = [&](std::string name, unsigned kind,
                 std::function<std::shared_ptr<Node>()> make) {
    e.push_back({std::move(name), ino(kind), DT_DIR, std::move(make)});
  };
  const KernelView* k = w.kernel;

  if (!task) {
    dir("task", kTask,
        [w, pid, owner] { return std::make_shared<TaskDir>(w, pid, owner); });
  }
  dir("fd", kFd, [w, pid, task, owner] {
    return std::make_shared<FdDir>(w, pid, task, owner);
  });
  dir("fdinfo", kFdinfo, [w, pid, task, owner] {
    return std::make_shared<FdinfoDir>(w, pid, task, owner);
  });
  {
    std::vector<TableEntry> ns;
    static constexpr const char* kNsTypes[] = {"cgroup", "ipc",
                                               "mnt",    "net",
                                               "pid",    "pid_for_children",
                                               "time",   "time_for_children",
                                               "user",   "uts"};
    unsigned n = 0;
    for (const char* type : kNsTypes) {
      const uint64_t i = PidIno(id_for_ino, task, kNsLink, n++);
      std::string target =
          std::string(type).substr(0, std::string_view(type).find('_')) + ":[" +
          std::to_string(NsInode(type, t)) + "]";
      ns.push_back({type, i, DT_LNK, [i, owner, target] {
                      return std::make_shared<ProcLink>(i, target, owner);
                    }});
    }
    dir("ns", kNs, [w, i = ino(kNs), owner, ns = std::move(ns)] {
      return std::make_shared<TableDir>(w, i, 0511, owner, ns);
    });
  }
  file("environ", kEnviron, 0400,
       [w, pid, may_read]() -> base::Result<std::string> {
         if (!may_read) return base::Err(EACCES);
         return PidArgs(w, pid, true);
       });
  file("auxv", kAuxv, 0400, [w, pid, may_read]() -> base::Result<std::string> {
    if (!may_read) return base::Err(EACCES);
    return PidAuxv(w, pid);
  });
  e.push_back({"mem", ino(kMem), DT_REG, [w, pid, i = ino(kMem), owner] {
                 return MakeMemNode(w, pid, i, owner);
               }});
  file("status", kStatus, 0444,
       [w, pid, tid] { return PidStatus(w, pid, tid); });
  file("limits", kLimits, 0444, [w, pid] { return PidLimits(w, pid); });
  file(
      "comm", kComm, 0644,
      [k, pid, tid]() -> base::Result<std::string> {
        return TRY(k->Task(pid, tid)).comm + "\n";
      },
      [k, pid, tid, caller = w.pid] {
        return k->CommWriter(pid, tid ? tid : pid, caller);
      });
  file("cmdline", kCmdline, 0444, [w, pid] { return PidArgs(w, pid, false); });
  file("stat", kStat, 0444, [w, pid, tid] { return PidStat(w, pid, tid); });
  file("statm", kStatm, 0444, [w, pid] { return PidStatm(w, pid); });
  file("maps", kMaps, 0444, [w, pid, may_read]() -> base::Result<std::string> {
    if (!may_read) return base::Err(EACCES);
    return PidMaps(w, pid, false);
  });
  link("cwd", kCwd, [k, pid] { return k->Cwd(pid); });
  link("root", kRoot, []() -> base::Result<std::string> { return "/"; });
  link("exe", kExe, [k, pid] { return k->ExePath(pid); });
  file("mounts", kMounts, 0444,
       [w, pid]() -> base::Result<std::string> {
         return Mounts(w, pid, false);
       });
  file("mountinfo", kMountinfo, 0444,
       [w, pid]() -> base::Result<std::string> {
         return Mounts(w, pid, true);
       });
  file("smaps", kSmaps, 0444,
       [w, pid, may_read]() -> base::Result<std::string> {
         if (!may_read) return base::Err(EACCES);
         return PidMaps(w, pid, true);
       });
  file("wchan", kWchan, 0444,
       []() -> base::Result<std::string> { return "0"; });
  file("cgroup", kCgroup, 0444,
       []() -> base::Result<std::string> { return "0::/\n"; });
  file("oom_score", kOomScore, 0444, [k, pid]() -> base::Result<std::string> {
    // Linux's badness scaled to 0..2000 around oom_score_adj; the
    // sandbox kills nothing for memory, so only the adjustment shows.
    const int adj = TRY(k->Task(pid, 0)).oom_score_adj;
    return std::to_string(std::max(0, 666 + adj * 2 / 3)) + "\n";
  });
  file(
      "oom_score_adj", kOomScoreAdj, 0644,
      [k, pid]() -> base::Result<std::string> {
        return std::to_string(TRY(k->Task(pid, 0)).oom_score_adj) + "\n";
      },
      [k, pid, privileged = w.creds.uid == 0] {
        return k->OomScoreAdjWriter(pid, privileged);
      });
  // No audit: the login uid is unset, and setting it needs
  // CAP_AUDIT_CONTROL, which the sandbox never grants.
  file(
      "loginuid", kLoginuid, 0644,
      []() -> base::Result<std::string> { return "4294967295"; },
      []() -> base::Result<KernelView::Writer> { return base::Err(EPERM); });
  file("sessionid", kSessionid, 0444,
       []() -> base::Result<std::string> { return "4294967295"; });

  return std::make_shared<TableDir>(w, ino(kDir), 0555, owner, std::move(e));
}

}  // namespace vfs::procfs
