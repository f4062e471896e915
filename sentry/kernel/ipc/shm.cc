// SysV shared memory segments (Linux's ipc/shm.c).
#include "sentry/kernel/ipc/shm.h"

#include <sys/mman.h>

#include <ctime>

namespace kernel::ipc {
namespace {

int64_t Now() { return time(nullptr); }

uint64_t Pages(uint64_t size) {
  return size / mm::kPageSize + (size % mm::kPageSize != 0);
}

}  // namespace

Shm::Segment::~Segment() { file.Free(backing, Pages(size) * mm::kPageSize); }

// What the VMAs of one shmat hold.
class Shm::AttachmentImpl : public mm::Attachment {
 public:
  AttachmentImpl(std::shared_ptr<Shm> shm, std::shared_ptr<Segment> seg,
                 int pid)
      : shm_(std::move(shm)), seg_(std::move(seg)), pid_(pid) {}
  ~AttachmentImpl() override { shm_->Detached(seg_, pid_); }

  uint64_t backing() const override { return seg_->backing; }
  uint64_t size() const override { return seg_->size; }
  std::shared_ptr<mm::Attachment> Fork() const override {
    absl::MutexLock lock(&shm_->mu_);
    ++seg_->nattch;
    seg_->atime = Now();
    seg_->lpid = pid_;
    return std::make_shared<AttachmentImpl>(shm_, seg_, pid_);
  }

 private:
  const std::shared_ptr<Shm> shm_;
  const std::shared_ptr<Segment> seg_;
  const int pid_;
};

base::Result<int> Shm::Get(mm::MemoryFile& file, const Credentials& creds,
                           int pid, key_t key,
                           uint64_t size, int flag) {
  absl::MutexLock lock(&mu_);
  if (key != IPC_PRIVATE) {
    if (auto seg = segments_.FindKey(key)) {
      if ((flag & IPC_CREAT) && (flag & IPC_EXCL)) return base::Err(EEXIST);
      if (seg->size < size) return base::Err(EINVAL);
      if (!MayAccess(creds, seg->perm, flag)) return base::Err(EACCES);
      return seg->perm.id;
    }
    if (!(flag & IPC_CREAT)) return base::Err(ENOENT);
  }
  // Linux's newseg.
  if (size < kShmMin || size > kShmMax) return base::Err(EINVAL);
  uint64_t total = 0;
  for (const auto& [index, seg] : segments_.objects())
    total += Pages(seg->size);
  if (total + Pages(size) < total || total + Pages(size) > kShmAll)
    return base::Err(ENOSPC);
  if (segments_.size() >= kShmMni) return base::Err(ENOSPC);
  uint64_t backing = TRY(file.Allocate(Pages(size) * mm::kPageSize));
  auto seg = std::make_shared<Segment>(file, backing, size);
  seg->perm = Perm::For(creds, key, flag);
  seg->cpid = pid;
  seg->ctime = Now();
  segments_.Add(seg, kShmMni);
  return seg->perm.id;
}

base::Result<uint64_t> Shm::Attach(mm::MemoryManager& mm,
                                   const Credentials& creds, int pid, int id,
                                   uint64_t addr, int flag) {
  // Linux's do_shmat: the address first, then the segment.
  if (addr != 0) {
    if (addr % mm::kPageSize != 0) {
      if (!(flag & SHM_RND)) return base::Err(EINVAL);
      addr -= addr % mm::kPageSize;  // SHMLBA is a page on x86-64
      if (addr == 0 && (flag & SHM_REMAP)) return base::Err(EINVAL);
    }
  } else if (flag & SHM_REMAP) {
    return base::Err(EINVAL);
  }
  int prot = PROT_READ, access = 0444;
  if (!(flag & SHM_RDONLY)) {
    prot |= PROT_WRITE;
    access |= 0222;
  }
  if (flag & SHM_EXEC) {
    prot |= PROT_EXEC;
    access |= 0111;
  }

  std::shared_ptr<AttachmentImpl> att;
  mm::MemoryFile* file;
  uint64_t backing, size;
  {
    absl::MutexLock lock(&mu_);
    auto seg = TRY(segments_.Find(id));
    if (!MayAccess(creds, seg->perm, access)) return base::Err(EACCES);
    file = &seg->file;
    backing = seg->backing;
    size = seg->size;
    // The mapping's reference to the pages (mm frees it when the last VMA
    // goes); taken under mu_ so that the segment cannot go meanwhile.
    file->IncRef(backing, Pages(size) * mm::kPageSize);
    ++seg->nattch;
    seg->atime = Now();
    seg->lpid = pid;
    att = std::make_shared<AttachmentImpl>(shared_from_this(), seg, pid);
  }
  mm::MmapOpts opts{.addr = addr,
                    .length = size,
                    .prot = prot,
                    .fixed = addr != 0 && (flag & SHM_REMAP),
                    .fixed_noreplace = addr != 0 && !(flag & SHM_REMAP),
                    .shared = true,
                    .name = "/SYSV" + std::to_string(id),
                    .backing = backing,
                    .attachment = att,
                    .max_prot = prot | PROT_READ | PROT_EXEC |
                                ((flag & SHM_RDONLY) ? 0 : PROT_WRITE)};
  auto r = mm.Mmap(opts);
  if (!r) {
    file->Free(backing, Pages(size) * mm::kPageSize);
    // A mapping in the way of a fixed address is EINVAL for shmat.
    if (r.error().value == EEXIST) return base::Err(EINVAL);
    return r;
  }
  return *r;
}

void Shm::Detached(const std::shared_ptr<Segment>& seg, int pid) {
  absl::MutexLock lock(&mu_);
  --seg->nattch;
  seg->dtime = Now();
  seg->lpid = pid;
  if (seg->nattch == 0 && (seg->perm.mode & SHM_DEST) && !seg->perm.removed)
    segments_.Remove(*seg);
}

base::Result<int> Shm::Stat(const Credentials& creds, int id, bool by_index,
                            bool check, shmid_ds* out) {
  absl::MutexLock lock(&mu_);
  auto seg = TRY(by_index ? segments_.AtIndex(id) : segments_.Find(id));
  if (check && !MayAccess(creds, seg->perm, 0444)) return base::Err(EACCES);
  *out = {};
  seg->perm.ToUser(&out->shm_perm);
  out->shm_segsz = seg->size;
  out->shm_atime = seg->atime;
  out->shm_dtime = seg->dtime;
  out->shm_ctime = seg->ctime;
  out->shm_cpid = seg->cpid;
  out->shm_lpid = seg->lpid;
  out->shm_nattch = seg->nattch;
  return seg->perm.id;
}

base::Result<void> Shm::Set(const Credentials& creds, int id,
                            const shmid_ds& in) {
  absl::MutexLock lock(&mu_);
  auto seg = TRY(segments_.Find(id));
  TRY(MayChange(creds, seg->perm));
  SetFrom(seg->perm, in.shm_perm);
  seg->ctime = Now();
  return {};
}

base::Result<void> Shm::Remove(const Credentials& creds, int id) {
  absl::MutexLock lock(&mu_);
  auto seg = TRY(segments_.Find(id));
  TRY(MayChange(creds, seg->perm));
  if (seg->nattch == 0) {
    segments_.Remove(*seg);
    return {};
  }
  // Attached: destroyed at the last detach. The key is free at once.
  seg->perm.mode |= SHM_DEST;
  segments_.ForgetKey(*seg);
  return {};
}

base::Result<void> Shm::Lock(const Credentials& creds, int id, bool lock_it) {
  absl::MutexLock lock(&mu_);
  auto seg = TRY(segments_.Find(id));
  if (!creds.HasCap(kCapIpcLock) && creds.euid != seg->perm.uid &&
      creds.euid != seg->perm.cuid)
    return base::Err(EPERM);
  // Nothing to pin: memory-file pages are never swapped by the sentry.
  if (lock_it)
    seg->perm.mode |= SHM_LOCKED;
  else
    seg->perm.mode &= ~SHM_LOCKED;
  return {};
}

int Shm::Info(shminfo* out) {
  *out = {};
  out->shmmax = kShmMax;
  out->shmmin = kShmMin;
  out->shmmni = kShmMni;
  out->shmseg = kShmMni;
  out->shmall = kShmAll;
  absl::MutexLock lock(&mu_);
  return std::max(segments_.MaxIndex(), 0);
}

int Shm::Usage(shm_info* out) {
  *out = {};
  absl::MutexLock lock(&mu_);
  out->used_ids = static_cast<int>(segments_.size());
  for (const auto& [index, seg] : segments_.objects())
    out->shm_tot += Pages(seg->size);
  out->shm_rss = out->shm_tot;  // populated up front (sparse on the host)
  return std::max(segments_.MaxIndex(), 0);
}

}  // namespace kernel::ipc
