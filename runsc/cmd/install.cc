// runsc install [--runtime NAME] [--config-file F]: registers this runsc
// with Docker, adding {"runtimes": {NAME: {"path": <this binary>}}} to
// /etc/docker/daemon.json and keeping the rest of the file; runsc
// uninstall removes that entry. Docker reads the file when it starts or
// gets SIGHUP; neither is done here.
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "runsc/cmd/commands.h"
#include "runsc/container/state.h"
#include "runsc/errors.h"

namespace runsc {
namespace {

using json = nlohmann::json;

// The file's JSON object; {} when the file does not exist.
bool ReadConfig(const Globals& g, const std::string& path, json* out) {
  std::ifstream f(path);
  if (!f) {
    if (errno == ENOENT) {
      *out = json::object();
      return true;
    }
    Fail(g, "cannot read " + path + ": " + strerror(errno));
    return false;
  }
  std::stringstream text;
  text << f.rdbuf();
  *out = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  // An empty file is an empty configuration, as dockerd reads it.
  if (text.str().find_first_not_of(" \t\r\n") == std::string::npos)
    *out = json::object();
  if (out->is_discarded() || !out->is_object()) {
    Fail(g, path + ": not a JSON object; left unchanged");
    return false;
  }
  if (out->contains("runtimes") && !(*out)["runtimes"].is_object()) {
    Fail(g, path + ": \"runtimes\" is not an object; left unchanged");
    return false;
  }
  return true;
}

bool WriteConfig(const Globals& g, const std::string& path, const json& j) {
  struct stat st;
  mode_t mode = 0644;
  if (stat(path.c_str(), &st) == 0) mode = st.st_mode & 07777;
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (auto s = container::WriteFileAtomic(path, j.dump(4) + "\n", mode);
      !s.ok()) {
    Fail(g, "cannot write " + path + ": " + std::string(s.message()));
    return false;
  }
  return true;
}

}  // namespace

int Install(const Globals& g, const InstallFlags& flags) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n < 0) return Fail(g, "cannot find this runsc's path");
  json config;
  if (!ReadConfig(g, flags.config_file, &config)) return 1;
  config["runtimes"][flags.runtime] = {{"path", std::string(exe, n)}};
  if (!WriteConfig(g, flags.config_file, config)) return 1;
  printf("runtime \"%s\" added to %s (restart dockerd or send it SIGHUP)\n",
         flags.runtime.c_str(), flags.config_file.c_str());
  return 0;
}

int Uninstall(const Globals& g, const InstallFlags& flags) {
  json config;
  if (!ReadConfig(g, flags.config_file, &config)) return 1;
  if (!config.contains("runtimes") ||
      !config["runtimes"].contains(flags.runtime))
    return Fail(g, "runtime \"" + flags.runtime + "\" is not in " +
                       flags.config_file);
  config["runtimes"].erase(flags.runtime);
  if (config["runtimes"].empty()) config.erase("runtimes");
  if (!WriteConfig(g, flags.config_file, config)) return 1;
  printf("runtime \"%s\" removed from %s\n", flags.runtime.c_str(),
         flags.config_file.c_str());
  return 0;
}

}  // namespace runsc
