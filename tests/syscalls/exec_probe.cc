// The "after exec" side of exec_test.cc: when this binary starts with
// EXEC_TEST_REPORT=<fd> in its environment (or --exec-test-report=<fd> as
// argv[1]), a constructor writes what the new image sees as "key=value"
// lines to that fd and exits before gtest runs. exec_util.h parses them.
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdint>

extern char end;  // the end of the bss (the linker's symbol)

namespace {

int g_fd = -1;

void Put(const char* key, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));
void Put(const char* key, const char* fmt, ...) {
  char buf[512];
  int n = snprintf(buf, sizeof(buf), "%s=", key);
  va_list ap;
  va_start(ap, fmt);
  n += vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
  va_end(ap);
  if (n > static_cast<int>(sizeof(buf)) - 2) n = sizeof(buf) - 2;
  buf[n++] = '\n';
  for (int off = 0; off < n;) {
    ssize_t w = write(g_fd, buf + off, n - off);
    if (w <= 0) _exit(120);
    off += w;
  }
}

const char* Env(char** envp, const char* name) {
  const size_t len = strlen(name);
  for (char** e = envp; e && *e; ++e)
    if (strncmp(*e, name, len) == 0 && (*e)[len] == '=') return *e + len + 1;
  return nullptr;
}

// Calls fn(n) for each number in "1,2,3".
template <typename F>
void ForEachNumber(const char* list, F fn) {
  while (list && *list) {
    char* next;
    long v = strtol(list, &next, 0);
    if (next == list) return;
    fn(v);
    list = *next == ',' ? next + 1 : next;
  }
}

struct KernelSigaction {
  uintptr_t handler;
  unsigned long flags;
  uintptr_t restorer;
  uint64_t mask;
};

void ReportStrings(const char* prefix, int n, char** v) {
  size_t bytes = 0;
  for (int i = 0; i < n; ++i) {
    const size_t len = strlen(v[i]);
    bytes += len + 1;
    char key[32];
    snprintf(key, sizeof(key), "%s%d", prefix, i);
    if (i < 16 && len < 256) Put(key, "%s", v[i]);
  }
  char key[32];
  snprintf(key, sizeof(key), "%sbytes", prefix);
  Put(key, "%zu", bytes);
}

void Report(int argc, char** argv, char** envp) {
  Put("argc", "%d", argc);
  ReportStrings("argv", argc, argv);
  int envc = 0;
  while (envp && envp[envc]) ++envc;
  Put("envc", "%d", envc);
  ReportStrings("env", envc, envp);
  Put("pid", "%d", getpid());
  Put("tid", "%ld", syscall(SYS_gettid));
  Put("ppid", "%d", getppid());
  Put("pgid", "%d", getpgid(0));
  Put("sid", "%d", getsid(0));
  char cwd[PATH_MAX];
  Put("cwd", "%s", getcwd(cwd, sizeof(cwd)) ? cwd : "?");
  const mode_t mask = umask(0);
  umask(mask);
  Put("umask", "%o", mask);
  uid_t r, e, s;
  getresuid(&r, &e, &s);
  Put("uids", "%u,%u,%u,%d", r, e, s, setfsuid(-1));
  gid_t gr, ge, gs;
  getresgid(&gr, &ge, &gs);
  Put("gids", "%u,%u,%u,%d", gr, ge, gs, setfsgid(-1));
  Put("ngroups", "%d", getgroups(0, nullptr));
  struct {
    uint32_t version;
    int pid;
  } hdr{0x20080522, 0};  // _LINUX_CAPABILITY_VERSION_3
  struct {
    uint32_t effective, permitted, inheritable;
  } caps[2] = {};
  syscall(SYS_capget, &hdr, caps);
  Put("caps", "%#lx,%#lx,%#lx",
      uint64_t{caps[1].effective} << 32 | caps[0].effective,
      uint64_t{caps[1].permitted} << 32 | caps[0].permitted,
      uint64_t{caps[1].inheritable} << 32 | caps[0].inheritable);
  rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  Put("nofile", "%lu,%lu", rl.rlim_cur, rl.rlim_max);
  itimerval it;
  getitimer(ITIMER_REAL, &it);
  Put("itimer_real", "%ld.%06ld,%ld.%06ld", it.it_value.tv_sec,
      it.it_value.tv_usec, it.it_interval.tv_sec, it.it_interval.tv_usec);
  uint64_t set = 0;
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, nullptr, &set, 8);
  Put("mask", "%#lx", set);
  syscall(SYS_rt_sigpending, &set, 8);
  Put("pending", "%#lx", set);
  for (int sig = 1; sig <= 64; ++sig) {
    KernelSigaction old{};
    if (syscall(SYS_rt_sigaction, sig, nullptr, &old, 8) != 0) continue;
    char key[16];
    snprintf(key, sizeof(key), "sig%d", sig);
    const char* kind = old.handler == 0   ? "dfl"
                       : old.handler == 1 ? "ign"
                                          : "handler";
    Put(key, "%s,%#lx,%#lx", kind, old.flags, old.mask);
  }
  stack_t ss{};
  sigaltstack(nullptr, &ss);
  Put("altstack", "%d,%p,%zu", ss.ss_flags, ss.ss_sp, ss.ss_size);
  char exe[PATH_MAX] = {};
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  Put("exe", "%s", n > 0 ? exe : "?");
  char comm[17] = {};
  prctl(PR_GET_NAME, comm);
  Put("comm", "%s", comm);
  Put("dumpable", "%d", prctl(PR_GET_DUMPABLE));
  const char* execfn = reinterpret_cast<const char*>(getauxval(AT_EXECFN));
  Put("execfn", "%s", execfn ? execfn : "?");
  Put("secure", "%lu", getauxval(AT_SECURE));
  Put("brk_off", "%ld",
      static_cast<long>(syscall(SYS_brk, 0) - reinterpret_cast<long>(&end)));
  // Whether the pages at these addresses are mapped: write(2) from them.
  int p[2];
  if (pipe(p) == 0) {
    ForEachNumber(Env(envp, "EXEC_TEST_ADDRS"), [&](long addr) {
      char key[32];
      snprintf(key, sizeof(key), "addr%#lx", addr);
      Put(key, "%d",
          write(p[1], reinterpret_cast<void*>(addr), 1) == 1 ? 0 : errno);
    });
    close(p[0]);
    close(p[1]);
  }
  ForEachNumber(Env(envp, "EXEC_TEST_FDS"), [](long fd) {
    char key[16];
    snprintf(key, sizeof(key), "fd%ld", fd);
    const int fdflags = fcntl(fd, F_GETFD);
    if (fdflags < 0) return Put(key, "closed");
    Put(key, "%d,%#o,%ld", fdflags, fcntl(fd, F_GETFL),
        static_cast<long>(lseek(fd, 0, SEEK_CUR)));
  });
  // Threads of the old image: tgkill(pid, tid, 0) tells whether they live.
  ForEachNumber(Env(envp, "EXEC_TEST_TIDS"), [](long tid) {
    char key[16];
    snprintf(key, sizeof(key), "tid%ld", tid);
    Put(key, "%d", syscall(SYS_tgkill, getpid(), tid, 0) == 0 ? 0 : errno);
  });
}

__attribute__((constructor(101))) void ExecProbe(int argc, char** argv,
                                                 char** envp) {
  const char* fd = Env(envp, "EXEC_TEST_REPORT");
  constexpr char kFlag[] = "--exec-test-report=";
  if (!fd && argc > 1 && strncmp(argv[1], kFlag, sizeof(kFlag) - 1) == 0)
    fd = argv[1] + sizeof(kFlag) - 1;
  if (!fd) return;  // a normal gtest run
  g_fd = atoi(fd);
  Report(argc, argv, envp);
  // A signal the old image armed (a timer) must still come: wait for it.
  if (const char* s = Env(envp, "EXEC_TEST_SIGWAIT")) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, atoi(s));
    timespec timeout{30, 0};
    Put("sigwait", "%d", sigtimedwait(&set, nullptr, &timeout));
  }
  // vfork: the parent must run while we wait for its byte.
  if (const char* w = Env(envp, "EXEC_TEST_WAIT_FD")) {
    pollfd pfd{atoi(w), POLLIN, 0};
    char c;
    const bool got = poll(&pfd, 1, 30000) == 1 && read(pfd.fd, &c, 1) == 1;
    Put("waited", "%d", got);
  }
  Put("done", "1");
  _exit(0);
}

}  // namespace
