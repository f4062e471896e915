// Reading and validating an x86-64 ELF executable's headers.
//
// The file is hostile: every offset, size and count is checked before use,
// with checked arithmetic, and each failure says why in words.
#ifndef SENTRY_LOADER_ELF_H_
#define SENTRY_LOADER_ELF_H_

#include <elf.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "sentry/vfs/file_description.h"

namespace loader {

struct ElfFile {
  Elf64_Ehdr ehdr;
  std::vector<Elf64_Phdr> phdrs;
  std::string interp;  // PT_INTERP's path; empty when there is none
  // The PT_LOAD segments span [lo, hi) before relocation, page aligned.
  uint64_t lo = 0, hi = 0;
  // The largest power-of-two p_align of the PT_LOADs (at least a page):
  // a relocated image must keep it (2 MiB aligned text, for instance).
  uint64_t align = 0;
  bool exec_stack = false;  // PT_GNU_STACK asks for PF_X
  // Where the program headers are in memory, before relocation (AT_PHDR).
  uint64_t phdr_vaddr = 0;
};

// Reads the ELF header and program headers of `file` (and the interpreter
// path). ENOEXEC with `*why` set when the file is not a loadable x86-64
// executable. `max_address` bounds where an ET_EXEC may ask to be loaded.
base::Result<ElfFile> ReadElf(vfs::FileDescription& file, uint64_t max_address,
                              std::string* why);

// Reads up to `len` bytes at `offset`, retrying short reads until EOF.
// Returns how many bytes were read.
base::Result<size_t> ReadAt(vfs::FileDescription& file, void* buf, size_t len,
                            uint64_t offset);

}  // namespace loader

#endif  // SENTRY_LOADER_ELF_H_
