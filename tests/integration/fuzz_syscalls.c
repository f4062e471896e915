// A hostile app: children that make random syscalls with random arguments.
// Run only inside the sandbox (natively it could signal or change anything
// the user may): `fuzz_syscalls FIRST_SEED ROUNDS CALLS`. Each round forks
// a child that makes CALLS calls from seed FIRST_SEED + round; the parent
// kills a child still running after a second and reaps everything. A
// sentry that survives prints "fuzz: ROUNDS rounds" and exits 0; what the
// children did to themselves does not matter.
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// Calls that would only end the child at once, or make it wait for
// nothing but the parent's kill: skipped so that rounds test something.
static int Boring(long nr) {
  return nr == SYS_exit || nr == SYS_exit_group || nr == SYS_pause ||
         nr == SYS_rt_sigsuspend || nr == SYS_vfork;
}

// A signal for the parent (pid 1, the sandbox's init): skipped, since the
// sentry does not yet protect init as Linux protects a pid namespace's
// init, and the run would end without testing anything.
static int SignalsInit(long nr, uint64_t first) {
  return (nr == SYS_kill || nr == SYS_tkill || nr == SYS_tgkill ||
          nr == SYS_rt_sigqueueinfo || nr == SYS_rt_tgsigqueueinfo) &&
         (int)first == 1;
}

static uint64_t g_state;
static uint64_t Next(void) {  // xorshift64*
  g_state ^= g_state >> 12;
  g_state ^= g_state << 25;
  g_state ^= g_state >> 27;
  return g_state * 0x2545F4914F6CDD1Dull;
}

static char* g_scratch;  // a page of junk to pass as a valid pointer

// An argument: small numbers, fds, flags-like bits, pointers into the
// scratch page or its edges, kernel and non-canonical addresses, -1.
static uint64_t Arg(void) {
  switch (Next() % 10) {
    case 0: return Next() % 8;
    case 1: return Next() % 64;
    case 2: return (uint64_t)g_scratch + Next() % 4096;
    case 3: return (uint64_t)g_scratch + 4096 - Next() % 16;
    case 4: return 1ull << (Next() % 64);
    case 5: return (uint64_t)-1;
    case 6: return 0xffff800000000000ull + Next() % 4096;
    case 7: return 0x7ffffffff000ull - Next() % 8192;
    case 8: return Next();
    default: return 0;
  }
}

static void Child(uint64_t seed, int calls) {
  setsid();  // kill(0, ...) and kill(-pgrp, ...) stay among the children
  g_state = seed * 0x9E3779B97F4A7C15ull + 1;
  g_scratch = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (g_scratch == MAP_FAILED) _exit(1);
  munmap(g_scratch + 4096, 4096);  // a hole right after it
  for (int i = 0; i < calls; ++i) {
    for (int j = 0; j < 4096; ++j) g_scratch[j] = (char)Next();
    long nr = (long)(Next() % 335);
    uint64_t a[6];
    for (int k = 0; k < 6; ++k) a[k] = Arg();
    if (Boring(nr) || SignalsInit(nr, a[0])) continue;
    syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
  }
  _exit(0);
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: fuzz_syscalls FIRST_SEED ROUNDS CALLS\n");
    return 2;
  }
  if (getpid() != 1) {
    fprintf(stderr, "fuzz_syscalls: runs only as a sandbox's init\n");
    return 2;
  }
  const uint64_t first = strtoull(argv[1], NULL, 0);
  const int rounds = atoi(argv[2]), calls = atoi(argv[3]);
  for (int r = 0; r < rounds; ++r) {
    pid_t pid = fork();
    if (pid < 0) {
      perror("fork");
      return 1;
    }
    if (pid == 0) Child(first + (uint64_t)r, calls);
    // Up to a second, then SIGKILL, which must always work.
    int status, waited = 0;
    struct timespec tick = {0, 10 * 1000 * 1000};
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (++waited == 100) kill(pid, SIGKILL);
      nanosleep(&tick, NULL);
    }
    // Whatever the children started (they share our process group unless
    // they left it): end and reap it all, or the next round is not alone.
    kill(-1, SIGKILL);
    while (waitpid(-1, NULL, WNOHANG | __WALL) > 0) {
    }
  }
  printf("fuzz: %d rounds\n", rounds);
  return 0;
}
