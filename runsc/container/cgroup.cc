#include "runsc/container/cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "runsc/container/state.h"

namespace runsc::container {
namespace {

constexpr char kCgroupRoot[] = "/sys/fs/cgroup";
constexpr const char* kControllers[] = {"memory", "cpu", "cpuset", "pids"};

absl::Status Bad(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError("config.json: linux.cgroupsPath \"" +
                                    path + "\" " + what);
}

// "a-b.slice" lives in /a.slice/a-b.slice, as systemd nests slices.
absl::StatusOr<std::string> ExpandSlice(const std::string& slice,
                                        const std::string& whole) {
  if (slice == "-.slice") return std::string();
  if (!slice.ends_with(".slice") || slice.find('/') != std::string::npos)
    return Bad(whole, "does not name a slice");
  const std::string name = slice.substr(0, slice.size() - 6);
  if (name.empty() || name.starts_with("-") || name.ends_with("-") ||
      name.find("--") != std::string::npos)
    return Bad(whole, "does not name a slice");
  std::string out, prefix;
  for (absl::string_view part : absl::StrSplit(name, '-')) {
    prefix += (prefix.empty() ? "" : "-") + std::string(part);
    out += "/" + prefix + ".slice";
  }
  return out;
}

std::string ReadValue(const std::string& file) {
  std::ifstream f(file);
  std::string v;
  std::getline(f, v);
  return v;
}

absl::Status WriteValue(const std::string& dir, const char* file,
                        const std::string& value) {
  const std::string path = dir + "/" + file;
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  bool ok = fd >= 0 && write(fd, value.data(), value.size()) ==
                           static_cast<ssize_t>(value.size());
  const int err = errno;
  if (fd >= 0) close(fd);
  if (ok) return absl::OkStatus();
  return absl::ErrnoToStatus(
      err, absl::StrCat("cannot set ", file, " to ", value, " in ", dir));
}

// This process's cgroup in `controller`'s v1 hierarchy ("" for its root),
// from /proc/self/cgroup ("4:memory:/a/b").
std::string OwnCgroup(const std::string& controller) {
  std::ifstream f("/proc/self/cgroup");
  for (std::string line; std::getline(f, line);) {
    std::vector<std::string> parts = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (parts.size() != 3) continue;
    for (absl::string_view c : absl::StrSplit(parts[1], ',')) {
      if (c == controller) return parts[2] == "/" ? "" : parts[2];
    }
  }
  return "";
}

void SaveRecord(const std::string& record,
                const std::vector<std::string>& dirs) {
  (void)WriteFileAtomic(record, nlohmann::json(dirs).dump(), 0600);
}

absl::Status Apply(const std::string& controller, const std::string& dir,
                   const oci::Resources& r, std::optional<int64_t> pids) {
  if (controller == "memory") {
    if (r.memory_limit)
      if (auto s = WriteValue(dir, "memory.limit_in_bytes",
                              std::to_string(*r.memory_limit));
          !s.ok())
        return s;
    // OCI's swap is memory+swap, as memsw (absent without swap
    // accounting: then there is no swap limit to set).
    if (r.memory_swap && access((dir + "/memory.memsw.limit_in_bytes").c_str(),
                                F_OK) == 0)
      if (auto s = WriteValue(dir, "memory.memsw.limit_in_bytes",
                              std::to_string(*r.memory_swap));
          !s.ok())
        return s;
    if (r.memory_reservation)
      if (auto s = WriteValue(dir, "memory.soft_limit_in_bytes",
                              std::to_string(*r.memory_reservation));
          !s.ok())
        return s;
  } else if (controller == "cpu") {
    if (r.cpu_shares)
      if (auto s = WriteValue(dir, "cpu.shares", std::to_string(*r.cpu_shares));
          !s.ok())
        return s;
    if (r.cpu_period)
      if (auto s = WriteValue(dir, "cpu.cfs_period_us",
                              std::to_string(*r.cpu_period));
          !s.ok())
        return s;
    if (r.cpu_quota)
      if (auto s = WriteValue(dir, "cpu.cfs_quota_us",
                              std::to_string(*r.cpu_quota));
          !s.ok())
        return s;
  } else if (controller == "cpuset") {
    if (!r.cpus.empty())
      if (auto s = WriteValue(dir, "cpuset.cpus", r.cpus); !s.ok()) return s;
    if (!r.mems.empty())
      if (auto s = WriteValue(dir, "cpuset.mems", r.mems); !s.ok()) return s;
  } else if (controller == "pids" && pids) {
    if (auto s = WriteValue(dir, "pids.max", std::to_string(HostPidsMax(*pids)));
        !s.ok())
      return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> CgroupPath(const std::string& cgroups_path,
                                       bool systemd, const std::string& id) {
  if (systemd) {
    const std::string whole =
        cgroups_path.empty() ? "system.slice:runsc:" + id : cgroups_path;
    std::vector<std::string> parts = absl::StrSplit(whole, ':');
    if (parts.size() != 3 || parts[2].empty())
      return Bad(whole, "is not slice:prefix:name (--systemd-cgroup)");
    auto slice = ExpandSlice(parts[0].empty() ? "system.slice" : parts[0],
                             whole);
    if (!slice.ok()) return slice.status();
    const std::string unit =
        parts[2].ends_with(".slice")
            ? parts[2]
            : (parts[1].empty() ? "" : parts[1] + "-") + parts[2] + ".scope";
    if (unit.find('/') != std::string::npos || unit.starts_with("."))
      return Bad(whole, "does not name a unit");
    return *slice + "/" + unit;
  }
  std::string path = cgroups_path.empty() ? "runsc/" + id : cgroups_path;
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part == "..") return Bad(cgroups_path, "may not hold \"..\"");
  }
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path == "/") return Bad(cgroups_path, "is the root cgroup");
  return path;
}

absl::StatusOr<std::vector<std::string>> SetUpCgroup(
    const std::string& path, const oci::Resources& resources,
    std::optional<int64_t> pids_limit, const std::string& record) {
  if (access((std::string(kCgroupRoot) + "/cgroup.controllers").c_str(),
             F_OK) == 0)
    return absl::UnimplementedError(
        "this host has cgroup v2 only; runsc applies linux.resources on "
        "cgroup v1 so far");
  std::vector<std::string> made, procs;
  auto fail = [&](absl::Status s) {
    RemoveCgroup(record);
    return s;
  };
  for (const char* controller : kControllers) {
    const std::string root = std::string(kCgroupRoot) + "/" + controller;
    if (access((root + "/cgroup.procs").c_str(), F_OK) != 0)
      return fail(absl::FailedPreconditionError(
          "no cgroup v1 " + std::string(controller) + " hierarchy at " + root));
    // A relative path is below runsc's own cgroup (as runc reads it).
    std::string dir = root;
    if (path[0] != '/') dir += OwnCgroup(controller);
    for (absl::string_view part :
         absl::StrSplit(path, '/', absl::SkipEmpty())) {
      const std::string parent = dir;
      dir += "/" + std::string(part);
      if (access(dir.c_str(), F_OK) == 0) continue;
      made.push_back(dir);
      SaveRecord(record, made);
      if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
        return fail(absl::ErrnoToStatus(errno, "cannot make cgroup " + dir));
      // A new cpuset cgroup has no cpus or mems: it starts with its
      // parent's, as cgroup.clone_children would give it.
      if (std::string(controller) == "cpuset") {
        for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
          if (auto s = WriteValue(dir, f, ReadValue(parent + "/" + f));
              !s.ok())
            return fail(s);
        }
      }
    }
    if (auto s = Apply(controller, dir, resources, pids_limit); !s.ok())
      return fail(s);
    procs.push_back(dir + "/cgroup.procs");
  }
  return procs;
}

void RemoveCgroup(const std::string& record) {
  std::ifstream f(record);
  if (!f) return;
  std::stringstream text;
  text << f.rdbuf();
  auto dirs = nlohmann::json::parse(text.str(), nullptr, false);
  if (dirs.is_array()) {
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
      if (it->is_string()) rmdir(it->get<std::string>().c_str());
    }
  }
  unlink(record.c_str());
}

}  // namespace runsc::container
