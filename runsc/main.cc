// runsc: the command-line entry point. Global flags, then a verb.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "runsc/cmd/commands.h"

namespace runsc {

void PrintError(const std::string& msg) {
  fprintf(stderr, "runsc: %s\n", msg.c_str());
}

namespace {

void Usage() {
  fprintf(stderr,
          "usage: runsc <command> [flags] [args]\n\n"
          "commands:\n"
          "  do        run a command in a new sandbox (runsc do -- CMD ARGS)\n"
          "  syscalls  list the syscalls the sandbox supports\n"
          "  boot      (internal) the sandbox process\n"
          "  gofer     (internal) the file server\n");
}

}  // namespace
}  // namespace runsc

int main(int argc, char** argv) {
  // Debian's Abseil checks every Mutex acquisition for lock-order cycles (a
  // graph update per lock: 2% of the sentry's time in a stat loop). The
  // unit tests, which link Abseil without this, keep the checks.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help") {
    runsc::Usage();
    return args.empty() ? 125 : 0;
  }
  std::string verb = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (verb == "do") return runsc::Do(rest);
  if (verb == "boot") return runsc::Boot(rest);
  if (verb == "gofer") return runsc::Gofer(rest);
  if (verb == "syscalls") return runsc::Syscalls(rest);
  runsc::PrintError("unknown command \"" + verb + "\"");
  runsc::Usage();
  return 125;
}
