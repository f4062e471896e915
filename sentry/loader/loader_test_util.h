// Test-only: ELF images built in memory and a fixture that loads them
// into a MemoryManager on the fake platform.
#ifndef SENTRY_LOADER_LOADER_TEST_UTIL_H_
#define SENTRY_LOADER_LOADER_TEST_UTIL_H_

#include <elf.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/fake_file.h"
#include "sentry/mm/fake_platform.h"

namespace loader::testing {

using mm::testing::FakePlatform;
using mm::testing::VectorFile;

inline constexpr uint64_t P = 4096;

struct Segment {
  uint32_t flags;
  uint64_t vaddr, offset;
  std::vector<uint8_t> data;  // p_filesz = data.size()
  uint64_t memsz;
};

// An x86-64 ELF image: header, program headers right after it, then the
// segments' bytes at their offsets. Bytes between segments are 0xcc, so a
// loader that forgets to zero a bss tail is caught.
struct ElfBuilder {
  uint16_t type = ET_EXEC;
  uint64_t entry = 0x401000;
  std::vector<Segment> segments;
  std::string interp;  // adds PT_INTERP (NUL included)
  bool gnu_stack_exec = false;
  bool phdr = false;  // adds PT_PHDR (and covers it with a load)

  std::vector<uint8_t> Build() const {
    std::vector<Elf64_Phdr> ph;
    size_t n = segments.size() + (interp.empty() ? 0 : 1) + 1 + (phdr ? 1 : 0);
    const uint64_t phoff = sizeof(Elf64_Ehdr);
    const uint64_t interp_off = phoff + n * sizeof(Elf64_Phdr);
    if (phdr)
      ph.push_back({PT_PHDR, PF_R, phoff, segments[0].vaddr + phoff, 0,
                    n * sizeof(Elf64_Phdr), n * sizeof(Elf64_Phdr), 8});
    if (!interp.empty())
      ph.push_back({PT_INTERP, PF_R, interp_off, 0, 0, interp.size() + 1,
                    interp.size() + 1, 1});
    for (const Segment& s : segments)
      ph.push_back({PT_LOAD, s.flags, s.offset, s.vaddr, s.vaddr, s.data.size(),
                    s.memsz, P});
    ph.push_back({PT_GNU_STACK, PF_R | PF_W | (gnu_stack_exec ? PF_X : 0u), 0,
                  0, 0, 0, 0, 16});
    std::vector<uint8_t> out(interp_off + interp.size() + 1, 0xcc);
    for (const Segment& s : segments)
      if (s.offset + s.data.size() > out.size())
        out.resize(s.offset + s.data.size() + 100, 0xcc);
    for (const Segment& s : segments)
      if (!s.data.empty()) memcpy(&out[s.offset], s.data.data(), s.data.size());
    Elf64_Ehdr eh{};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = type;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_entry = entry;
    eh.e_phoff = phoff;
    eh.e_ehsize = sizeof(eh);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = ph.size();
    memcpy(out.data(), &eh, sizeof(eh));
    memcpy(&out[phoff], ph.data(), ph.size() * sizeof(Elf64_Phdr));
    if (!interp.empty()) {
      memcpy(&out[interp_off], interp.c_str(), interp.size() + 1);
    }
    return out;
  }
};

inline std::vector<uint8_t> Bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 13 + seed);
  return v;
}

// A static executable: text at 0x400000 (with the headers, as ld makes
// them), data at 0x402010 with a bss two and a half pages long.
inline ElfBuilder StaticExe() {
  ElfBuilder b;
  b.segments.push_back({PF_R | PF_X, 0x400000, 0, Bytes(0x1800, 1), 0x1800});
  b.segments.push_back(
      {PF_R | PF_W, 0x402010, 0x2010, Bytes(0x100, 2), 0x100 + 2 * P + 0x800});
  return b;
}

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = *mm::MemoryFile::Create(uint64_t{1} << 36);
    mm_ = *mm::MemoryManager::Create(*file_, platform_);
  }

  LoadArgs Args(const std::vector<uint8_t>& image) {
    LoadArgs a;
    exe_ = std::make_shared<VectorFile>(image);
    a.file = exe_;
    a.argv = {"prog", "arg1", ""};
    a.envp = {"HOME=/root", "PATH=/bin"};
    a.execfn = "/bin/prog";
    a.uid = 1;
    a.euid = 2;
    a.gid = 3;
    a.egid = 4;
    return a;
  }

  std::vector<uint8_t> Read(uint64_t addr, size_t n) {
    std::vector<uint8_t> v(n);
    EXPECT_TRUE(mm_->CopyIn(addr, v.data(), n).has_value()) << std::hex << addr;
    return v;
  }
  uint64_t Word(uint64_t addr) {
    return *mm_->CopyInObj(mm::UserPtr<uint64_t>(addr));
  }
  std::string String(uint64_t addr) {
    auto s = mm_->CopyInString(addr, 1 << 20);
    EXPECT_TRUE(s.has_value()) << std::hex << addr;
    return s.value_or("");
  }

  // Parses the initial stack at sp.
  struct Stack {
    std::vector<std::string> argv, envp;
    std::map<uint64_t, uint64_t> auxv;
    std::vector<uint64_t> auxv_order;
  };
  Stack ParseStack(uint64_t sp) {
    Stack s;
    uint64_t argc = Word(sp);
    uint64_t p = sp + 8;
    for (uint64_t i = 0; i < argc; ++i, p += 8)
      s.argv.push_back(String(Word(p)));
    EXPECT_EQ(Word(p), 0u);
    for (p += 8; Word(p) != 0; p += 8) s.envp.push_back(String(Word(p)));
    for (p += 8;; p += 16) {
      uint64_t type = Word(p);
      s.auxv_order.push_back(type);
      if (type == AT_NULL) break;
      s.auxv[type] = Word(p + 8);
    }
    return s;
  }

  std::string Why(const std::vector<uint8_t>& image, int err) {
    std::string why;
    auto r = Load(*mm_, Args(image), &why);
    EXPECT_FALSE(r.has_value());
    if (!r) {
      EXPECT_EQ(r.error(), base::Errno(err)) << why;
    }
    return why;
  }

  FakePlatform platform_;
  std::unique_ptr<mm::MemoryFile> file_;
  std::unique_ptr<mm::MemoryManager> mm_;
  std::shared_ptr<VectorFile> exe_;
};

}  // namespace loader::testing

#endif  // SENTRY_LOADER_LOADER_TEST_UTIL_H_
