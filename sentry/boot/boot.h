// Boot: turns a sandbox configuration into a running kernel, runs the
// container's first process and returns its exit status. This is what the
// sandbox process (`runsc boot`) does.
#ifndef SENTRY_BOOT_BOOT_H_
#define SENTRY_BOOT_BOOT_H_

#include <cstdint>
#include <string>
#include <vector>

namespace boot {

// Each task costs a sentry thread and a stub thread on the host. A fork
// bomb held at 4096 tasks drove a 2-core host's load past 800 and took
// minutes to tear down; 1024 keeps such a sandbox from hurting the host.
inline constexpr uint64_t kDefaultPidsLimit = 1024;

// A mount an OCI spec asks for, made in the sandbox before the app runs
// (boot_mounts.cc says which types and how).
struct MountSpec {
  std::string destination, type, source;
  unsigned long flags = 0;  // MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC
  std::vector<std::string> data;  // the options mount(8) would pass on
};

// The container's first process's capability sets (bit N: capability N).
struct CapabilitySets {
  uint64_t bounding = 0, effective = 0, permitted = 0, inheritable = 0,
           ambient = 0;
};

struct RlimitSpec {
  int resource = 0;
  uint64_t soft = 0, hard = 0;
};

struct Config {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string cwd = "/";
  std::string platform = "systrap";
  // systrap: patch syscall sites into jumps to the fast path (off by
  // default: platform/README.md, "Syscall patching").
  bool systrap_patch = false;
  std::string root = "/";  // host directory shown as the sandbox's "/"
  std::string hostname = "runsc";
  bool strace = false;
  // Host directories under /tmp that stay visible over the sandbox's own
  // /tmp (read-only): where the user runs from.
  std::vector<std::string> visible;
  uint32_t uid = 0, gid = 0;
  // The most tasks (processes and threads) the sandbox may hold, like a
  // pids cgroup; a fork beyond it fails with EAGAIN. `runsc do
  // --pids-limit` sets it; an OCI spec's linux.resources.pids.limit will.
  uint64_t pids_limit = kDefaultPidsLimit;
  // runsc do -t: init's stdio is a terminal of the sandbox's, relayed over
  // the stream socket at fd kConsoleFd (sentry/tty/console.h).
  bool tty = false;

  // From an OCI spec (runsc create/run); runsc do leaves them as they are.
  std::vector<uint32_t> groups;  // process.user.additionalGids
  int umask = -1;                // -1: Linux's 022
  std::vector<RlimitSpec> rlimits;
  bool has_capabilities = false;  // else root gets all, anyone else none
  CapabilitySets capabilities;
  bool no_new_privs = false;
  std::string domainname = "(none)";
  bool root_readonly = false;
  std::vector<MountSpec> mounts;
  std::vector<std::string> masked_paths, readonly_paths;
};

inline constexpr int kConsoleFd = 5;  // after config (3) and gofer (4)

std::string ConfigToJson(const Config& config);
// Returns false (and *why) for malformed input.
bool ConfigFromJson(const std::string& json, Config* config, std::string* why);

// The name under which the gofer serves config.visible[i] (its --mounts).
std::string GoferMountName(size_t i);

// Runs the sandbox; returns the exit status for the process (the app's
// status, 128+N if a signal N killed it, 126/127 when it could not start).
// `gofer_fd`, if not -1, is the socket to the gofer serving config.root
// and config.visible: the sentry then opens no host path for them.
// `control_fd`, if not -1, is the listening control socket of a sandbox
// made by runsc create (control_server.h): the sentry then writes a byte
// to `ready_fd` once the command is found, and waits for start there.
// Must be called while the process is single-threaded.
int Run(const Config& config, int gofer_fd = -1, int control_fd = -1,
        int ready_fd = -1);

}  // namespace boot

#endif  // SENTRY_BOOT_BOOT_H_
