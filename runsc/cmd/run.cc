// runsc run [--bundle B] [--pid-file F] ID: create, start, wait; exits
// with the container's status and removes it. A process.terminal spec
// gets this process's terminal, relayed as runsc do -t does.
#include <sys/socket.h>
#include <unistd.h>

#include "runsc/cmd/commands.h"
#include "runsc/console.h"
#include "runsc/container/container.h"
#include "runsc/errors.h"
#include "runsc/oci/spec.h"

namespace runsc {

std::string AbsoluteBundle(const Globals& g, const std::string& bundle);

int Run(const Globals& g, const CreateFlags& flags) {
  const std::string bundle = AbsoluteBundle(g, flags.bundle);
  if (bundle.empty()) return 1;
  auto spec = oci::LoadSpec(bundle);
  if (!spec.ok()) return Fail(g, spec.status());
  int sv[2] = {-1, -1};
  // With --console-socket the terminal goes there; else to ours.
  if (spec->process.terminal && flags.console_socket.empty() &&
      socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return Fail(g, "cannot make the console socket");
  Sandbox sandbox;
  auto state = container::Create(g,
                                 {.id = flags.id,
                                  .bundle = bundle,
                                  .pid_file = flags.pid_file,
                                  .detached = false,
                                  .console_fd = sv[1],
                                  .console_socket = flags.console_socket},
                                 &sandbox);
  if (sv[1] >= 0) close(sv[1]);
  if (!state.ok()) {
    if (sv[0] >= 0) close(sv[0]);
    return Fail(g, state.status());
  }
  std::unique_ptr<ConsoleRelay> relay;
  if (sv[0] >= 0) {
    if (auto r = ConsoleRelay::Start(sv[0]); r.ok()) {
      relay = std::move(*r);
    } else {
      close(sv[0]);
    }
  }
  int status = 125;
  if (auto s = container::Start(g, flags.id); !s.ok()) {
    Fail(g, s);
    (void)container::Delete(g, flags.id, /*force=*/true);
    WaitSandbox(sandbox);
    return 1;
  }
  status = WaitSandbox(sandbox);
  relay.reset();
  if (auto s = container::Delete(g, flags.id, /*force=*/true); !s.ok())
    Fail(g, s);
  return status;
}

}  // namespace runsc
