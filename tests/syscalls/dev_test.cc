// /dev as programs find it: the device nodes (numbers, modes, types), the
// fd links, /dev/pts and /dev/shm mounted, /dev/tty without a controlling
// terminal, and the minimal /sys/devices/system/cpu programs read to count
// CPUs.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <string>

#include "test_util.h"
#include "temp_dir.h"

namespace syscall_test {
namespace {

struct DeviceCase {
  const char* path;
  unsigned major, minor;
};

TEST(DevTest, CharacterDevices) {
  for (const DeviceCase& d : {DeviceCase{"/dev/null", 1, 3},
                              {"/dev/zero", 1, 5},
                              {"/dev/full", 1, 7},
                              {"/dev/random", 1, 8},
                              {"/dev/urandom", 1, 9},
                              {"/dev/tty", 5, 0},
                              {"/dev/console", 5, 1},
                              {"/dev/ptmx", 5, 2}}) {
    struct stat st;
    ASSERT_THAT(stat(d.path, &st), SyscallSucceeds()) << d.path;
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << d.path;
    EXPECT_EQ(major(st.st_rdev), d.major) << d.path;
    EXPECT_EQ(minor(st.st_rdev), d.minor) << d.path;
  }
}

TEST(DevTest, EveryoneMayOpenTheCommonDevices) {
  for (const char* path : {"/dev/null", "/dev/zero", "/dev/full",
                           "/dev/random", "/dev/urandom", "/dev/tty",
                           "/dev/ptmx"}) {
    struct stat st;
    ASSERT_THAT(stat(path, &st), SyscallSucceeds()) << path;
    EXPECT_EQ(st.st_mode & 0777, 0666u) << path;
  }
}

TEST(DevTest, FdLinks) {
  char buf[64];
  for (auto [link, target] :
       {std::pair<const char*, const char*>{"/dev/fd", "/proc/self/fd"},
        {"/dev/stdin", "/proc/self/fd/0"},
        {"/dev/stdout", "/proc/self/fd/1"},
        {"/dev/stderr", "/proc/self/fd/2"}}) {
    const ssize_t n = readlink(link, buf, sizeof buf);
    ASSERT_GT(n, 0) << link << ": " << ErrnoName(errno);
    EXPECT_EQ(std::string(buf, n), target);
  }
}

TEST(DevTest, PtsIsADevptsMount) {
  struct stat dev, pts;
  ASSERT_THAT(stat("/dev", &dev), SyscallSucceeds());
  ASSERT_THAT(stat("/dev/pts", &pts), SyscallSucceeds());
  EXPECT_TRUE(S_ISDIR(pts.st_mode));
  EXPECT_NE(dev.st_dev, pts.st_dev);
  struct statfs fs;
  ASSERT_THAT(statfs("/dev/pts", &fs), SyscallSucceeds());
  EXPECT_EQ(fs.f_type, 0x1cd1);  // DEVPTS_SUPER_MAGIC
}

TEST(DevTest, ShmIsAStickyWorldWritableTmpfs) {
  struct stat st;
  ASSERT_THAT(stat("/dev/shm", &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 01777u);
  struct statfs fs;
  ASSERT_THAT(statfs("/dev/shm", &fs), SyscallSucceeds());
  EXPECT_EQ(fs.f_type, 0x01021994);  // TMPFS_MAGIC
  // shm_open's home: a file made there can be written and read back.
  char name[] = "/dev/shm/dev_test_XXXXXX";
  FileDescriptor fd(mkstemp(name));
  ASSERT_GE(fd.get(), 0) << ErrnoName(errno);
  ASSERT_THAT(unlink(name), SyscallSucceeds());
  ASSERT_THAT(write(fd.get(), "shm", 3), SyscallSucceedsWithValue(3));
  char buf[4] = {};
  ASSERT_THAT(pread(fd.get(), buf, 3, 0), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf), "shm");
}

TEST(DevTest, ListingShowsTheDevices) {
  DIR* d = opendir("/dev");
  ASSERT_NE(d, nullptr);
  int seen = 0;
  while (struct dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "ptmx" || name == "tty" || name == "console" ||
        name == "null") {
      EXPECT_EQ(e->d_type, DT_CHR) << name;
      ++seen;
    }
    if (name == "pts" || name == "shm") {
      EXPECT_EQ(e->d_type, DT_DIR) << name;
      ++seen;
    }
  }
  closedir(d);
  EXPECT_EQ(seen, 6);
}

// The CPU list format of /sys/devices/system/cpu/{online,possible,present}:
// "0-3" or "0,2-3"; returns the number of CPUs, -1 if malformed.
int CountCpuList(const std::string& s) {
  int count = 0;
  size_t pos = 0;
  std::string body = s;
  if (!body.empty() && body.back() == '\n') body.pop_back();
  if (body.empty()) return -1;
  while (pos <= body.size()) {
    const size_t end = std::min(body.find(',', pos), body.size());
    const std::string part = body.substr(pos, end - pos);
    const size_t dash = part.find('-');
    char* stop;
    const long lo = strtol(part.c_str(), &stop, 10);
    if (dash == std::string::npos) {
      if (*stop != '\0') return -1;
      ++count;
    } else {
      const long hi = strtol(part.c_str() + dash + 1, &stop, 10);
      if (*stop != '\0' || hi < lo) return -1;
      count += hi - lo + 1;
    }
    pos = end + 1;
  }
  return count;
}

TEST(DevTest, SysCpuListsCountTheCpus) {
  const int online =
      CountCpuList(ReadFileContents("/sys/devices/system/cpu/online"));
  ASSERT_GE(online, 1);
  EXPECT_GE(CountCpuList(ReadFileContents("/sys/devices/system/cpu/possible")),
            online);
  EXPECT_GE(CountCpuList(ReadFileContents("/sys/devices/system/cpu/present")),
            online);
  // What glibc counts (it reads the same file) and what the scheduler
  // lets us use.
  EXPECT_EQ(sysconf(_SC_NPROCESSORS_ONLN), online);
  cpu_set_t set;
  ASSERT_THAT(sched_getaffinity(0, sizeof set, &set), SyscallSucceeds());
  EXPECT_LE(CPU_COUNT(&set), online);
}

TEST(DevTest, SysCpuTopology) {
  struct stat st;
  ASSERT_THAT(stat("/sys/devices/system/cpu/cpu0", &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  const std::string core =
      ReadFileContents("/sys/devices/system/cpu/cpu0/topology/core_id");
  ASSERT_FALSE(core.empty());
  EXPECT_EQ(core.back(), '\n');
  const std::string package = ReadFileContents(
      "/sys/devices/system/cpu/cpu0/topology/physical_package_id");
  ASSERT_FALSE(package.empty());
  EXPECT_GE(CountCpuList(ReadFileContents(
                "/sys/devices/system/cpu/cpu0/topology/thread_siblings_list")),
            1);
}

}  // namespace
}  // namespace syscall_test
