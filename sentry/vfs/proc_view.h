// KernelView: what procfs reads from (and writes to) the kernel, so that
// the VFS does not include the kernel. The kernel implements it
// (sentry/kernel/proc_view.h); procfs turns the values into Linux's text.
//
// Every call names its process by pid (and thread by tid) in the
// sandbox's pid namespace and answers ESRCH once that id is gone, so a
// procfs file may keep the view and ask again later (lseek to 0
// regenerates the file, as Linux's seq_file): the view lives as long as
// the kernel, which outlives every file description. Calls take kernel
// locks (Kernel::mu_, the process tree's, memory managers'): procfs makes
// its text at open and at lseek, never inside Read/Write, which run with
// the reader's address space held.
#ifndef SENTRY_VFS_PROC_VIEW_H_
#define SENTRY_VFS_PROC_VIEW_H_

#include <sys/resource.h>
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "sentry/vfs/file_description.h"
#include "sentry/vfs/mount_namespace.h"

namespace vfs {

// One thread (or, for a process, its leader with the process's totals).
struct ProcTask {
  int pid = 0, tid = 0, ppid = 0, pgid = 0, sid = 0;
  std::string comm;
  // Linux's letters: R running, S sleeping, T stopped, Z zombie.
  char state = 'R';
  // CPU time: the thread's, or the process's (live and exited threads);
  // `child_*` those of its waited-for children.
  int64_t user_ns = 0, sys_ns = 0, child_user_ns = 0, child_sys_ns = 0;
  int64_t start_ns = 0;  // since the sandbox booted
  int nice = 0, rt_priority = 0, policy = 0;
  int num_threads = 1;
  int exit_signal = 0;  // SIGCHLD for a fork child
  int tracer_pid = 0;   // the ptrace tracer's process, 0 if none
  uint64_t sig_blocked = 0, sig_ignored = 0, sig_caught = 0;
  uint32_t ruid = 0, euid = 0, suid = 0, fsuid = 0;
  uint32_t rgid = 0, egid = 0, sgid = 0, fsgid = 0;
  std::vector<uint32_t> groups;
  uint64_t cap_inh = 0, cap_prm = 0, cap_eff = 0, cap_bnd = 0, cap_amb = 0;
  bool no_new_privs = false;
  bool dumpable = true;
  mode_t umask = 022;
  int fd_slots = 64;  // FDSize: the table's size, rounded as Linux
  int oom_score_adj = 0;
  uint64_t uts_ns = 0, ipc_ns = 0, mnt_ns = 0;  // namespace ids (ns/ links)
  // The mount namespace (mounts, mountinfo); null for a zombie.
  std::shared_ptr<const MountNamespace> mnt;
};

// One mapping, as /proc/<pid>/maps shows it.
struct ProcVma {
  uint64_t start = 0, end = 0;
  int prot = 0;
  bool shared = false;
  uint64_t resident = 0;  // bytes with pages in the memory file
  uint64_t offset = 0;    // file offset of `start`
  uint64_t dev = 0, ino = 0;
  std::string name;  // a path, "[heap]", "[stack]", or ""
};

// A process's address space.
struct ProcMemory {
  std::vector<ProcVma> vmas;
  uint64_t locked = 0;  // bytes
  uint64_t start_code = 0, end_code = 0, start_data = 0, end_data = 0;
  uint64_t start_brk = 0, brk = 0, start_stack = 0;
  uint64_t arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;
};

// The sandbox as a whole.
struct ProcSystem {
  uint64_t mem_total = 0, mem_used = 0;  // bytes: the memory file
  int64_t uptime_ns = 0;
  int64_t boot_time_s = 0;          // wall-clock seconds at boot
  int64_t user_ns = 0, sys_ns = 0;  // every live process's CPU time
  int running = 0, threads = 0;
  int last_pid = 0;
  int cpus = 1;
};

// The values the IPC namespace enforces (sysctl kernel.shm* ...).
struct ProcIpcLimits {
  uint64_t shmmax = 0, shmall = 0, shmmni = 0;
  uint64_t msgmax = 0, msgmnb = 0, msgmni = 0;
  int sem[4] = {};  // SEMMSL SEMMNS SEMOPM SEMMNI
};

// One System V IPC object, as /proc/sysvipc/{shm,sem,msg} shows it;
// fields its kind does not have stay 0.
enum class IpcKind { kShm, kSem, kMsg };
struct ProcIpcObject {
  int32_t key = 0;
  int id = 0;
  uint32_t mode = 0;  // with SHM_DEST/SHM_LOCKED for shm
  uint32_t uid = 0, gid = 0, cuid = 0, cgid = 0;
  uint64_t size = 0;      // shm: bytes; sem: semaphores; msg: bytes queued
  uint64_t messages = 0;  // msg: messages queued
  uint64_t nattch = 0;    // shm
  // shm: creator and last shmat/shmdt; msg: last sender and receiver.
  int pid1 = 0, pid2 = 0;
  // shm: attach, detach, change; sem: last semop, -, change; msg: send,
  // receive, change. Seconds since the epoch.
  int64_t time1 = 0, time2 = 0, ctime = 0;
};

// A process's address space as /proc/<pid>/mem reaches it (Linux's
// mem_rw with FOLL_FORCE: protection is ignored, unmapped pages are not).
// It holds the memory, not the process: once the process exits or execs,
// the old memory is gone and transfers move nothing.
class ProcessMemory {
 public:
  virtual ~ProcessMemory() = default;
  // Moves bytes between `buf` (sentry memory) and [addr, addr + len), a
  // page at a time up to the first one that is not mapped: the count
  // moved, EIO if that is the first, 0 if the memory is gone. Takes the
  // process's memory lock: never call it with any address space held.
  virtual base::Result<size_t> Read(uint64_t addr, uint8_t* buf,
                                    size_t len) = 0;
  virtual base::Result<size_t> Write(uint64_t addr, const uint8_t* buf,
                                     size_t len) = 0;
};

class KernelView {
 public:
  virtual ~KernelView() = default;

  // Processes (zombies too), ascending.
  virtual std::vector<int> Pids() const = 0;
  // The process thread `tid` belongs to (until its id is gone), or 0.
  virtual int ProcessOf(int tid) const = 0;
  // The threads of `pid` (its leader only if it is a zombie), ascending.
  virtual std::vector<int> Tids(int pid) const = 0;
  // The process (`tid` 0) or one of its threads.
  virtual base::Result<ProcTask> Task(int pid, int tid) const = 0;
  virtual base::Result<ProcMemory> Memory(int pid) const = 0;
  // Bytes [addr, addr+len) of the process's memory (cmdline, environ);
  // stops short where it is unmapped.
  virtual base::Result<std::string> ReadMemory(int pid, uint64_t addr,
                                               size_t len) const = 0;
  // /proc/<pid>/mem opened by thread `caller_tid`: Linux's
  // PTRACE_MODE_ATTACH check (EACCES when it fails, as mm_access), then
  // the process's memory as it is now.
  virtual base::Result<std::shared_ptr<ProcessMemory>> OpenMemory(
      int pid, int caller_tid) const = 0;
  virtual base::Result<std::array<rlimit, RLIM_NLIMITS>> Limits(
      int pid) const = 0;
  virtual base::Result<std::string> ExePath(int pid) const = 0;
  virtual base::Result<std::string> Cwd(int pid) const = 0;
  virtual std::vector<int> Fds(int pid) const = 0;
  // The open description, or null.
  virtual std::shared_ptr<FileDescription> Fd(int pid, int fd) const = 0;
  virtual bool FdCloexec(int pid, int fd) const = 0;

  // Writers for the writable files, made when the file is opened: a
  // write runs with the writer's address space held (file_description.h),
  // so it may take only leaf locks, never look a task up.
  using Writer = std::function<base::Result<void>(std::string_view)>;
  // comm: names thread `tid` (at most 15 bytes kept); EINVAL at write time
  // unless the writer, `caller_pid`, is the thread's process (as Linux).
  virtual base::Result<Writer> CommWriter(int pid, int tid,
                                          int caller_pid) const = 0;
  // oom_score_adj: -1000..1000 (EINVAL); below the process's minimum
  // needs `privileged` (CAP_SYS_RESOURCE), EACCES otherwise.
  virtual base::Result<Writer> OomScoreAdjWriter(int pid,
                                                 bool privileged) const = 0;
  // The UTS namespace of thread `tid`: its host or domain name.
  virtual base::Result<std::string> UtsName(int tid, bool domain) const = 0;
  virtual base::Result<Writer> UtsNameWriter(int tid, bool domain) const = 0;

  // The System V IPC objects of thread `tid`'s IPC namespace, by index.
  virtual std::vector<ProcIpcObject> IpcObjects(int tid,
                                                IpcKind kind) const = 0;
  virtual ProcSystem System() const = 0;
  virtual ProcIpcLimits IpcLimits() const = 0;
  // kernel.random.boot_id: fixed for the sandbox's life.
  virtual std::string BootId() const = 0;
};

// A random version 4 UUID in Linux's text form (kernel.random.uuid).
std::string RandomUuid();

}  // namespace vfs

#endif  // SENTRY_VFS_PROC_VIEW_H_
