// Small helpers shared by the handlers.
#ifndef SYSCALLS_COMMON_H_
#define SYSCALLS_COMMON_H_

#include <linux/limits.h>

#include <cstring>
#include <memory>
#include <string>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "syscalls/dispatch.h"

namespace syscalls {

using FilePtr = std::shared_ptr<vfs::FileDescription>;

inline Result<FilePtr> GetFile(Task& t, Fd fd) { return t.fds().Get(fd.value); }

// A path argument: at most PATH_MAX bytes including the NUL, as Linux.
inline Result<std::string> CopyInPath(Task& t, UserPath p) {
  return t.mm().CopyInString(p.addr, PATH_MAX - 1);
}

// Where a *at() path starts: an absolute path ignores dirfd entirely (even
// a bad one), as Linux does.
inline Result<vfs::PathContext> PathContextFor(Task& t, int dirfd,
                                               const std::string& path) {
  return t.PathContextAt(!path.empty() && path[0] == '/' ? AT_FDCWD : dirfd);
}

// Copies in a struct that Linux lets grow (copy_struct_from_user): the
// app passes its size, at least `min` (EINVAL) and at most a page (E2BIG).
// Bytes past the sentry's sizeof(T) must be zero (E2BIG); a shorter
// struct reads as zeros beyond its end.
template <typename T>
Result<T> CopyInExtensible(Task& t, uint64_t addr, size_t size, size_t min) {
  constexpr size_t kPage = 4096;
  if (size > kPage) return Err(E2BIG);
  if (size < min) return Err(EINVAL);
  uint8_t buf[kPage] = {};
  TRY(t.mm().CopyIn(addr, buf, size));
  for (size_t off = sizeof(T); off < size; ++off)
    if (buf[off]) return Err(E2BIG);
  T out{};
  memcpy(&out, buf, sizeof(T));
  return out;
}

inline uint64_t NofileLimit(Task& t) {
  return t.thread_group().GetRlimit(RLIMIT_NOFILE).rlim_cur;
}

// The family registration functions, called by BuildTable (table.cc).
void RegisterReadWrite(Registrar& r);
void RegisterOpen(Registrar& r);
void RegisterStat(Registrar& r);
void RegisterDir(Registrar& r);
void RegisterMount(Registrar& r);
void RegisterIoctl(Registrar& r);
void RegisterMmap(Registrar& r);
void RegisterMincore(Registrar& r);
void RegisterIdentity(Registrar& r);
void RegisterSysInfo(Registrar& r);
void RegisterTime(Registrar& r);
void RegisterSched(Registrar& r);
void RegisterRlimit(Registrar& r);
void RegisterThread(Registrar& r);
void RegisterSignal(Registrar& r);
void RegisterExit(Registrar& r);
void RegisterFutex(Registrar& r);
void RegisterPrctl(Registrar& r);
void RegisterLink(Registrar& r);
void RegisterMkdir(Registrar& r);
void RegisterAttr(Registrar& r);
void RegisterUtimes(Registrar& r);
void RegisterTruncate(Registrar& r);
void RegisterStatfs(Registrar& r);
void RegisterPipe(Registrar& r);
void RegisterSplice(Registrar& r);
void RegisterMemfd(Registrar& r);
void RegisterFlock(Registrar& r);
void RegisterPoll(Registrar& r);
void RegisterClone(Registrar& r);
void RegisterExec(Registrar& r);
void RegisterWait(Registrar& r);
void RegisterPtrace(Registrar& r);
void RegisterCredentials(Registrar& r);
void RegisterCapabilities(Registrar& r);
void RegisterAlarm(Registrar& r);
void RegisterTimer(Registrar& r);
void RegisterRusage(Registrar& r);
void RegisterPersonality(Registrar& r);
void RegisterShm(Registrar& r);
void RegisterSem(Registrar& r);
void RegisterMsg(Registrar& r);
void RegisterMqueue(Registrar& r);
void RegisterXattr(Registrar& r);
void RegisterInotify(Registrar& r);

}  // namespace syscalls

#endif  // SYSCALLS_COMMON_H_
