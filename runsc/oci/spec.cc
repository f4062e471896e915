#include "runsc/oci/spec.h"

#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace runsc::oci {
namespace {

using json = nlohmann::json;

// Mount types runsc accepts (see docs/running.md for which it honours).
const std::set<std::string>& KnownMountTypes() {
  static const auto* types =
      new std::set<std::string>{"bind",   "cgroup", "cgroup2", "devpts",
                                "mqueue", "proc",   "sysfs",   "tmpfs"};
  return *types;
}

absl::Status Bad(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat("config.json: ", path, " ", what));
}

// Each getter leaves *out alone when the key is absent (or null), and
// fails when it holds the wrong type.
absl::Status GetString(const json& o, const char* key, const std::string& path,
                       std::string* out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_string()) return Bad(path, "must be a string");
  *out = it->get<std::string>();
  return absl::OkStatus();
}

absl::Status GetBool(const json& o, const char* key, const std::string& path,
                     bool* out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_boolean()) return Bad(path, "must be true or false");
  *out = it->get<bool>();
  return absl::OkStatus();
}

absl::Status GetUint32(const json& o, const char* key, const std::string& path,
                       uint32_t* out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_number_unsigned() || it->get<uint64_t>() > UINT32_MAX)
    return Bad(path, "must be a number from 0 to 4294967295");
  *out = static_cast<uint32_t>(it->get<uint64_t>());
  return absl::OkStatus();
}

absl::Status GetStrings(const json& o, const char* key, const std::string& path,
                        std::vector<std::string>* out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_array()) return Bad(path, "must be an array of strings");
  out->clear();
  for (const json& e : *it) {
    if (!e.is_string()) return Bad(path, "must be an array of strings");
    out->push_back(e.get<std::string>());
  }
  return absl::OkStatus();
}

// The object at `key`, or null when absent; a non-object fails.
absl::StatusOr<const json*> GetObject(const json& o, const char* key,
                                      const std::string& path) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return nullptr;
  if (!it->is_object()) return Bad(path, "must be an object");
  return &*it;
}

#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    if (absl::Status s_ = (expr); !s_.ok()) return s_; \
  } while (0)

absl::Status ParseUser(const json& o, User* user) {
  RETURN_IF_ERROR(GetUint32(o, "uid", "process.user.uid", &user->uid));
  RETURN_IF_ERROR(GetUint32(o, "gid", "process.user.gid", &user->gid));
  if (auto it = o.find("umask"); it != o.end() && !it->is_null()) {
    uint32_t umask = 0;
    RETURN_IF_ERROR(GetUint32(o, "umask", "process.user.umask", &umask));
    user->umask = umask;
  }
  if (auto it = o.find("additionalGids"); it != o.end() && !it->is_null()) {
    if (!it->is_array())
      return Bad("process.user.additionalGids", "must be an array of numbers");
    for (const json& e : *it) {
      if (!e.is_number_unsigned() || e.get<uint64_t>() > UINT32_MAX)
        return Bad("process.user.additionalGids",
                   "must be an array of numbers");
      user->additional_gids.push_back(static_cast<uint32_t>(e.get<uint64_t>()));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseProcess(const json& o, Process* p) {
  RETURN_IF_ERROR(GetBool(o, "terminal", "process.terminal", &p->terminal));
  RETURN_IF_ERROR(GetStrings(o, "args", "process.args", &p->args));
  if (p->args.empty() || p->args[0].empty())
    return Bad("process.args", "must name the program to run");
  RETURN_IF_ERROR(GetStrings(o, "env", "process.env", &p->env));
  RETURN_IF_ERROR(GetString(o, "cwd", "process.cwd", &p->cwd));
  if (p->cwd.empty() || p->cwd[0] != '/')
    return Bad("process.cwd", "must be an absolute path");
  auto user = GetObject(o, "user", "process.user");
  if (!user.ok()) return user.status();
  if (*user) RETURN_IF_ERROR(ParseUser(**user, &p->user));
  auto size = GetObject(o, "consoleSize", "process.consoleSize");
  if (!size.ok()) return size.status();
  if (*size) {
    ConsoleSize cs;
    RETURN_IF_ERROR(
        GetUint32(**size, "height", "process.consoleSize.height", &cs.height));
    RETURN_IF_ERROR(
        GetUint32(**size, "width", "process.consoleSize.width", &cs.width));
    if (cs.height > 0xffff || cs.width > 0xffff)
      return Bad("process.consoleSize", "is too large");
    p->console_size = cs;
  }
  return absl::OkStatus();
}

absl::Status ParseRoot(const json& o, const std::string& bundle, Root* root) {
  RETURN_IF_ERROR(GetString(o, "path", "root.path", &root->path));
  RETURN_IF_ERROR(GetBool(o, "readonly", "root.readonly", &root->readonly));
  if (root->path.empty()) return Bad("root.path", "must name a directory");
  if (root->path[0] != '/') root->path = bundle + "/" + root->path;
  struct stat st;
  if (stat(root->path.c_str(), &st) != 0)
    return Bad("root.path", "\"" + root->path + "\": no such directory");
  if (!S_ISDIR(st.st_mode))
    return Bad("root.path", "\"" + root->path + "\" is not a directory");
  return absl::OkStatus();
}

absl::Status ParseMounts(const json& o, std::vector<Mount>* mounts) {
  auto it = o.find("mounts");
  if (it == o.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_array()) return Bad("mounts", "must be an array of objects");
  for (size_t i = 0; i < it->size(); ++i) {
    const json& m = (*it)[i];
    const std::string path = absl::StrCat("mounts[", i, "]");
    if (!m.is_object()) return Bad(path, "must be an object");
    Mount mount;
    RETURN_IF_ERROR(
        GetString(m, "destination", path + ".destination", &mount.destination));
    RETURN_IF_ERROR(GetString(m, "type", path + ".type", &mount.type));
    RETURN_IF_ERROR(GetString(m, "source", path + ".source", &mount.source));
    RETURN_IF_ERROR(
        GetStrings(m, "options", path + ".options", &mount.options));
    if (mount.destination.empty() || mount.destination[0] != '/')
      return Bad(path + ".destination", "must be an absolute path");
    // runc reads a mount without a type (or "none") whose options say bind
    // as a bind mount.
    if (mount.type.empty() || mount.type == "none") {
      for (const std::string& opt : mount.options)
        if (opt == "bind" || opt == "rbind") mount.type = "bind";
    }
    if (!KnownMountTypes().count(mount.type)) {
      return Bad(
          path + ".type",
          absl::StrCat("\"", mount.type, "\" is not a mount type runsc knows (",
                       absl::StrJoin(KnownMountTypes(), ", "), ")"));
    }
    mounts->push_back(std::move(mount));
  }
  return absl::OkStatus();
}

absl::Status ParseLinux(const json& o, Spec* spec) {
  auto lnx = GetObject(o, "linux", "linux");
  if (!lnx.ok()) return lnx.status();
  if (!*lnx) return absl::OkStatus();
  auto resources = GetObject(**lnx, "resources", "linux.resources");
  if (!resources.ok()) return resources.status();
  if (!*resources) return absl::OkStatus();
  auto pids = GetObject(**resources, "pids", "linux.resources.pids");
  if (!pids.ok()) return pids.status();
  if (!*pids) return absl::OkStatus();
  auto limit = (*pids)->find("limit");
  if (limit == (*pids)->end() || limit->is_null()) return absl::OkStatus();
  if (!limit->is_number_integer())
    return Bad("linux.resources.pids.limit", "must be a number");
  // Zero or less means no limit (runtime-spec), and so the sandbox's own.
  if (limit->get<int64_t>() > 0) spec->pids_limit = limit->get<int64_t>();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Spec> ParseSpec(const std::string& text,
                               const std::string& bundle) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return absl::InvalidArgumentError("config.json: malformed JSON");
  if (!j.is_object())
    return absl::InvalidArgumentError("config.json: must be a JSON object");
  Spec spec;
  RETURN_IF_ERROR(GetString(j, "ociVersion", "ociVersion", &spec.oci_version));
  RETURN_IF_ERROR(GetString(j, "hostname", "hostname", &spec.hostname));
  auto process = GetObject(j, "process", "process");
  if (!process.ok()) return process.status();
  if (!*process) return Bad("process", "is missing");
  RETURN_IF_ERROR(ParseProcess(**process, &spec.process));
  auto root = GetObject(j, "root", "root");
  if (!root.ok()) return root.status();
  if (!*root) return Bad("root", "is missing");
  RETURN_IF_ERROR(ParseRoot(**root, bundle, &spec.root));
  RETURN_IF_ERROR(ParseMounts(j, &spec.mounts));
  auto annotations = GetObject(j, "annotations", "annotations");
  if (!annotations.ok()) return annotations.status();
  if (*annotations) {
    for (const auto& [k, v] : (*annotations)->items()) {
      if (!v.is_string()) return Bad("annotations." + k, "must be a string");
      spec.annotations[k] = v.get<std::string>();
    }
  }
  RETURN_IF_ERROR(ParseLinux(j, &spec));
  return spec;
}

absl::StatusOr<Process> ParseProcessJson(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return absl::InvalidArgumentError("process.json: malformed JSON");
  if (!j.is_object())
    return absl::InvalidArgumentError("process.json: must be a JSON object");
  Process process;
  RETURN_IF_ERROR(ParseProcess(j, &process));
  return process;
}

absl::StatusOr<Spec> LoadSpec(const std::string& bundle) {
  std::ifstream f(bundle + "/config.json");
  if (!f)
    return absl::NotFoundError("cannot read " + bundle +
                               "/config.json: no such file");
  std::stringstream text;
  text << f.rdbuf();
  return ParseSpec(text.str(), bundle);
}

std::string DefaultSpecJson() {
  json mounts = json::array({
      {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
      {{"destination", "/dev"},
       {"type", "tmpfs"},
       {"source", "tmpfs"},
       {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
      {{"destination", "/dev/pts"},
       {"type", "devpts"},
       {"source", "devpts"},
       {"options",
        {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
         "gid=5"}}},
      {{"destination", "/dev/shm"},
       {"type", "tmpfs"},
       {"source", "shm"},
       {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
      {{"destination", "/sys"},
       {"type", "sysfs"},
       {"source", "sysfs"},
       {"options", {"nosuid", "noexec", "nodev", "ro"}}},
  });
  json spec = {
      {"ociVersion", kVersion},
      {"process",
       {{"terminal", true},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", {"sh"}},
        {"env",
         {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          "TERM=xterm"}},
        {"cwd", "/"},
        {"noNewPrivileges", true}}},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "runsc"},
      {"mounts", mounts},
      {"linux",
       {{"namespaces", json::array({{{"type", "pid"}},
                                    {{"type", "network"}},
                                    {{"type", "ipc"}},
                                    {{"type", "uts"}},
                                    {{"type", "mount"}}})}}},
  };
  return spec.dump(2) + "\n";
}

}  // namespace runsc::oci
