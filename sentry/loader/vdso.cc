// MapVdso(): the vDSO's two mappings in a new address space.
#include "sentry/loader/vdso.h"

#include <sys/mman.h>

namespace loader {

extern const uint8_t kVdsoImage[];  // vdso_image.cc, generated
extern const size_t kVdsoImageSize;

std::span<const uint8_t> VdsoImage() { return {kVdsoImage, kVdsoImageSize}; }

base::Result<uint64_t> MapVdso(mm::MemoryManager& mm,
                               const VdsoParamsPage& params) {
  constexpr uint64_t kPage = mm::kPageSize;
  const std::span<const uint8_t> image = VdsoImage();
  const uint64_t image_len = (image.size() + kPage - 1) & ~(kPage - 1);
  // One reservation for both, so that the image lands right above the
  // page (vdso.lds places the parameters at -4096 from the image).
  mm::MmapOpts reserve;
  reserve.length = kPage + image_len;
  reserve.prot = PROT_NONE;
  const uint64_t base = TRY(mm.Mmap(reserve));

  mm::MmapOpts vvar;
  vvar.addr = base;
  vvar.length = kPage;
  vvar.prot = PROT_READ;
  vvar.max_prot = PROT_READ;  // every process reads the same page
  vvar.fixed = true;
  vvar.shared = true;
  vvar.backing = params.offset;
  vvar.name = "[vvar]";
  params.file->IncRef(params.offset, kPage);
  if (auto r = mm.Mmap(vvar); !r) {
    params.file->Free(params.offset, kPage);  // the reference stayed ours
    return std::unexpected(r.error());
  }

  // A private copy, as Linux's: a debugger may write breakpoints into it
  // (mprotect may make it writable), and that must stay in this process.
  mm::MmapOpts code;
  code.addr = base + kPage;
  code.length = image_len;
  code.prot = PROT_READ | PROT_EXEC;
  code.fixed = true;
  code.name = "[vdso]";
  TRY(mm.Mmap(code));
  TRY(mm.WriteForce(base + kPage, image.data(), image.size()));
  return base + kPage;
}

}  // namespace loader
