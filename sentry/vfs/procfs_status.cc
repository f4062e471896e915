// /proc/<pid>/stat, status and statm, in Linux 6.x's format (what procps,
// busybox and psutil parse).
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sentry/vfs/procfs_internal.h"

namespace vfs::procfs {
namespace {

constexpr uint64_t kPage = 4096;
constexpr int64_t kNsPerTick = 10'000'000;  // USER_HZ 100
constexpr uint64_t kPfRandomize = 0x00400000;

int64_t Ticks(int64_t ns) { return ns / kNsPerTick; }

// What status's Vm* lines and statm add up, in bytes.
struct MemSums {
  uint64_t size = 0, rss = 0, rss_anon = 0, rss_file = 0, rss_shmem = 0;
  uint64_t data = 0, stack = 0, exe = 0, lib = 0;
};

MemSums Sum(const ProcMemory& m, const std::string& exe_path) {
  MemSums s;
  for (const ProcVma& v : m.vmas) {
    const uint64_t len = v.end - v.start;
    s.size += len;
    s.rss += v.resident;
    const bool file = v.ino != 0;
    if (file) {
      s.rss_file += v.resident;
    } else if (v.shared) {
      s.rss_shmem += v.resident;
    } else {
      s.rss_anon += v.resident;
    }
    const bool stack = v.name == "[stack]";
    if (stack) {
      s.stack += len;
    } else if ((v.prot & PROT_WRITE) && !v.shared) {
      s.data += len;  // Linux's data_vm
    }
    if (file && (v.prot & PROT_EXEC)) {
      (v.name == exe_path ? s.exe : s.lib) += len;
    }
  }
  return s;
}

const char* StateName(char state) {
  switch (state) {
    case 'R':
      return "R (running)";
    case 'S':
      return "S (sleeping)";
    case 'T':
      return "T (stopped)";
    case 't':
      return "t (tracing stop)";
    case 'Z':
      return "Z (zombie)";
    default:
      return "R (running)";
  }
}

// Linux's task_prio: 0..39 for normal policies (20 + nice), -2..-100 for
// real-time ones.
int Priority(const ProcTask& t) {
  if (t.policy == SCHED_FIFO || t.policy == SCHED_RR) return -1 - t.rt_priority;
  return 20 + t.nice;
}

}  // namespace

base::Result<std::string> PidStat(const Walker& w, int pid, int tid) {
  const ProcTask t = TRY(w.kernel->Task(pid, tid));
  const ProcMemory m = TRY(w.kernel->Memory(pid));
  const auto limits = TRY(w.kernel->Limits(pid));
  const MemSums s = Sum(m, w.kernel->ExePath(pid).value_or(""));
  // Addresses only for who may trace the process (Linux's "permitted").
  const bool show = w.MayRead(t.euid) && !m.vmas.empty();
  auto addr = [&](uint64_t a) { return show ? a : 0; };
  // Signals are shown masked to 31 bits, as Linux (obsolete fields).
  constexpr uint64_t kSigMask = 0x7fffffff;
  std::string out = absl::StrFormat(
      "%d (%s) %c %d %d %d 0 -1 %u 0 0 0 0 %d %d %d %d %d %d %d 0 %d %u %u "
      "%u %u %u %u 0 0 0 %u %u %u 0 0 0 %d 0 %d %d 0 0 0 %u %u %u %u %u %u "
      "%u 0\n",
      tid ? tid : pid, t.comm, t.state, t.ppid, t.pgid, t.sid, kPfRandomize,
      Ticks(t.user_ns), Ticks(t.sys_ns), Ticks(t.child_user_ns),
      Ticks(t.child_sys_ns), Priority(t), t.nice, t.num_threads,
      Ticks(t.start_ns), s.size, s.rss / kPage,
      static_cast<uint64_t>(limits[RLIMIT_RSS].rlim_cur), addr(m.start_code),
      addr(m.end_code), addr(m.start_stack), t.sig_blocked & kSigMask,
      t.sig_ignored & kSigMask, t.sig_caught & kSigMask, t.exit_signal,
      t.rt_priority, t.policy, addr(m.start_data), addr(m.end_data),
      addr(m.start_brk), addr(m.arg_start), addr(m.arg_end), addr(m.env_start),
      addr(m.env_end));
  return out;
}

base::Result<std::string> PidStatm(const Walker& w, int pid) {
  const ProcMemory m = TRY(w.kernel->Memory(pid));
  const MemSums s = Sum(m, w.kernel->ExePath(pid).value_or(""));
  return absl::StrFormat("%u %u %u %u 0 %u 0\n", s.size / kPage, s.rss / kPage,
                         (s.rss_file + s.rss_shmem) / kPage, s.exe / kPage,
                         (s.data + s.stack) / kPage);
}

base::Result<std::string> PidStatus(const Walker& w, int pid, int tid) {
  const ProcTask t = TRY(w.kernel->Task(pid, tid));
  const ProcMemory m = TRY(w.kernel->Memory(pid));
  const auto limits = TRY(w.kernel->Limits(pid));
  const int cpus = w.kernel->System().cpus;
  std::string out = absl::StrFormat(
      "Name:\t%s\nUmask:\t%04o\nState:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\n"
      "PPid:\t%d\nTracerPid:\t%d\nUid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\n"
      "FDSize:\t%d\nGroups:\t",
      t.comm, t.umask, StateName(t.state), pid, tid ? tid : pid, t.ppid, t.tracer_pid, t.ruid,
      t.euid, t.suid, t.fsuid, t.rgid, t.egid, t.sgid, t.fsgid, t.fd_slots);
  for (size_t i = 0; i < t.groups.size(); ++i)
    absl::StrAppend(&out, i ? " " : "", t.groups[i]);
  absl::StrAppendFormat(&out,
                        " \nNStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n"
                        "Kthread:\t0\n",
                        pid, tid ? tid : pid, t.pgid, t.sid);
  if (!m.vmas.empty()) {
    const MemSums s = Sum(m, w.kernel->ExePath(pid).value_or(""));
    auto kb = [](uint64_t bytes) { return bytes / 1024; };
    absl::StrAppendFormat(
        &out,
        "VmPeak:\t%8u kB\nVmSize:\t%8u kB\nVmLck:\t%8u kB\nVmPin:\t%8u kB\n"
        "VmHWM:\t%8u kB\nVmRSS:\t%8u kB\nRssAnon:\t%8u kB\nRssFile:\t%8u kB\n"
        "RssShmem:\t%8u kB\nVmData:\t%8u kB\nVmStk:\t%8u kB\nVmExe:\t%8u kB\n"
        "VmLib:\t%8u kB\nVmPTE:\t%8u kB\nVmSwap:\t%8u kB\n"
        "HugetlbPages:\t%8u kB\n",
        kb(s.size), kb(s.size), kb(m.locked), 0, kb(s.rss), kb(s.rss),
        kb(s.rss_anon), kb(s.rss_file), kb(s.rss_shmem), kb(s.data),
        kb(s.stack), kb(s.exe), kb(s.lib), 0, 0, 0);
  }
  absl::StrAppendFormat(
      &out,
      "CoreDumping:\t0\nTHP_enabled:\t1\nuntag_mask:\t0xffffffffffffffff\n"
      "Threads:\t%d\nSigQ:\t0/%u\nSigPnd:\t%016x\nShdPnd:\t%016x\n"
      "SigBlk:\t%016x\nSigIgn:\t%016x\nSigCgt:\t%016x\nCapInh:\t%016x\n"
      "CapPrm:\t%016x\nCapEff:\t%016x\nCapBnd:\t%016x\nCapAmb:\t%016x\n"
      "NoNewPrivs:\t%d\nSeccomp:\t0\nSeccomp_filters:\t0\n"
      "Speculation_Store_Bypass:\tvulnerable\n"
      "SpeculationIndirectBranch:\talways enabled\n",
      t.num_threads, static_cast<uint64_t>(limits[RLIMIT_SIGPENDING].rlim_cur),
      0, 0, t.sig_blocked, t.sig_ignored, t.sig_caught, t.cap_inh, t.cap_prm,
      t.cap_eff, t.cap_bnd, t.cap_amb, t.no_new_privs ? 1 : 0);
  const uint64_t mask = cpus >= 64 ? ~uint64_t{0} : (uint64_t{1} << cpus) - 1;
  absl::StrAppendFormat(&out, "Cpus_allowed:\t%x\nCpus_allowed_list:\t%s\n",
                        mask, cpus == 1 ? "0" : absl::StrCat("0-", cpus - 1));
  out += "Mems_allowed:\t";
  for (int i = 0; i < 31; ++i) out += "00000000,";
  out += "00000001\nMems_allowed_list:\t0\n";
  out += "voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n";
  return out;
}

}  // namespace vfs::procfs
