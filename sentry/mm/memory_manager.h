// MemoryManager: one application address space.
//
// It owns the VMAs (what the application asked for: range, protection,
// sharing, name) and the backing of each VMA in the memory file, and
// mirrors every change into the platform's AddressSpace (the stub).
//
// Backing is allocated when a range first becomes accessible (mmap with a
// protection other than PROT_NONE, or mprotect of a never-backed range) and
// is mapped into the stub at once, so ordinary accesses never fault.
// Private file mappings copy the file's bytes into their backing at mmap
// time. fork shares private backing copy-on-write: such VMAs are mapped
// without PROT_WRITE in the stub, and the first write (an app fault, or a
// sentry copy into the range) gives the written chunk its own backing.
//
// Lock order: MemoryManager::mu_ before MemoryFile::mu_.
#ifndef SENTRY_MM_MEMORY_MANAGER_H_
#define SENTRY_MM_MEMORY_MANAGER_H_

#include <sys/mman.h>
#include <sys/uio.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "base/result.h"
#include "platform/platform.h"
#include "sentry/mm/mappable.h"
#include "sentry/mm/memory_file.h"
#include "sentry/mm/user_ptr.h"

namespace mm {

// Lowest address an application may map (Linux's default mmap_min_addr).
inline constexpr uint64_t kMinUserAddress = 0x10000;
// The end of user space (Linux's TASK_SIZE_MAX, x86-64 4-level paging:
// 2^47 less a guard page): mappings end, and segment bases, stacks and
// futex words lie, below it.
inline constexpr uint64_t kTaskSizeMax = 0x7ffffffff000;

// The process's limits on its address space, in bytes (RLIM_INFINITY for
// none), as the syscalls that grow it are made: the kernel owns rlimits,
// so each call that can grow the address space or lock memory passes them
// in. The defaults limit nothing (the loader, tests).
struct Limits {
  uint64_t as = ~uint64_t{0};        // RLIMIT_AS
  uint64_t data = ~uint64_t{0};      // RLIMIT_DATA (soft)
  uint64_t data_max = ~uint64_t{0};  // RLIMIT_DATA (hard)
  uint64_t memlock = ~uint64_t{0};   // RLIMIT_MEMLOCK
  bool ipc_lock = true;  // CAP_IPC_LOCK: may lock memory beyond `memlock`
};

// A SysV shared memory attachment (shmat(2)): the kernel's handle on a
// segment, held by the VMAs that map it, so that the kernel counts
// attachments (shm_nattch) without mm knowing about segments. Split VMAs
// share one; fork gives the child's copy its own (Fork); the segment
// learns of a detach (munmap, shmdt, exec, exit) when the last VMA holding
// it goes. Its destructor runs under MemoryManager::mu_: it must not call
// back into mm.
class Attachment {
 public:
  virtual ~Attachment() = default;
  // The memory-file offset of the segment's first byte.
  virtual uint64_t backing() const = 0;
  // The segment's size in bytes (shmdt detaches up to it).
  virtual uint64_t size() const = 0;
  // An attachment for a forked child's copy of the mapping.
  virtual std::shared_ptr<Attachment> Fork() const = 0;
};

struct MmapOpts {
  uint64_t addr = 0;  // hint, or the address with fixed/fixed_noreplace
  uint64_t length = 0;
  int prot = 0;                  // PROT_*
  bool fixed = false;            // MAP_FIXED: replaces existing mappings
  bool fixed_noreplace = false;  // MAP_FIXED_NOREPLACE: EEXIST on overlap
  bool shared = false;           // MAP_SHARED
  bool grows_down = false;       // MAP_GROWSDOWN (recorded)
  bool locked = false;           // MAP_LOCKED (accounted, as mlock)
  // File mappings: the bytes at [offset, offset+length) of `file`. A
  // shared mapping of a file that SharesPages maps the file's own pages;
  // anything else is a copy made now. The rest of the page holding EOF
  // reads as zero, and the pages after it raise SIGBUS (the size is the
  // file's at mmap time). The caller has checked the file may be mapped
  // so (open for reading; for writing if shared and writable, else
  // `max_prot` lacks PROT_WRITE).
  std::shared_ptr<Mappable> file;
  uint64_t offset = 0;
  std::string name;  // "[heap]", "[stack]" or the file's path
  Limits limits;
  // Shared memory the caller holds (shmat): the mapping uses the
  // memory-file range at this offset instead of fresh backing, and takes
  // over one reference to it that the caller took with IncRef (on failure
  // the reference stays the caller's). Needs `shared`.
  std::optional<uint64_t> backing;
  std::shared_ptr<Attachment> attachment;  // with `backing`
  // Protections mprotect may grant later (PROT_WRITE is dropped for a
  // read-only shmat, as Linux's VM_MAYWRITE).
  int max_prot = PROT_READ | PROT_WRITE | PROT_EXEC;
};

// One VMA as /proc/self/maps would show it.
struct VmaInfo {
  uint64_t start, end;
  int prot;
  bool shared;
  std::string name;
  uint64_t resident = 0;  // bytes with backing in the memory file
  uint64_t offset = 0;    // file mappings: the file offset of `start`
  std::shared_ptr<Mappable> file;  // null for anonymous memory
};

// Where execve put the program's pieces (Linux's mm_struct fields that
// /proc/<pid>/stat shows; cmdline and environ are read from
// [arg_start, arg_end) and [env_start, env_end)). Kept by fork.
struct ImageLayout {
  uint64_t start_code = 0, end_code = 0, start_data = 0, end_data = 0;
  uint64_t start_stack = 0;
  uint64_t arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;
  uint64_t start_brk = 0, brk = 0;  // read only: brk(2)'s
};

enum class Access { kRead, kWrite };

// One application buffer of a transfer: [addr, addr+len).
struct UserRange {
  uint64_t addr;
  uint64_t len;
};

class MemoryManager final : public platform::AppMemory {
 public:
  // Application mappings lie in [kMinUserAddress, platform.MaxUserAddress()).
  static base::Result<std::unique_ptr<MemoryManager>> Create(
      MemoryFile& file, platform::Platform& platform);
  ~MemoryManager();  // frees all backing

  // Valid once the address space exists (always, except for a forked copy
  // before Attach).
  platform::AddressSpace& address_space() { return *as_; }

  // fork(2): a copy of this address space for a child process. Shared
  // memory is shared; private memory is shared copy-on-write by both (no
  // page is copied here). The copy has no platform address space yet: the
  // child's own thread calls Attach, which creates it and maps every
  // backed VMA.
  base::Result<std::unique_ptr<MemoryManager>> Fork();
  base::Result<void> Attach(platform::Platform& platform);

  // A page fault the platform reported at `addr`:
  //   kResolved: a write to copy-on-write memory (now copied), or an access
  //     below a MAP_GROWSDOWN VMA that may grow down to it (within
  //     `stack_limit` bytes, the process's RLIMIT_STACK, and Linux's guard
  //     gap above the next VMA down). The app retries the access.
  //   kMaybeStale: the page is mapped and accessible now; another thread
  //     may have resolved the same fault first. Retry once; the same fault
  //     again is the app's (an instruction fetch from a page without
  //     PROT_EXEC, say).
  //   kAppError: the app's own error.
  // The platform does not say whether the access was a write; any fault on
  // a copy-on-write page of a writable VMA is taken as one (reads and
  // executes cannot fault there), and breaking COW early is harmless.
  // `*changes` gets the count of changes to the address space when the
  // verdict was made: a second kMaybeStale fault at the same address with
  // the same count is the app's own error (nothing could have resolved it
  // in between).
  //   kBusError: a page of a file mapping past the end of the file (as it
  //     was when mapped): the app gets SIGBUS (BUS_ADRERR), as on Linux.
  enum class Fault { kResolved, kMaybeStale, kAppError, kBusError };
  Fault HandleFault(uint64_t addr, uint64_t stack_limit, uint64_t* changes);
  // Tests: whether the page at `addr` is still shared copy-on-write.
  bool IsCopyOnWrite(uint64_t addr) const;
  // Tests: whether the page at `addr` lies past the end of its file (no
  // backing, nothing in the stub).
  bool IsBeyondEof(uint64_t addr) const;
  uint64_t max_address() const { return max_address_; }

  // mmap(2), munmap(2), mprotect(2), mremap(2), madvise(2) with Linux's
  // argument checks and errors. Lengths are rounded up to pages here.
  base::Result<uint64_t> Mmap(const MmapOpts& opts);
  base::Result<void> Munmap(uint64_t addr, uint64_t length);
  base::Result<void> Mprotect(uint64_t addr, uint64_t length, int prot,
                              const Limits& limits = {});
  base::Result<uint64_t> Mremap(uint64_t old_addr, uint64_t old_length,
                                uint64_t new_length, int flags,
                                uint64_t new_addr, const Limits& limits = {});
  base::Result<void> Madvise(uint64_t addr, uint64_t length, int advice);
  // msync(2) after its flag checks: there is nothing to write back (shared
  // mappings of tmpfs files are the file's pages; other files' shared
  // mappings are snapshots), so only the range is checked: a hole is
  // ENOMEM, and `invalidate` (MS_INVALIDATE) of locked memory EBUSY.
  base::Result<void> Msync(uint64_t addr, uint64_t length, bool invalidate);
  // mincore(2) of `pages` pages from `addr` (page-aligned and below the
  // address-space limit: the syscall checked): `vec` gets 1 for each page
  // the memory file holds (memory_manager_mincore.cc), 0 otherwise.
  // ENOMEM if any of the range is unmapped.
  base::Result<void> Mincore(uint64_t addr, uint64_t pages,
                             std::vector<uint8_t>& vec) const;
  // mlock(2)/mlock2(2), munlock(2), mlockall(2), munlockall(2): accounting
  // only (every accessible page is resident anyway), with Linux's checks
  // against RLIMIT_MEMLOCK.
  base::Result<void> Mlock(uint64_t addr, uint64_t length,
                           const Limits& limits);
  base::Result<void> Munlock(uint64_t addr, uint64_t length);
  base::Result<void> Mlockall(int flags, const Limits& limits);
  void Munlockall();
  // Bytes of locked memory (Linux's locked_vm), for tests and /proc.
  uint64_t LockedBytes() const;
  // shmdt(2): the VMA starting at `addr` must map the start of an
  // attachment's segment (EINVAL otherwise); every VMA of that attachment
  // in [addr, addr + its size) is unmapped.
  base::Result<void> Detach(uint64_t addr);

  // brk(2): the program break starts at SetBrkBase's address (page
  // rounded); Brk returns the new break, or the unchanged one on failure,
  // as Linux does.
  void SetBrkBase(uint64_t addr);
  uint64_t Brk(uint64_t addr, const Limits& limits = {});
  // Where mmap without a usable hint starts searching downwards.
  void SetMmapBase(uint64_t addr);

  // Copies between the application and the sentry. The whole range must
  // be accessible (readable for CopyIn, writable for CopyOut) or EFAULT.
  base::Result<void> CopyIn(uint64_t addr, void* dst, size_t n);
  base::Result<void> CopyOut(uint64_t addr, const void* src, size_t n);
  // Reads a NUL-terminated string of at most max_len bytes (excluding the
  // NUL): ENAMETOOLONG if no NUL within it, EFAULT if unreadable.
  base::Result<std::string> CopyInString(uint64_t addr, size_t max_len);
  // Like CopyOut but ignores protection (still EFAULT if unmapped): for the
  // loader writing the initial stack or read-only data.
  base::Result<void> WriteForce(uint64_t addr, const void* src, size_t n);
  // Like CopyIn but ignores protection (ptrace's PEEKTEXT, as Linux's
  // FOLL_FORCE): EFAULT only if unmapped.
  base::Result<void> ReadForce(uint64_t addr, void* dst, size_t n);

  // Direct I/O between a file and the application's buffers `ranges` (in
  // order): runs `io` on the sentry's view of them, up to the first byte
  // not accessible for `access` (kWrite: the sentry fills them, read(2);
  // kRead: it reads them, write(2)). EFAULT, without calling `io`, if that
  // is the very first byte; a shorter total means a partial transfer.
  //
  // The address space is held for the duration of `io`, so no munmap,
  // mprotect, mremap or fork by another thread can change what those pages
  // are while the data move: the bytes land where the app sees them at
  // that moment, as Linux's copy_to_user at completion. Nothing that can
  // block may be held across a call, and a transfer that must wait (an
  // empty pipe) resolves its buffers again when it retries. `io` must not
  // block, nor take any MemoryManager's lock (it runs under mu_).
  using IoFn = absl::FunctionRef<base::Result<size_t>(std::span<const iovec>)>;
  base::Result<size_t> WithIoBlocks(std::span<const UserRange> ranges,
                                    Access access, IoFn io);

  template <class T>
  base::Result<T> CopyInObj(UserPtr<T> p) {
    static_assert(std::is_trivially_copyable_v<T>);
    T v;
    TRY(CopyIn(p.addr, &v, sizeof(T)));
    return v;
  }
  template <class T>
  base::Result<void> CopyOutObj(UserPtr<T> p, const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    return CopyOut(p.addr, &v, sizeof(T));
  }

  // platform::AppMemory, for the platform's syscall patching (systrap):
  // an edit of private executable text as a ptrace write would make it
  // (memory_manager_text.cc), and a platform-owned mapping at a fixed
  // address (it is an ordinary VMA: fork copies it, exec drops it).
  bool EditPrivateText(uint64_t addr, size_t len,
                       const std::function<void(uint8_t*)>& fn) override;
  bool MapPlatformArea(uint64_t addr, uint64_t len, const char* name) override;

  std::vector<VmaInfo> Vmas() const;
  // Set by the loader (start_brk and brk are ignored: SetBrkBase's).
  void SetImageLayout(const ImageLayout& layout);
  ImageLayout image_layout() const;

  // Shared futexes: the memory-file offset backing `addr` when it lies in a
  // backed MAP_SHARED VMA (the same offset in every process mapping those
  // pages), nullopt for private or unbacked memory (keyed by address space
  // and address instead, as Linux keys private anonymous memory). Shared
  // backing never changes while mapped, so the key is stable.
  std::optional<uint64_t> SharedBackingOffset(uint64_t addr) const;

  // The file whose Mappable::identity is `file` changed its pages
  // [start, end): each shared mapping of them is made again from the file
  // as it is now, so pages past its end become SIGBUS, pages it grew into
  // become its pages, and a punched hole maps the file's new (zero) page.
  // Files reach it through MappingSpace (memory_manager_invalidate.cc).
  void InvalidateFile(const void* file, uint64_t start, uint64_t end);

 private:
  class SpaceHandle;
  struct Vma {
    uint64_t end;
    int prot;
    bool shared;
    bool grows_down;
    bool backed;  // has memory file backing at file_offset
    // Private backing that another address space (fork) may still share:
    // mapped without PROT_WRITE in the stub; written only after
    // BreakCowLocked gives the range backing of its own.
    bool cow;
    uint64_t file_offset;  // backing of `start` (the map key)
    std::string name;
    // Protections mprotect may grant: PROT_WRITE is missing for a shared
    // mapping of a file not opened for writing (Linux's VM_MAYWRITE).
    int max_prot;
    // File mappings: where the contents come from, so that madvise
    // (MADV_DONTNEED) and mremap growth can read them again. `source_offset`
    // is the file offset of `start`. Null for anonymous memory.
    std::shared_ptr<Mappable> source;
    uint64_t source_offset;
    // SysV shm (MmapOpts::attachment): shared backing that is a segment's.
    std::shared_ptr<Attachment> attachment;
    // File pages after the one holding EOF (when mapped): unbacked and not
    // in the stub, so an access faults and becomes SIGBUS.
    bool beyond_eof = false;
    // madvise flags, kept across splits: the child of a fork does not get
    // a `dontfork` VMA, and gets a `wipeonfork` one as fresh zero memory.
    bool dontfork = false;
    bool wipeonfork = false;
    bool dontdump = false;  // recorded only: there are no core dumps
    bool locked = false;    // mlock (Linux's VM_LOCKED): accounting only
  };
  // What Linux's may_expand_vm and mlock count: all mapped bytes, private
  // writable non-stack bytes (data_vm), locked bytes.
  struct Usage {
    uint64_t total = 0, data = 0, locked = 0;
  };
  using VmaMap = std::map<uint64_t, Vma>;
  // Which VMAs a copy may go through: kAny ignores protection (WriteForce).
  // kReadAny: reads ignoring protection (ReadForce).
  enum class Need { kRead, kWrite, kAny, kReadAny };

  // What RemoveLocked took away: the backing to free, and the address span
  // [lo, hi) of the backed VMAs, which is all the stub has mapped there.
  struct Removed {
    struct Backing {
      uint64_t offset, len;
    };
    std::vector<Backing> backing;
    uint64_t lo = 0, hi = 0;
  };

  // Helpers; they need mu_, exclusively if they change VMAs.
  // memory_manager.cc:
  VmaMap::iterator FindLocked(uint64_t addr) ABSL_SHARED_LOCKS_REQUIRED(mu_);
  bool RangeFreeLocked(uint64_t start, uint64_t end) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  base::Result<uint64_t> FindGapLocked(uint64_t len) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void SplitLocked(uint64_t addr) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops the VMAs in [start, end) without touching the stub; the caller
  // frees the backing once the stub no longer maps it.
  Removed RemoveLocked(uint64_t start, uint64_t end)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Unmaps removed backing from the stub, then frees it (or leaks it if the
  // platform fails: reusing pages the stub may still map would be worse).
  base::Result<void> ReleaseLocked(const Removed& removed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // munmap: RemoveLocked, then ReleaseLocked.
  base::Result<void> UnmapLocked(uint64_t start, uint64_t end)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Gives an unbacked VMA fresh backing (with its file's bytes) and maps
  // it into the stub.
  base::Result<void> BackLocked(uint64_t start, Vma& vma)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Replaces a backed VMA's backing with fresh backing (zero, or its
  // file's bytes), mapped into the stub, and drops the old backing.
  base::Result<void> RebackLocked(uint64_t start, Vma& vma)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Adds a VMA over a free range, backed unless it is anonymous PROT_NONE.
  base::Result<void> InsertLocked(uint64_t start, Vma vma)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Adds a VMA over a free range with the given backing (shmat), mapped
  // into the stub; it owns one reference to the backing once this succeeds.
  // A shared mapping of a file that lends its pages (Mappable::PinPages):
  // one backed VMA per run of the file's pages, referenced by the VMA.
  base::Result<void> InsertSharedFileLocked(uint64_t start, Vma vma)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  base::Result<void> InsertBackedLocked(uint64_t start, Vma vma,
                                        uint64_t backing)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The protection the stub maps a VMA with: copy-on-write memory is
  // read-only there until written.
  static int StubProt(const Vma& vma) {
    return vma.cow ? vma.prot & ~PROT_WRITE : vma.prot;
  }
  // Grows the MAP_GROWSDOWN VMA at `stack` down to the page of `addr`, as
  // Linux's expand_downwards; false if Linux would refuse.
  bool GrowDownLocked(VmaMap::iterator stack, uint64_t addr,
                      uint64_t stack_limit) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // memory_manager_limits.cc:
  Usage UsageLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Linux's may_expand_vm: whether `len` more bytes of a mapping with
  // these attributes stay within RLIMIT_AS and RLIMIT_DATA.
  bool MayExpandLocked(int prot, bool shared, bool grows_down, uint64_t len,
                       const Limits& limits) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Linux's mlock_future_ok: whether `len` more locked bytes fit.
  bool MayLockLocked(uint64_t len, const Limits& limits) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // mlock/munlock of [start, end): ENOMEM if any of it is not mapped.
  base::Result<void> SetLockedLocked(uint64_t start, uint64_t end, bool locked)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The bytes of VMAs (of locked ones only, with `locked_only`) in
  // [start, end): what MAP_FIXED replaces, what mlock locks again.
  uint64_t MappedBytesLocked(uint64_t start, uint64_t end,
                             bool locked_only = false) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // memory_manager_madvise.cc:
  base::Result<void> PopulateLocked(uint64_t start, uint64_t end, bool write)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Zeroes [s, e) of the backed VMA at `start` in place (a hole in the
  // memory file), for every address space that shares the pages.
  void ZeroLocked(uint64_t start, const Vma& vma, uint64_t s, uint64_t e)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // memory_manager_fork.cc: gives every copy-on-write VMA in [start, end)
  // (page aligned; only writable ones if `writable_only`) backing of its
  // own, writable in the stub: a copy, or the same pages when no other
  // address space references them any more.
  base::Result<void> BreakCowLocked(uint64_t start, uint64_t end,
                                    bool writable_only)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool AnyCowLocked(uint64_t start, uint64_t end, bool writable_only)
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Runs a copy that writes to [addr, addr+n) under mu_, first breaking
  // copy-on-write in the range (which needs mu_ exclusively).
  uint64_t WriteWalk(uint64_t addr, uint64_t n, Need need,
                     absl::FunctionRef<bool(uint8_t*, uint64_t)> fn);
  // memory_manager_copy.cc: calls fn on the sentry view of each accessible
  // block of [addr, addr+n) in order until fn returns false or a byte is
  // not accessible; returns the number of bytes handed to fn. Copy-on-write
  // VMAs are not accessible for kWrite or kAny: writers use WriteWalk.
  uint64_t WalkLocked(uint64_t addr, uint64_t n, Need need,
                      absl::FunctionRef<bool(uint8_t*, uint64_t)> fn)
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // memory_manager_mremap.cc:
  // Adds [last's end, end) with last's attributes (mremap growth).
  base::Result<void> ExtendLocked(VmaMap::iterator last, uint64_t end)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves [old_addr, old_addr+old_len) to new_addr, then grows it to
  // new_len. With `dontunmap` (MREMAP_DONTUNMAP) the old range stays
  // mapped: empty (zero, or the file again) for private memory, the same
  // pages for shared memory.
  base::Result<uint64_t> MoveLocked(uint64_t old_addr, uint64_t old_len,
                                    uint64_t new_addr, uint64_t new_len,
                                    bool dontunmap = false)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  uint64_t MmapBaseLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // memory_manager_invalidate.cc: maps [start, vma.end) of file mapping
  // `vma` (a copy of what is there now) again from its file.
  base::Result<void> RemapFromFileLocked(uint64_t start, Vma vma)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static std::shared_ptr<SpaceHandle> NewSpaceHandle(MemoryManager* mm);
  void DetachMappingSpace();
  // What a file that lends its pages is given (Mappable::AddMapper).
  std::weak_ptr<MappingSpace> mapping_space() const;

  // Holds mu_ exclusively and counts a change to the address space
  // (`changes_`), for HandleFault's staleness check.
  class ABSL_SCOPED_LOCKABLE ChangeLock {
   public:
    explicit ChangeLock(MemoryManager* mm) ABSL_EXCLUSIVE_LOCK_FUNCTION(mm->mu_)
        : mm_(mm) {
      mm_->mu_.Lock();
      ++mm_->changes_;
    }
    ~ChangeLock() ABSL_UNLOCK_FUNCTION() { mm_->mu_.Unlock(); }

   private:
    MemoryManager* mm_;
  };

  MemoryManager(MemoryFile& file, std::unique_ptr<platform::AddressSpace> as,
                uint64_t max_address)
      : file_(file),
        as_(std::move(as)),
        max_address_(max_address),
        space_(NewSpaceHandle(this)) {}

  MemoryFile& file_;
  std::unique_ptr<platform::AddressSpace> as_;  // set once, before use
  const uint64_t max_address_;
  // What files that lend this address space their pages hold (weakly) to
  // ask it to map them again; it outlives no MemoryManager's use of it.
  const std::shared_ptr<SpaceHandle> space_;

  mutable absl::Mutex mu_;
  // VMAs keyed by start address; never overlapping.
  std::map<uint64_t, Vma> vmas_ ABSL_GUARDED_BY(mu_);
  ImageLayout layout_ ABSL_GUARDED_BY(mu_);
  uint64_t brk_base_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t brk_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t mmap_base_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t changes_ ABSL_GUARDED_BY(mu_) = 0;
  // mlockall(MCL_FUTURE): new mappings are locked (Linux's def_flags).
  bool lock_future_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace mm

#endif  // SENTRY_MM_MEMORY_MANAGER_H_
