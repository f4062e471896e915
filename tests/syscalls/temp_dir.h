// A fresh directory under /tmp (or another base) for the tests that create files
// (file_ops_test.cc, tmpfs_test.cc): made with mkdtemp, removed with
// everything in it. Natively /tmp is the host's; in the sandbox, its tmpfs.
#ifndef TESTS_SYSCALLS_TEMP_DIR_H_
#define TESTS_SYSCALLS_TEMP_DIR_H_

#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <string>

#include "test_util.h"

namespace syscall_test {

class TempDir {
 public:
  // A fresh directory under `base`: "/dev/shm" is a tmpfs natively too
  // (the host's /tmp may not be), "/var/tmp" the overlay root in the
  // sandbox.
  explicit TempDir(const std::string& base = "/tmp") {
    std::string tmpl = base + "/syscall_test_XXXXXX";
    const char* dir = ::mkdtemp(tmpl.data());
    EXPECT_NE(dir, nullptr) << "mkdtemp: " << ErrnoName(errno);
    path_ = dir ? dir : "/nonexistent";
  }
  ~TempDir() {
    // Tests may leave read-only directories behind: open them up first.
    ::nftw(
        path_.c_str(),
        [](const char* p, const struct stat* st, int type, FTW*) {
          if (type == FTW_D) ::chmod(p, 0700);
          return 0;
        },
        16, FTW_PHYS);
    ::nftw(
        path_.c_str(),
        [](const char* p, const struct stat*, int, FTW*) {
          return ::remove(p);
        },
        16, FTW_DEPTH | FTW_PHYS);
  }
  const std::string& path() const { return path_; }
  // "<dir>/name"
  std::string operator/(const std::string& name) const {
    return path_ + "/" + name;
  }

 private:
  std::string path_;
};

// Creates `path` with `contents`; fails the test otherwise.
inline void MakeFile(const std::string& path, const std::string& contents = "",
                     mode_t mode = 0644) {
  FileDescriptor fd(::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY, mode));
  ASSERT_GE(fd.get(), 0) << path << ": " << ErrnoName(errno);
  ASSERT_EQ(::write(fd.get(), contents.data(), contents.size()),
            static_cast<ssize_t>(contents.size()));
}

inline struct stat Lstat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path << ": " << ErrnoName(errno);
  return st;
}

// Sets the umask for one scope.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }

 private:
  mode_t old_;
};

}  // namespace syscall_test

#endif  // TESTS_SYSCALLS_TEMP_DIR_H_
