// A dynamically linked program that reads CLOCK_MONOTONIC through glibc
// into an address that is not mapped. glibc's clock_gettime calls the vDSO
// when there is one, which writes there itself: the program dies of
// SIGSEGV. Without a vDSO the syscall fails with EFAULT and it exits 3.
// vdso_test.cc runs it (and the same code in a static child).
#include <errno.h>
#include <sys/auxv.h>
#include <time.h>

int main(void) {
  if (getauxval(AT_SYSINFO_EHDR) == 0) return 2;
  if (clock_gettime(CLOCK_MONOTONIC, (struct timespec*)16) != 0 &&
      errno == EFAULT)
    return 3;
  return 4;
}
