#include "runsc/container/state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "base/fd_io.h"

namespace runsc::container {

using json = nlohmann::json;

absl::Status ValidateId(const std::string& id) {
  if (id.empty()) return absl::InvalidArgumentError("container id is empty");
  if (id.size() > kMaxIdLength)
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid container id: longer than ", kMaxIdLength, " bytes"));
  if (id == "." || id == "..")
    return absl::InvalidArgumentError("invalid container id \"" + id + "\"");
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-' ||
              c == '.';
    if (!ok)
      return absl::InvalidArgumentError(
          "invalid container id \"" + id +
          "\": only letters, digits and _+-. may be used");
  }
  return absl::OkStatus();
}

std::string ContainerDir(const std::string& root, const std::string& id) {
  return root + "/" + id;
}

absl::Status WriteFileAtomic(const std::string& path, const std::string& data,
                             mode_t mode) {
  const std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return absl::ErrnoToStatus(errno, "open " + tmp);
  bool ok = base::WriteFull(fd, data.data(), data.size());
  int err = errno;
  if (close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) err = errno;
    unlink(tmp.c_str());
    return absl::ErrnoToStatus(err, "write " + path);
  }
  return absl::OkStatus();
}

absl::Status SaveState(const std::string& root, const State& s) {
  json j = {{"ociVersion", s.oci_version},
            {"id", s.id},
            {"pid", s.pid},
            {"pidStart", s.pid_start},
            {"gofer", s.gofer},
            {"goferStart", s.gofer_start},
            {"status", s.status},
            {"bundle", s.bundle},
            {"rootfs", s.rootfs},
            {"created", s.created},
            {"owner", s.owner},
            {"annotations", s.annotations}};
  return WriteFileAtomic(ContainerDir(root, s.id) + "/state.json", j.dump(),
                         0600);
}

absl::StatusOr<State> LoadState(const std::string& root,
                                const std::string& id) {
  if (auto s = ValidateId(id); !s.ok()) return s;
  std::ifstream f(ContainerDir(root, id) + "/state.json");
  if (!f) return absl::NotFoundError("container \"" + id + "\" does not exist");
  std::stringstream text;
  text << f.rdbuf();
  json j = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  State s;
  try {
    s.oci_version = j.at("ociVersion").get<std::string>();
    s.id = j.at("id").get<std::string>();
    s.pid = j.at("pid").get<pid_t>();
    s.pid_start = j.at("pidStart").get<uint64_t>();
    s.gofer = j.at("gofer").get<pid_t>();
    s.gofer_start = j.at("goferStart").get<uint64_t>();
    s.status = j.at("status").get<std::string>();
    s.bundle = j.at("bundle").get<std::string>();
    s.rootfs = j.at("rootfs").get<std::string>();
    s.created = j.at("created").get<std::string>();
    s.owner = j.at("owner").get<std::string>();
    s.annotations =
        j.at("annotations").get<std::map<std::string, std::string>>();
  } catch (const json::exception& e) {
    return absl::DataLossError("container \"" + id +
                               "\": state.json is damaged: " + e.what());
  }
  return s;
}

uint64_t ProcessStartTime(pid_t pid) {
  if (pid <= 0) return 0;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line((std::istreambuf_iterator<char>(f)), {});
  // The fields after the ")" that ends the command name: state is the
  // 3rd field, start time the 22nd.
  auto close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(line.substr(close + 2));
  std::string field, state;
  rest >> state;
  if (state == "Z" || state == "X") return 0;
  for (int i = 4; i < 22; ++i) rest >> field;
  uint64_t start = 0;
  rest >> start;
  return start;
}

std::string CurrentStatus(const State& s) {
  if (s.pid_start == 0 || ProcessStartTime(s.pid) != s.pid_start)
    return "stopped";
  return s.status;
}

std::string StateJson(const State& s, const std::string& status) {
  json j = {{"ociVersion", s.oci_version},
            {"id", s.id},
            {"pid", status == "stopped" ? 0 : s.pid},
            {"status", status},
            {"bundle", s.bundle},
            {"rootfs", s.rootfs},
            {"created", s.created},
            {"owner", s.owner},
            {"annotations", s.annotations}};
  return j.dump(2);
}

}  // namespace runsc::container
