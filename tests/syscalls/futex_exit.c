// futex_exit: threads blocked in futex waits while others call exit(2).
// One thread exits at once, then the leader itself; the process lives on
// with its waiters until a last thread calls exit_group(7), which must end
// it with status 7 (CTest checks it, natively and under runsc do).
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { kWaiters = 3 };

static _Atomic uint32_t never;  // waiters block on it for good
static _Atomic uint32_t
    leader_tid;  // zeroed by the kernel at the leader's exit

static long futex(void* addr, int op, uint32_t val, uintptr_t val2, void* addr2,
                  uint32_t val3) {
  return syscall(SYS_futex, addr, op, val, val2, addr2, val3);
}

static void* WaitForever(void* arg) {
  (void)arg;
  for (;;) futex(&never, FUTEX_WAIT_PRIVATE, 0, 0, NULL, 0);
  return NULL;
}

static void* ExitAtOnce(void* arg) {
  (void)arg;
  syscall(SYS_exit, 0);
  return NULL;
}

static void* Finish(void* arg) {
  (void)arg;
  uint32_t tid;
  // CLONE_CHILD_CLEARTID wakes us when the leader is gone.
  while ((tid = leader_tid) != 0)
    futex(&leader_tid, FUTEX_WAIT, tid, 0, NULL, 0);
  syscall(SYS_exit_group, 7);
  return NULL;
}

int main(void) {
  pthread_t t;
  for (int i = 0; i < kWaiters; ++i) {
    if (pthread_create(&t, NULL, WaitForever, NULL) != 0) return 2;
  }
  if (pthread_create(&t, NULL, ExitAtOnce, NULL) != 0) return 2;
  if (pthread_join(t, NULL) != 0) return 3;
  // Every waiter is queued (a CMP_REQUEUE onto itself only counts them).
  while (futex(&never, FUTEX_CMP_REQUEUE_PRIVATE, 0, INT_MAX, &never, 0) <
         kWaiters)
    sched_yield();
  leader_tid = (uint32_t)gettid();
  syscall(SYS_set_tid_address, &leader_tid);
  if (pthread_create(&t, NULL, Finish, NULL) != 0) return 2;
  syscall(SYS_exit, 0);  // the leader goes; the process does not
  return 4;
}
