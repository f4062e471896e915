#include "sentry/loader/elf.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"
#include "sentry/mm/memory_manager.h"

namespace loader {
namespace {

constexpr uint64_t kPage = mm::kPageSize;
// Linux refuses program header tables over 64 KiB (elf_read_phdrs).
constexpr uint64_t kMaxPhdrBytes = 65536;
// Linux's PATH_MAX, the longest PT_INTERP it accepts.
constexpr uint64_t kMaxInterpLen = 4096;
// Alignments above this are not honoured (they would only waste address
// space); Linux has no such limit but also no use for one.
constexpr uint64_t kMaxAlign = uint64_t{1} << 30;

std::unexpected<base::Errno> Bad(std::string* why, std::string msg) {
  if (why) *why = std::move(msg);
  return base::Err(ENOEXEC);
}

bool PageUp(uint64_t x, uint64_t* out) {
  if (x > ~uint64_t{0} - (kPage - 1)) return false;
  *out = (x + kPage - 1) & ~(kPage - 1);
  return true;
}

// Checks one PT_LOAD and widens [lo, hi) to cover it.
base::Result<void> CheckLoad(const Elf64_Phdr& ph, size_t i, ElfFile& elf,
                             std::string* why) {
  if (ph.p_filesz > ph.p_memsz)
    return Bad(why, absl::StrFormat(
                        "program header %d: file size exceeds memory size", i));
  if (ph.p_offset % kPage != ph.p_vaddr % kPage)
    return Bad(why,
               absl::StrFormat("program header %d: offset and address are not "
                               "congruent modulo the page size",
                               i));
  uint64_t file_end, mem_end, hi;
  if (__builtin_add_overflow(ph.p_offset, ph.p_filesz, &file_end) ||
      file_end > uint64_t{INT64_MAX})
    return Bad(why,
               absl::StrFormat("program header %d: file range overflows", i));
  if (__builtin_add_overflow(ph.p_vaddr, ph.p_memsz, &mem_end) ||
      !PageUp(mem_end, &hi))
    return Bad(
        why, absl::StrFormat("program header %d: address range overflows", i));
  if (ph.p_align > kPage && ph.p_align <= kMaxAlign &&
      (ph.p_align & (ph.p_align - 1)) == 0)
    elf.align = std::max<uint64_t>(elf.align, ph.p_align);
  if (ph.p_memsz == 0) return {};
  uint64_t lo = ph.p_vaddr & ~(kPage - 1);
  if (elf.hi == 0) {
    elf.lo = lo;
    elf.hi = hi;
  } else {
    elf.lo = std::min(elf.lo, lo);
    elf.hi = std::max(elf.hi, hi);
  }
  return {};
}

base::Result<void> ReadInterp(vfs::FileDescription& file, const Elf64_Phdr& ph,
                              ElfFile& elf, std::string* why) {
  // Linux: at least one character and the NUL, at most PATH_MAX.
  if (ph.p_filesz < 2 || ph.p_filesz > kMaxInterpLen)
    return Bad(why, "bad interpreter path length");
  std::string path(ph.p_filesz, '\0');
  size_t n = TRY(ReadAt(file, path.data(), path.size(), ph.p_offset));
  if (n != path.size())
    return Bad(why,
               "interpreter path is past the end of "
               "the file");
  if (path.back() != '\0')
    return Bad(why,
               "interpreter path is not "
               "NUL-terminated");
  path.resize(strlen(path.c_str()));
  if (path.empty()) return Bad(why, "empty interpreter path");
  elf.interp = std::move(path);
  return {};
}

}  // namespace

base::Result<size_t> ReadAt(vfs::FileDescription& file, void* buf, size_t len,
                            uint64_t offset) {
  size_t done = 0;
  while (done < len) {
    uint64_t at;
    if (__builtin_add_overflow(offset, done, &at) || at > uint64_t{INT64_MAX})
      break;
    iovec iov{static_cast<uint8_t*>(buf) + done, len - done};
    size_t n = TRY(
        file.PRead(std::span<const iovec>(&iov, 1), static_cast<int64_t>(at)));
    if (n == 0) break;
    if (n > len - done) return base::Err(EIO);  // a broken file
    done += n;
  }
  return done;
}

base::Result<ElfFile> ReadElf(vfs::FileDescription& file, uint64_t max_address,
                              std::string* why) {
  ElfFile elf;
  Elf64_Ehdr& eh = elf.ehdr;
  memset(&eh, 0, sizeof(eh));
  size_t n = TRY(ReadAt(file, &eh, sizeof(eh), 0));
  const auto* ident = eh.e_ident;
  if (n >= 2 && ident[0] == '#' && ident[1] == '!')
    return Bad(why, "scripts (#!) are not supported yet");
  if (n < SELFMAG || memcmp(ident, ELFMAG, SELFMAG) != 0)
    return Bad(why, "not an ELF executable");
  if (n < sizeof(eh)) return Bad(why, "truncated ELF header");
  if (ident[EI_CLASS] == ELFCLASS32)
    return Bad(why, "32-bit executables are not supported");
  if (ident[EI_CLASS] != ELFCLASS64) return Bad(why, "unknown ELF class");
  if (ident[EI_DATA] == ELFDATA2MSB)
    return Bad(why, "big-endian executables are not supported");
  if (ident[EI_DATA] != ELFDATA2LSB)
    return Bad(why, "unknown ELF data encoding");
  if (eh.e_machine != EM_X86_64)
    return Bad(why, absl::StrFormat("executable is for another architecture "
                                    "(e_machine %d), not x86-64",
                                    eh.e_machine));
  if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
    return Bad(why, absl::StrFormat("ELF file is not an executable "
                                    "(e_type %d)",
                                    eh.e_type));
  if (eh.e_phentsize != sizeof(Elf64_Phdr))
    return Bad(why, "bad program header entry size");
  const uint64_t table = uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr);
  if (eh.e_phnum == 0 || table > kMaxPhdrBytes)
    return Bad(why, "bad number of program headers");
  elf.phdrs.resize(eh.e_phnum);
  n = TRY(ReadAt(file, elf.phdrs.data(), table, eh.e_phoff));
  if (n != table)
    return Bad(why,
               "program headers are past the end of the "
               "file");

  bool have_phdr = false;
  for (size_t i = 0; i < elf.phdrs.size(); ++i) {
    const Elf64_Phdr& ph = elf.phdrs[i];
    switch (ph.p_type) {
      case PT_LOAD:
        TRY(CheckLoad(ph, i, elf, why));
        break;
      case PT_INTERP:
        if (elf.interp.empty()) TRY(ReadInterp(file, ph, elf, why));
        break;
      case PT_GNU_STACK:
        elf.exec_stack = (ph.p_flags & PF_X) != 0;
        break;
      case PT_PHDR:
        elf.phdr_vaddr = ph.p_vaddr;
        have_phdr = true;
        break;
    }
  }
  if (elf.hi == 0) return Bad(why, "no loadable segments");
  elf.align = std::max(elf.align, kPage);
  if (!have_phdr) {
    // The PT_LOAD that holds the table in the file holds it in memory too.
    elf.phdr_vaddr = elf.lo + eh.e_phoff;  // Linux's old guess, a fallback
    for (const Elf64_Phdr& ph : elf.phdrs) {
      if (ph.p_type == PT_LOAD && ph.p_offset <= eh.e_phoff &&
          eh.e_phoff - ph.p_offset <= ph.p_filesz &&
          table <= ph.p_filesz - (eh.e_phoff - ph.p_offset)) {
        elf.phdr_vaddr = ph.p_vaddr + (eh.e_phoff - ph.p_offset);
        break;
      }
    }
  }
  const uint64_t span = elf.hi - elf.lo;
  if (span > max_address - mm::kMinUserAddress)
    return Bad(why, "loadable segments are larger than the address space");
  if (eh.e_type == ET_EXEC &&
      (elf.lo < mm::kMinUserAddress || elf.hi > max_address))
    return Bad(why,
               absl::StrFormat("segments at [%#x, %#x) lie outside the user "
                               "address space",
                               elf.lo, elf.hi));
  return elf;
}

}  // namespace loader
