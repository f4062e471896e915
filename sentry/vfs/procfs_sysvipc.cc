// /proc/sysvipc/{shm,sem,msg}: the reader's IPC namespace's System V
// objects, one line each in Linux's columns (ipc/shm.c, sem.c, msg.c
// sysvipc_*_proc_show on a 64-bit kernel), which ipcs reads.
#include "absl/strings/str_format.h"
#include "sentry/vfs/procfs_internal.h"

namespace vfs::procfs {
namespace {

std::string ShmText(const std::vector<ProcIpcObject>& objects) {
  std::string out =
      "       key      shmid perms                  size  cpid  lpid nattch"
      "   uid   gid  cuid  cgid      atime      dtime      ctime"
      "                   rss                  swap\n";
  for (const ProcIpcObject& o : objects) {
    // rss: the sandbox does not track a segment's resident pages (0).
    absl::StrAppendFormat(
        &out,
        "%10d %10d  %4o %21u %5u %5u  %5u %5u %5u %5u %5u %10d %10d %10d "
        "%21u %21u\n",
        o.key, o.id, o.mode, o.size, o.pid1, o.pid2, o.nattch, o.uid, o.gid,
        o.cuid, o.cgid, o.time1, o.time2, o.ctime, 0, 0);
  }
  return out;
}

std::string SemText(const std::vector<ProcIpcObject>& objects) {
  std::string out =
      "       key      semid perms      nsems   uid   gid  cuid  cgid"
      "      otime      ctime\n";
  for (const ProcIpcObject& o : objects) {
    absl::StrAppendFormat(&out, "%10d %10d  %4o %10u %5u %5u %5u %5u %10d %10d\n",
                          o.key, o.id, o.mode, o.size, o.uid, o.gid, o.cuid,
                          o.cgid, o.time1, o.ctime);
  }
  return out;
}

std::string MsgText(const std::vector<ProcIpcObject>& objects) {
  std::string out =
      "       key      msqid perms      cbytes       qnum lspid lrpid"
      "   uid   gid  cuid  cgid      stime      rtime      ctime\n";
  for (const ProcIpcObject& o : objects) {
    absl::StrAppendFormat(
        &out, "%10d %10d  %4o  %10u %10u %5u %5u %5u %5u %5u %5u %10d %10d %10d\n",
        o.key, o.id, o.mode, o.size, o.messages, o.pid1, o.pid2, o.uid,
        o.gid, o.cuid, o.cgid, o.time1, o.time2, o.ctime);
  }
  return out;
}

}  // namespace

std::shared_ptr<Node> MakeSysvipcDir(const Walker& w) {
  struct Kind {
    const char* name;
    IpcKind kind;
    std::string (*text)(const std::vector<ProcIpcObject>&);
  };
  static constexpr Kind kKinds[] = {{"msg", IpcKind::kMsg, MsgText},
                                    {"sem", IpcKind::kSem, SemText},
                                    {"shm", IpcKind::kShm, ShmText}};
  std::vector<TableEntry> files;
  uint64_t ino = kSysvipcIno + 1;
  for (const Kind& k : kKinds) {
    files.push_back({k.name, ino, DT_REG, [w, k, ino] {
                       return std::make_shared<ProcFile>(
                           ino, 0444, Owner{},
                           [w, k]() -> base::Result<std::string> {
                             return k.text(w.kernel->IpcObjects(w.tid, k.kind));
                           });
                     }});
    ++ino;
  }
  return std::make_shared<TableDir>(w, kSysvipcIno, 0555, Owner{},
                                    std::move(files));
}

}  // namespace vfs::procfs
