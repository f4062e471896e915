// Helpers for the VFS unit tests: a throwaway host tree to serve as "/",
// a fake process for procfs, and short I/O wrappers.
#ifndef SENTRY_VFS_VFS_TEST_UTIL_H_
#define SENTRY_VFS_VFS_TEST_UTIL_H_

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sentry/vfs/proc_view.h"
#include "sentry/vfs/vfs.h"

namespace vfs::testing {

// A directory made with mkdtemp, removed with everything in it.
class TempTree {
 public:
  TempTree() {
    char tmpl[] = "/tmp/vfs_test_XXXXXX";
    const char* dir = ::mkdtemp(tmpl);
    if (dir == nullptr) ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
    root_ = dir ? dir : "/nonexistent";
  }
  ~TempTree() {
    ::nftw(
        root_.c_str(),
        [](const char* p, const struct stat*, int, FTW*) {
          return ::remove(p);
        },
        16, FTW_DEPTH | FTW_PHYS);
  }
  const std::string& root() const { return root_; }
  std::string Host(const std::string& rel) const { return root_ + "/" + rel; }

  void Dir(const std::string& rel) {
    ASSERT_EQ(::mkdir(Host(rel).c_str(), 0755), 0) << rel;
  }
  void File(const std::string& rel, const std::string& data,
            mode_t mode = 0644) {
    const int fd = ::open(Host(rel).c_str(), O_CREAT | O_WRONLY, mode);
    ASSERT_GE(fd, 0) << rel;
    ASSERT_EQ(::write(fd, data.data(), data.size()),
              static_cast<ssize_t>(data.size()));
    ::fchmod(fd, mode);  // umask would have trimmed it
    ::close(fd);
  }
  void Symlink(const std::string& rel, const std::string& target) {
    ASSERT_EQ(::symlink(target.c_str(), Host(rel).c_str()), 0) << rel;
  }

 private:
  std::string root_;
};

// One process, pid 7, as the walker and as the whole kernel procfs sees.
class FakeProcess : public ProcessView, public KernelView {
 public:
  int pid() const override { return pid_; }
  int tid() const override { return pid_; }
  const KernelView* kernel() const override { return this; }

  std::vector<int> Pids() const override { return {pid_}; }
  int ProcessOf(int tid) const override { return tid == pid_ ? pid_ : 0; }
  std::vector<int> Tids(int pid) const override {
    return pid == pid_ ? std::vector<int>{pid_} : std::vector<int>{};
  }
  base::Result<ProcTask> Task(int pid, int tid) const override {
    if (pid != pid_ || (tid != 0 && tid != pid_)) return base::Err(ESRCH);
    ProcTask t;
    t.pid = t.tid = pid_;
    t.comm = "app";
    return t;
  }
  base::Result<ProcMemory> Memory(int pid) const override {
    return ProcMemory{};
  }
  base::Result<std::string> ReadMemory(int pid, uint64_t addr,
                                       size_t len) const override {
    return std::string();
  }
  std::vector<ProcIpcObject> IpcObjects(int tid,
                                        IpcKind kind) const override {
    return {};
  }
  base::Result<std::shared_ptr<ProcessMemory>> OpenMemory(
      int pid, int caller_tid) const override {
    return base::Err(EACCES);
  }
  base::Result<std::array<rlimit, RLIM_NLIMITS>> Limits(
      int pid) const override {
    std::array<rlimit, RLIM_NLIMITS> l;
    l.fill({RLIM_INFINITY, RLIM_INFINITY});
    return l;
  }
  base::Result<std::string> ExePath(int pid) const override { return exe_; }
  base::Result<std::string> Cwd(int pid) const override { return "/"; }
  std::vector<int> Fds(int pid) const override {
    std::vector<int> out;
    for (const auto& [fd, desc] : fds_) out.push_back(fd);
    return out;
  }
  std::shared_ptr<FileDescription> Fd(int pid, int fd) const override {
    auto it = fds_.find(fd);
    return it == fds_.end() ? nullptr : it->second;
  }
  bool FdCloexec(int pid, int fd) const override { return false; }
  base::Result<Writer> CommWriter(int pid, int tid,
                                  int caller_pid) const override {
    return base::Err(EINVAL);
  }
  base::Result<Writer> OomScoreAdjWriter(int pid,
                                         bool privileged) const override {
    return base::Err(EINVAL);
  }
  base::Result<std::string> UtsName(int tid, bool domain) const override {
    return std::string("host");
  }
  base::Result<Writer> UtsNameWriter(int tid, bool domain) const override {
    return base::Err(EINVAL);
  }
  ProcSystem System() const override { return ProcSystem{}; }
  ProcIpcLimits IpcLimits() const override { return ProcIpcLimits{}; }
  std::string BootId() const override { return "boot"; }

  int pid_ = 7;
  std::string exe_ = "/bin/app";
  std::map<int, std::shared_ptr<FileDescription>> fds_;
};

// Reads up to `max` bytes with one Read.
inline std::string ReadSome(FileDescription& f, size_t max = 4096) {
  std::string buf(max, '\0');
  iovec iov{buf.data(), buf.size()};
  auto n = f.Read({&iov, 1});
  EXPECT_TRUE(n.has_value()) << (n ? "" : base::ErrnoName(n.error().value));
  buf.resize(n.value_or(0));
  return buf;
}

inline base::Result<size_t> WriteString(FileDescription& f,
                                        const std::string& s) {
  iovec iov{const_cast<char*>(s.data()), s.size()};
  return f.Write({&iov, 1});
}

// Every name Getdents64 returns until the end, with its d_type.
inline std::map<std::string, int> ListDir(FileDescription& f) {
  std::map<std::string, int> names;
  std::vector<uint8_t> buf(256);  // small, to exercise several calls
  for (;;) {
    auto n = f.Getdents64(buf);
    EXPECT_TRUE(n.has_value());
    if (!n || *n == 0) break;
    for (size_t off = 0; off < *n;) {
      uint16_t reclen;
      std::memcpy(&reclen, &buf[off + 16], 2);
      names[reinterpret_cast<const char*>(&buf[off + 19])] = buf[off + 18];
      off += reclen;
    }
  }
  return names;
}

}  // namespace vfs::testing

// EXPECT_ERRNO(expr, ENOENT): `expr` is a Result holding that error.
#define EXPECT_ERRNO(expr, err)                                    \
  do {                                                             \
    auto r_ = (expr);                                              \
    if (r_.has_value()) {                                          \
      ADD_FAILURE() << #expr << " succeeded, expected " #err;      \
    } else {                                                       \
      EXPECT_EQ(r_.error().value, err)                             \
          << #expr << ": " << ::base::ErrnoName(r_.error().value); \
    }                                                              \
  } while (0)

// ASSERT_OK_AND_ASSIGN(auto f, vfs->Open(...)): unwraps or fails the test.
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  VFS_ASSIGN_IMPL_(VFS_CONCAT_(result_, __LINE__), lhs, expr)
#define VFS_CONCAT_(a, b) VFS_CONCAT2_(a, b)
#define VFS_CONCAT2_(a, b) a##b
#define VFS_ASSIGN_IMPL_(r, lhs, expr)                        \
  auto r = (expr);                                            \
  ASSERT_TRUE(r.has_value())                                  \
      << #expr << ": " << ::base::ErrnoName(r.error().value); \
  lhs = std::move(r).value()

#endif  // SENTRY_VFS_VFS_TEST_UTIL_H_
