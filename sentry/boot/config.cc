#include <nlohmann/json.hpp>

#include "sentry/boot/boot.h"

namespace boot {

void to_json(nlohmann::json& j, const MountSpec& m) {
  j = {{"destination", m.destination}, {"type", m.type},
       {"source", m.source},           {"flags", m.flags},
       {"data", m.data}};
}
void from_json(const nlohmann::json& j, MountSpec& m) {
  j.at("destination").get_to(m.destination);
  j.at("type").get_to(m.type);
  j.at("source").get_to(m.source);
  j.at("flags").get_to(m.flags);
  j.at("data").get_to(m.data);
}
void to_json(nlohmann::json& j, const RlimitSpec& r) {
  j = {r.resource, r.soft, r.hard};
}
void from_json(const nlohmann::json& j, RlimitSpec& r) {
  j.at(0).get_to(r.resource);
  j.at(1).get_to(r.soft);
  j.at(2).get_to(r.hard);
}
void to_json(nlohmann::json& j, const CapabilitySets& c) {
  j = {c.bounding, c.effective, c.permitted, c.inheritable, c.ambient};
}
void from_json(const nlohmann::json& j, CapabilitySets& c) {
  j.at(0).get_to(c.bounding);
  j.at(1).get_to(c.effective);
  j.at(2).get_to(c.permitted);
  j.at(3).get_to(c.inheritable);
  j.at(4).get_to(c.ambient);
}

std::string ConfigToJson(const Config& c) {
  nlohmann::json j = {
      {"argv", c.argv},         {"env", c.env},   {"cwd", c.cwd},
      {"platform", c.platform}, {"root", c.root}, {"hostname", c.hostname},
      {"strace", c.strace},     {"uid", c.uid},   {"gid", c.gid},
      {"visible", c.visible},   {"pids_limit", c.pids_limit},
      {"tty", c.tty},           {"systrap_patch", c.systrap_patch},
      {"groups", c.groups},     {"umask", c.umask},
      {"rlimits", c.rlimits},   {"no_new_privs", c.no_new_privs},
      {"domainname", c.domainname},
      {"root_readonly", c.root_readonly},
      {"mounts", c.mounts},
      {"masked_paths", c.masked_paths},
      {"readonly_paths", c.readonly_paths},
  };
  if (c.has_capabilities) j["capabilities"] = c.capabilities;
  return j.dump();
}

bool ConfigFromJson(const std::string& json, Config* c, std::string* why) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    *why = "sandbox configuration is not a JSON object";
    return false;
  }
  try {
    c->argv = j.at("argv").get<std::vector<std::string>>();
    c->env = j.value("env", std::vector<std::string>{});
    c->cwd = j.value("cwd", std::string("/"));
    c->platform = j.value("platform", std::string("systrap"));
    c->systrap_patch = j.value("systrap_patch", false);
    c->root = j.value("root", std::string("/"));
    c->hostname = j.value("hostname", std::string("runsc"));
    c->strace = j.value("strace", false);
    c->visible = j.value("visible", std::vector<std::string>{});
    c->uid = j.value("uid", 0u);
    c->gid = j.value("gid", 0u);
    c->pids_limit = j.value("pids_limit", kDefaultPidsLimit);
    c->tty = j.value("tty", false);
    c->groups = j.value("groups", std::vector<uint32_t>{});
    c->umask = j.value("umask", -1);
    c->rlimits = j.value("rlimits", std::vector<RlimitSpec>{});
    c->no_new_privs = j.value("no_new_privs", false);
    c->domainname = j.value("domainname", std::string("(none)"));
    c->root_readonly = j.value("root_readonly", false);
    c->mounts = j.value("mounts", std::vector<MountSpec>{});
    c->masked_paths = j.value("masked_paths", std::vector<std::string>{});
    c->readonly_paths = j.value("readonly_paths", std::vector<std::string>{});
    if (j.contains("capabilities")) {
      c->has_capabilities = true;
      j.at("capabilities").get_to(c->capabilities);
    }
  } catch (const nlohmann::json::exception& e) {
    *why = std::string("bad sandbox configuration: ") + e.what();
    return false;
  }
  if (c->pids_limit == 0) {
    *why = "pids_limit must be at least 1";
    return false;
  }
  if (c->argv.empty()) {
    *why = "no command to run";
    return false;
  }
  return true;
}

}  // namespace boot
