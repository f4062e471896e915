// The sandbox's vDSO in an address space: the image built from vdso/vdso.c
// ([vdso]) and, one page below it, the sentry's clock parameter page
// ([vvar], vdso/vdso_params.h), which every process shares read-only.
#ifndef SENTRY_LOADER_VDSO_H_
#define SENTRY_LOADER_VDSO_H_

#include <cstdint>
#include <span>

#include "base/result.h"
#include "sentry/mm/memory_file.h"
#include "sentry/mm/memory_manager.h"

namespace loader {

// The vDSO's ELF image (embedded at build time).
std::span<const uint8_t> VdsoImage();

// The [vvar] page: one page of the memory file that the sentry's clock
// (kernel/timekeeper.h) keeps up to date.
struct VdsoParamsPage {
  mm::MemoryFile* file = nullptr;
  uint64_t offset = 0;  // page aligned
};

// Maps [vvar] (the shared page, read-only for good: no mprotect can make
// it writable) and [vdso] right above it (a private copy of the image,
// r-x) wherever mmap finds room. Returns the image's address, which is
// AT_SYSINFO_EHDR.
base::Result<uint64_t> MapVdso(mm::MemoryManager& mm,
                               const VdsoParamsPage& params);

}  // namespace loader

#endif  // SENTRY_LOADER_VDSO_H_
