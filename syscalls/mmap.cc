// Memory mapping: mmap(2), munmap(2), mprotect(2), mremap(2), madvise(2),
// msync(2), brk(2), and the mlock(2) family.
#include <linux/capability.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/personality.h>
#include <sys/syscall.h>

#include "sentry/vfs/mappable.h"
#include "sentry/vfs/tmpfs.h"
#include "syscalls/common.h"

namespace syscalls {
namespace {

// The process's limits on its address space, for the memory manager.
mm::Limits Limits(Task& t) {
  kernel::ThreadGroup& tg = t.thread_group();
  const rlimit data = tg.GetRlimit(RLIMIT_DATA);
  return {.as = tg.GetRlimit(RLIMIT_AS).rlim_cur,
          .data = data.rlim_cur,
          .data_max = data.rlim_max,
          .memlock = tg.GetRlimit(RLIMIT_MEMLOCK).rlim_cur,
          .ipc_lock = t.creds().HasCap(CAP_IPC_LOCK)};
}

// personality(READ_IMPLIES_EXEC): a readable mapping is executable too
// (in mprotect, as if every mapping had VM_MAYEXEC).
int WithReadImpliesExec(const Task& t, int prot) {
  if ((prot & PROT_READ) && (t.personality & READ_IMPLIES_EXEC))
    prot |= PROT_EXEC;
  return prot;
}

// Mmap implements Linux syscall mmap(2).
Result<uint64_t> Mmap(Task& t, uint64_t addr, uint64_t length, int prot,
                      int flags, Fd fd, uint64_t offset) {
  int type = flags & MAP_TYPE;
  if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE)
    return Err(EINVAL);
  if (offset % mm::kPageSize) return Err(EINVAL);
  prot = WithReadImpliesExec(t, prot);
  mm::MmapOpts opts{
      .addr = addr,
      .length = length,
      .prot = prot & (PROT_READ | PROT_WRITE | PROT_EXEC),
      .fixed = (flags & MAP_FIXED) != 0,
      .fixed_noreplace = (flags & MAP_FIXED_NOREPLACE) != 0,
      .shared = type != MAP_PRIVATE,
      .grows_down = (flags & MAP_GROWSDOWN) != 0,
      .locked = (flags & MAP_LOCKED) != 0,
      .offset = offset,
      .limits = Limits(t),
  };
  if (!(flags & MAP_ANONYMOUS)) {
    FilePtr f = TRY(GetFile(t, fd));
    if (f->is_path()) return Err(EBADF);
    // Linux's do_mmap order: access checks, then whether it maps at all.
    if (!f->readable()) return Err(EACCES);
    if (opts.shared && !f->writable()) {
      if (prot & PROT_WRITE) return Err(EACCES);
      opts.max_prot &= ~PROT_WRITE;  // mprotect may not add it later either
    }
    if (opts.shared && (prot & PROT_WRITE) && (f->flags() & O_APPEND))
      return Err(EACCES);
    // A file sealed against writes cannot be mapped shared and writable.
    if (opts.shared && (prot & PROT_WRITE)) {
      auto seals = vfs::TmpfsGetSeals(*f);
      if (seals && (*seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
        return Err(EPERM);
    }
    const vfs::MmapKind kind = f->mmap_kind();
    if (kind == vfs::MmapKind::kNotMappable) return Err(ENODEV);
    opts.name = f->path();
    // /dev/zero maps anonymous memory (shared anonymous memory if shared).
    if (kind == vfs::MmapKind::kFile)
      opts.file = vfs::MappableOf(
          std::move(f), opts.shared && (opts.max_prot & PROT_WRITE));
  }
  return t.mm().Mmap(opts);
}

// Munmap implements Linux syscall munmap(2).
Result<void> Munmap(Task& t, uint64_t addr, uint64_t length) {
  return t.mm().Munmap(addr, length);
}

// Mprotect implements Linux syscall mprotect(2).
// The memory manager checks prot (PROT_GROWSDOWN, PROT_SEM...) as Linux.
Result<void> Mprotect(Task& t, uint64_t addr, uint64_t length, int prot) {
  return t.mm().Mprotect(addr, length, WithReadImpliesExec(t, prot),
                         Limits(t));
}

// Mremap implements Linux syscall mremap(2).
Result<uint64_t> Mremap(Task& t, uint64_t old_addr, uint64_t old_length,
                        uint64_t new_length, int flags, uint64_t new_addr) {
  return t.mm().Mremap(old_addr, old_length, new_length, flags, new_addr,
                       Limits(t));
}

// Madvise implements Linux syscall madvise(2).
Result<void> Madvise(Task& t, uint64_t addr, uint64_t length, int advice) {
  return t.mm().Madvise(addr, length, advice);
}

// Msync implements Linux syscall msync(2).
Result<void> Msync(Task& t, uint64_t addr, uint64_t length, int flags) {
  if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) return Err(EINVAL);
  if ((flags & MS_ASYNC) && (flags & MS_SYNC)) return Err(EINVAL);
  return t.mm().Msync(addr, length, flags & MS_INVALIDATE);
}

// Brk implements Linux syscall brk(2).
Result<uint64_t> Brk(Task& t, uint64_t addr) {
  return t.mm().Brk(addr, Limits(t));
}

// Mlock implements Linux syscall mlock(2).
Result<void> Mlock(Task& t, uint64_t addr, uint64_t length) {
  return t.mm().Mlock(addr, length, Limits(t));
}

// Mlock2 implements Linux syscall mlock2(2).
// MLOCK_ONFAULT makes no difference: every page is resident anyway.
Result<void> Mlock2(Task& t, uint64_t addr, uint64_t length, int flags) {
  if (flags & ~MLOCK_ONFAULT) return Err(EINVAL);
  return t.mm().Mlock(addr, length, Limits(t));
}

// Munlock implements Linux syscall munlock(2).
Result<void> Munlock(Task& t, uint64_t addr, uint64_t length) {
  return t.mm().Munlock(addr, length);
}

// Mlockall implements Linux syscall mlockall(2).
Result<void> Mlockall(Task& t, int flags) {
  return t.mm().Mlockall(flags, Limits(t));
}

// Munlockall implements Linux syscall munlockall(2).
Result<void> Munlockall(Task& t) {
  t.mm().Munlockall();
  return {};
}

}  // namespace

void RegisterMmap(Registrar& r) {
  r.Partial<&Mmap>(SYS_mmap,
                   "MAP_SHARED of tmpfs and memfd files maps the file's "
                   "pages; of gofer (read-only lower) files it is a "
                   "snapshot; the size is the one at mmap time (truncation "
                   "does not make mapped pages SIGBUS); no MAP_HUGETLB")
      .Show(SYS_mmap, 0, ArgKind::kHex)
      .Show(SYS_mmap, 1, ArgKind::kHex)
      .Show(SYS_mmap, 2, ArgKind::kMmapProt)
      .Show(SYS_mmap, 3, ArgKind::kMmapFlags)
      .Show(SYS_mmap, 5, ArgKind::kHex);
  r.Full<&Munmap>(SYS_munmap).Show(SYS_munmap, 1, ArgKind::kHex);
  r.Full<&Mprotect>(SYS_mprotect)
      .Show(SYS_mprotect, 1, ArgKind::kHex)
      .Show(SYS_mprotect, 2, ArgKind::kMmapProt);
  r.Partial<&Mremap>(SYS_mremap,
                     "old_size 0 (duplicating a shared mapping) is EINVAL");
  r.Partial<&Madvise>(SYS_madvise,
                      "DONTNEED, FREE, REMOVE, POPULATE_*, DONTFORK, "
                      "WIPEONFORK as Linux (REMOVE zeroes a tmpfs file's "
                      "pages rather than freeing them); paging hints are "
                      "ignored; no GUARD_*, "
                      "HWPOISON, COLLAPSE");
  r.Full<&Msync>(SYS_msync);
  r.Partial<&Brk>(SYS_brk,
                  "RLIMIT_DATA counts the heap only, not the data segment");
  const char* kLockNote =
      "accounting against RLIMIT_MEMLOCK only: nothing is ever paged out";
  r.Partial<&Mlock>(SYS_mlock, kLockNote);
  r.Partial<&Mlock2>(SYS_mlock2, kLockNote);
  r.Partial<&Munlock>(SYS_munlock, kLockNote);
  r.Partial<&Mlockall>(SYS_mlockall, kLockNote);
  r.Partial<&Munlockall>(SYS_munlockall, kLockNote);
}

}  // namespace syscalls
