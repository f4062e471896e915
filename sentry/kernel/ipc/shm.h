// SysV shared memory (shmget, shmat, shmdt, shmctl): Linux's ipc/shm.c.
//
// A segment is a range of the memory file with one reference of its own;
// each attachment maps that range MAP_SHARED and holds one more (the
// VMA's, freed by mm as for any shared mapping). Attachments are counted
// through mm::Attachment objects the VMAs hold, so munmap, shmdt, exec
// and exit all detach, and fork attaches the child. IPC_RMID frees the key
// at once; the segment goes when its last attachment does.
//
// Lock order: MemoryManager::mu_ -> Shm::mu_ -> MemoryFile::mu_ (an
// attachment's destructor runs under the address space's lock). Shm never
// calls into a MemoryManager while holding mu_.
#ifndef SENTRY_KERNEL_IPC_SHM_H_
#define SENTRY_KERNEL_IPC_SHM_H_

#include <sys/shm.h>

#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/result.h"
#include "sentry/kernel/credentials.h"
#include "sentry/kernel/ipc/perm.h"
#include "sentry/mm/memory_file.h"
#include "sentry/mm/memory_manager.h"

namespace kernel::ipc {

// Linux's defaults (include/uapi/linux/shm.h); /proc/sys/kernel/shm* would
// change them (TODO with procfs).
inline constexpr uint64_t kShmMin = 1;
inline constexpr uint64_t kShmMax = ~uint64_t{0} - (uint64_t{1} << 24);
inline constexpr uint64_t kShmAll = ~uint64_t{0} - (uint64_t{1} << 24);
inline constexpr int kShmMni = 4096;
inline constexpr int kShmStatAny = 15;  // SHM_STAT_ANY, Linux 4.17

class Shm : public std::enable_shared_from_this<Shm> {
 public:
  struct Segment {
    Segment(mm::MemoryFile& file, uint64_t backing, uint64_t size)
        : file(file), backing(backing), size(size) {}
    ~Segment();  // drops the segment's own reference to its backing
    mm::MemoryFile& file;
    const uint64_t backing;
    const uint64_t size;  // as asked; the backing is whole pages
    Perm perm;
    int64_t atime = 0, dtime = 0, ctime = 0;
    int cpid = 0, lpid = 0;
    uint64_t nattch = 0;
  };

  // shmget(2).
  base::Result<int> Get(mm::MemoryFile& file, const Credentials& creds,
                        int pid, key_t key,
                        uint64_t size, int flag);
  // shmat(2) into `mm`: the address.
  base::Result<uint64_t> Attach(mm::MemoryManager& mm,
                                const Credentials& creds, int pid, int id,
                                uint64_t addr, int flag);
  // shmctl(2) IPC_STAT/SHM_STAT/SHM_STAT_ANY (`by_index` for the latter
  // two; `check` is false for SHM_STAT_ANY): the segment's id too.
  base::Result<int> Stat(const Credentials& creds, int id, bool by_index,
                         bool check, shmid_ds* out);
  base::Result<void> Set(const Credentials& creds, int id, const shmid_ds& in);
  base::Result<void> Remove(const Credentials& creds, int id);
  base::Result<void> Lock(const Credentials& creds, int id, bool lock);
  // IPC_INFO and SHM_INFO: the highest index in use.
  int Info(shminfo* out);
  int Usage(shm_info* out);

  // Called by an attachment's destructor.
  void Detached(const std::shared_ptr<Segment>& seg, int pid);

 private:
  class AttachmentImpl;

  absl::Mutex mu_;
  Registry<Segment> segments_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kernel::ipc

#endif  // SENTRY_KERNEL_IPC_SHM_H_
