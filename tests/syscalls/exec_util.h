// Helpers of exec_test.cc and exec_script_test.cc: run an exec in a forked
// child and collect what the new image reports about itself (the probe in
// exec_probe.cc, a constructor of this same binary).
#ifndef TESTS_SYSCALLS_EXEC_UTIL_H_
#define TESTS_SYSCALLS_EXEC_UTIL_H_

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "test_util.h"

namespace syscall_test {

// Where the exec'd probe writes its report (not close-on-exec).
inline constexpr int kReportFd = 100;
inline const std::string kReportEnv = "EXEC_TEST_REPORT=100";

struct ExecOutcome {
  int exec_errno = 0;  // the exec failed with this; nothing ran
  int status = -1;     // the child's wait status
  std::map<std::string, std::string> report;
  // The probe ran to its end.
  bool ran() const { return report.count("done") != 0; }
  // The reported value, or "<missing KEY>".
  std::string operator[](const std::string& key) const {
    auto it = report.find(key);
    return it == report.end() ? "<missing " + key + ">" : it->second;
  }
  long Num(const std::string& key) const {
    return strtol((*this)[key].c_str(), nullptr, 0);
  }
};

// argv or envp for execve: the strings and a NULL-terminated array.
class CStrings {
 public:
  CStrings(std::vector<std::string> v) : strings_(std::move(v)) {
    for (auto& s : strings_) ptrs_.push_back(s.data());
    ptrs_.push_back(nullptr);
  }
  // Moves keep the pointers valid (the buffers move); copies would not.
  CStrings(CStrings&&) = default;
  CStrings(const CStrings&) = delete;
  char** get() { return ptrs_.data(); }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> ptrs_;
};

// The probe's environment: kReportEnv and `extra`.
inline CStrings ProbeEnv(std::vector<std::string> extra = {}) {
  extra.push_back(kReportEnv);
  return CStrings(std::move(extra));
}

// Forks a child that runs `child` with the report pipe at kReportFd:
// `child` sets up state and execs, returning errno if the exec failed.
// Returns what the exec'd probe reported (or the exec's errno) and the
// child's wait status.
inline ExecOutcome ForkAndExec(const std::function<int()>& child) {
  ExecOutcome out;
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << ErrnoName(errno);
    return out;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    if (dup2(p[1], kReportFd) != kReportFd) _exit(126);
    const int err = child();
    dprintf(kReportFd, "exec_errno=%d\n", err);
    _exit(127);
  }
  close(p[1]);
  EXPECT_GT(pid, 0) << "fork: " << ErrnoName(errno);
  std::string text = pid > 0 ? ReadToEnd(p[0]) : "";
  close(p[0]);
  if (pid > 0) {
    EXPECT_THAT(waitpid(pid, &out.status, __WALL),
                SyscallSucceedsWithValue(pid));
  }
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(pos, nl - pos);
    const size_t eq = line.find('=');
    if (eq != std::string::npos)
      out.report[line.substr(0, eq)] = line.substr(eq + 1);
    pos = nl + 1;
  }
  if (out.report.count("exec_errno")) out.exec_errno = out.Num("exec_errno");
  return out;
}

// The errno of an exec that must fail (0 if it ran the probe instead).
inline int ExecErrno(const std::function<int()>& child) {
  ExecOutcome o = ForkAndExec(child);
  EXPECT_TRUE(o.exec_errno != 0 || o.ran()) << "neither failed nor ran";
  return o.exec_errno;
}

inline int Execve(const std::string& path, CStrings argv, CStrings envp) {
  execve(path.c_str(), argv.get(), envp.get());
  return errno;
}

inline std::string SelfExe() {
  char buf[PATH_MAX] = {};
  EXPECT_GT(readlink("/proc/self/exe", buf, sizeof(buf) - 1), 0);
  return buf;
}

// Copies this test binary to `path`, closed (so exec is not ETXTBSY).
inline void CopySelf(const std::string& path, mode_t mode = 0755) {
  FileDescriptor in(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  ASSERT_GE(in.get(), 0) << ErrnoName(errno);
  FileDescriptor out(
      open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0700));
  ASSERT_GE(out.get(), 0) << path << ": " << ErrnoName(errno);
  char buf[65536];
  for (;;) {
    ssize_t n = read(in.get(), buf, sizeof(buf));
    ASSERT_GE(n, 0) << ErrnoName(errno);
    if (n == 0) break;
    ASSERT_EQ(write(out.get(), buf, n), n) << ErrnoName(errno);
  }
  ASSERT_EQ(fchmod(out.get(), mode), 0) << ErrnoName(errno);
}

}  // namespace syscall_test

#endif  // TESTS_SYSCALLS_EXEC_UTIL_H_
