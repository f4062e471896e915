// struct rusage from the sentry's CPU time, shared by getrusage(2) and
// wait4(2)/waitid(2).
#ifndef SYSCALLS_RUSAGE_H_
#define SYSCALLS_RUSAGE_H_

#include <sys/resource.h>

#include "sentry/kernel/cpu_time.h"

namespace syscalls {

// ru_utime and ru_stime; every other field is zero (the sentry does not
// count page faults, context switches or resident memory).
struct rusage RusageOf(const kernel::CpuTimes& t);

}  // namespace syscalls

#endif  // SYSCALLS_RUSAGE_H_
