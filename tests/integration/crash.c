// crash MODE: dies the way MODE says, so tests can check that the sandbox
// reports the signal like a shell would (128 + N), as Linux ends it.
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

// A bad address the compiler cannot see through.
static int* volatile bad = (int*)16;

static void nothing(int sig) { (void)sig; }

// Faults inside a SIGSEGV handler: the nested SIGSEGV is blocked there,
// so it kills.
static void fault_again(int sig) {
  (void)sig;
  *bad = 1;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const char* mode = argv[1];
  if (strcmp(mode, "segv") == 0) {
    return *bad;
  }
  if (strcmp(mode, "ud2") == 0) __asm__ volatile("ud2");
  if (strcmp(mode, "int3") == 0) __asm__ volatile("int3");
  if (strcmp(mode, "term") == 0) kill(getpid(), SIGTERM);
  if (strcmp(mode, "abort") == 0) abort();
  if (strcmp(mode, "ignored") == 0) {
    // Ignored, default-ignored and handled signals do not end it.
    signal(SIGUSR1, SIG_IGN);
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGCHLD);
    kill(getpid(), SIGWINCH);
    signal(SIGUSR2, nothing);
    kill(getpid(), SIGUSR2);
    return 0;
  }
  if (strcmp(mode, "segv-blocked") == 0 || strcmp(mode, "segv-ignored") == 0) {
    // A fault the app cannot take is fatal anyway (force_sig).
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGSEGV);
    if (mode[5] == 'b')
      sigprocmask(SIG_BLOCK, &s, NULL);
    else
      signal(SIGSEGV, SIG_IGN);
    *bad = 1;
    return 3;
  }
  if (strcmp(mode, "segv-in-handler") == 0) {
    signal(SIGSEGV, fault_again);
    *bad = 1;
    return 3;
  }
  if (strcmp(mode, "sigpipe") == 0 || strcmp(mode, "sigpipe-ignored") == 0) {
    // A write to a pipe nobody reads: SIGPIPE, or EPIPE when ignored.
    int fds[2];
    if (pipe(fds) != 0) return 4;
    close(fds[0]);
    // The caller may have left SIGPIPE ignored, which exec keeps.
    signal(SIGPIPE, mode[7] == '-' ? SIG_IGN : SIG_DFL);
    return write(fds[1], "x", 1) == -1 && errno == EPIPE ? 0 : 5;
  }
  if (strcmp(mode, "bad-stack") == 0) {
    // A handler whose frame cannot be written: SIGSEGV instead.
    signal(SIGUSR1, nothing);
    long pid = getpid();
    __asm__ volatile(
        "mov $16, %%rsp\n"
        "syscall\n"
        "ud2\n"
        :
        : "a"((long)SYS_kill), "D"(pid), "S"((long)SIGUSR1)
        : "rcx", "r11", "memory");
  }
  return 2;
}
