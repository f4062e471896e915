// sigstorm SENDERS THREADS COUNT: a signal storm on one busy process.
//
// The main process catches SIGUSR1 and three real-time signals, and keeps
// working (arithmetic and pipe round trips) while SENDERS child processes
// with THREADS threads each send it COUNT signals per thread: kill(2) of
// SIGUSR1 and sigqueue(3) of a real-time signal in turn. Real-time
// signals queue, so every one sent must arrive; SIGUSR1 coalesces, so at
// least one must. Prints the work's checksum and "signals ok", exits 0.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t g_std_received;
static volatile sig_atomic_t g_rt_received;
static volatile sig_atomic_t g_bad_value;

static void on_std(int sig) {
  (void)sig;
  g_std_received = g_std_received + 1;
}

static void on_rt(int sig, siginfo_t* info, void* uc) {
  (void)uc;
  // Each value says which signal it was sent with.
  if (info->si_code != SI_QUEUE || info->si_value.sival_int != sig)
    g_bad_value = 1;
  g_rt_received = g_rt_received + 1;
}

struct sent {
  long std_sent;
  long rt_sent;
};

static pid_t g_target;
static long g_count;

static void* send_storm(void* arg) {
  struct sent* s = arg;
  for (long i = 0; i < g_count; ++i) {
    if (kill(g_target, SIGUSR1) == 0) s->std_sent++;
    int sig = SIGRTMIN + (int)(i % 3);
    union sigval v = {.sival_int = sig};
    // A full queue (RLIMIT_SIGPENDING) refuses more: try again later.
    while (sigqueue(g_target, sig, v) != 0) {
      if (errno != EAGAIN) return NULL;
      sched_yield();
    }
    s->rt_sent++;
  }
  return NULL;
}

// A sender process: THREADS threads storming, then the totals on `report`.
static void sender(int threads, int report) {
  pthread_t tids[64];
  struct sent sent[64];
  memset(sent, 0, sizeof(sent));
  for (int i = 0; i < threads; ++i)
    if (pthread_create(&tids[i], NULL, send_storm, &sent[i]) != 0) _exit(1);
  struct sent total = {0, 0};
  for (int i = 0; i < threads; ++i) {
    pthread_join(tids[i], NULL);
    total.std_sent += sent[i].std_sent;
    total.rt_sent += sent[i].rt_sent;
  }
  _exit(write(report, &total, sizeof(total)) == sizeof(total) ? 0 : 2);
}

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  const int senders = atoi(argv[1]);
  const int threads = atoi(argv[2]);
  g_count = atol(argv[3]);
  if (senders < 1 || senders > 64 || threads < 1 || threads > 64) return 2;
  g_target = getpid();

  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_flags = SA_RESTART;
  sa.sa_handler = on_std;
  sigaction(SIGUSR1, &sa, NULL);
  sa.sa_flags = SA_RESTART | SA_SIGINFO;
  sa.sa_sigaction = on_rt;
  for (int i = 0; i < 3; ++i) sigaction(SIGRTMIN + i, &sa, NULL);

  int report[2], work[2];
  if (pipe(report) != 0 || pipe(work) != 0) return 3;
  for (int i = 0; i < senders; ++i) {
    pid_t pid = fork();
    if (pid < 0) return 4;
    if (pid == 0) sender(threads, report[1]);
  }
  close(report[1]);

  // The work: a sum the storm must not disturb, with a pipe round trip
  // (interrupted and restarted by the signals) every 10000 steps.
  uint64_t sum = 0;
  const uint64_t steps = 20000000;
  for (uint64_t i = 0; i < steps; ++i) {
    sum += i;
    if (i % 10000 == 0) {
      char c = (char)i, back = 0;
      if (write(work[1], &c, 1) != 1 || read(work[0], &back, 1) != 1 ||
          back != c)
        return 5;
    }
  }

  struct sent total = {0, 0}, one;
  ssize_t n;
  while ((n = read(report[0], &one, sizeof(one))) == sizeof(one)) {
    total.std_sent += one.std_sent;
    total.rt_sent += one.rt_sent;
  }
  int status;
  for (int i = 0; i < senders; ++i)
    if (wait(&status) < 0 || status != 0) return 6;
  // Every queued signal was pending before its sigqueue returned, so it
  // is taken at the latest when this call returns.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);

  const long expected = (long)senders * threads * g_count;
  printf("checksum %llu\n", (unsigned long long)sum);
  if (total.rt_sent != expected || g_rt_received != expected) {
    printf("real-time: sent %ld received %ld of %ld\n", total.rt_sent,
           (long)g_rt_received, expected);
    return 7;
  }
  if (g_std_received < 1 || g_std_received > total.std_sent) {
    printf("standard: sent %ld received %ld\n", total.std_sent,
           (long)g_std_received);
    return 8;
  }
  if (g_bad_value) return 9;
  printf("signals ok\n");
  return 0;
}
