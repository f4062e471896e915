// runsc: the command-line entry point (the parsing is in cli.cc).
#include "absl/synchronization/mutex.h"
#include "runsc/cli.h"

int main(int argc, char** argv) {
  // Debian's Abseil checks every Mutex acquisition for lock-order cycles (a
  // graph update per lock: 2% of the sentry's time in a stat loop). The
  // unit tests, which link Abseil without this, keep the checks.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return runsc::RunCli(argc, argv);
}
