// The files at the top of /proc about the sandbox as a whole: meminfo,
// cpuinfo, stat, uptime, loadavg, filesystems, version, cmdline. Numbers
// are the sandbox's (its memory file, its tasks' CPU time, its uptime).
#include <cpuid.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/linux_version.h"
#include "sentry/vfs/procfs_internal.h"

namespace vfs::procfs {
namespace {

constexpr int64_t kNsPerTick = 10'000'000;  // USER_HZ 100

base::Result<std::string> Meminfo(const Walker& w) {
  const ProcSystem s = w.kernel->System();
  const uint64_t total = s.mem_total / 1024;
  const uint64_t used = std::min(s.mem_used / 1024, total);
  const uint64_t free = total - used;
  std::string out;
  auto kb = [&](const char* label, uint64_t v) {
    absl::StrAppendFormat(&out, "%-16s%8u kB\n", label, v);
  };
  kb("MemTotal:", total);
  kb("MemFree:", free);
  kb("MemAvailable:", free);
  kb("Buffers:", 0);
  kb("Cached:", 0);
  kb("SwapCached:", 0);
  kb("Active:", used);
  kb("Inactive:", 0);
  kb("Active(anon):", used);
  kb("Inactive(anon):", 0);
  kb("Active(file):", 0);
  kb("Inactive(file):", 0);
  kb("Unevictable:", 0);
  kb("Mlocked:", 0);
  kb("SwapTotal:", 0);
  kb("SwapFree:", 0);
  kb("Dirty:", 0);
  kb("Writeback:", 0);
  kb("AnonPages:", used);
  kb("Mapped:", 0);
  kb("Shmem:", 0);
  kb("KReclaimable:", 0);
  kb("Slab:", 0);
  kb("SReclaimable:", 0);
  kb("SUnreclaim:", 0);
  kb("KernelStack:", 0);
  kb("PageTables:", 0);
  kb("NFS_Unstable:", 0);
  kb("Bounce:", 0);
  kb("WritebackTmp:", 0);
  kb("CommitLimit:", total);
  kb("Committed_AS:", used);
  kb("VmallocTotal:", 34359738367);
  kb("VmallocUsed:", 0);
  kb("VmallocChunk:", 0);
  kb("Percpu:", 0);
  kb("AnonHugePages:", 0);
  kb("ShmemHugePages:", 0);
  kb("ShmemPmdMapped:", 0);
  kb("FileHugePages:", 0);
  kb("FilePmdMapped:", 0);
  absl::StrAppendFormat(&out,
                        "HugePages_Total:%8u\nHugePages_Free:%9u\n"
                        "HugePages_Rsvd:%9u\nHugePages_Surp:%9u\n",
                        0, 0, 0, 0);
  kb("Hugepagesize:", 2048);
  kb("Hugetlb:", 0);
  kb("DirectMap4k:", total);
  return out;
}

// CPUID leaf `leaf` (subleaf 0): eax ebx ecx edx.
struct Regs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};
Regs Cpuid(unsigned leaf) {
  Regs r;
  __cpuid_count(leaf, 0, r.a, r.b, r.c, r.d);
  return r;
}

// Linux's names for the common feature bits of leaves 1 and 7.
std::string CpuFlags() {
  const Regs l1 = Cpuid(1);
  const Regs l7 = Cpuid(0).a >= 7 ? Cpuid(7) : Regs{};
  struct Bit {
    const unsigned* reg;
    int bit;
    const char* name;
  };
  const Bit bits[] = {
      {&l1.d, 0, "fpu"},       {&l1.d, 1, "vme"},
      {&l1.d, 2, "de"},        {&l1.d, 3, "pse"},
      {&l1.d, 4, "tsc"},       {&l1.d, 5, "msr"},
      {&l1.d, 6, "pae"},       {&l1.d, 7, "mce"},
      {&l1.d, 8, "cx8"},       {&l1.d, 9, "apic"},
      {&l1.d, 11, "sep"},      {&l1.d, 12, "mtrr"},
      {&l1.d, 13, "pge"},      {&l1.d, 14, "mca"},
      {&l1.d, 15, "cmov"},     {&l1.d, 16, "pat"},
      {&l1.d, 17, "pse36"},    {&l1.d, 19, "clflush"},
      {&l1.d, 23, "mmx"},      {&l1.d, 24, "fxsr"},
      {&l1.d, 25, "sse"},      {&l1.d, 26, "sse2"},
      {&l1.d, 28, "ht"},       {&l1.c, 0, "pni"},
      {&l1.c, 1, "pclmulqdq"}, {&l1.c, 9, "ssse3"},
      {&l1.c, 12, "fma"},      {&l1.c, 13, "cx16"},
      {&l1.c, 19, "sse4_1"},   {&l1.c, 20, "sse4_2"},
      {&l1.c, 22, "movbe"},    {&l1.c, 23, "popcnt"},
      {&l1.c, 25, "aes"},      {&l1.c, 26, "xsave"},
      {&l1.c, 28, "avx"},      {&l1.c, 29, "f16c"},
      {&l1.c, 30, "rdrand"},   {&l1.c, 31, "hypervisor"},
      {&l7.b, 3, "bmi1"},      {&l7.b, 5, "avx2"},
      {&l7.b, 8, "bmi2"},      {&l7.b, 9, "erms"},
      {&l7.b, 16, "avx512f"},  {&l7.b, 18, "rdseed"},
      {&l7.b, 19, "adx"},      {&l7.b, 29, "sha_ni"},
  };
  std::string out;
  for (const Bit& b : bits) {
    if (*b.reg & (1u << b.bit))
      absl::StrAppend(&out, out.empty() ? "" : " ", b.name);
  }
  return out;
}

base::Result<std::string> Cpuinfo(const Walker& w) {
  const int cpus = w.kernel->System().cpus;
  const Regs l0 = Cpuid(0);
  char vendor[13] = {};
  std::memcpy(vendor, &l0.b, 4);
  std::memcpy(vendor + 4, &l0.d, 4);
  std::memcpy(vendor + 8, &l0.c, 4);
  const Regs l1 = Cpuid(1);
  const unsigned family = ((l1.a >> 8) & 0xf) + ((l1.a >> 20) & 0xff);
  const unsigned model = ((l1.a >> 4) & 0xf) | ((l1.a >> 12) & 0xf0);
  char brand[49] = {};
  if (Cpuid(0x80000000).a >= 0x80000004) {
    for (unsigned i = 0; i < 3; ++i) {
      const Regs r = Cpuid(0x80000002 + i);
      std::memcpy(brand + 16 * i, &r, 16);
    }
  }
  const std::string flags = CpuFlags();
  std::string out;
  for (int i = 0; i < cpus; ++i) {
    absl::StrAppendFormat(
        &out,
        "processor\t: %d\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\n"
        "model name\t: %s\nstepping\t: %u\ncpu MHz\t\t: 2000.000\n"
        "cache size\t: 0 KB\nphysical id\t: 0\nsiblings\t: %d\n"
        "core id\t\t: %d\ncpu cores\t: %d\napicid\t\t: %d\n"
        "initial apicid\t: %d\nfpu\t\t: yes\nfpu_exception\t: yes\n"
        "cpuid level\t: %u\nwp\t\t: yes\nflags\t\t: %s\n"
        "bogomips\t: 4000.00\nclflush size\t: 64\ncache_alignment\t: 64\n"
        "address sizes\t: 46 bits physical, 48 bits virtual\n"
        "power management:\n\n",
        i, vendor, family, model, brand, l1.a & 0xf, cpus, i, cpus, i, i, l0.a,
        flags);
  }
  return out;
}

base::Result<std::string> Stat(const Walker& w) {
  const ProcSystem s = w.kernel->System();
  // Idle is what the CPUs did not spend on the sandbox's tasks.
  const int64_t busy = s.user_ns + s.sys_ns;
  const int64_t idle = std::max<int64_t>(0, s.uptime_ns * s.cpus - busy);
  auto line = [](const char* name, int64_t user, int64_t sys, int64_t idle) {
    return absl::StrFormat("%s %d 0 %d %d 0 0 0 0 0 0\n", name,
                           user / kNsPerTick, sys / kNsPerTick,
                           idle / kNsPerTick);
  };
  std::string out = line("cpu ", s.user_ns, s.sys_ns, idle);
  for (int i = 0; i < s.cpus; ++i) {
    out += line(absl::StrCat("cpu", i).c_str(), s.user_ns / s.cpus,
                s.sys_ns / s.cpus, idle / s.cpus);
  }
  absl::StrAppendFormat(&out,
                        "intr 0\nctxt 0\nbtime %d\nprocesses %d\n"
                        "procs_running %d\nprocs_blocked 0\n"
                        "softirq 0 0 0 0 0 0 0 0 0 0 0\n",
                        s.boot_time_s, s.last_pid, std::max(s.running, 1));
  return out;
}

base::Result<std::string> Uptime(const Walker& w) {
  const ProcSystem s = w.kernel->System();
  const int64_t idle =
      std::max<int64_t>(0, s.uptime_ns * s.cpus - (s.user_ns + s.sys_ns));
  return absl::StrFormat("%d.%02d %d.%02d\n", s.uptime_ns / 1'000'000'000,
                         s.uptime_ns / kNsPerTick % 100, idle / 1'000'000'000,
                         idle / kNsPerTick % 100);
}

base::Result<std::string> Loadavg(const Walker& w) {
  // No load is tracked: the averages are 0.
  const ProcSystem s = w.kernel->System();
  return absl::StrFormat("0.00 0.00 0.00 %d/%d %d\n", std::max(s.running, 1),
                         s.threads, s.last_pid);
}

base::Result<std::string> Filesystems(const Walker&) {
  return std::string("nodev\tproc\nnodev\ttmpfs\nnodev\toverlay\n");
}

base::Result<std::string> Version(const Walker&) {
  return absl::StrCat("Linux version ", base::kLinuxRelease,
                      " (runsc@sandbox) (gcc) ", base::kLinuxVersion, "\n");
}

base::Result<std::string> KernelCmdline(const Walker&) {
  return std::string("BOOT_IMAGE=/vmlinuz-runsc\n");
}

}  // namespace

const std::vector<TopFile>& TopFiles() {
  static const std::vector<TopFile> files = {
      {"cmdline", KernelCmdline},   {"cpuinfo", Cpuinfo},
      {"filesystems", Filesystems}, {"loadavg", Loadavg},
      {"meminfo", Meminfo},         {"stat", Stat},
      {"uptime", Uptime},           {"version", Version},
  };
  return files;
}

}  // namespace vfs::procfs
