// The global flags, given before the verb as runc's callers do.
#ifndef RUNSC_GLOBALS_H_
#define RUNSC_GLOBALS_H_

#include <string>

namespace runsc {

struct Globals {
  std::string root = "/run/runsc";  // container state, one dir per id
  std::string log;                  // errors (and, later, more) go here
  std::string log_format = "text";  // or "json", as the shims read it
  bool debug = false;
  std::string debug_log;  // the sandbox's own log
  bool strace = false;
  std::string platform = "systrap";
  // Accepted; the sandbox has no network of its own yet (a later issue).
  std::string network = "sandbox";
  bool systemd_cgroup = false;  // accepted; cgroups are a later step
};

}  // namespace runsc

#endif  // RUNSC_GLOBALS_H_
