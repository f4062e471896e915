// runsc events [--stats] [--interval D] ID: the container's usage as
// runc's JSON, {"type":"stats","id":ID,"data":{cpu,memory,pids}}: one
// object with --stats, else one every interval (default 5s) until the
// container stops. The numbers come from the sentry (the sandbox has no
// cgroup of its own yet): memory is the application's pages, pids its
// tasks, cpu the CPU time of its live processes. OOM events are not
// reported.
#include <time.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "absl/time/time.h"
#include "runsc/cmd/commands.h"
#include "runsc/container/container.h"
#include "runsc/errors.h"

namespace runsc {

int Events(const Globals& g, const std::string& id, bool stats,
           const std::string& interval) {
  absl::Duration every;
  if (!absl::ParseDuration(interval, &every) || every <= absl::ZeroDuration())
    return Fail(g, "invalid --interval \"" + interval + "\"");
  for (bool first = true;; first = false) {
    control::Request req;
    req.mutable_stats();
    auto resp = container::Query(g, id, req);
    if (!resp.ok()) {
      // The container stopped while we watched: the stream ends.
      if (!first && !stats) return 0;
      return Fail(g, resp.status());
    }
    const control::Stats& s = resp->stats();
    nlohmann::json data = {
        {"cpu", {{"usage", {{"total", s.cpu_ns()}}}}},
        {"memory", {{"usage", {{"usage", s.memory_bytes()}}}}},
        {"pids", {{"current", s.pids_current()}, {"limit", s.pids_limit()}}}};
    const nlohmann::json event = {
        {"type", "stats"}, {"id", id}, {"data", data}};
    printf("%s\n", event.dump().c_str());
    fflush(stdout);
    if (stats) return 0;
    const timespec ts = absl::ToTimespec(every);
    while (nanosleep(&ts, nullptr) != 0) {
    }
  }
}

}  // namespace runsc
