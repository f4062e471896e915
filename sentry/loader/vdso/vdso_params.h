/* The vDSO's parameter page ([vvar]) and the clock arithmetic on it.
 *
 * Shared, byte for byte, by the vDSO (vdso.c, C, in the app's address
 * space) and the sentry (kernel/timekeeper.cc, which writes the page and
 * serves the clock syscalls with the same arithmetic, so that a time read
 * through the vDSO and one read through the syscall come from one clock).
 *
 * The sentry writes the page under a sequence counter (odd while it
 * writes); readers retry until they read an even, unchanged counter. The
 * page is read-only to the app and every process maps the same one. A page
 * of zeros (enabled == 0) sends every call to the real syscall. */
#ifndef SENTRY_LOADER_VDSO_VDSO_PARAMS_H_
#define SENTRY_LOADER_VDSO_VDSO_PARAMS_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Linux's clock ids (uapi/linux/time.h), without <time.h>: the vDSO is
 * built without a libc. */
#define VDSO_CLOCK_REALTIME 0
#define VDSO_CLOCK_MONOTONIC 1
#define VDSO_CLOCK_MONOTONIC_RAW 4
#define VDSO_CLOCK_REALTIME_COARSE 5
#define VDSO_CLOCK_MONOTONIC_COARSE 6
#define VDSO_CLOCK_BOOTTIME 7
#define VDSO_CLOCK_TAI 11

/* Readers give up on an odd counter after this many tries and use the
 * syscall: the sentry's writer holds it odd for a few stores only. */
#define VDSO_MAX_ODD_TRIES 4096

struct vdso_params {
  uint32_t seq;     /* odd while the sentry writes the page */
  uint32_t enabled; /* 0: every clock falls back to the syscall */
  /* Both lines start at this TSC value: a clock is its value there plus
   * the cycles since, times its rate. */
  uint64_t tsc_ref;
  /* Nanoseconds per TSC cycle, as 32.32 fixed point: the rate of
   * CLOCK_MONOTONIC (and so REALTIME, BOOTTIME, TAI), and of RAW. */
  uint64_t mult;
  uint64_t raw_mult;
  int64_t mono_ns; /* CLOCK_MONOTONIC at tsc_ref */
  int64_t raw_ns;  /* CLOCK_MONOTONIC_RAW at tsc_ref */
  /* The other clocks' distances from CLOCK_MONOTONIC (REALTIME, BOOTTIME)
   * and from CLOCK_REALTIME (TAI), as Linux's timekeeper keeps them. */
  int64_t realtime_offset;
  int64_t boottime_offset;
  int64_t tai_offset;
  /* clock_getres of the _COARSE clocks (the high-resolution ones: 1 ns). */
  int64_t coarse_res_ns;
};

static inline uint64_t vdso_rdtsc(void) {
  uint32_t lo, hi;
  /* lfence: the TSC is read after the loads before it (the parameters),
   * as Linux's rdtsc_ordered. */
  __asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
  return ((uint64_t)hi << 32) | lo;
}

/* Whether the vDSO computes `clock` (else the syscall serves it). */
static inline int vdso_clock_served(int64_t clock) {
  switch (clock) {
    case VDSO_CLOCK_REALTIME:
    case VDSO_CLOCK_MONOTONIC:
    case VDSO_CLOCK_MONOTONIC_RAW:
    case VDSO_CLOCK_REALTIME_COARSE:
    case VDSO_CLOCK_MONOTONIC_COARSE:
    case VDSO_CLOCK_BOOTTIME:
    case VDSO_CLOCK_TAI:
      return 1;
    default:
      return 0;
  }
}

/* cycles * mult / 2^32, without overflow for any cycle count. */
static inline int64_t vdso_scale(uint64_t cycles, uint64_t mult) {
  return (int64_t)(((unsigned __int128)cycles * mult) >> 32);
}

/* A clock's value from the parameters and a TSC reading; no barrier. The
 * _COARSE clocks read as their precise ones (finer than their resolution
 * says, which Linux allows). */
static inline int64_t vdso_clock_at(const volatile struct vdso_params* p,
                                    int64_t clock, uint64_t tsc) {
  const uint64_t ref = p->tsc_ref;
  /* A TSC behind the reference (another CPU's, a hair behind) counts as
   * the reference, so no clock ever goes back. */
  const uint64_t cycles = tsc > ref ? tsc - ref : 0;
  if (clock == VDSO_CLOCK_MONOTONIC_RAW)
    return p->raw_ns + vdso_scale(cycles, p->raw_mult);
  int64_t ns = p->mono_ns + vdso_scale(cycles, p->mult);
  switch (clock) {
    case VDSO_CLOCK_REALTIME:
    case VDSO_CLOCK_REALTIME_COARSE:
      return ns + p->realtime_offset;
    case VDSO_CLOCK_BOOTTIME:
      return ns + p->boottime_offset;
    case VDSO_CLOCK_TAI:
      return ns + p->realtime_offset + p->tai_offset;
    default:
      return ns;
  }
}

/* Reads `clock` into *ns: 1 on success, 0 if the syscall must serve it
 * (not a clock the page serves, the page disabled, or the writer seen
 * mid-update for too long). */
static inline int vdso_read_clock(const volatile struct vdso_params* p,
                                  int64_t clock, int64_t* ns) {
  if (!vdso_clock_served(clock)) return 0;
  for (int tries = 0; tries < VDSO_MAX_ODD_TRIES; ++tries) {
    const uint32_t seq = p->seq;
    __asm__ __volatile__("" ::: "memory");
    if (seq & 1) {
      __asm__ __volatile__("pause");
      continue;
    }
    if (!p->enabled) return 0;
    const int64_t v = vdso_clock_at(p, clock, vdso_rdtsc());
    __asm__ __volatile__("" ::: "memory");
    if (p->seq == seq) {
      *ns = v;
      return 1;
    }
  }
  return 0;
}

#ifdef __cplusplus
}
#endif

#endif /* SENTRY_LOADER_VDSO_VDSO_PARAMS_H_ */
