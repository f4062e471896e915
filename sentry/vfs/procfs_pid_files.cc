// /proc/<pid>/{maps,smaps,cmdline,environ,limits,mounts,mountinfo} and
// fdinfo/<n>, in Linux 6.x's format.
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sentry/vfs/file_attrs.h"
#include "sentry/vfs/procfs_internal.h"

namespace vfs::procfs {
namespace {

constexpr uint64_t kMaxArgText = 8 << 20;

// Where the emulated vsyscall page is (the sandbox serves its calls).
constexpr uint64_t kVsyscallStart = 0xffffffffff600000;

// The start of a maps line: range, permissions, offset, device, inode.
// Named mappings have their name at column 73, as Linux pads them.
void AppendMapsLine(std::string& out, uint64_t start, uint64_t end,
                    const std::string& perms, uint64_t offset, uint64_t dev,
                    uint64_t ino, const std::string& name) {
  std::string line =
      absl::StrFormat("%08x-%08x %s %08x %02x:%02x %u ", start, end, perms,
                      offset, major(dev), minor(dev), ino);
  if (!name.empty()) {
    if (line.size() < 72) line.append(72 - line.size(), ' ');
    line += ' ';
    line += name;
  }
  out += line;
  out += '\n';
}

std::string Perms(const ProcVma& v) {
  std::string p = "----";
  if (v.prot & PROT_READ) p[0] = 'r';
  if (v.prot & PROT_WRITE) p[1] = 'w';
  if (v.prot & PROT_EXEC) p[2] = 'x';
  p[3] = v.shared ? 's' : 'p';
  return p;
}

void AppendSmaps(std::string& out, const ProcVma& v) {
  auto line = [&](const char* label, uint64_t bytes) {
    absl::StrAppendFormat(&out, "%-16s%8u kB\n", label, bytes / 1024);
  };
  const uint64_t size = v.end - v.start;
  const bool anon = v.ino == 0;
  line("Size:", size);
  line("KernelPageSize:", 4096);
  line("MMUPageSize:", 4096);
  line("Rss:", v.resident);
  line("Pss:", v.resident);
  line("Pss_Dirty:", anon ? v.resident : 0);
  line("Shared_Clean:", 0);
  line("Shared_Dirty:", 0);
  line("Private_Clean:", anon ? 0 : v.resident);
  line("Private_Dirty:", anon ? v.resident : 0);
  line("Referenced:", v.resident);
  line("Anonymous:", anon && !v.shared ? v.resident : 0);
  for (const char* zero :
       {"KSM:", "LazyFree:", "AnonHugePages:", "ShmemPmdMapped:",
        "FilePmdMapped:", "Shared_Hugetlb:", "Private_Hugetlb:", "Swap:",
        "SwapPss:", "Locked:"}) {
    line(zero, 0);
  }
  absl::StrAppendFormat(&out, "%-16s%8u\n", "THPeligible:", 0);
  out += "VmFlags:";
  if (v.prot & PROT_READ) out += " rd";
  if (v.prot & PROT_WRITE) out += " wr";
  if (v.prot & PROT_EXEC) out += " ex";
  if (v.shared) out += " sh";
  out += " mr mw me";
  if (v.shared) out += " ms";
  if (v.name == "[stack]") out += " gd";
  out += " \n";
}

// Linux's mangle for mount fields: space, tab, newline and backslash
// become octal escapes.
std::string Mangle(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
      absl::StrAppendFormat(&out, "\\%03o", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

base::Result<std::string> PidMaps(const Walker& w, int pid, bool smaps) {
  const ProcMemory m = TRY(w.kernel->Memory(pid));
  std::string out;
  for (const ProcVma& v : m.vmas) {
    AppendMapsLine(out, v.start, v.end, Perms(v), v.offset, v.dev, v.ino,
                   v.name);
    if (smaps) AppendSmaps(out, v);
  }
  if (!m.vmas.empty()) {
    ProcVma vsyscall{.start = kVsyscallStart,
                     .end = kVsyscallStart + 4096,
                     .prot = PROT_EXEC,
                     .name = "[vsyscall]"};
    AppendMapsLine(out, vsyscall.start, vsyscall.end, "--xp", 0, 0, 0,
                   vsyscall.name);
    if (smaps) AppendSmaps(out, vsyscall);
  }
  return out;
}

base::Result<std::string> PidArgs(const Walker& w, int pid, bool environ) {
  const ProcMemory m = TRY(w.kernel->Memory(pid));
  // The loader bounds both areas (execve's E2BIG); this bounds the text
  // whatever the addresses say.
  auto read = [&](uint64_t start, uint64_t end) {
    return w.kernel->ReadMemory(pid, start,
                                std::min<uint64_t>(end - start, kMaxArgText));
  };
  if (environ) {
    if (m.env_end <= m.env_start) return std::string();
    return read(m.env_start, m.env_end);
  }
  if (m.arg_end <= m.arg_start) return std::string();
  std::string args = TRY(read(m.arg_start, m.arg_end));
  // Linux's get_mm_cmdline: if the program overwrote the NUL that ends its
  // arguments (setproctitle), the text runs on to the first NUL, into the
  // environment if need be.
  if (!args.empty() && args.back() != '\0') {
    if (m.env_end > m.arg_end) {
      args += TRY(read(m.arg_end, m.env_end));
    }
    args = args.substr(0, args.find('\0'));
  }
  return args;
}

base::Result<std::string> PidAuxv(const Walker& w, int pid) {
  const ProcMemory m = TRY(w.kernel->Memory(pid));
  if (m.start_stack == 0) return std::string();
  // Linux shows its saved copy; here the vector is read where execve put
  // it, after argc, argv, NULL, envp and NULL (gdb reads it at the start,
  // before a program could change it).
  auto word = [&](uint64_t addr) -> base::Result<uint64_t> {
    const std::string s = TRY(w.kernel->ReadMemory(pid, addr, 8));
    if (s.size() != 8) return base::Err(EIO);
    uint64_t v;
    memcpy(&v, s.data(), sizeof(v));
    return v;
  };
  constexpr uint64_t kMaxWords = kMaxArgText / 8;
  const uint64_t argc = TRY(word(m.start_stack));
  if (argc > kMaxWords) return std::string();
  uint64_t p = m.start_stack + 8 * (argc + 2);
  for (uint64_t i = 0; i < kMaxWords && TRY(word(p)) != 0; ++i) p += 8;
  p += 8;
  std::string out;
  for (int i = 0; i < 64; ++i, p += 16) {
    const std::string pair = TRY(w.kernel->ReadMemory(pid, p, 16));
    if (pair.size() != 16) break;
    out += pair;
    if (pair.substr(0, 8) == std::string(8, '\0')) break;  // AT_NULL
  }
  return out;
}

base::Result<std::string> PidLimits(const Walker& w, int pid) {
  static constexpr struct {
    const char* name;
    const char* unit;
  } kNames[RLIM_NLIMITS] = {
      {"Max cpu time", "seconds"},        {"Max file size", "bytes"},
      {"Max data size", "bytes"},         {"Max stack size", "bytes"},
      {"Max core file size", "bytes"},    {"Max resident set", "bytes"},
      {"Max processes", "processes"},     {"Max open files", "files"},
      {"Max locked memory", "bytes"},     {"Max address space", "bytes"},
      {"Max file locks", "locks"},        {"Max pending signals", "signals"},
      {"Max msgqueue size", "bytes"},     {"Max nice priority", nullptr},
      {"Max realtime priority", nullptr}, {"Max realtime timeout", "us"},
  };
  const auto limits = TRY(w.kernel->Limits(pid));
  std::string out = absl::StrFormat("%-25s %-20s %-20s %-10s\n", "Limit",
                                    "Soft Limit", "Hard Limit", "Units");
  auto value = [](rlim_t v) {
    return v == RLIM_INFINITY ? std::string("unlimited") : absl::StrCat(v);
  };
  for (int i = 0; i < RLIM_NLIMITS; ++i) {
    absl::StrAppendFormat(&out, "%-25s %-20s %-20s ", kNames[i].name,
                          value(limits[i].rlim_cur), value(limits[i].rlim_max));
    if (kNames[i].unit) absl::StrAppendFormat(&out, "%-10s", kNames[i].unit);
    out += '\n';
  }
  return out;
}

// The mount namespace of process `pid` (null: the first one).
std::shared_ptr<const MountNamespace> NamespaceOf(const Walker& w, int pid) {
  if (!w.kernel) return nullptr;
  auto t = w.kernel->Task(pid, 0);
  return t ? t->mnt : nullptr;
}

std::string Mounts(const Walker& w, int pid, bool mountinfo) {
  if (!w.vfs) return "";
  std::string out;
  for (const MountEntry& m : w.vfs->Mounts(NamespaceOf(w, pid).get())) {
    if (mountinfo) {
      absl::StrAppendFormat(&out, "%d %d %u:%u %s %s %s - %s %s %s\n", m.id,
                            m.parent_id, major(m.dev), minor(m.dev),
                            Mangle(m.root), Mangle(m.point), m.options,
                            m.fstype, Mangle(m.source), m.super_options);
      continue;
    }
    // mounts: the mount's options, then the filesystem's beyond rw/ro.
    std::string options = m.options;
    if (size_t comma = m.super_options.find(','); comma != std::string::npos)
      options += m.super_options.substr(comma);
    absl::StrAppendFormat(&out, "%s %s %s %s 0 0\n", Mangle(m.source),
                          Mangle(m.point), m.fstype, options);
  }
  return out;
}

base::Result<std::string> FdInfo(const Walker& w, int pid, int fd) {
  std::shared_ptr<FileDescription> desc = w.kernel->Fd(pid, fd);
  if (!desc) return base::Err(ENOENT);
  const int64_t pos = desc->Seek(0, SEEK_CUR).value_or(0);
  int flags = desc->flags();
  if (w.kernel->FdCloexec(pid, fd)) flags |= O_CLOEXEC;
  // The mount the file is on (0 for pipes, sockets and other files
  // without a path in the tree).
  const int mnt_id =
      w.vfs ? MountIdOf(w.vfs->Mounts(NamespaceOf(w, pid).get()), desc->path())
            : 0;
  uint64_t ino = 0;
  if (auto st = desc->Stat()) ino = st->st_ino;
  return absl::StrFormat("pos:\t%d\nflags:\t0%o\nmnt_id:\t%d\nino:\t%u\n", pos,
                         flags, mnt_id, ino) +
         desc->FdInfo();
}

}  // namespace vfs::procfs
