/* The sandbox's vDSO: clock_gettime, gettimeofday, time, getcpu and
 * clock_getres, computed in the app's own context from the TSC and the
 * parameter page the sentry maps one page below this image ([vvar], see
 * vdso_params.h), so that reading a clock costs no trap into the sentry.
 * What the page cannot serve (CPU-time clocks, unknown clocks, a disabled
 * page) goes to the real syscall, which the sentry serves.
 *
 * Built -nostdlib -shared with vdso.lds, position independent and with no
 * relocations (the loader copies it anywhere), and embedded in runsc. */
#include <stdint.h>

#include "vdso_params.h"

/* The parameter page, placed by vdso.lds one page below the image. */
extern const volatile struct vdso_params vdso_params
    __attribute__((visibility("hidden")));

/* The kernel ABI's types, without a libc. */
struct vdso_timespec {
  int64_t tv_sec;
  int64_t tv_nsec;
};
struct vdso_timeval {
  int64_t tv_sec;
  int64_t tv_usec;
};
struct vdso_timezone {
  int tz_minuteswest;
  int tz_dsttime;
};

enum {
  kSysGettimeofday = 96,
  kSysTime = 201,
  kSysClockGettime = 228,
  kSysClockGetres = 229,
  kSysGetcpu = 309,
};
#define NSEC_PER_SEC 1000000000LL

static long vdso_syscall3(long nr, long a, long b, long c) {
  long ret;
  __asm__ __volatile__("syscall"
                       : "=a"(ret)
                       : "0"(nr), "D"(a), "S"(b), "d"(c)
                       : "rcx", "r11", "memory");
  return ret;
}

int __vdso_clock_gettime(long clock, struct vdso_timespec* ts) {
  int64_t ns;
  if (!vdso_read_clock(&vdso_params, clock, &ns))
    return (int)vdso_syscall3(kSysClockGettime, clock, (long)ts, 0);
  ts->tv_sec = ns / NSEC_PER_SEC;
  ts->tv_nsec = ns % NSEC_PER_SEC;
  return 0;
}

int __vdso_gettimeofday(struct vdso_timeval* tv, struct vdso_timezone* tz) {
  int64_t ns;
  if (tv != 0) {
    if (!vdso_read_clock(&vdso_params, VDSO_CLOCK_REALTIME, &ns))
      return (int)vdso_syscall3(kSysGettimeofday, (long)tv, (long)tz, 0);
    tv->tv_sec = ns / NSEC_PER_SEC;
    tv->tv_usec = ns % NSEC_PER_SEC / 1000;
  }
  if (tz != 0) {
    /* The sandbox's time zone is UTC (the syscall says the same). */
    tz->tz_minuteswest = 0;
    tz->tz_dsttime = 0;
  }
  return 0;
}

long __vdso_time(long* t) {
  int64_t ns;
  if (!vdso_read_clock(&vdso_params, VDSO_CLOCK_REALTIME, &ns))
    return vdso_syscall3(kSysTime, (long)t, 0, 0);
  const long sec = ns / NSEC_PER_SEC;
  if (t != 0) *t = sec;
  return sec;
}

/* The CPU the thread runs on, as Linux's vDSO reads it: the limit of the
 * per-CPU GDT segment (GDT_ENTRY_CPUNODE) is (node << 12) | cpu. The
 * thread runs on a host CPU, so this is the host's number, as the
 * sentry's getcpu(2) reports. */
long __vdso_getcpu(unsigned* cpu, unsigned* node, void* unused) {
  unsigned p;
  __asm__ __volatile__("lsl %1, %0" : "=r"(p) : "r"(15 * 8 + 3));
  if (cpu != 0) *cpu = p & 0xfff;
  if (node != 0) *node = p >> 12;
  return 0;
}

int __vdso_clock_getres(long clock, struct vdso_timespec* res) {
  if (!vdso_clock_served(clock) || !vdso_params.enabled)
    return (int)vdso_syscall3(kSysClockGetres, clock, (long)res, 0);
  if (res != 0) {
    const int coarse = clock == VDSO_CLOCK_REALTIME_COARSE ||
                       clock == VDSO_CLOCK_MONOTONIC_COARSE;
    const int64_t ns = coarse ? vdso_params.coarse_res_ns : 1;
    res->tv_sec = ns / NSEC_PER_SEC;
    res->tv_nsec = ns % NSEC_PER_SEC;
  }
  return 0;
}

/* The unprefixed names, as Linux's vDSO exports them too. */
int clock_gettime(long, struct vdso_timespec*)
    __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct vdso_timeval*, struct vdso_timezone*)
    __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long*) __attribute__((weak, alias("__vdso_time")));
long getcpu(unsigned*, unsigned*, void*)
    __attribute__((weak, alias("__vdso_getcpu")));
int clock_getres(long, struct vdso_timespec*)
    __attribute__((weak, alias("__vdso_clock_getres")));
