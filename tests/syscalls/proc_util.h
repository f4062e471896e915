// Helpers of the /proc/<pid> tests (proc_pid_test.cc, proc_pid_files_test.cc).
#ifndef TESTS_SYSCALLS_PROC_UTIL_H_
#define TESTS_SYSCALLS_PROC_UTIL_H_

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace proc_test {

inline std::string Proc(int pid, const std::string& file) {
  return "/proc/" + std::to_string(pid) + "/" + file;
}

inline std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string item; std::getline(in, item, sep);) out.push_back(item);
  return out;
}

// The fields of /proc/<pid>/stat after "(comm)", numbered as in proc(5):
// out[3] is field 3 (state).
inline std::vector<std::string> StatFields(const std::string& stat,
                                    std::string* comm) {
  const size_t open = stat.find('(');
  const size_t close = stat.rfind(')');
  std::vector<std::string> out = {"", stat.substr(0, open - 1), ""};
  if (comm) *comm = stat.substr(open + 1, close - open - 1);
  std::istringstream in(stat.substr(close + 2));
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

// "Key:\tvalue" of a status file.
inline std::string StatusField(const std::string& status, const std::string& key) {
  for (const std::string& line : Split(status, '\n')) {
    if (line.rfind(key + ":\t", 0) == 0) return line.substr(key.size() + 2);
  }
  return "<none>";
}

inline std::string Readlink(const std::string& path) {
  char buf[4096] = {};
  const ssize_t n = readlink(path.c_str(), buf, sizeof(buf) - 1);
  EXPECT_GE(n, 0) << path;
  return n < 0 ? "" : std::string(buf, n);
}

// A child that waits until told to go (a byte on its pipe, or EOF).
class Child {
 public:
  Child() {
    int go[2];
    EXPECT_EQ(pipe2(go, O_CLOEXEC), 0);
    pid_ = fork();
    if (pid_ == 0) {
      close(go[1]);
      char c;
      (void)!read(go[0], &c, 1);
      _exit(7);
    }
    close(go[0]);
    go_ = go[1];
  }
  ~Child() {
    Release();
    Reap();
  }
  int pid() const { return pid_; }
  void Release() {
    if (go_ >= 0) close(go_);
    go_ = -1;
  }
  int Reap() {
    int status = -1;
    if (pid_ > 0) waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  int pid_ = -1;
  int go_ = -1;
};

}  // namespace proc_test

#endif  // TESTS_SYSCALLS_PROC_UTIL_H_
