// The runsc verbs, one file each. Each takes the words after the verb and
// returns the process exit status.
#ifndef RUNSC_CMD_COMMANDS_H_
#define RUNSC_CMD_COMMANDS_H_

#include <string>
#include <vector>

namespace runsc {

int Do(const std::vector<std::string>& args);
int Boot(const std::vector<std::string>& args);
int Gofer(const std::vector<std::string>& args);
int Syscalls(const std::vector<std::string>& args);

// Prints "runsc: <msg>" to stderr.
void PrintError(const std::string& msg);

}  // namespace runsc

#endif  // RUNSC_CMD_COMMANDS_H_
