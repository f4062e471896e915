// The OCI runtime spec (runtime-spec 1.0.2): a bundle's config.json as a
// typed struct. Only what runsc reads is here; the rest of the file is
// ignored, as runc ignores what it does not know. Parsing checks types and
// the rules runsc relies on and says in one line what is wrong.
#ifndef RUNSC_OCI_SPEC_H_
#define RUNSC_OCI_SPEC_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace runsc::oci {

inline constexpr char kVersion[] = "1.0.2";

struct User {
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> additional_gids;
  std::optional<uint32_t> umask;
};

struct ConsoleSize {
  uint32_t height = 0, width = 0;
};

// process.rlimits[]: RLIMIT_* by number, soft <= hard.
struct Rlimit {
  int resource = 0;
  uint64_t soft = 0, hard = 0;
};

// process.capabilities, as bit sets (bit N is capability N); a set the
// spec leaves out is empty, as runc reads it.
struct Capabilities {
  uint64_t bounding = 0, effective = 0, permitted = 0, inheritable = 0,
           ambient = 0;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;  // with terminal
  std::vector<std::string> args;  // never empty
  std::vector<std::string> env;
  std::string cwd = "/";
  User user;
  std::vector<Rlimit> rlimits;
  // Absent: the process keeps what its user gets (root: every capability).
  std::optional<Capabilities> capabilities;
  bool no_new_privileges = false;
};

struct Root {
  std::string path;  // absolute: a relative one is resolved in the bundle
  bool readonly = false;
};

struct Mount {
  std::string destination, type, source;
  std::vector<std::string> options;
};

// One hook of config.json's "hooks": run with `args` (argv[0] included;
// just `path` if empty) and exactly `env`, the state JSON on its stdin.
struct Hook {
  std::string path;  // absolute
  std::vector<std::string> args, env;
  int timeout = 0;  // seconds; 0: none
};

// The points of the lifecycle hooks run at (runtime-spec config.md).
struct Hooks {
  std::vector<Hook> prestart, create_runtime, create_container,
      start_container, poststart, poststop;
};

// linux.resources that runsc applies to the sandbox's host cgroup.
struct Resources {
  std::optional<int64_t> memory_limit, memory_reservation, memory_swap;
  std::optional<uint64_t> cpu_shares, cpu_period;
  std::optional<int64_t> cpu_quota;
  std::string cpus, mems;  // cpuset
};

struct Spec {
  std::string oci_version;
  Process process;
  Root root;
  std::string hostname;
  std::string domainname;
  std::vector<Mount> mounts;
  std::vector<std::string> masked_paths, readonly_paths;  // linux.*
  std::map<std::string, std::string> sysctl;              // linux.sysctl
  std::map<std::string, std::string> annotations;
  Hooks hooks;
  std::optional<int64_t> pids_limit;  // linux.resources.pids.limit
  Resources resources;
  std::string cgroups_path;  // linux.cgroupsPath
};

// Parses config.json's text; `bundle` (absolute) resolves a relative
// root.path, which must name a directory.
absl::StatusOr<Spec> ParseSpec(const std::string& json,
                               const std::string& bundle);
// Parses a process.json (runc exec --process): a spec's "process" object.
absl::StatusOr<Process> ParseProcessJson(const std::string& text);
// Reads and parses <bundle>/config.json.
absl::StatusOr<Spec> LoadSpec(const std::string& bundle);

// The config.json `runsc spec` writes: runc's default, running `sh`.
std::string DefaultSpecJson();

// The hooks as config.json writes them, and back: runsc create keeps them
// in the container's dir for start and delete.
std::string HooksToJson(const Hooks& hooks);
absl::StatusOr<Hooks> HooksFromJson(const std::string& json);

// A capability's number from its name ("CAP_CHOWN"), or -1.
int CapabilityNumber(const std::string& name);
// Every capability name runsc knows, in number order.
std::vector<std::string> CapabilityNames();

}  // namespace runsc::oci

#endif  // RUNSC_OCI_SPEC_H_
