// runsc exec [flags] ID [CMD ARGS...]: runs a new process in a running
// container, with this process's stdio, and exits with its status (128+N
// when signal N ended it). The process is --process FILE (a process.json,
// as the shims pass it), or the container's own process with CMD ARGS,
// --env added, and --cwd and --user overriding, as runc builds it.
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "runsc/cmd/commands.h"
#include "runsc/container/exec.h"
#include "runsc/container/state.h"
#include "runsc/errors.h"
#include "runsc/oci/spec.h"

namespace runsc {
namespace {

absl::StatusOr<oci::Process> ProcessFromFile(const std::string& path) {
  std::ifstream f(path);
  if (!f)
    return absl::NotFoundError("cannot read the process file " + path);
  std::stringstream text;
  text << f.rdbuf();
  return oci::ParseProcessJson(text.str());
}

// "uid" or "uid:gid", numbers only (there is no passwd lookup in the
// container yet).
absl::Status ParseUser(const std::string& s, oci::User* user) {
  std::vector<std::string> parts = absl::StrSplit(s, ':');
  if (parts.size() > 2 || !absl::SimpleAtoi(parts[0], &user->uid) ||
      (parts.size() == 2 && !absl::SimpleAtoi(parts[1], &user->gid)))
    return absl::InvalidArgumentError("--user \"" + s +
                                      "\": must be uid[:gid] (numbers)");
  if (parts.size() == 1) user->gid = 0;
  return absl::OkStatus();
}

absl::StatusOr<oci::Process> BuildProcess(const Globals& g,
                                          const ExecFlags& flags) {
  if (!flags.process.empty()) {
    auto p = ProcessFromFile(flags.process);
    if (p.ok() && flags.tty) p->terminal = true;
    return p;
  }
  if (flags.command.empty())
    return absl::InvalidArgumentError(
        "exec needs a command or --process FILE");
  if (auto s = container::ValidateId(flags.id); !s.ok()) return s;
  auto state = container::LoadState(g.root, flags.id);
  if (!state.ok()) return state.status();
  auto spec = oci::LoadSpec(state->bundle);
  if (!spec.ok()) return spec.status();
  oci::Process p = spec->process;
  p.args = flags.command;
  p.env.insert(p.env.end(), flags.env.begin(), flags.env.end());
  if (!flags.cwd.empty()) {
    if (flags.cwd[0] != '/')
      return absl::InvalidArgumentError("--cwd must be an absolute path");
    p.cwd = flags.cwd;
  }
  if (!flags.user.empty()) {
    if (auto s = ParseUser(flags.user, &p.user); !s.ok()) return s;
  }
  p.terminal = flags.tty;
  p.console_size.reset();
  return p;
}

}  // namespace

int Exec(const Globals& g, const ExecFlags& flags) {
  auto process = BuildProcess(g, flags);
  if (!process.ok()) return Fail(g, process.status());
  if (process->terminal && flags.console_socket.empty())
    return Fail(g,
                "exec with a terminal needs --console-socket (runsc does not "
                "relay its own terminal for exec)");
  if (!process->terminal && !flags.console_socket.empty())
    return Fail(g,
                "cannot use console socket if runc will not detach or "
                "allocate tty");
  auto status = container::Exec(g, {.id = flags.id,
                                    .process = std::move(*process),
                                    .detach = flags.detach,
                                    .pid_file = flags.pid_file,
                                    .console_socket = flags.console_socket});
  if (!status.ok()) return Fail(g, status.status());
  return *status;
}

}  // namespace runsc
