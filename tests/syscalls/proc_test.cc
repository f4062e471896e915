// /proc's system files and /proc/sys: the formats programs parse (procps,
// busybox, psutil) and values that agree with the syscalls that report
// the same thing.
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using syscall_test::FileDescriptor;
using syscall_test::PageSize;
using syscall_test::ReadFileContents;
using syscall_test::SyscallFailsWithErrno;
using syscall_test::SyscallSucceeds;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The value of "Key:   123 kB" in /proc/meminfo, or -1.
long long MeminfoKb(const std::string& meminfo, const std::string& key) {
  for (const std::string& line : Lines(meminfo)) {
    long long v;
    char unit[8];
    if (line.rfind(key + ":", 0) == 0 &&
        sscanf(line.c_str() + key.size() + 1, "%lld %7s", &v, unit) == 2) {
      return v;
    }
  }
  return -1;
}

// A one-line sysctl, without its newline.
std::string Sysctl(const char* name) {
  std::string v = ReadFileContents((std::string("/proc/sys/") + name).c_str());
  EXPECT_FALSE(v.empty()) << name;
  EXPECT_EQ(v.back(), '\n') << name;
  if (!v.empty()) v.pop_back();
  return v;
}

TEST(ProcTest, RootListsProcessesAndFiles) {
  FileDescriptor dir(open("/proc", O_RDONLY | O_DIRECTORY));
  ASSERT_GE(dir.get(), 0);
  std::set<std::string> names;
  char buf[8192];
  for (;;) {
    long n = syscall(SYS_getdents64, dir.get(), buf, sizeof(buf));
    ASSERT_GE(n, 0);
    if (n == 0) break;
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<struct dirent64*>(buf + off);
      names.insert(d->d_name);
      off += d->d_reclen;
    }
  }
  for (const char* f : {"self", "thread-self", "mounts", "meminfo", "cpuinfo",
                        "stat", "uptime", "loadavg", "filesystems", "version",
                        "sys"}) {
    EXPECT_TRUE(names.count(f)) << f;
  }
  EXPECT_TRUE(names.count(std::to_string(getpid())));
  // Threads other than leaders are not listed, but can be looked up.
  struct stat st;
  EXPECT_THAT(stat(("/proc/" + std::to_string(getpid())).c_str(), &st),
              SyscallSucceeds());
}

TEST(ProcTest, SelfAndThreadSelf) {
  char buf[64] = {};
  ASSERT_THAT(readlink("/proc/self", buf, sizeof(buf) - 1), SyscallSucceeds());
  EXPECT_EQ(std::string(buf), std::to_string(getpid()));
  std::fill(std::begin(buf), std::end(buf), 0);
  ASSERT_THAT(readlink("/proc/thread-self", buf, sizeof(buf) - 1),
              SyscallSucceeds());
  EXPECT_EQ(std::string(buf), std::to_string(getpid()) + "/task/" +
                                  std::to_string(syscall(SYS_gettid)));
  std::fill(std::begin(buf), std::end(buf), 0);
  ASSERT_THAT(readlink("/proc/mounts", buf, sizeof(buf) - 1),
              SyscallSucceeds());
  EXPECT_EQ(std::string(buf), "self/mounts");
}

TEST(ProcTest, Meminfo) {
  const std::string m = ReadFileContents("/proc/meminfo");
  EXPECT_THAT(m, ContainsRegex("^MemTotal: +[0-9]+ kB\n"));
  const long long total = MeminfoKb(m, "MemTotal");
  const long long free = MeminfoKb(m, "MemFree");
  const long long avail = MeminfoKb(m, "MemAvailable");
  EXPECT_GT(total, 0);
  EXPECT_GE(free, 0);
  EXPECT_LE(free, total);
  EXPECT_GE(avail, 0);
  EXPECT_LE(avail, total);
  for (const char* key : {"Buffers", "Cached", "SwapTotal", "SwapFree",
                          "Shmem", "SReclaimable"}) {
    EXPECT_GE(MeminfoKb(m, key), 0) << key;
  }
  // Every line is "Name:" then a number (with " kB" for sizes).
  for (const std::string& line : Lines(m)) {
    EXPECT_THAT(line, MatchesRegex("[A-Za-z0-9_()]+: +[0-9]+( kB)?")) << line;
  }
}

TEST(ProcTest, Stat) {
  const std::vector<std::string> lines = Lines(ReadFileContents("/proc/stat"));
  ASSERT_FALSE(lines.empty());
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"
  EXPECT_THAT(lines[0], MatchesRegex("cpu  [0-9]+( [0-9]+){9}"));
  int cpus = 0;
  bool btime = false, processes = false, running = false;
  for (const std::string& l : lines) {
    if (std::regex_match(l, std::regex("cpu[0-9]+( [0-9]+){10}"))) ++cpus;
    if (std::regex_match(l, std::regex("btime [0-9]+"))) {
      btime = true;
      const long long boot = std::stoll(l.substr(6));
      EXPECT_LE(boot, static_cast<long long>(time(nullptr)));
      EXPECT_GT(boot, 1'600'000'000);
    }
    if (std::regex_match(l, std::regex("processes [0-9]+"))) processes = true;
    if (std::regex_match(l, std::regex("procs_running [1-9][0-9]*")))
      running = true;
  }
  EXPECT_EQ(cpus, sysconf(_SC_NPROCESSORS_ONLN));
  EXPECT_TRUE(btime);
  EXPECT_TRUE(processes);
  EXPECT_TRUE(running);  // this thread runs
}

TEST(ProcTest, UptimeAndLoadavg) {
  const std::string up = ReadFileContents("/proc/uptime");
  EXPECT_THAT(up, MatchesRegex("[0-9]+\\.[0-9][0-9] [0-9]+\\.[0-9][0-9]\n"));
  // Uptime counts from boot: never less than this process has run.
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  EXPECT_GE(std::stod(up), 0.0);

  const std::string load = ReadFileContents("/proc/loadavg");
  EXPECT_THAT(load, MatchesRegex("[0-9]+\\.[0-9][0-9] [0-9]+\\.[0-9][0-9] "
                                 "[0-9]+\\.[0-9][0-9] [0-9]+/[0-9]+ [0-9]+\n"));
  int running = 0, threads = 0;
  ASSERT_EQ(sscanf(load.c_str(), "%*s %*s %*s %d/%d", &running, &threads), 2);
  EXPECT_GE(running, 1);
  EXPECT_GE(threads, running);
}

TEST(ProcTest, CpuinfoVersionFilesystems) {
  const std::string cpu = ReadFileContents("/proc/cpuinfo");
  EXPECT_THAT(cpu, HasSubstr("processor\t: 0\n"));
  EXPECT_THAT(cpu, ContainsRegex("\nflags\t\t: [a-z0-9_ ]*\\bsse2\\b"));
  int processors = 0;
  for (const std::string& l : Lines(cpu))
    processors += l.rfind("processor\t: ", 0) == 0;
  EXPECT_EQ(processors, sysconf(_SC_NPROCESSORS_ONLN));

  utsname u;
  ASSERT_THAT(uname(&u), SyscallSucceeds());
  EXPECT_THAT(ReadFileContents("/proc/version"),
              ::testing::StartsWith(std::string("Linux version ") + u.release +
                                    " "));
  EXPECT_THAT(ReadFileContents("/proc/filesystems"),
              ContainsRegex("(^|\n)nodev\tproc\n"));
}

TEST(ProcTest, SeekRegenerates) {
  // Programs that poll (top, free -s) keep the file open and seek to 0.
  FileDescriptor fd(open("/proc/self/stat", O_RDONLY));
  ASSERT_GE(fd.get(), 0);
  char a[512] = {}, b[512] = {};
  ASSERT_THAT(read(fd.get(), a, sizeof(a) - 1), SyscallSucceeds());
  ASSERT_THAT(lseek(fd.get(), 0, SEEK_SET), SyscallSucceeds());
  ASSERT_THAT(read(fd.get(), b, sizeof(b) - 1), SyscallSucceeds());
  // The same process: the same pid and comm at least.
  EXPECT_EQ(std::string(a).substr(0, std::string(a).find(')')),
            std::string(b).substr(0, std::string(b).find(')')));
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_END), SyscallFailsWithErrno(EINVAL));
  // Reads at an offset continue the same text.
  ASSERT_THAT(lseek(fd.get(), 3, SEEK_SET), SyscallSucceeds());
  char c[8] = {};
  ASSERT_THAT(read(fd.get(), c, 2), SyscallSucceeds());
}

TEST(ProcSysTest, KernelNames) {
  utsname u;
  ASSERT_THAT(uname(&u), SyscallSucceeds());
  EXPECT_EQ(Sysctl("kernel/hostname"), u.nodename);
  EXPECT_EQ(Sysctl("kernel/domainname"), u.domainname);
  EXPECT_EQ(Sysctl("kernel/ostype"), u.sysname);
  EXPECT_EQ(Sysctl("kernel/osrelease"), u.release);
}

TEST(ProcSysTest, RandomUuidAndBootId) {
  const std::regex uuid(
      "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  const std::string a = Sysctl("kernel/random/uuid");
  const std::string b = Sysctl("kernel/random/uuid");
  EXPECT_TRUE(std::regex_match(a, uuid)) << a;
  EXPECT_NE(a, b);  // fresh at every read
  const std::string boot = Sysctl("kernel/random/boot_id");
  EXPECT_TRUE(std::regex_match(boot, uuid)) << boot;
  EXPECT_EQ(Sysctl("kernel/random/boot_id"), boot);  // fixed
}

TEST(ProcSysTest, Numbers) {
  EXPECT_GT(std::stoll(Sysctl("kernel/pid_max")), getpid());
  EXPECT_EQ(Sysctl("kernel/ngroups_max"), "65536");
  EXPECT_EQ(Sysctl("kernel/cap_last_cap"), "40");
  const std::string overcommit = Sysctl("vm/overcommit_memory");
  EXPECT_TRUE(overcommit == "0" || overcommit == "1" || overcommit == "2");
  EXPECT_GT(std::stoll(Sysctl("vm/max_map_count")), 0);
  EXPECT_EQ(std::stoull(Sysctl("vm/mmap_min_addr")) % PageSize(), 0u);
  EXPECT_GT(std::stoll(Sysctl("fs/file-max")), 0);
  EXPECT_GE(std::stoll(Sysctl("fs/pipe-max-size")), 4096);
  EXPECT_GT(std::stoll(Sysctl("net/core/somaxconn")), 0);
  if (access("/proc/sys/kernel/yama/ptrace_scope", F_OK) == 0) {
    const std::string scope = Sysctl("kernel/yama/ptrace_scope");
    EXPECT_TRUE(scope.size() == 1 && scope[0] >= '0' && scope[0] <= '3');
  }
}

TEST(ProcSysTest, NrOpenBoundsRlimitNofile) {
  const unsigned long long nr_open = std::stoull(Sysctl("fs/nr_open"));
  rlimit old;
  ASSERT_THAT(getrlimit(RLIMIT_NOFILE, &old), SyscallSucceeds());
  // Past nr_open even root may not go (as nobody: EPERM for the raise).
  rlimit too_big = {nr_open + 1, nr_open + 1};
  EXPECT_THAT(setrlimit(RLIMIT_NOFILE, &too_big), SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(setrlimit(RLIMIT_NOFILE, &old), SyscallSucceeds());
}

TEST(ProcSysTest, IpcLimitsAreWhatIpcInfoSays) {
  shminfo shm{};
  ASSERT_THAT(shmctl(0, IPC_INFO, reinterpret_cast<shmid_ds*>(&shm)),
              SyscallSucceeds());
  EXPECT_EQ(std::stoull(Sysctl("kernel/shmmax")), shm.shmmax);
  EXPECT_EQ(std::stoull(Sysctl("kernel/shmall")), shm.shmall);
  EXPECT_EQ(std::stoull(Sysctl("kernel/shmmni")), shm.shmmni);
  msginfo msg{};
  ASSERT_THAT(msgctl(0, IPC_INFO, reinterpret_cast<msqid_ds*>(&msg)),
              SyscallSucceeds());
  EXPECT_EQ(std::stoll(Sysctl("kernel/msgmax")), msg.msgmax);
  EXPECT_EQ(std::stoll(Sysctl("kernel/msgmnb")), msg.msgmnb);
  EXPECT_EQ(std::stoll(Sysctl("kernel/msgmni")), msg.msgmni);
  seminfo sem{};
  ASSERT_THAT(semctl(0, 0, IPC_INFO, &sem), SyscallSucceeds());
  EXPECT_EQ(Sysctl("kernel/sem"),
            std::to_string(sem.semmsl) + "\t" + std::to_string(sem.semmns) +
                "\t" + std::to_string(sem.semopm) + "\t" +
                std::to_string(sem.semmni));
}

TEST(ProcSysTest, HostnameIsWritableOnlyByRoot) {
  if (geteuid() != 0) {
    EXPECT_THAT(open("/proc/sys/kernel/hostname", O_WRONLY),
                SyscallFailsWithErrno(EACCES));
    return;
  }
  // In a UTS namespace of its own, so that the host keeps its name.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (unshare(CLONE_NEWUTS) != 0) _exit(1);
    int fd = open("/proc/sys/kernel/hostname", O_WRONLY | O_TRUNC);
    if (fd < 0) _exit(2);
    if (write(fd, "procname\n", 9) != 9) _exit(3);
    close(fd);
    utsname u;
    if (uname(&u) != 0 || std::string(u.nodename) != "procname") _exit(4);
    if (ReadFileContents("/proc/sys/kernel/hostname") != "procname\n")
      _exit(5);
    _exit(0);
  }
  int status;
  ASSERT_THAT(waitpid(child, &status, 0), SyscallSucceeds());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(ProcSysTest, ReadOnlySysctlsRefuseNonRootWriters) {
  if (geteuid() == 0) GTEST_SKIP() << "root may open them";
  EXPECT_THAT(open("/proc/sys/kernel/ostype", O_WRONLY),
              SyscallFailsWithErrno(EACCES));
}

}  // namespace
