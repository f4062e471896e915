// A container's state on disk: <root>/<id>/state.json, written atomically
// (a temporary file renamed over it), and the checks on container ids.
#ifndef RUNSC_CONTAINER_STATE_H_
#define RUNSC_CONTAINER_STATE_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace runsc::container {

// Ids name directories: letters, digits and "_+-.", not "." or "..", at
// most kMaxIdLength bytes.
inline constexpr size_t kMaxIdLength = 128;
absl::Status ValidateId(const std::string& id);

struct State {
  std::string oci_version;
  std::string id;
  // The sandbox process (the sentry): it lives as long as the container
  // and exits with its status. Its start time (/proc/PID/stat field 22)
  // tells it from a later process given the same pid.
  pid_t pid = 0;
  uint64_t pid_start = 0;
  pid_t gofer = 0;
  uint64_t gofer_start = 0;
  std::string status;  // "created" or "running" as last recorded
  std::string bundle, rootfs, created, owner;
  std::map<std::string, std::string> annotations;
};

std::string ContainerDir(const std::string& root, const std::string& id);
// The control socket's name in the container's dir.
inline constexpr char kControlSocket[] = "control.sock";

// Writes `data` to `path` through a temporary file and rename(2).
absl::Status WriteFileAtomic(const std::string& path, const std::string& data,
                             mode_t mode);

absl::Status SaveState(const std::string& root, const State& state);
// NotFound "container \"ID\" does not exist" when there is no such state.
absl::StatusOr<State> LoadState(const std::string& root, const std::string& id);

// The start time of a live, not yet exited process; 0 when there is none
// (gone, or a zombie).
uint64_t ProcessStartTime(pid_t pid);

// "created", "running" or "stopped" (the sandbox process has exited).
std::string CurrentStatus(const State& state);

// The JSON `runsc state` prints (runc's fields; pid 0 once stopped).
std::string StateJson(const State& state, const std::string& status);

}  // namespace runsc::container

#endif  // RUNSC_CONTAINER_STATE_H_
