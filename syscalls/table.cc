#include "syscalls/table.h"

#include "syscalls/common.h"
#include "syscalls/socket.h"

namespace syscalls {
namespace {

kernel::SyscallTable Build() {
  kernel::SyscallTable table;
#define X(nr, sys) table.entries.at(nr).name = #sys;
#include "syscalls/syscall_names.inc"
#undef X
  Registrar r(table);
  RegisterReadWrite(r);
  RegisterOpen(r);
  RegisterStat(r);
  RegisterDir(r);
  RegisterMount(r);
  RegisterIoctl(r);
  RegisterMmap(r);
  RegisterMincore(r);
  RegisterIdentity(r);
  RegisterSysInfo(r);
  RegisterTime(r);
  RegisterSched(r);
  RegisterRlimit(r);
  RegisterThread(r);
  RegisterSignal(r);
  RegisterExit(r);
  RegisterFutex(r);
  RegisterPrctl(r);
  RegisterLink(r);
  RegisterMkdir(r);
  RegisterAttr(r);
  RegisterUtimes(r);
  RegisterTruncate(r);
  RegisterStatfs(r);
  RegisterPipe(r);
  RegisterSplice(r);
  RegisterMemfd(r);
  RegisterFlock(r);
  RegisterPoll(r);
  RegisterClone(r);
  RegisterExec(r);
  RegisterWait(r);
  RegisterPtrace(r);
  RegisterCredentials(r);
  RegisterCapabilities(r);
  RegisterAlarm(r);
  RegisterTimer(r);
  RegisterRusage(r);
  RegisterPersonality(r);
  RegisterShm(r);
  RegisterSem(r);
  RegisterMsg(r);
  RegisterMqueue(r);
  RegisterXattr(r);
  RegisterInotify(r);
  RegisterEventfd(r);
  RegisterTimerfd(r);
  RegisterSignalfd(r);
  RegisterEpoll(r);
  RegisterPidfd(r);
  RegisterSocket(r);
  RegisterSocketMsg(r);
  RegisterSockopt(r);
  return table;
}

}  // namespace

Registrar& Registrar::Error(uint64_t nr, int err, const char* note) {
  kernel::SyscallEntry& e = table_.entries.at(nr);
  e.handler = nullptr;
  e.support = kernel::Support::kError;
  e.error = err;
  e.note = note;
  return *this;
}

Registrar& Registrar::Show(uint64_t nr, int i, ArgKind kind) {
  table_.entries.at(nr).args.at(i) = kind;
  return *this;
}

const kernel::SyscallTable& Table() {
  static const kernel::SyscallTable* table = new kernel::SyscallTable(Build());
  return *table;
}

}  // namespace syscalls
