// An OCI spec turned into the sandbox's configuration (boot::Config): what
// runsc create hands to `runsc boot`.
#ifndef RUNSC_CONTAINER_SANDBOX_CONFIG_H_
#define RUNSC_CONTAINER_SANDBOX_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runsc/globals.h"
#include "runsc/oci/spec.h"
#include "sentry/boot/boot.h"

namespace runsc::container {

// Fails, in one line, for what the sandbox cannot do as asked. Each
// linux.sysctl it does not keep adds a line to *warnings.
absl::StatusOr<boot::Config> SandboxConfig(const Globals& g,
                                           const oci::Spec& spec,
                                           std::vector<std::string>* warnings);

// A mount's options as mount(8) reads them: the flags runsc honours,
// whether it is a bind (and recursive), and the rest as data.
struct MountOptions {
  unsigned long flags = 0;
  bool bind = false;
  std::vector<std::string> data;
};
MountOptions ParseMountOptions(const std::vector<std::string>& options);

}  // namespace runsc::container

#endif  // RUNSC_CONTAINER_SANDBOX_CONFIG_H_
