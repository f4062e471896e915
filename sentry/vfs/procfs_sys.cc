// /proc/sys: the sysctls programs read. Values are the sandbox's (what it
// enforces, or Linux's defaults where nothing is enforced); only
// kernel.hostname and kernel.domainname can be written (they change the
// writer's UTS namespace, as Linux).
#include <sys/random.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/linux_version.h"
#include "sentry/vfs/inotify.h"
#include "sentry/vfs/procfs_internal.h"

namespace vfs {

std::string RandomUuid() {
  uint8_t b[16];
  size_t got = 0;
  while (got < sizeof(b)) {
    const ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  return absl::StrFormat(
      "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
      b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
      b[12], b[13], b[14], b[15]);
}

namespace procfs {
namespace {

// A sysctl tree, built once: directories hold entries, files make their
// text from the walker.
struct SysNode {
  std::string name;
  std::vector<SysNode> children;  // a directory if `read` is null
  std::function<base::Result<std::string>(const Walker&)> read;
  // Writable files (0644): the writer for a walker.
  std::function<base::Result<KernelView::Writer>(const Walker&)> write;
  uint64_t ino = 0;  // kSysIno + its index, depth first
};

void Number(SysNode& n, uint64_t& next) {
  n.ino = next++;
  for (SysNode& c : n.children) Number(c, next);
}

SysNode Value(std::string name, std::string value) {
  return {std::move(name),
          {},
          [v = std::move(value) +
               "\n"](const Walker&) -> base::Result<std::string> { return v; }};
}

SysNode Uts(std::string name, bool domain) {
  return {std::move(name),
          {},
          [domain](const Walker& w) -> base::Result<std::string> {
            return TRY(w.kernel->UtsName(w.tid, domain)) + "\n";
          },
          [domain](const Walker& w) {
            return w.kernel->UtsNameWriter(w.tid, domain);
          }};
}

SysNode Dir(std::string name, std::vector<SysNode> children) {
  return {std::move(name), std::move(children), nullptr};
}

const SysNode& Tree() {
  static const SysNode* tree = [] {
    // Values the IPC namespace enforces (sentry/kernel/ipc/) come from the
    // kernel when read.
    auto ipc = [](std::string name, auto field) {
      return SysNode{std::move(name),
                     {},
                     [field](const Walker& w) -> base::Result<std::string> {
                       return field(w.kernel->IpcLimits()) + "\n";
                     }};
    };
    auto* t = new SysNode(Dir(
        "sys",
        {Dir("fs",
             {Value("file-max", "9223372036854775807"),
              Dir("inotify",
                  {Value("max_queued_events",
                         absl::StrCat(kInotifyMaxQueuedEvents)),
                   Value("max_user_instances",
                         absl::StrCat(kInotifyMaxUserInstances)),
                   Value("max_user_watches",
                         absl::StrCat(kInotifyMaxUserWatches))}),
              Value("nr_open", "1048576"), Value("pipe-max-size", "1048576")}),
         Dir("kernel",
             {Value("cap_last_cap", "40"),
              Uts("domainname", true),
              Uts("hostname", false),
              ipc("msgmax",
                  [](const ProcIpcLimits& l) {
                    return absl::StrCat(l.msgmax);
                  }),
              ipc("msgmnb",
                  [](const ProcIpcLimits& l) {
                    return absl::StrCat(l.msgmnb);
                  }),
              ipc("msgmni", [](const ProcIpcLimits&
                                   l) { return absl::StrCat(l.msgmni); }),
              Value("ngroups_max", "65536"),
              Value("osrelease", base::kLinuxRelease),
              Value("ostype", "Linux"),
              Value("overflowgid", "65534"),
              Value("overflowuid", "65534"),
              Value("pid_max", "4194304"),
              Dir("random",
                  {SysNode{"boot_id",
                           {},
                           [](const Walker& w) -> base::Result<std::string> {
                             return w.kernel->BootId() + "\n";
                           }},
                   Value("entropy_avail", "256"), Value("poolsize", "256"),
                   SysNode{"uuid",
                           {},
                           [](const Walker&) -> base::Result<std::string> {
                             return RandomUuid() + "\n";
                           }}}),
              Value("randomize_va_space", "2"),
              ipc("sem",
                  [](const ProcIpcLimits& l) {
                    return absl::StrFormat("%d\t%d\t%d\t%d", l.sem[0], l.sem[1],
                                           l.sem[2], l.sem[3]);
                  }),
              ipc("shmall",
                  [](const ProcIpcLimits& l) {
                    return absl::StrCat(l.shmall);
                  }),
              ipc("shmmax",
                  [](const ProcIpcLimits& l) {
                    return absl::StrCat(l.shmmax);
                  }),
              ipc("shmmni",
                  [](const ProcIpcLimits& l) {
                    return absl::StrCat(l.shmmni);
                  }),
              Value("threads-max", "4194304"),
              Value("version", base::kLinuxVersion),
              Dir("yama", {Value("ptrace_scope", "1")})}),
         Dir("net", {Dir("core", {Value("somaxconn", "4096")}),
                     Dir("ipv4", {Value("ip_forward", "0"),
                                  Value("ip_local_port_range", "32768\t60999"),
                                  Value("tcp_syncookies", "1")})}),
         Dir("vm",
             {Value("max_map_count", "65530"), Value("mmap_min_addr", "65536"),
              Value("overcommit_memory", "0"),
              Value("overcommit_ratio", "50")})}));
    uint64_t next = kSysIno;
    Number(*t, next);
    return t;
  }();
  return *tree;
}

class SysDir : public procfs::ProcDir {
 public:
  SysDir(Walker w, const SysNode& node)
      : procfs::ProcDir(std::move(w), node.ino, 0555), node_(node) {}

  base::Result<std::shared_ptr<Node>> Lookup(std::string_view name) override {
    for (size_t i = 0; i < node_.children.size(); ++i) {
      if (node_.children[i].name == name) return Make(i);
    }
    return base::Err(ENOENT);
  }

 protected:
  void List(std::vector<DirEntry>& out) const override {
    for (size_t i = 0; i < node_.children.size(); ++i) {
      const SysNode& c = node_.children[i];
      out.push_back(
          {c.ino, static_cast<uint8_t>(c.read ? DT_REG : DT_DIR), c.name});
    }
  }

 private:
  std::shared_ptr<Node> Make(size_t i) const {
    const SysNode& c = node_.children[i];
    if (!c.read) return std::make_shared<SysDir>(w_, c);
    Generator read = [w = w_, &c] { return c.read(w); };
    WriterFactory write;
    if (c.write) write = [w = w_, &c] { return c.write(w); };
    return std::make_shared<ProcFile>(c.ino, c.write ? 0644 : 0444, Owner{},
                                      std::move(read), std::move(write));
  }

  const SysNode& node_;
};

}  // namespace

std::shared_ptr<Node> MakeSysDir(const Walker& w) {
  return std::make_shared<SysDir>(w, Tree());
}

}  // namespace procfs
}  // namespace vfs
