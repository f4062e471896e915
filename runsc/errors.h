// Errors of the OCI verbs, where runc's callers look for them: a JSON line
// {"level":"error","msg":...,"time":...} in --log (with --log-format
// json; a logrus-style text line otherwise), and "runsc: msg" on stderr.
// The shims match substrings such as "does not exist" and "container not
// running", so the messages keep runc's wording.
#ifndef RUNSC_ERRORS_H_
#define RUNSC_ERRORS_H_

#include <string>

#include "absl/status/status.h"
#include "runsc/globals.h"

namespace runsc {

// Reports `msg` and returns 1, the status of a failed OCI verb.
int Fail(const Globals& g, const std::string& msg);
int Fail(const Globals& g, const absl::Status& status);
// Reports `msg` as a warning ("level":"warning"); the verb goes on.
void Warn(const Globals& g, const std::string& msg);

}  // namespace runsc

#endif  // RUNSC_ERRORS_H_
