// The sentry's seccomp allowlist. Each group says why the sentry makes the
// syscalls; docs/security.md has the same list for readers. The app never
// reaches these directly (its syscalls are served, not passed through):
// this bounds what a sentry the app has taken over could do.
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>

#include <cerrno>

#include "absl/base/internal/sysinfo.h"
#include "sentry/boot/confine.h"
#include "sentry/boot/control_server.h"

namespace boot {
namespace {

// Syscalls allowed with any arguments.
constexpr int kAllowed[] = {
    // I/O on fds the sentry holds: the memory file, files and directories
    // the gofer donated, the host stdio it was started with, its pipes,
    // eventfds and epoll instances, and the sockets to the gofer and to
    // the platform's stubs.
    SYS_read, SYS_write, SYS_pread64, SYS_pwrite64, SYS_readv, SYS_writev,
    SYS_preadv, SYS_pwritev, SYS_preadv2, SYS_pwritev2, SYS_lseek,
    SYS_getdents64, SYS_fstat, SYS_fstatfs, SYS_fsync, SYS_fdatasync,
    SYS_close, SYS_close_range, SYS_dup, SYS_dup3, SYS_fallocate,
    SYS_ftruncate, SYS_sendmsg, SYS_recvmsg, SYS_sendto, SYS_recvfrom,
    SYS_shutdown, SYS_pipe2, SYS_copy_file_range, SYS_eventfd2, SYS_epoll_create1, SYS_epoll_ctl,
    SYS_epoll_wait, SYS_epoll_pwait, SYS_poll, SYS_ppoll,
    // The sentry's own memory (mmap and mprotect are below: never
    // executable).
    SYS_munmap, SYS_madvise, SYS_mremap, SYS_brk, SYS_membarrier,
    // mincore(2) asks which pages of the memory file are populated.
    SYS_mincore,
    // Its threads, their locks and signals.
    SYS_futex, SYS_set_robust_list, SYS_rseq, SYS_gettid, SYS_getpid,
    SYS_getppid, SYS_exit, SYS_exit_group, SYS_rt_sigaction,
    SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_rt_sigtimedwait,
    SYS_sigaltstack, SYS_restart_syscall, SYS_sched_yield,
    SYS_sched_getaffinity, SYS_sched_setaffinity, SYS_sched_getparam,
    SYS_sched_getscheduler, SYS_getrusage, SYS_prlimit64, SYS_getrlimit,
    // Running the app: the stub processes (ptrace platform, and ptrace to
    // set up systrap stubs), their signals and exits, their memory.
    SYS_ptrace, SYS_wait4, SYS_waitid, SYS_kill, SYS_tgkill, SYS_tkill,
    SYS_pidfd_open, SYS_pidfd_send_signal, SYS_pidfd_getfd,
    SYS_process_vm_readv, SYS_process_vm_writev,
    // Time, for the app's clocks and timers and the sentry's own.
    SYS_clock_gettime, SYS_clock_getres, SYS_clock_nanosleep, SYS_nanosleep,
    SYS_gettimeofday, SYS_timer_create, SYS_timer_settime, SYS_timer_gettime,
    SYS_timer_delete, SYS_setitimer, SYS_getitimer,
    // Entropy for getrandom(2) and /dev/urandom; facts about the host the
    // app is told (uname, sysinfo, the CPU it runs on).
    SYS_getrandom, SYS_uname, SYS_sysinfo, SYS_getcpu,
};

// Path-based calls a library might make: refused, not fatal.
constexpr int kRefused[] = {
    SYS_open,     SYS_openat,     SYS_openat2,   SYS_creat,    SYS_stat,
    SYS_lstat,    SYS_access,     SYS_faccessat, SYS_faccessat2,
    SYS_readlink, SYS_readlinkat, SYS_statx,     SYS_statfs,
};

}  // namespace

base::Result<void> InstallSentrySeccomp() {
  // Abseil reads /sys once, lazily, for its mutexes' spin and clock
  // decisions: read it now, while opens still work.
  (void)absl::base_internal::NumCPUs();
  (void)absl::base_internal::NominalCPUFrequency();
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return base::Err(errno);

  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (!ctx) return base::Err(ENOMEM);
  int rc = 0;
  auto add = [&](uint32_t action, int nr, unsigned count,
                 const scmp_arg_cmp* args) {
    if (rc == 0) rc = seccomp_rule_add_array(ctx, action, nr, count, args);
  };
  for (int nr : kAllowed) add(SCMP_ACT_ALLOW, nr, 0, nullptr);
  for (int nr : kRefused) add(SCMP_ACT_ERRNO(EACCES), nr, 0, nullptr);

  // fstat(3) is newfstatat(fd, "", AT_EMPTY_PATH): no path is walked.
  scmp_arg_cmp empty_path =
      SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH);
  add(SCMP_ACT_ALLOW, SYS_newfstatat, 1, &empty_path);
  scmp_arg_cmp with_path = SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, 0);
  add(SCMP_ACT_ERRNO(EACCES), SYS_newfstatat, 1, &with_path);
  // fcntl: flags, dup, and the pipe sizes of host pipes; no locks, no
  // leases, no signals on I/O.
  for (int cmd : {F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD, F_DUPFD_CLOEXEC,
                  F_GETPIPE_SZ, F_SETPIPE_SZ}) {
    scmp_arg_cmp c = SCMP_A1(SCMP_CMP_EQ, static_cast<scmp_datum_t>(cmd));
    add(SCMP_ACT_ALLOW, SYS_fcntl, 1, &c);
  }
  // ioctl: the host terminal the sandbox was started on (its modes and
  // size), and bytes readable on host fds.
  for (unsigned long req : {TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGWINSZ,
                            TIOCSWINSZ, FIONREAD}) {
    scmp_arg_cmp c = SCMP_A1(SCMP_CMP_EQ, static_cast<scmp_datum_t>(req));
    add(SCMP_ACT_ALLOW, SYS_ioctl, 1, &c);
  }
  // No executable memory in the sentry: it never loads code. (The stubs'
  // code is mapped by the stubs, in their own processes.)
  scmp_arg_cmp no_exec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
  add(SCMP_ACT_ALLOW, SYS_mmap, 1, &no_exec);
  add(SCMP_ACT_ALLOW, SYS_mprotect, 1, &no_exec);
  // Threads only: a clone without CLONE_THREAD would be a new host
  // process. clone3 keeps its flags in memory, where seccomp cannot look:
  // it fails and glibc falls back to clone.
  scmp_arg_cmp thread = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD,
                                static_cast<scmp_datum_t>(CLONE_THREAD));
  add(SCMP_ACT_ALLOW, SYS_clone, 1, &thread);
  add(SCMP_ACT_ERRNO(ENOSYS), SYS_clone3, 0, nullptr);
  // prctl: thread names and the parent-death signal of helper processes;
  // the seccomp and no_new_privs state itself stays as set here.
  for (int op : {PR_SET_NAME, PR_GET_NAME, PR_SET_PDEATHSIG, PR_GET_DUMPABLE,
                 PR_SET_DUMPABLE}) {
    scmp_arg_cmp c = SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(op));
    add(SCMP_ACT_ALLOW, SYS_prctl, 1, &c);
  }

  // accept4: connections on the control socket of a sandbox made by runsc
  // create (runsc start and kill), and on no other fd.
  scmp_arg_cmp control = SCMP_A0(SCMP_CMP_EQ, kControlFd);
  add(SCMP_ACT_ALLOW, SYS_accept4, 1, &control);

  if (rc == 0) rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
  if (rc == 0) rc = seccomp_load(ctx);
  seccomp_release(ctx);
  if (rc != 0) return base::Err(-rc);
  return {};
}

}  // namespace boot
