// forkbomb LIMIT [UID]: a fork bomb that stops by itself.
//
// Every process forks until fork fails, then reports that it is stuck and
// waits to be released. The first process waits until LIMIT - 1 others
// are stuck (then every slot under the limit is taken and nobody forks
// any more), shows the sandbox still serves it, waits for a line on
// stdin, releases the bomb, reaps it all, prints how many processes the
// bomb made and checks that fork works again. Exits 42 when fork failed
// with EAGAIN and all of that went well.
//
// With UID, it first sets RLIMIT_NPROC to LIMIT and becomes UID (it must
// start as root), so that this limit, not the sandbox's pids limit, stops
// the bomb. Without, LIMIT is the limit the caller set up outside.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const long limit = strtol(argv[1], NULL, 10);
  if (argc == 3) {
    struct rlimit lim = {limit, limit};
    uid_t uid = strtoul(argv[2], NULL, 10);
    if (setrlimit(RLIMIT_NPROC, &lim) != 0 || setresuid(uid, uid, uid) != 0) {
      perror("setup");
      return 2;
    }
  }
  // A bomb that does not stop must not hang the caller.
  alarm(100);
  // Outside a sandbox, orphans come back to us as they do to its init.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  int release[2], born[2], stuck[2];
  if (pipe(release) != 0 || pipe(born) != 0 || pipe(stuck) != 0) return 3;
  const pid_t top = getpid();
  int fork_errno = 0;
  int holds_release = 1;  // only the first process keeps the write end
  for (;;) {
    pid_t pid = fork();
    if (pid < 0) {
      fork_errno = errno;
      break;
    }
    if (pid == 0) {
      if (holds_release) close(release[1]);
      holds_release = 0;
      // Each new process says so, then forks on.
      if (write(born[1], "x", 1) != 1) _exit(4);
    }
  }
  if (getpid() != top) {
    // A bomb process: hold the pid until released (EOF).
    char c;
    if (write(stuck[1], "s", 1) != 1) _exit(5);
    while (read(release[0], &c, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  printf("fork: %s\n", fork_errno == EAGAIN ? "EAGAIN" : strerror(fork_errno));
  fflush(stdout);
  char buf[64];
  for (long n = 0; n < limit - 1;) {
    ssize_t r = read(stuck[0], buf, 1);
    if (r <= 0) return 6;
    n += r;
  }
  // The sandbox still serves this process while the bomb holds.
  struct utsname u;
  int fd = open("/etc/os-release", O_RDONLY);
  if (uname(&u) != 0 || fd < 0 || read(fd, buf, sizeof(buf)) <= 0) return 7;
  close(fd);
  printf("holding\n");
  fflush(stdout);
  char line[16];
  if (!fgets(line, sizeof(line), stdin)) return 8;

  close(release[1]);
  close(born[1]);
  while (wait(NULL) > 0 || errno == EINTR) {
  }
  if (errno != ECHILD) return 9;
  long made = 0;
  ssize_t n;
  while ((n = read(born[0], buf, sizeof(buf))) > 0) made += n;
  printf("processes: %ld\n", made);

  pid_t pid = fork();
  if (pid < 0) return 10;
  if (pid == 0) _exit(0);
  int status;
  if (waitpid(pid, &status, 0) != pid || status != 0) return 11;
  printf("recovered\n");
  return fork_errno == EAGAIN ? 42 : 12;
}
