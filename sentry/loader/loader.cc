// Load(): maps an ELF executable (and its interpreter) into a fresh
// MemoryManager and builds the initial stack, as Linux's load_elf_binary.
#include "sentry/loader/loader.h"

#include <cpuid.h>
#include <elf.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

#include <algorithm>
#include <optional>

#include "absl/strings/str_format.h"
#include "base/log.h"
#include "sentry/loader/elf.h"
#include "sentry/loader/initial_stack.h"
#include "sentry/vfs/mappable.h"

namespace loader {
namespace {

constexpr uint64_t kPage = mm::kPageSize;
// Stack VMA bounds: the whole stack is mapped at exec (it never grows), so
// an unlimited RLIMIT_STACK must not mean an unlimited VMA.
constexpr uint64_t kMinStack = 128 << 10;
constexpr uint64_t kMaxStack = 64 << 20;
// Room left for the program below its arguments (Linux's stack_expand).
constexpr uint64_t kStackExpand = 128 << 10;
// Kept free below the stack before the mmap area (stack_guard_gap).
constexpr uint64_t kStackGuard = 1 << 20;
// Linux's ELF_ET_DYN_BASE on x86-64: where position-independent
// executables go, plus up to 2^28 random pages (mmap_rnd_bits).
constexpr uint64_t kDynBase = 0x555555554000;
constexpr uint64_t kDynRandomPages = uint64_t{1} << 28;
// Random page counts for the stack top (below the address space limit),
// the mmap base (below the stack) and the brk start (arch_randomize_brk's
// 32 MiB).
constexpr uint64_t kStackRandomPages = uint64_t{1} << 14;
constexpr uint64_t kMmapRandomPages = uint64_t{1} << 16;
constexpr uint64_t kBrkRandomPages = 8192;
// Room reserved for auxv entries when sizing the stack (18 are used).
constexpr size_t kMaxAuxv = 24;

void RandomBytes(void* buf, size_t n) {
  auto* p = static_cast<uint8_t*>(buf);
  while (n > 0) {
    ssize_t r = getrandom(p, n, 0);
    if (r <= 0) {
      if (r < 0 && errno == EINTR) continue;
      // Not expected (the seccomp filter must allow getrandom); degrade to
      // a clock rather than fail exec.
      LOG(Warning) << "loader: getrandom failed; using the clock";
      timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      uint64_t x = ts.tv_nsec ^ (uint64_t(ts.tv_sec) << 32);
      for (size_t i = 0; i < n; ++i) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        p[i] = static_cast<uint8_t>(x >> 56);
      }
      return;
    }
    p += r;
    n -= r;
  }
}

uint64_t RandomPages(uint64_t count) {
  uint64_t v;
  RandomBytes(&v, sizeof(v));
  return (v % count) * kPage;
}

std::unexpected<base::Errno> Fail(std::string* why, int err, std::string msg) {
  *why = std::move(msg);
  return base::Err(err);
}

std::string Describe(int err) { return std::string(base::ErrnoName(err)); }

uint64_t PageUp(uint64_t x) { return (x + kPage - 1) & ~(kPage - 1); }

int ProtOf(uint32_t flags) {
  return ((flags & PF_R) ? PROT_READ : 0) | ((flags & PF_W) ? PROT_WRITE : 0) |
         ((flags & PF_X) ? PROT_EXEC : 0);
}

uint64_t Hwcap() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
  return edx;
}

// Maps one PT_LOAD at `bias`: file pages, the zeroed tail of the last file
// page, then anonymous pages for the rest of the bss (Linux's elf_load).
base::Result<void> MapSegment(mm::MemoryManager& mm,
                              const std::shared_ptr<vfs::FileDescription>& file,
                              const Elf64_Phdr& ph, uint64_t bias,
                              std::string* why) {
  // ReadElf checked that these cannot overflow within the address space.
  const uint64_t v = bias + ph.p_vaddr;
  const uint64_t page = v & ~(kPage - 1);
  const uint64_t file_end = v + ph.p_filesz, mem_end = v + ph.p_memsz;
  const int prot = ProtOf(ph.p_flags);
  uint64_t anon_start = page;
  if (ph.p_filesz > 0) {
    mm::MmapOpts o;
    o.addr = page;
    o.length = PageUp(file_end) - page;
    o.prot = prot;
    o.fixed = true;
    o.file = vfs::MappableOf(file);
    o.offset = ph.p_offset - (v - page);
    o.name = file->path();
    if (auto r = mm.Mmap(o); !r)
      return Fail(why, r.error().value,
                  absl::StrFormat("cannot map a segment at %#x: %s", page,
                                  Describe(r.error().value)));
    anon_start = PageUp(file_end);
    // The rest of the last file page is the start of the bss. (Without a
    // bss Linux leaves whatever follows in the file there, and so do we.)
    if (ph.p_memsz > ph.p_filesz && file_end < anon_start) {
      std::vector<uint8_t> zeros(anon_start - file_end);
      TRY(mm.WriteForce(file_end, zeros.data(), zeros.size()));
    }
  }
  const uint64_t anon_end = PageUp(mem_end);
  if (anon_end > anon_start) {
    mm::MmapOpts o;
    o.addr = anon_start;
    o.length = anon_end - anon_start;
    o.prot = prot;
    o.fixed = true;
    if (auto r = mm.Mmap(o); !r)
      return Fail(why, r.error().value,
                  absl::StrFormat("cannot map the bss at %#x: %s", anon_start,
                                  Describe(r.error().value)));
  }
  return {};
}

// Maps an image at `bias` (ET_EXEC, or a PIE at a chosen base) or, without
// one, wherever mmap puts it (the interpreter). Returns the bias. The whole
// span is reserved first, so segments never land on other mappings and the
// holes between them stay reserved.
base::Result<uint64_t> MapImage(
    mm::MemoryManager& mm, const std::shared_ptr<vfs::FileDescription>& file,
    const ElfFile& elf, std::optional<uint64_t> bias, std::string* why) {
  const uint64_t span = elf.hi - elf.lo;
  mm::MmapOpts reserve;
  reserve.prot = PROT_NONE;
  if (bias) {
    reserve.addr = elf.lo + *bias;
    reserve.length = span;
    reserve.fixed_noreplace = true;
    if (auto r = mm.Mmap(reserve); !r)
      return Fail(why, ENOMEM,
                  absl::StrFormat("cannot place the segments at [%#x, %#x): "
                                  "%s",
                                  reserve.addr, reserve.addr + span,
                                  Describe(r.error().value)));
  } else {
    // Over-reserve so that an aligned start fits, then trim.
    const uint64_t slack = elf.align - kPage;
    reserve.length = span + slack;
    auto r = mm.Mmap(reserve);
    if (!r)
      return Fail(why, r.error().value,
                  absl::StrFormat("no room for %#x bytes of segments: %s",
                                  reserve.length, Describe(r.error().value)));
    const uint64_t start = (*r + slack) & ~(elf.align - 1);
    if (start > *r) TRY(mm.Munmap(*r, start - *r));
    if (*r + reserve.length > start + span)
      TRY(mm.Munmap(start + span, *r + reserve.length - (start + span)));
    bias = start - elf.lo;
  }
  for (const Elf64_Phdr& ph : elf.phdrs)
    if (ph.p_type == PT_LOAD && ph.p_memsz > 0)
      TRY(MapSegment(mm, file, ph, *bias, why));
  return *bias;
}

}  // namespace

base::Result<LoadResult> Load(mm::MemoryManager& mm, const LoadArgs& args,
                              std::string* why) {
  std::string ignored;
  if (why == nullptr) why = &ignored;
  if (!args.file) return Fail(why, EINVAL, "no executable file");
  if (!mm.Vmas().empty())
    return Fail(why, EINVAL, "the memory manager is not empty");
  if (!CheckArgLimits(args.argv, args.envp, args.execfn, args.stack_limit))
    return Fail(why, E2BIG, "argument list too long");

  auto read_exe = ReadElf(*args.file, mm.max_address(), why);
  if (!read_exe) {
    if (why->empty())
      *why = "cannot read the executable: " + Describe(read_exe.error().value);
    return std::unexpected(read_exe.error());
  }
  const ElfFile& exe = *read_exe;
  std::optional<ElfFile> interp;
  std::shared_ptr<vfs::FileDescription> interp_file;
  if (!exe.interp.empty()) {
    if (!args.open_interpreter)
      return Fail(why, ENOEXEC,
                  absl::StrFormat("needs the interpreter %s, but the "
                                  "caller cannot open one",
                                  exe.interp));
    auto f = args.open_interpreter(exe.interp);
    if (!f)
      return Fail(why, f.error().value,
                  absl::StrFormat("cannot open the program interpreter %s: %s",
                                  exe.interp, Describe(f.error().value)));
    interp_file = std::move(*f);
    auto ie = ReadElf(*interp_file, mm.max_address(), why);
    if (!ie) {
      if (why->empty()) *why = "cannot read it: " + Describe(ie.error().value);
      *why = "interpreter " + exe.interp + ": " + *why;
      return std::unexpected(ie.error());
    }
    interp = std::move(*ie);
  }

  // Everything the initial stack needs but addresses, to size the stack.
  StackInputs stack;
  stack.argv = args.argv;
  stack.envp = args.envp;
  stack.execfn = args.execfn;

  // Where Linux's PF_RANDOMIZE moves things: up to `count` pages, or none.
  auto random_pages = [&](uint64_t count) {
    return args.randomize ? RandomPages(count) : 0;
  };

  // The stack first: the mmap base (and so the interpreter) goes below it.
  const uint64_t limit = std::clamp(
      PageUp(std::min(args.stack_limit, kMaxStack)), kMinStack, kMaxStack);
  stack.auxv.resize(kMaxAuxv);  // for sizing; filled in below
  const uint64_t stack_size =
      std::max(limit, PageUp(InitialStackSize(stack)) + kStackExpand);
  stack.auxv.clear();
  const uint64_t top_gap = kPage + random_pages(kStackRandomPages);
  if (mm.max_address() < mm::kMinUserAddress + stack_size + top_gap)
    return Fail(why, ENOMEM, "no room for the stack");
  const uint64_t stack_top = mm.max_address() - top_gap;
  const uint64_t stack_start = stack_top - stack_size;
  {
    mm::MmapOpts o;
    o.addr = stack_start;
    o.length = stack_size;
    o.prot = PROT_READ | PROT_WRITE | (exe.exec_stack ? PROT_EXEC : 0);
    o.fixed = true;
    o.grows_down = true;
    o.name = "[stack]";
    if (auto r = mm.Mmap(o); !r)
      return Fail(why, r.error().value, "cannot map the stack");
  }
  const uint64_t mmap_gap =
      stack_size + kStackGuard + random_pages(kMmapRandomPages);
  const uint64_t mmap_base = stack_start > mm::kMinUserAddress + mmap_gap
                                 ? stack_start - mmap_gap
                                 : stack_start;
  mm.SetMmapBase(mmap_base);

  // The executable: where it asks (ET_EXEC), or at a random base like
  // Linux's ELF_ET_DYN_BASE (ET_DYN), else wherever mmap finds room.
  std::optional<uint64_t> bias;
  if (exe.ehdr.e_type == ET_EXEC) {
    bias = 0;
  } else {
    const uint64_t target = kDynBase + random_pages(kDynRandomPages);
    if (target >= exe.lo) {
      const uint64_t b = (target - exe.lo) & ~(exe.align - 1);
      uint64_t end;
      if (b + exe.lo >= mm::kMinUserAddress &&
          !__builtin_add_overflow(b, exe.hi, &end) && end <= mmap_base)
        bias = b;
    }
  }
  // Every failure below says why; a bare errno from deep inside gets the
  // step it happened in.
  auto failed = [&](const char* step, base::Errno e) {
    if (why->empty()) *why = absl::StrFormat("%s: %s", step, Describe(e.value));
    return std::unexpected(e);
  };
  auto mapped_exe = MapImage(mm, args.file, exe, bias, why);
  if (!mapped_exe) return failed("mapping the executable", mapped_exe.error());
  const uint64_t exe_bias = *mapped_exe;
  mm.SetBrkBase(exe_bias + exe.hi + random_pages(kBrkRandomPages));

  uint64_t entry = exe.ehdr.e_entry + exe_bias;
  uint64_t interp_bias = 0;
  if (interp) {
    std::optional<uint64_t> ibias;
    if (interp->ehdr.e_type == ET_EXEC) ibias = 0;
    auto mapped = MapImage(mm, interp_file, *interp, ibias, why);
    if (!mapped) return failed("mapping the interpreter", mapped.error());
    interp_bias = *mapped;
    entry = interp->ehdr.e_entry + interp_bias;
  }

  // The vDSO last, as Linux's arch_setup_additional_pages: wherever mmap
  // finds room below the images.
  uint64_t vdso_base = 0;
  if (args.vdso) {
    auto mapped = MapVdso(mm, *args.vdso);
    if (!mapped) return failed("mapping the vDSO", mapped.error());
    vdso_base = *mapped;
  }

  stack.auxv = {
      {AT_HWCAP, Hwcap()},
      {AT_PAGESZ, kPage},
      {AT_CLKTCK, 100},
      {AT_PHDR, exe.phdr_vaddr + exe_bias},
      {AT_PHENT, sizeof(Elf64_Phdr)},
      {AT_PHNUM, exe.ehdr.e_phnum},
      {AT_BASE, interp_bias},
      {AT_FLAGS, 0},
      {AT_ENTRY, exe.ehdr.e_entry + exe_bias},
      {AT_UID, args.uid},
      {AT_EUID, args.euid},
      {AT_GID, args.gid},
      {AT_EGID, args.egid},
      // Linux's secureexec for set-id programs: glibc then ignores
      // LD_PRELOAD and friends.
      {AT_SECURE, args.uid != args.euid || args.gid != args.egid},
      {AT_RANDOM, 0},  // the builder fills in these three
      // Not HWCAP2_FSGSBASE: the app must set its FS base through
      // arch_prctl, where the sentry sees it.
      {AT_HWCAP2, 0},
      {AT_EXECFN, 0},
      {AT_PLATFORM, 0},
  };
  // First, as Linux's ARCH_DLINFO.
  if (vdso_base != 0)
    stack.auxv.insert(stack.auxv.begin(), {AT_SYSINFO_EHDR, vdso_base});
  CHECK(stack.auxv.size() <= kMaxAuxv);
  RandomBytes(stack.random, sizeof(stack.random));
  uint64_t pad;
  RandomBytes(&pad, sizeof(pad));
  stack.pad = args.randomize ? pad % 8192 : 0;
  const StackImage image = BuildInitialStack(stack_top, stack);
  CHECK(image.sp >= stack_start + kStackExpand);
  if (auto r = mm.WriteForce(image.sp, image.bytes.data(), image.bytes.size());
      !r)
    return Fail(why, r.error().value, "cannot write the initial stack");
  // The executable's span stands for both its code and its data (the
  // segments are not told apart here).
  mm.SetImageLayout({.start_code = exe_bias + exe.lo,
                     .end_code = exe_bias + exe.hi,
                     .start_data = exe_bias + exe.lo,
                     .end_data = exe_bias + exe.hi,
                     .start_stack = image.sp,
                     .arg_start = image.arg_start,
                     .arg_end = image.arg_end,
                     .env_start = image.env_start,
                     .env_end = image.env_end});
  return LoadResult{.entry = entry, .stack_pointer = image.sp};
}

}  // namespace loader
