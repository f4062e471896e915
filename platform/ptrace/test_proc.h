// /proc readers for the ptrace platform tests: what a stub maps, holds and
// is, per process and per thread.
#ifndef PLATFORM_PTRACE_TEST_PROC_H_
#define PLATFORM_PTRACE_TEST_PROC_H_

#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace platform::ptrace {

struct Mapping {
  uint64_t start, end;
  std::string perms, path;
};

inline std::vector<Mapping> ReadMaps(pid_t pid) {
  std::vector<Mapping> maps;
  std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    Mapping m;
    std::string range, offset, dev, inode;
    fields >> range >> m.perms >> offset >> dev >> inode;
    std::getline(fields >> std::ws, m.path);
    m.start = std::stoull(range.substr(0, range.find('-')), nullptr, 16);
    m.end = std::stoull(range.substr(range.find('-') + 1), nullptr, 16);
    maps.push_back(m);
  }
  return maps;
}

// fd number -> what it points to.
inline std::vector<std::pair<int, std::string>> ReadFds(pid_t pid) {
  std::vector<std::pair<int, std::string>> fds;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd/";
  for (int fd = 0; fd < 1024; ++fd) {
    char target[256];
    const ssize_t n = readlink((dir + std::to_string(fd)).c_str(), target,
                               sizeof(target) - 1);
    if (n > 0) fds.emplace_back(fd, std::string(target, n));
  }
  return fds;
}

// A field of /proc/<pid>/status, or of /proc/<pid>/task/<tid>/status.
inline std::string StatusField(pid_t pid, const std::string& key,
                               pid_t tid = 0) {
  std::string path = "/proc/" + std::to_string(pid);
  if (tid != 0) path += "/task/" + std::to_string(tid);
  std::ifstream in(path + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + ":", 0) == 0) {
      std::istringstream value(line.substr(key.size() + 1));
      std::string word;
      value >> word;
      return word;
    }
  }
  return "";
}

// The threads of process `pid` (/proc/<pid>/task).
inline std::vector<pid_t> TaskIds(pid_t pid) {
  std::vector<pid_t> tids;
  DIR* dir = opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
  if (dir == nullptr) return tids;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') tids.push_back(std::stoi(e->d_name));
  }
  closedir(dir);
  return tids;
}

// Gone, or a zombie nobody reaps (a container's init may not).
inline bool IsGone(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return true;
  return stat.substr(stat.rfind(')') + 2, 1) == "Z";
}

inline bool BecomesGone(pid_t pid) {
  for (int i = 0; i < 500; ++i) {
    if (IsGone(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace platform::ptrace

#endif  // PLATFORM_PTRACE_TEST_PROC_H_
