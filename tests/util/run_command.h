// Runs a program and collects its exit status and output: for integration
// tests that drive runsc as a user would.
#ifndef TESTS_UTIL_RUN_COMMAND_H_
#define TESTS_UTIL_RUN_COMMAND_H_

#include <string>
#include <vector>

namespace testing_util {

struct CommandResult {
  int exit_code = -1;  // the shell's view: code, or 128 + signal
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with `input` on stdin; waits for it.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::string& input = "");

// `runsc do [extra flags] -- argv...` with the runsc under test.
CommandResult RunSandboxed(const std::vector<std::string>& argv,
                           const std::vector<std::string>& flags = {},
                           const std::string& input = "");

// The runsc binary under test (RUNSC_PATH, set by the build).
std::string RunscPath();

}  // namespace testing_util

#endif  // TESTS_UTIL_RUN_COMMAND_H_
