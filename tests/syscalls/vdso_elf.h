// Finds symbols in the vDSO the kernel mapped (getauxval(AT_SYSINFO_EHDR))
// by reading its ELF dynamic symbol table, as glibc's dl_vdso_vsym does,
// with the version each symbol is defined with. No dlvsym: the tests are
// static binaries.
#ifndef TESTS_SYSCALLS_VDSO_ELF_H_
#define TESTS_SYSCALLS_VDSO_ELF_H_

#include <elf.h>
#include <sys/auxv.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

namespace testing_vdso {

struct VdsoSymbol {
  uintptr_t address;
  std::string version;  // the name of its version definition
};

class VdsoElf {
 public:
  // Reads the vDSO mapped at AT_SYSINFO_EHDR; ok() is false if there is
  // none or it lacks what a dynamic linker needs.
  VdsoElf() : base_(getauxval(AT_SYSINFO_EHDR)) {
    if (base_ == 0) return;
    const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(base_);
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_type != ET_DYN)
      return;
    const auto* ph = reinterpret_cast<const Elf64_Phdr*>(base_ + eh->e_phoff);
    const Elf64_Dyn* dyn = nullptr;
    bool have_load = false;
    for (int i = 0; i < eh->e_phnum; ++i) {
      if (ph[i].p_type == PT_LOAD && !have_load) {
        bias_ = base_ + ph[i].p_offset - ph[i].p_vaddr;
        have_load = true;
      }
      if (ph[i].p_type == PT_DYNAMIC)
        dyn = reinterpret_cast<const Elf64_Dyn*>(base_ + ph[i].p_offset);
    }
    if (!have_load || dyn == nullptr) return;
    for (; dyn->d_tag != DT_NULL; ++dyn) {
      const uintptr_t p = bias_ + dyn->d_un.d_ptr;
      switch (dyn->d_tag) {
        case DT_SYMTAB:
          symtab_ = reinterpret_cast<const Elf64_Sym*>(p);
          break;
        case DT_STRTAB:
          strtab_ = reinterpret_cast<const char*>(p);
          break;
        case DT_HASH:
          hash_ = reinterpret_cast<const uint32_t*>(p);
          break;
        case DT_VERSYM:
          versym_ = reinterpret_cast<const uint16_t*>(p);
          break;
        case DT_VERDEF:
          verdef_ = reinterpret_cast<const Elf64_Verdef*>(p);
          break;
      }
    }
  }

  uintptr_t base() const { return base_; }
  bool ok() const { return symtab_ && strtab_ && hash_ && versym_ && verdef_; }

  std::optional<VdsoSymbol> Find(const char* name) const {
    if (!ok()) return std::nullopt;
    const uint32_t nsyms = hash_[1];  // DT_HASH: nbucket, nchain
    for (uint32_t i = 1; i < nsyms; ++i) {
      const Elf64_Sym& s = symtab_[i];
      if (s.st_shndx == SHN_UNDEF || strcmp(strtab_ + s.st_name, name) != 0)
        continue;
      return VdsoSymbol{bias_ + s.st_value, VersionName(versym_[i] & 0x7fff)};
    }
    return std::nullopt;
  }

 private:
  std::string VersionName(uint16_t index) const {
    const Elf64_Verdef* d = verdef_;
    for (;;) {
      if (d->vd_ndx == index) {
        const auto* aux = reinterpret_cast<const Elf64_Verdaux*>(
            reinterpret_cast<const char*>(d) + d->vd_aux);
        return strtab_ + aux->vda_name;
      }
      if (d->vd_next == 0) return "";
      d = reinterpret_cast<const Elf64_Verdef*>(
          reinterpret_cast<const char*>(d) + d->vd_next);
    }
  }

  uintptr_t base_ = 0;
  uintptr_t bias_ = 0;
  const Elf64_Sym* symtab_ = nullptr;
  const char* strtab_ = nullptr;
  const uint32_t* hash_ = nullptr;
  const uint16_t* versym_ = nullptr;
  const Elf64_Verdef* verdef_ = nullptr;
};

}  // namespace testing_vdso

#endif  // TESTS_SYSCALLS_VDSO_ELF_H_
