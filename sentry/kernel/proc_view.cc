#include "sentry/kernel/proc_view.h"

#include <sched.h>
#include <signal.h>
#include <sys/sysinfo.h>

#include <algorithm>
#include <charconv>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/time/clock.h"
#include "sentry/kernel/ipc/msg.h"
#include "sentry/kernel/ipc/sem.h"
#include "sentry/kernel/ipc/shm.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/ptrace.h"

namespace kernel {

using base::Err;
using base::Result;

namespace {

// Linux's proc_do_uts_string reads the new name up to a newline or NUL.
std::string_view UpToNewline(std::string_view s) {
  return s.substr(0, std::min(s.find('\n'), s.find('\0')));
}

// fd tables grow in powers of two from 64 (BITS_PER_LONG): FDSize.
int FdSlots(const std::vector<int>& fds) {
  int slots = 64;
  const int top = fds.empty() ? 0 : fds.back() + 1;
  while (slots < top && slots < (1 << 30)) slots *= 2;
  return slots;
}

// /proc/<pid>/mem's hold on an address space: weak, as Linux's mmgrab
// without mmget, so an open file does not keep a dead process's memory.
class TaskMemory : public vfs::ProcessMemory {
 public:
  explicit TaskMemory(std::weak_ptr<mm::MemoryManager> mm)
      : mm_(std::move(mm)) {}

  Result<size_t> Read(uint64_t addr, uint8_t* buf, size_t len) override {
    return Move(addr, len, [&](mm::MemoryManager& m, uint64_t at, size_t off,
                               size_t n) {
      return m.ReadForce(at, buf + off, n).has_value();
    });
  }
  Result<size_t> Write(uint64_t addr, const uint8_t* buf,
                       size_t len) override {
    return Move(addr, len, [&](mm::MemoryManager& m, uint64_t at, size_t off,
                               size_t n) {
      return m.WriteForce(at, buf + off, n).has_value();
    });
  }

 private:
  template <typename Fn>
  Result<size_t> Move(uint64_t addr, size_t len, Fn page) {
    std::shared_ptr<mm::MemoryManager> m = mm_.lock();
    if (!m) return 0;
    size_t done = 0;
    while (done < len) {
      uint64_t at;
      if (__builtin_add_overflow(addr, done, &at)) break;
      const size_t n =
          std::min<size_t>(len - done, mm::kPageSize - at % mm::kPageSize);
      if (!page(*m, at, done, n)) break;
      done += n;
    }
    if (done == 0 && len > 0) return Err(EIO);
    return done;
  }

  const std::weak_ptr<mm::MemoryManager> mm_;
};

int64_t SinceBoot(const Kernel& k, absl::Time t) {
  return std::max<int64_t>(0, absl::ToInt64Nanoseconds(t - k.boot_time()));
}

}  // namespace

ProcView::ProcView(Kernel& kernel)
    : kernel_(kernel), boot_id_(vfs::RandomUuid()) {}

// The process `pid` itself (not a thread id), until it is reaped.
static std::shared_ptr<ThreadGroup> FindProcess(Kernel& k, int pid) {
  std::shared_ptr<ThreadGroup> tg = k.processes().FindByTid(pid);
  if (!tg || tg->pid() != pid) return nullptr;
  return tg;
}

// What another thread can read of a task of process `tg`: thread `tid`,
// or for 0 any live thread (the leader first). Through Kernel::WithTask,
// whose lock keeps the task alive, so that view_mu_ is only ever taken
// under Kernel::mu_ (as every leaf of another task).
static std::optional<Task::Shared> SharedOf(Kernel& k, const ThreadGroup& tg,
                                            int tid) {
  std::vector<int> tids;
  if (tid != 0) {
    tids.push_back(tid);
  } else {
    tids.push_back(tg.pid());
    tg.ForEachThread([&](kernel::Task* t) { tids.push_back(t->tid()); });
  }
  std::optional<Task::Shared> out;
  for (int id : tids) {
    k.WithTask(id, [&](kernel::Task& t) {
      if (&t.thread_group() == &tg && !t.finished) out = t.SharedState();
    });
    if (out) break;
  }
  return out;
}

std::vector<int> ProcView::Pids() const {
  std::vector<int> out;
  for (const auto& tg : kernel_.processes().Live(/*zombies=*/true))
    out.push_back(tg->pid());
  std::sort(out.begin(), out.end());
  return out;
}

int ProcView::ProcessOf(int tid) const {
  std::shared_ptr<ThreadGroup> tg = kernel_.processes().FindByTid(tid);
  return tg ? tg->pid() : 0;
}

std::vector<int> ProcView::Tids(int pid) const {
  std::vector<int> out;
  std::shared_ptr<ThreadGroup> tg = FindProcess(kernel_, pid);
  if (!tg) return out;
  tg->ForEachThread([&](kernel::Task* t) { out.push_back(t->tid()); });
  if (out.empty()) out.push_back(pid);  // a zombie shows its leader
  std::sort(out.begin(), out.end());
  return out;
}

Result<vfs::ProcTask> ProcView::Task(int pid, int tid) const {
  std::shared_ptr<ThreadGroup> tg = FindProcess(kernel_, pid);
  if (!tg) return Err(ESRCH);
  const std::optional<ProcessTree::Info> info = kernel_.processes().InfoOf(pid);
  if (!info) return Err(ESRCH);
  vfs::ProcTask p;
  p.pid = pid;
  p.tid = tid ? tid : pid;
  p.ppid = info->ppid;
  p.pgid = info->pgid;
  p.sid = info->sid;
  // Init was forked by runsc outside the sandbox, with SIGCHLD.
  p.exit_signal =
      pid == 1 && info->exit_signal == 0 ? SIGCHLD : info->exit_signal;
  // The thread's own credentials (a process's are its leader's).
  const auto set_creds = [&p](const Credentials& c) {
    p.ruid = c.ruid, p.euid = c.euid, p.suid = c.suid, p.fsuid = c.fsuid;
    p.rgid = c.rgid, p.egid = c.egid, p.sgid = c.sgid, p.fsgid = c.fsgid;
    p.groups = c.groups;
    p.cap_inh = c.cap_inheritable, p.cap_prm = c.cap_permitted;
    p.cap_eff = c.cap_effective, p.cap_bnd = c.cap_bounding;
    p.cap_amb = c.cap_ambient;
  };
  set_creds(tg->creds());
  p.dumpable = tg->dumpable() == 1;
  p.oom_score_adj = tg->oom_score_adj();
  for (int sig = 1; sig <= kNumSignals; ++sig) {
    const uint64_t handler = tg->GetSigaction(sig).handler;
    const uint64_t bit = uint64_t{1} << (sig - 1);
    if (handler == 1) p.sig_ignored |= bit;  // SIG_IGN
    if (handler > 1) p.sig_caught |= bit;
  }

  // The thread itself (for a process, its leader, even once exited).
  bool found = false;
  kernel_.WithTask(
      p.tid,
      [&](kernel::Task& t) {
        if (&t.thread_group() != tg.get()) return;
        found = true;
        set_creds(t.creds());
        p.tracer_pid = kernel_.ptrace().TracerPid(t);
        p.comm = t.comm();
        p.state = t.finished ? 'Z' : t.state();
        const SchedParams sp = t.sched.Get();
        p.nice = sp.nice;
        p.rt_priority = sp.priority;
        p.policy = sp.policy;
        // Written by the task's own thread; a torn read is impossible for
        // an aligned word, a stale one harmless here.
        p.sig_blocked = t.signal_mask;
        p.no_new_privs = t.no_new_privs;
        p.start_ns = SinceBoot(kernel_, t.start_time());
        if (tid != 0) {
          const CpuTimes cpu = t.cpu().Sample();
          p.user_ns = cpu.user_ns;
          p.sys_ns = cpu.sys_ns;
        }
      },
      /*exited_leaders=*/tid == 0);
  if (!found) return Err(ESRCH);
  int threads = 0;
  tg->ForEachThread([&](kernel::Task*) { ++threads; });
  p.num_threads = std::max(threads, 1);
  if (tid == 0) {
    p.start_ns = SinceBoot(kernel_, tg->start_time());
    const CpuTimes cpu = tg->CpuTime();
    p.user_ns = cpu.user_ns;
    p.sys_ns = cpu.sys_ns;
    const CpuTimes children = tg->ChildrenCpuTime();
    p.child_user_ns = children.user_ns;
    p.child_sys_ns = children.sys_ns;
  }
  if (info->zombie) p.state = 'Z';
  if (std::optional<Task::Shared> s = SharedOf(kernel_, *tg, tid)) {
    if (s->fs) p.umask = s->fs->umask();
    if (s->fds) p.fd_slots = FdSlots(s->fds->Fds());
    if (s->ns.uts) p.uts_ns = s->ns.uts->id();
    if (s->ns.ipc) p.ipc_ns = s->ns.ipc->id();
    if (s->ns.mnt) {
      p.mnt_ns = s->ns.mnt->id();
      p.mnt = s->ns.mnt;
    }
  }
  return p;
}

Result<vfs::ProcMemory> ProcView::Memory(int pid) const {
  std::shared_ptr<ThreadGroup> tg = FindProcess(kernel_, pid);
  if (!tg) return Err(ESRCH);
  vfs::ProcMemory out;
  std::optional<Task::Shared> s = SharedOf(kernel_, *tg, 0);
  if (!s || !s->mm) return out;  // a zombie has no memory
  const mm::ImageLayout l = s->mm->image_layout();
  out.start_code = l.start_code, out.end_code = l.end_code;
  out.start_data = l.start_data, out.end_data = l.end_data;
  out.start_brk = l.start_brk, out.brk = l.brk;
  out.start_stack = l.start_stack;
  out.arg_start = l.arg_start, out.arg_end = l.arg_end;
  out.env_start = l.env_start, out.env_end = l.env_end;
  out.locked = s->mm->LockedBytes();
  for (mm::VmaInfo& v : s->mm->Vmas()) {
    vfs::ProcVma p{.start = v.start,
                   .end = v.end,
                   .prot = v.prot,
                   .shared = v.shared,
                   .resident = v.resident,
                   .offset = v.offset,
                   .name = std::move(v.name)};
    if (v.file) {
      p.dev = v.file->dev();
      p.ino = v.file->ino();
    }
    out.vmas.push_back(std::move(p));
  }
  return out;
}

Result<std::string> ProcView::ReadMemory(int pid, uint64_t addr,
                                         size_t len) const {
  std::shared_ptr<ThreadGroup> tg = FindProcess(kernel_, pid);
  if (!tg) return Err(ESRCH);
  std::optional<Task::Shared> s = SharedOf(kernel_, *tg, 0);
  if (!s || !s->mm) return std::string();
  // Page by page, so that an unmapped page ends the read there.
  std::string out;
  while (len > 0) {
    const size_t chunk =
        std::min<size_t>(len, mm::kPageSize - addr % mm::kPageSize);
    std::string buf(chunk, '\0');
    if (!s->mm->CopyIn(addr, buf.data(), chunk)) break;
    out += buf;
    addr += chunk;
    len -= chunk;
  }
  return out;
}

Result<std::shared_ptr<vfs::ProcessMemory>> ProcView::OpenMemory(
    int pid, int caller_tid) const {
  std::shared_ptr<ThreadGroup> tg = FindProcess(kernel_, pid);
  if (!tg) return Err(ESRCH);
  std::shared_ptr<ThreadGroup> self = kernel_.processes().FindByTid(caller_tid);
  std::optional<Credentials> me;
  kernel_.WithTask(caller_tid, [&](kernel::Task& t) { me = t.creds(); });
  if (!self || !me) return Err(ESRCH);
  if (!PtraceMayAttach(kernel_.processes(), *self, *me, *tg, tg->creds())) {
    return Err(EACCES);
  }
  std::optional<Task::Shared> s = SharedOf(kernel_, *tg, 0);
  // A zombie's memory is gone already: the file opens, and reads nothing.
  std::weak_ptr<mm::MemoryManager> m;
  if (s) m = s->mm;
  return std::make_shared<TaskMemory>(std::move(m));
}

Result<std::array<rlimit, RLIM_NLIMITS>> ProcView::Limits(int pid) const {
  std::shared_ptr<ThreadGroup> tg = FindProcess(kernel_, pid);
  if (!tg) return Err(ESRCH);
  std::array<rlimit, RLIM_NLIMITS> out;
  for (int r = 0; r < RLIM_NLIMITS; ++r) out[r] = tg->GetRlimit(r);
  return out;
}

Result<std::string> ProcView::ExePath(int pid) const {
  std::shared_ptr<ThreadGroup> tg = FindProcess(kernel_, pid);
  if (!tg) return Err(ESRCH);
  if (!SharedOf(kernel_, *tg, 0)) return Err(ENOENT);  // a zombie's is gone
  return tg->exe_path();
}

Result<std::string> ProcView::Cwd(int pid) const {
  std::shared_ptr<ThreadGroup> tg = FindProcess(kernel_, pid);
  if (!tg) return Err(ESRCH);
  std::optional<Task::Shared> s = SharedOf(kernel_, *tg, 0);
  if (!s || !s->fs) return Err(ENOENT);
  return s->fs->cwd();
}

std::vector<int> ProcView::Fds(int pid) const {
  std::shared_ptr<ThreadGroup> tg = FindProcess(kernel_, pid);
  if (!tg) return {};
  std::optional<Task::Shared> s = SharedOf(kernel_, *tg, 0);
  if (!s || !s->fds) return {};
  return s->fds->Fds();
}

std::shared_ptr<vfs::FileDescription> ProcView::Fd(int pid, int fd) const {
  std::shared_ptr<ThreadGroup> tg = FindProcess(kernel_, pid);
  if (!tg) return nullptr;
  std::optional<Task::Shared> s = SharedOf(kernel_, *tg, 0);
  if (!s || !s->fds) return nullptr;
  auto f = s->fds->Get(fd);
  return f ? *f : nullptr;
}

bool ProcView::FdCloexec(int pid, int fd) const {
  std::shared_ptr<ThreadGroup> tg = FindProcess(kernel_, pid);
  if (!tg) return false;
  std::optional<Task::Shared> s = SharedOf(kernel_, *tg, 0);
  if (!s || !s->fds) return false;
  return s->fds->GetCloexec(fd).value_or(false);
}

Result<ProcView::Writer> ProcView::CommWriter(int pid, int tid,
                                              int caller_pid) const {
  std::shared_ptr<Task::Comm> comm;
  kernel_.WithTask(tid ? tid : pid, [&](kernel::Task& t) {
    if (t.thread_group().pid() == pid) comm = t.comm_cell();
  });
  if (!comm) return Err(ESRCH);
  return Writer(
      [comm, same = caller_pid == pid](std::string_view data) -> Result<void> {
        // Linux's comm_write: only a thread of the same process may rename.
        if (!same) return Err(EINVAL);
        comm->set(data.substr(0, 15));
        return {};
      });
}

Result<ProcView::Writer> ProcView::OomScoreAdjWriter(int pid,
                                                     bool privileged) const {
  std::shared_ptr<ThreadGroup> tg = FindProcess(kernel_, pid);
  if (!tg) return Err(ESRCH);
  return Writer([tg, privileged](std::string_view data) -> Result<void> {
    // Linux's kstrtoint(strstrip(buffer), 0): surrounding spaces and a
    // newline are fine, anything else is EINVAL.
    data = data.substr(0, 12);  // PROC_NUMBUF - 1
    std::string_view s = data;
    while (!s.empty() && absl::ascii_isspace(s.front())) s.remove_prefix(1);
    while (!s.empty() && absl::ascii_isspace(s.back())) s.remove_suffix(1);
    int value;
    const char* begin = s.data();
    if (!s.empty() && s.front() == '+') ++begin;
    auto [end, ec] = std::from_chars(begin, s.data() + s.size(), value);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size())
      return Err(EINVAL);
    return tg->SetOomScoreAdj(value, privileged);
  });
}

static std::shared_ptr<UtsNamespace> UtsOf(Kernel& k, int tid) {
  std::shared_ptr<UtsNamespace> uts;
  k.WithTask(tid, [&](kernel::Task& t) {
    if (!t.finished) uts = t.SharedState().ns.uts;
  });
  return uts;
}

Result<std::string> ProcView::UtsName(int tid, bool domain) const {
  std::shared_ptr<UtsNamespace> uts = UtsOf(kernel_, tid);
  if (!uts) return Err(ESRCH);
  return domain ? uts->domainname() : uts->hostname();
}

Result<ProcView::Writer> ProcView::UtsNameWriter(int tid, bool domain) const {
  std::shared_ptr<UtsNamespace> uts = UtsOf(kernel_, tid);
  if (!uts) return Err(ESRCH);
  return Writer([uts, domain](std::string_view data) -> Result<void> {
    // proc_dostring: at most 64 bytes are kept (the rest is dropped).
    std::string name(UpToNewline(data).substr(0, kMaxUtsName));
    if (domain) {
      uts->set_domainname(std::move(name));
    } else {
      uts->set_hostname(std::move(name));
    }
    return {};
  });
}

vfs::ProcSystem ProcView::System() const {
  vfs::ProcSystem s;
  // The memory file is sparse and far larger than the host could back:
  // the host's RAM bounds it.
  s.mem_total = kernel_.memory_file().size();
  struct sysinfo host {};
  if (::sysinfo(&host) == 0 && host.totalram != 0)
    s.mem_total = std::min<uint64_t>(
        s.mem_total, static_cast<uint64_t>(host.totalram) * host.mem_unit);
  s.mem_used = kernel_.memory_file().allocated();
  s.uptime_ns = SinceBoot(kernel_, absl::Now());
  s.boot_time_s = absl::ToUnixSeconds(kernel_.boot_time());
  for (const auto& tg : kernel_.processes().Live()) {
    const CpuTimes cpu = tg->CpuTime();
    s.user_ns += cpu.user_ns;
    s.sys_ns += cpu.sys_ns;
    tg->ForEachThread([&](kernel::Task* t) {
      ++s.threads;
      if (t->state() == 'R') ++s.running;
    });
  }
  s.last_pid = kernel_.processes().last_pid();
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0)
    s.cpus = std::max(1, CPU_COUNT(&set));
  return s;
}

std::vector<vfs::ProcIpcObject> ProcView::IpcObjects(
    int tid, vfs::IpcKind kind) const {
  std::shared_ptr<IpcNamespace> ns;
  kernel_.WithTask(tid, [&](kernel::Task& t) {
    if (!t.finished) ns = t.SharedState().ns.ipc;
  });
  if (!ns) return {};
  // Linux lists every object, readable or not (as *_STAT_ANY).
  const Credentials anyone;
  std::vector<vfs::ProcIpcObject> out;
  auto perm = [](const ipc_perm& p, vfs::ProcIpcObject& o) {
    o.key = p.__key;
    o.mode = p.mode;
    o.uid = p.uid, o.gid = p.gid, o.cuid = p.cuid, o.cgid = p.cgid;
  };
  switch (kind) {
    case vfs::IpcKind::kShm: {
      shminfo info;
      const int top = ns->shm().Info(&info);
      for (int i = 0; i <= top; ++i) {
        shmid_ds ds;
        Result<int> id = ns->shm().Stat(anyone, i, true, false, &ds);
        if (!id) continue;
        vfs::ProcIpcObject o{.id = *id,
                             .size = ds.shm_segsz,
                             .nattch = ds.shm_nattch,
                             .pid1 = ds.shm_cpid,
                             .pid2 = ds.shm_lpid,
                             .time1 = ds.shm_atime,
                             .time2 = ds.shm_dtime,
                             .ctime = ds.shm_ctime};
        perm(ds.shm_perm, o);
        out.push_back(o);
      }
      break;
    }
    case vfs::IpcKind::kSem: {
      seminfo info;
      const int top = ns->sem().Info(false, &info);
      for (int i = 0; i <= top; ++i) {
        semid_ds ds;
        Result<int> id = ns->sem().Stat(anyone, i, true, false, &ds);
        if (!id) continue;
        vfs::ProcIpcObject o{.id = *id,
                             .size = ds.sem_nsems,
                             .time1 = ds.sem_otime,
                             .ctime = ds.sem_ctime};
        perm(ds.sem_perm, o);
        out.push_back(o);
      }
      break;
    }
    case vfs::IpcKind::kMsg: {
      msginfo info;
      const int top = ns->msg().Info(false, &info);
      for (int i = 0; i <= top; ++i) {
        msqid_ds ds;
        Result<int> id = ns->msg().Stat(anyone, i, true, false, &ds);
        if (!id) continue;
        vfs::ProcIpcObject o{.id = *id,
                             .size = ds.__msg_cbytes,
                             .messages = ds.msg_qnum,
                             .pid1 = ds.msg_lspid,
                             .pid2 = ds.msg_lrpid,
                             .time1 = ds.msg_stime,
                             .time2 = ds.msg_rtime,
                             .ctime = ds.msg_ctime};
        perm(ds.msg_perm, o);
        out.push_back(o);
      }
      break;
    }
  }
  return out;
}

vfs::ProcIpcLimits ProcView::IpcLimits() const {
  vfs::ProcIpcLimits l;
  l.shmmax = ipc::kShmMax;
  l.shmall = ipc::kShmAll;
  l.shmmni = ipc::kShmMni;
  l.msgmax = ipc::kMsgMax;
  l.msgmnb = ipc::kMsgMnb;
  l.msgmni = ipc::kMsgMni;
  l.sem[0] = ipc::kSemMsl;
  l.sem[1] = ipc::kSemMns;
  l.sem[2] = ipc::kSemOpm;
  l.sem[3] = ipc::kSemMni;
  return l;
}

}  // namespace kernel
