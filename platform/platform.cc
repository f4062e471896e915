#include "platform/platform.h"

#include "platform/ptrace/ptrace_platform.h"
#include "platform/systrap/systrap_platform.h"

namespace platform {

base::Result<std::unique_ptr<Platform>> Platform::Create(
    std::string_view name, int memory_fd, const Options& options) {
  if (name == "ptrace") return ptrace::PtracePlatform::Create(memory_fd);
  if (name == "systrap")
    return systrap::SystrapPlatform::Create(memory_fd, options.systrap_patch);
  return base::Err(EINVAL);
}

}  // namespace platform
