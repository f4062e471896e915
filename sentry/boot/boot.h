// Boot: turns a sandbox configuration into a running kernel, runs the
// container's first process and returns its exit status. This is what the
// sandbox process (`runsc boot`) does.
#ifndef SENTRY_BOOT_BOOT_H_
#define SENTRY_BOOT_BOOT_H_

#include <string>
#include <vector>

namespace boot {

struct Config {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string cwd = "/";
  std::string platform = "ptrace";
  std::string root = "/";  // host directory shown as the sandbox's "/"
  std::string hostname = "runsc";
  bool strace = false;
  // Host directories under /tmp that stay visible over the sandbox's own
  // /tmp (read-only): where the user runs from.
  std::vector<std::string> visible;
  uint32_t uid = 0, gid = 0;
};

std::string ConfigToJson(const Config& config);
// Returns false (and *why) for malformed input.
bool ConfigFromJson(const std::string& json, Config* config, std::string* why);

// Runs the sandbox; returns the exit status for the process (the app's
// status, 128+N if a signal N killed it, 126/127 when it could not start).
// Must be called while the process is single-threaded.
int Run(const Config& config);

}  // namespace boot

#endif  // SENTRY_BOOT_BOOT_H_
