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

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;  // with terminal
  std::vector<std::string> args;  // never empty
  std::vector<std::string> env;
  std::string cwd = "/";
  User user;
};

struct Root {
  std::string path;  // absolute: a relative one is resolved in the bundle
  bool readonly = false;
};

struct Mount {
  std::string destination, type, source;
  std::vector<std::string> options;
};

struct Spec {
  std::string oci_version;
  Process process;
  Root root;
  std::string hostname;
  std::vector<Mount> mounts;
  std::map<std::string, std::string> annotations;
  std::optional<int64_t> pids_limit;  // linux.resources.pids.limit
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

}  // namespace runsc::oci

#endif  // RUNSC_OCI_SPEC_H_
