#include "platform/systrap/patch.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "platform/systrap/systrap_abi.h"

namespace platform::systrap {
namespace {

constexpr uint64_t kTable = SYSTRAP_TABLE_ADDR;
constexpr uint32_t kEntries = SYSTRAP_TABLE_SIZE / SYSTRAP_TABLE_ENTRY;
constexpr uint64_t kMagic = 0x7061747370797374;  // "tsypstap"
constexpr size_t kSiteLen = 7;
constexpr size_t kMaxRejected = 1 << 16;

// Entry layout (SYSTRAP_TABLE_ENTRY bytes): the jmp's pointer, the code it
// points to, and a record of the site for HandleFault and Disable.
constexpr size_t kEntryCode = 8;
constexpr size_t kEntrySite = 48;
constexpr size_t kEntryNr = 56;
constexpr size_t kEntryMagic = 60;
constexpr uint32_t kEntryMagicValue = 0x6e747279;

// Header (entry 0).
struct Header {
  uint64_t magic;
  uint32_t next;      // next free entry
  uint32_t disabled;  // Disable ran (a fork copy inherits it)
};

bool OnePage(uint64_t addr, size_t len) {
  return (addr >> 12) == ((addr + len - 1) >> 12);
}

void Put32(uint8_t* p, uint32_t v) { memcpy(p, &v, 4); }
void Put64(uint8_t* p, uint64_t v) { memcpy(p, &v, 8); }
uint32_t Get32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
uint64_t Get64(const uint8_t* p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

void Original(uint32_t nr, uint8_t out[kSiteLen]) {
  out[0] = 0xb8;  // mov $nr, %eax
  Put32(out + 1, nr);
  out[5] = 0x0f;  // syscall
  out[6] = 0x05;
}

// jmp *entry: ff 24 25 and the entry's address, whose third byte is 0x06.
void Jump(uint64_t entry, uint8_t out[kSiteLen]) {
  out[0] = 0xff;
  out[1] = 0x24;
  out[2] = 0x25;
  Put32(out + 3, static_cast<uint32_t>(entry));
}

// Writes `to` over `from` at p (kSiteLen bytes, equal to `from` now) so that
// a thread executing the site at any moment meets either a whole old or
// new first instruction, or the invalid byte 0x06 at the start or where
// `syscall` was: byte 0 or 5 becomes 0x06 first (whichever the final form
// does not start an instruction with), the middle bytes next, the first
// byte last. Stores in program order are seen in that order on x86.
void Rewrite(uint8_t* p, const uint8_t* to) {
  if (to[0] == 0xff) {
    __atomic_store_n(p + 5, uint8_t{0x06}, __ATOMIC_SEQ_CST);
  } else {
    __atomic_store_n(p, uint8_t{0x06}, __ATOMIC_SEQ_CST);
  }
  for (size_t i = 1; i < kSiteLen; ++i)
    __atomic_store_n(p + i, to[i], __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  __atomic_store_n(p, to[0], __ATOMIC_SEQ_CST);
}

// Whether `v` is what `mov imm32, %eax` leaves in %rax for an imm32 mixing
// bytes of `a` and `b`, as a thread decoding the mov while Rewrite changes
// its bytes one by one may read it.
bool MixedImmediate(uint64_t v, uint32_t a, uint32_t b) {
  if (v >> 32) return false;
  for (int m = 0; m < 16; ++m) {
    uint32_t x = 0;
    for (int k = 0; k < 4; ++k) {
      const uint32_t mask = 0xffu << (8 * k);
      x |= ((m >> k) & 1 ? b : a) & mask;
    }
    if (x == v) return true;
  }
  return false;
}

}  // namespace

Patcher::Patcher(uint64_t fastcall, bool enabled)
    : fastcall_(fastcall), enabled_(enabled) {}

void Patcher::SetAppMemory(AppMemory* memory) {
  std::lock_guard lock(mu_);
  memory_ = memory;
}

// The table's header, read (and the table mapped, the first time) under
// the address space's lock; false if this address space cannot have one.
bool Patcher::EnsureTableLocked() {
  if (disabled_ || memory_ == nullptr) return false;
  Header h{};
  auto read = [&](uint8_t* p) { memcpy(&h, p, sizeof(h)); };
  if (!memory_->EditPrivateText(kTable, sizeof(Header), read)) {
    // Another mapping there (rare: below every default layout) means no
    // patching in this address space.
    if (table_checked_ ||
        !memory_->MapPlatformArea(kTable, SYSTRAP_TABLE_SIZE, "[systrap]")) {
      disabled_ = true;
      return false;
    }
    const Header init{kMagic, 1, 0};
    if (!memory_->EditPrivateText(kTable, sizeof(Header), [&](uint8_t* p) {
          memcpy(p, &init, sizeof(init));
        })) {
      disabled_ = true;
      return false;
    }
    h = init;
  }
  table_checked_ = true;
  // The app can write anything there (after mprotect): checked as app data.
  if (h.magic != kMagic || h.disabled != 0 || h.next == 0 ||
      h.next > kEntries) {
    disabled_ = true;
    return false;
  }
  next_ = h.next;
  return true;
}

void Patcher::MaybePatch(uint64_t rip, uint32_t nr) {
  if (!enabled_ || rip < kSiteLen) return;
  const uint64_t site = rip - kSiteLen;
  if (!OnePage(site, kSiteLen)) return;
  std::lock_guard lock(mu_);
  if (disabled_ || memory_ == nullptr || rejected_.contains(site)) return;
  uint8_t want[kSiteLen];
  Original(nr, want);
  bool match = false;
  if (!memory_->EditPrivateText(
          site, kSiteLen,
          [&](uint8_t* p) { match = memcmp(p, want, kSiteLen) == 0; }) ||
      !match) {
    if (rejected_.size() < kMaxRejected) rejected_.insert(site);
    return;
  }
  if (!EnsureTableLocked()) return;
  if (next_ >= kEntries) {  // full: this site stays slow
    if (rejected_.size() < kMaxRejected) rejected_.insert(site);
    return;
  }
  const uint32_t index = next_;
  const uint64_t entry = kTable + uint64_t{index} * SYSTRAP_TABLE_ENTRY;
  uint8_t e[SYSTRAP_TABLE_ENTRY];
  memset(e, 0xcc, sizeof(e));  // int3
  Put64(e, entry + kEntryCode);
  uint8_t* c = e + kEntryCode;
  c[0] = 0x48, c[1] = 0xb9;  // movabs $site+7, %rcx
  Put64(c + 2, rip);
  c[10] = 0xb8;  // mov $nr, %eax
  Put32(c + 11, nr);
  c[15] = 0x49, c[16] = 0xbb;  // movabs $fastcall, %r11
  Put64(c + 17, fastcall_);
  c[25] = 0x41, c[26] = 0xff, c[27] = 0xe3;  // jmp *%r11
  Put64(e + kEntrySite, site);
  Put32(e + kEntryNr, nr);
  Put32(e + kEntryMagic, kEntryMagicValue);
  const uint32_t next = index + 1;
  if (!memory_->EditPrivateText(entry, sizeof(e),
                                [&](uint8_t* p) { memcpy(p, e, sizeof(e)); }) ||
      !memory_->EditPrivateText(kTable + offsetof(Header, next), 4,
                                [&](uint8_t* p) { memcpy(p, &next, 4); })) {
    disabled_ = true;
    return;
  }
  next_ = next;
  uint8_t jump[kSiteLen];
  Jump(entry, jump);
  // The bytes are checked again: the app may have changed them since.
  memory_->EditPrivateText(site, kSiteLen, [&](uint8_t* p) {
    if (memcmp(p, want, kSiteLen) == 0) Rewrite(p, jump);
  });
}

bool Patcher::FindSiteLocked(uint64_t site, uint32_t* nr, uint64_t* entry) {
  if (auto it = unpatched_.find(site); it != unpatched_.end()) {
    *nr = it->second.first;
    *entry = it->second.second;
    return true;
  }
  if (!OnePage(site, kSiteLen)) return false;
  uint8_t b[kSiteLen];
  if (!memory_->EditPrivateText(site, kSiteLen,
                                [&](uint8_t* p) { memcpy(b, p, kSiteLen); }))
    return false;
  if (b[0] != 0xff || b[1] != 0x24 || b[2] != 0x25) return false;
  const uint64_t e_addr = Get32(b + 3);
  if (e_addr < kTable + SYSTRAP_TABLE_ENTRY ||
      e_addr >= kTable + SYSTRAP_TABLE_SIZE ||
      e_addr % SYSTRAP_TABLE_ENTRY != 0)
    return false;
  uint8_t e[SYSTRAP_TABLE_ENTRY];
  if (!memory_->EditPrivateText(e_addr, sizeof(e),
                                [&](uint8_t* p) { memcpy(e, p, sizeof(e)); }))
    return false;
  if (Get32(e + kEntryMagic) != kEntryMagicValue ||
      Get64(e + kEntrySite) != site)
    return false;
  *nr = Get32(e + kEntryNr);
  *entry = e_addr;
  return true;
}

// Not cheap (the address space's lock, a read of app memory), but SIGILL
// is rare; a fork copy knows its inherited sites only from their bytes.
Patcher::Fault Patcher::HandleFault(Registers& regs) {
  if (!enabled_) return Fault::kNone;
  std::lock_guard lock(mu_);
  if (memory_ == nullptr) return Fault::kNone;
  const uint64_t rip = regs.rip;
  // At the start of a site being unpatched: run it again, as it is now.
  if (unpatched_.contains(rip)) return Fault::kRestart;
  uint32_t nr;
  uint64_t entry;
  if (rip < 5 || !FindSiteLocked(rip - 5, &nr, &entry)) return Fault::kNone;
  // Where `syscall` was. The thread ran the old `mov` (perhaps reading
  // some bytes of the jmp as its immediate: Rewrite changes them one by
  // one), or jumped here on its own.
  const uint64_t site = rip - 5;
  uint8_t jump[kSiteLen];
  Jump(entry, jump);
  if (MixedImmediate(regs.rax, nr, Get32(jump + 1))) {
    regs.rip = site;  // the jmp (or the mov again) does the same call
    return Fault::kRestart;
  }
  // The `syscall` instruction with this %rax (restart_syscall after a
  // stop, say): Linux's registers at its trap, rcx = the return address,
  // r11 = rflags.
  regs.orig_rax = regs.rax;
  regs.rax = static_cast<uint64_t>(-ENOSYS);
  regs.rip = site + kSiteLen;
  regs.rcx = regs.rip;
  regs.r11 = regs.eflags;
  return Fault::kSyscall;
}

void Patcher::Disable() {
  std::lock_guard lock(mu_);
  if (unpatch_done_) return;
  unpatch_done_ = true;
  unpatched_all_.store(true, std::memory_order_release);
  disabled_ = true;
  if (memory_ == nullptr) return;
  Header h{};
  if (!memory_->EditPrivateText(kTable, sizeof(Header),
                                [&](uint8_t* p) {
                                  memcpy(&h, p, sizeof(h));
                                  if (h.magic == kMagic) {
                                    const uint32_t one = 1;
                                    memcpy(p + offsetof(Header, disabled), &one,
                                           4);
                                  }
                                }) ||
      h.magic != kMagic)
    return;
  const uint32_t n = std::min(h.next, kEntries);
  for (uint32_t i = 1; i < n; ++i) {
    const uint64_t entry = kTable + uint64_t{i} * SYSTRAP_TABLE_ENTRY;
    uint8_t e[SYSTRAP_TABLE_ENTRY];
    if (!memory_->EditPrivateText(entry, sizeof(e),
                                  [&](uint8_t* p) { memcpy(e, p, sizeof(e)); }))
      continue;
    if (Get32(e + kEntryMagic) != kEntryMagicValue) continue;
    const uint64_t site = Get64(e + kEntrySite);
    const uint32_t nr = Get32(e + kEntryNr);
    if (site > ~uint64_t{0} - kSiteLen || !OnePage(site, kSiteLen)) continue;
    uint8_t jump[kSiteLen], orig[kSiteLen];
    Jump(entry, jump);
    Original(nr, orig);
    memory_->EditPrivateText(site, kSiteLen, [&](uint8_t* p) {
      if (memcmp(p, jump, kSiteLen) != 0) return;
      Rewrite(p, orig);
      unpatched_[site] = {nr, entry};
    });
  }
}

}  // namespace platform::systrap
