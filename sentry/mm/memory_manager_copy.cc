// MemoryManager: copies between the application and the sentry.
//
// Every copy is a memcpy through the sentry's mapping of the memory file,
// done under mu_ (shared) so that no munmap can free the pages meanwhile.
// Writes first break copy-on-write in their range (WriteWalk): the sentry
// must never write pages another process still shares.
#include <cstring>

#include "base/log.h"

#include "sentry/mm/internal.h"
#include "sentry/mm/memory_manager.h"

namespace mm {

uint64_t MemoryManager::WalkLocked(
    uint64_t addr, uint64_t n, Need need,
    absl::FunctionRef<bool(uint8_t*, uint64_t)> fn) {
  // Callers make sure addr + n does not wrap.
  uint64_t done = 0;
  auto it = FindLocked(addr);
  while (done < n && it != vmas_.end()) {
    const uint64_t a = addr + done;
    if (it->first > a) break;  // a hole between VMAs
    const Vma& vma = it->second;
    bool ok = vma.backed;
    if (need == Need::kRead) ok = ok && internal::Readable(vma.prot);
    if (need == Need::kWrite) ok = ok && (vma.prot & PROT_WRITE);
    // Writers break copy-on-write first; stopping here keeps a caller that
    // did not from writing another process's pages.
    if (need != Need::kRead && need != Need::kReadAny) ok = ok && !vma.cow;
    // Forcing a write into a shared mapping that may never be writable
    // would change the file (Linux's FOLL_FORCE refuses it too).
    if (need == Need::kAny && vma.shared && !(vma.max_prot & PROT_WRITE))
      ok = false;
    if (!ok) break;
    const uint64_t len = std::min(vma.end - a, n - done);
    uint8_t* p = file_.base() + vma.file_offset + (a - it->first);
    done += len;
    if (!fn(p, len)) break;
    ++it;
  }
  return done;
}

uint64_t MemoryManager::WriteWalk(
    uint64_t addr, uint64_t n, Need need,
    absl::FunctionRef<bool(uint8_t*, uint64_t)> fn) {
  const uint64_t start = internal::PageDown(addr);
  uint64_t end;
  if (!internal::PageUp(addr + n, &end)) end = internal::PageDown(addr + n);
  // kWrite needs PROT_WRITE anyway: never copy pages it would refuse.
  const bool writable_only = need != Need::kAny;
  {
    absl::ReaderMutexLock lock(&mu_);
    if (!AnyCowLocked(start, end, writable_only))
      return WalkLocked(addr, n, need, fn);
  }
  ChangeLock lock(this);
  // Breaking may fail (ENOMEM); the walk then stops at the first page that
  // is still copy-on-write, which the caller reports as EFAULT.
  if (auto r = BreakCowLocked(start, end, writable_only); !r)
    LOG(Warning) << "mm: breaking copy-on-write failed: " << r.error().value;
  return WalkLocked(addr, n, need, fn);
}

namespace {

// Reads [addr, addr + n) into `dst` through `walk` (the caller's
// WalkLocked with its Need, under its lock): EFAULT unless all of it.
template <class Walk>
base::Result<void> ReadThrough(uint64_t addr, void* dst, size_t n, Walk walk) {
  if (n == 0) return {};
  uint64_t end;
  if (__builtin_add_overflow(addr, n, &end)) return base::Err(EFAULT);
  auto* out = static_cast<uint8_t*>(dst);
  const uint64_t done = walk([&](uint8_t* p, uint64_t len) {
    memcpy(out, p, len);
    out += len;
    return true;
  });
  if (done < n) return base::Err(EFAULT);
  return {};
}

}  // namespace

base::Result<void> MemoryManager::CopyIn(uint64_t addr, void* dst, size_t n) {
  return ReadThrough(addr, dst, n, [&](auto fn) {
    absl::ReaderMutexLock lock(&mu_);
    return WalkLocked(addr, n, Need::kRead, fn);
  });
}

base::Result<void> MemoryManager::CopyOut(uint64_t addr, const void* src,
                                          size_t n) {
  if (n == 0) return {};
  uint64_t end;
  if (__builtin_add_overflow(addr, n, &end)) return base::Err(EFAULT);
  auto* in = static_cast<const uint8_t*>(src);
  uint64_t done =
      WriteWalk(addr, n, Need::kWrite, [&](uint8_t* p, uint64_t len) {
        memcpy(p, in, len);
        in += len;
        return true;
      });
  // Like Linux, the bytes before the fault stay written.
  if (done < n) return base::Err(EFAULT);
  return {};
}

base::Result<void> MemoryManager::WriteForce(uint64_t addr, const void* src,
                                             size_t n) {
  if (n == 0) return {};
  uint64_t end;
  if (__builtin_add_overflow(addr, n, &end)) return base::Err(EFAULT);
  auto* in = static_cast<const uint8_t*>(src);
  uint64_t done =
      WriteWalk(addr, n, Need::kAny, [&](uint8_t* p, uint64_t len) {
        memcpy(p, in, len);
        in += len;
        return true;
      });
  if (done < n) return base::Err(EFAULT);
  return {};
}

base::Result<void> MemoryManager::ReadForce(uint64_t addr, void* dst,
                                            size_t n) {
  return ReadThrough(addr, dst, n, [&](auto fn) {
    absl::ReaderMutexLock lock(&mu_);
    return WalkLocked(addr, n, Need::kReadAny, fn);
  });
}

base::Result<std::string> MemoryManager::CopyInString(uint64_t addr,
                                                      size_t max_len) {
  // Look at up to max_len + 1 bytes (the NUL may be the last), never past
  // the top of the address space, and never past the NUL: the bytes after
  // it may well be unmapped.
  uint64_t limit = max_len;
  if (limit < ~uint64_t{0}) ++limit;
  limit = std::min(limit, ~uint64_t{0} - addr);
  std::string s;
  bool found = false;
  absl::ReaderMutexLock lock(&mu_);
  WalkLocked(addr, limit, Need::kRead, [&](uint8_t* p, uint64_t len) {
    if (auto* nul = static_cast<uint8_t*>(memchr(p, 0, len))) {
      s.append(reinterpret_cast<char*>(p), nul - p);
      found = true;
      return false;
    }
    s.append(reinterpret_cast<char*>(p), len);
    return true;
  });
  if (found) return s;
  // max_len bytes without a NUL: too long, whatever follows.
  if (s.size() >= max_len) return base::Err(ENAMETOOLONG);
  return base::Err(EFAULT);
}

base::Result<size_t> MemoryManager::WithIoBlocks(
    std::span<const UserRange> ranges, Access access, IoFn io) {
  // kRead: the sentry reads the application's memory (write(2)); kWrite:
  // the sentry fills it (read(2)).
  const Need need = access == Access::kRead ? Need::kRead : Need::kWrite;
  std::vector<iovec> blocks;
  bool asked = false;  // any byte at all
  auto add = [&](uint8_t* p, uint64_t n) {
    if (!blocks.empty() && static_cast<uint8_t*>(blocks.back().iov_base) +
                                   blocks.back().iov_len ==
                               p)
      blocks.back().iov_len += n;
    else
      blocks.push_back({p, n});
    return true;
  };
  // The blocks of every range, ending at the first inaccessible byte (or a
  // range that wraps around the address space).
  auto collect = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    for (const UserRange& r : ranges) {
      if (r.len == 0) continue;
      asked = true;
      uint64_t end;
      if (__builtin_add_overflow(r.addr, r.len, &end)) return;
      if (WalkLocked(r.addr, r.len, need, add) < r.len) return;
    }
  };
  auto run = [&]() -> base::Result<size_t> {
    if (asked && blocks.empty()) return base::Err(EFAULT);
    return io(blocks);
  };
  // The page span of a range, for copy-on-write: false if it wraps.
  auto span = [](const UserRange& r, uint64_t* start, uint64_t* end) {
    if (r.len == 0 || __builtin_add_overflow(r.addr, r.len, end)) return false;
    *start = internal::PageDown(r.addr);
    if (!internal::PageUp(*end, end)) *end = internal::PageDown(*end);
    return true;
  };
  if (need == Need::kWrite) {
    bool cow = false;
    {
      absl::ReaderMutexLock lock(&mu_);
      uint64_t start, end;
      for (const UserRange& r : ranges)
        if (span(r, &start, &end) && AnyCowLocked(start, end, true)) cow = true;
      if (!cow) {
        collect();
        return run();
      }
    }
    // The sentry must never write pages another process still shares:
    // give the ranges pages of their own first, and keep mu_ exclusively
    // for the transfer (it is short: `io` never blocks).
    ChangeLock lock(this);
    uint64_t start, end;
    for (const UserRange& r : ranges) {
      if (!span(r, &start, &end)) continue;
      // On failure (ENOMEM) the walk stops at the page still shared.
      if (auto b = BreakCowLocked(start, end, true); !b)
        LOG(Warning) << "mm: breaking copy-on-write failed: " << b.error().value;
    }
    collect();
    return run();
  }
  absl::ReaderMutexLock lock(&mu_);
  collect();
  return run();
}

}  // namespace mm
