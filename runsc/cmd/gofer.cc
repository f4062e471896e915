// runsc gofer --root=DIR --sock-fd=N [--read-write]
//   [--mounts=NAME=PATH[:rw],...] [--isolation=pivot|chroot|none]
//   [--workers=N]: the file server (internal; started with the sandbox).
// Serves DIR, and each bind-mount source, over the SOCK_SEQPACKET socket N
// until the sentry closes it. Confines itself first (gofer/confine.h).
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "absl/strings/str_split.h"
#include "gofer/confine.h"
#include "gofer/server.h"
#include "runsc/cmd/commands.h"

namespace runsc {
namespace {

int Fail(const std::string& msg) {
  PrintError("gofer: " + msg);
  return 125;
}

}  // namespace

int Gofer(const GoferFlags& flags) {
  const int sock = flags.sock_fd;
  if (flags.root.empty() || sock < 0)
    return Fail(
        "usage: runsc gofer --root=DIR --sock-fd=N [--read-write] "
        "[--mounts=NAME=PATH[:rw],...] [--isolation=pivot|chroot|none]");
  int type = 0;
  socklen_t len = sizeof(type);
  if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
      type != SOCK_SEQPACKET)
    return Fail("--sock-fd=" + std::to_string(sock) +
                " is not a SOCK_SEQPACKET socket");

  std::vector<gofer::MountSpec> specs;
  specs.push_back({"/", flags.root, !flags.read_write});
  if (!flags.mounts.empty()) {
    for (absl::string_view m : absl::StrSplit(flags.mounts, ',')) {
      std::pair<std::string, std::string> kv =
          absl::StrSplit(m, absl::MaxSplits('=', 1));
      gofer::MountSpec spec{kv.first, kv.second, true};
      if (spec.path.ends_with(":rw") || spec.path.ends_with(":ro")) {
        spec.read_only = spec.path.ends_with(":ro");
        spec.path.resize(spec.path.size() - 3);
      }
      if (spec.name.empty() || spec.name == "/" || spec.path.empty())
        return Fail("bad --mounts entry \"" + std::string(m) + "\"");
      specs.push_back(spec);
    }
  }
  gofer::Isolation isolation;
  const std::string& iso = flags.isolation;
  if (iso == "pivot")
    isolation = gofer::Isolation::kPivotRoot;
  else if (iso == "chroot")
    isolation = gofer::Isolation::kChroot;
  else if (iso == "none")
    isolation = gofer::Isolation::kNone;
  else
    return Fail("--isolation must be pivot, chroot or none");
  gofer::Server::Options options;
  if (flags.workers != 0) {
    if (flags.workers < 1 || flags.workers > 64)
      return Fail("--workers needs a number from 1 to 64");
    options.workers = flags.workers;
  }

  // Hold nothing from the parent but stdio and the socket.
  if (sock > 3) close_range(3, sock - 1, 0);
  close_range(std::max(3, sock + 1), ~0U, 0);

  auto mounts = gofer::OpenMounts(specs);
  if (!mounts.ok()) return Fail(std::string(mounts.status().message()));
  if (auto s = gofer::EnterRoot(specs[0], isolation, &*mounts); !s.ok())
    return Fail(std::string(s.message()));
  if (auto s = gofer::DropPrivileges(); !s.ok())
    return Fail(std::string(s.message()));
  if (auto s = gofer::InstallSeccomp(); !s.ok())
    return Fail(std::string(s.message()));

  gofer::Server server(std::move(*mounts), options);
  return server.Serve(sock) == 0 ? 0 : 1;
}

}  // namespace runsc
