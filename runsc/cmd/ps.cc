// runsc ps [--format table|json] ID: the container's processes. The
// application's processes exist only in the sentry and have no host pids,
// so, as gVisor's runsc ps does, both formats give the sandbox's own pids:
// json is the array of them (what the runc shims read), table has UID,
// PID, PPID, STIME (since the sandbox booted), TIME and CMD.
#include <cstdio>

#include "absl/strings/str_format.h"
#include "runsc/cmd/commands.h"
#include "runsc/container/container.h"
#include "runsc/errors.h"

namespace runsc {
namespace {

std::string Duration(int64_t ns) {
  const int64_t s = ns / 1000000000;
  return absl::StrFormat("%02d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
}

}  // namespace

int Ps(const Globals& g, const std::string& id, const std::string& format) {
  if (format != "table" && format != "json")
    return Fail(g, "invalid format option: " + format);
  control::Request req;
  req.mutable_ps();
  auto resp = container::Query(g, id, req);
  if (!resp.ok()) return Fail(g, resp.status());
  if (format == "json") {
    std::string out = "[";
    for (int i = 0; i < resp->processes_size(); ++i)
      out += (i ? "," : "") + std::to_string(resp->processes(i).pid());
    printf("%s]\n", out.c_str());
    return 0;
  }
  printf("%-8s %-8s %-8s %-8s %-10s %s\n", "UID", "PID", "PPID", "STIME",
         "TIME", "CMD");
  for (const control::ProcessInfo& p : resp->processes()) {
    printf("%-8u %-8d %-8d %-8s %-10s %s\n", p.uid(), p.pid(), p.ppid(),
           Duration(p.start_ns()).c_str(), Duration(p.cpu_ns()).c_str(),
           p.cmd().c_str());
  }
  return 0;
}

}  // namespace runsc
