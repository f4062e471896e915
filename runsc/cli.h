// The command line: global flags, a verb, the verb's flags and arguments,
// parsed with CLI11 in runc's syntax (-x, --x, --x v, --x=v, and -name
// for a long flag, as Go's flag package allows), then the verb runs.
#ifndef RUNSC_CLI_H_
#define RUNSC_CLI_H_

namespace runsc {

// Returns the process exit status.
int RunCli(int argc, char** argv);

}  // namespace runsc

#endif  // RUNSC_CLI_H_
