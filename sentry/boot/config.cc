#include <nlohmann/json.hpp>

#include "sentry/boot/boot.h"

namespace boot {

std::string ConfigToJson(const Config& c) {
  nlohmann::json j = {
      {"argv", c.argv},         {"env", c.env},   {"cwd", c.cwd},
      {"platform", c.platform}, {"root", c.root}, {"hostname", c.hostname},
      {"strace", c.strace},     {"uid", c.uid},   {"gid", c.gid},
      {"visible", c.visible},   {"pids_limit", c.pids_limit},
      {"tty", c.tty},           {"systrap_patch", c.systrap_patch},
  };
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
