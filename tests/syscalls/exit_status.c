// exit_status N [exit]: terminates via exit_group(N) (or exit(N) with the
// second argument "exit") so CTest can check the status the parent observes.
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) return 2;
  const int status = atoi(argv[1]);
  // In a single-threaded process exit(2) ends the process like exit_group(2).
  const long nr =
      (argc == 3 && strcmp(argv[2], "exit") == 0) ? SYS_exit : SYS_exit_group;
  syscall(nr, status);
  return 1;  // Not reached.
}
