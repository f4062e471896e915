// Malformed and hostile ELF files: each is rejected with a clear reason,
// and none can crash the sentry.
#include <elf.h>

#include <cstddef>

#include "sentry/loader/loader_test_util.h"

namespace loader::testing {
namespace {

using base::Errno;

TEST_F(LoaderTest, RejectsNonElfFiles) {
  EXPECT_EQ(Why({'#', '!', '/', 'b', 'i', 'n'}, ENOEXEC),
            "scripts (#!) are not supported yet");
  EXPECT_EQ(Why({}, ENOEXEC), "not an ELF executable");
  EXPECT_EQ(Why({'M', 'Z', 0, 0, 0, 0, 0, 0}, ENOEXEC),
            "not an ELF executable");
  EXPECT_EQ(Why({0x7f, 'E', 'L', 'F', 2, 1}, ENOEXEC), "truncated ELF header");
}

TEST_F(LoaderTest, RejectsBadHeaders) {
  auto good = StaticExe().Build();
  auto patched = [&](size_t off, std::vector<uint8_t> bytes) {
    auto v = good;
    memcpy(&v[off], bytes.data(), bytes.size());
    return v;
  };
  EXPECT_EQ(Why(patched(EI_CLASS, {ELFCLASS32}), ENOEXEC),
            "32-bit executables are not supported");
  EXPECT_EQ(Why(patched(EI_CLASS, {7}), ENOEXEC), "unknown ELF class");
  EXPECT_EQ(Why(patched(EI_DATA, {ELFDATA2MSB}), ENOEXEC),
            "big-endian executables are not supported");
  EXPECT_EQ(
      Why(patched(offsetof(Elf64_Ehdr, e_machine), {EM_AARCH64, 0}), ENOEXEC),
      "executable is for another architecture (e_machine 183), not "
      "x86-64");
  EXPECT_EQ(Why(patched(offsetof(Elf64_Ehdr, e_type), {ET_REL, 0}), ENOEXEC),
            "ELF file is not an executable (e_type 1)");
  EXPECT_EQ(Why(patched(offsetof(Elf64_Ehdr, e_phentsize), {32, 0}), ENOEXEC),
            "bad program header entry size");
  EXPECT_EQ(Why(patched(offsetof(Elf64_Ehdr, e_phnum), {0, 0}), ENOEXEC),
            "bad number of program headers");
  EXPECT_EQ(Why(patched(offsetof(Elf64_Ehdr, e_phnum), {0xff, 0xff}), ENOEXEC),
            "bad number of program headers");
  EXPECT_EQ(
      Why(patched(offsetof(Elf64_Ehdr, e_phoff), {0, 0, 0, 0, 0, 0, 0, 0x7f}),
          ENOEXEC),
      "program headers are past the end of the file");
  EXPECT_EQ(Why(patched(offsetof(Elf64_Ehdr, e_phoff),
                        {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),
                ENOEXEC),
            "program headers are past the end of the file");
}

TEST_F(LoaderTest, RejectsBadSegments) {
  auto with = [](auto edit) {
    ElfBuilder b = StaticExe();
    edit(b);
    return b.Build();
  };
  EXPECT_EQ(
      Why(with([](ElfBuilder& b) { b.segments[1].memsz = 0x10; }), ENOEXEC),
      "program header 1: file size exceeds memory size");
  EXPECT_EQ(
      Why(with([](ElfBuilder& b) { b.segments[1].vaddr += 8; }), ENOEXEC),
      "program header 1: offset and address are not congruent modulo the page "
      "size");
  EXPECT_EQ(Why(with([](ElfBuilder& b) {
                  b.segments[1].vaddr = 0xfffffffffffff010;
                  b.segments[1].memsz = 0x10000;
                }),
                ENOEXEC),
            "program header 1: address range overflows");
  EXPECT_EQ(Why(with([](ElfBuilder& b) {
                  b.segments[1].vaddr = 0xfffffffffffff010;
                  b.segments[1].memsz = 0x100;
                }),
                ENOEXEC),
            "program header 1: address range overflows");
  EXPECT_EQ(Why(with([](ElfBuilder& b) { b.segments[0].vaddr = 0; }), ENOEXEC),
            "segments at [0, 0x405000) lie outside the user address space");
  EXPECT_EQ(
      Why(with([](ElfBuilder& b) { b.segments[1].vaddr = 0x7f0000000010; }),
          ENOEXEC),
      "segments at [0x400000, 0x7f0000003000) lie outside the user "
      "address space");
  EXPECT_EQ(Why(with([](ElfBuilder& b) { b.segments.clear(); }), ENOEXEC),
            "no loadable segments");
  EXPECT_EQ(Why(with([](ElfBuilder& b) {
                  b.type = ET_DYN;
                  b.segments[0].vaddr = 0;
                  b.segments[1].vaddr = 0x7f0000000010;
                }),
                ENOEXEC),
            "loadable segments are larger than the address space");
}

TEST_F(LoaderTest, RejectsBadInterpreterPaths) {
  ElfBuilder b = StaticExe();
  b.interp = "/lib/ld.so";
  auto image = b.Build();
  // Overwrite the NUL at the end of the path.
  size_t at = 64 + 4 * sizeof(Elf64_Phdr) + b.interp.size();
  image[at] = 'x';
  EXPECT_EQ(Why(image, ENOEXEC), "interpreter path is not NUL-terminated");
  b.interp = std::string(5000, 'a');
  EXPECT_EQ(Why(b.Build(), ENOEXEC), "bad interpreter path length");
}

TEST_F(LoaderTest, SurvivesCorruptedHeaders) {
  ElfBuilder dyn = StaticExe();
  dyn.type = ET_DYN;
  dyn.interp = "/ld";
  dyn.phdr = true;
  const std::vector<std::vector<uint8_t>> seeds = {StaticExe().Build(),
                                                   dyn.Build()};
  auto ld = std::make_shared<VectorFile>(StaticExe().Build());
  uint64_t rng = 42;
  auto next = [&] {
    rng = rng * 6364136223846793005u + 1442695040888963407u;
    return rng >> 33;
  };
  int loaded = 0;
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> image = seeds[i % 2];
    const size_t headers = 64 + 5 * sizeof(Elf64_Phdr);
    for (int flips = 1 + next() % 4; flips > 0; --flips)
      image[next() % headers] = static_cast<uint8_t>(next());
    auto fresh = *mm::MemoryManager::Create(*file_, platform_);
    LoadArgs args = Args(image);
    args.open_interpreter = [&](const std::string&)
        -> base::Result<std::shared_ptr<vfs::FileDescription>> { return ld; };
    std::string why;
    auto r = Load(*fresh, args, &why);
    if (r) {
      ++loaded;
    } else {
      EXPECT_FALSE(why.empty()) << base::ErrnoName(r.error().value);
    }
  }
  EXPECT_GT(loaded, 0);
  EXPECT_EQ(file_->allocated(), 0u);
}

}  // namespace
}  // namespace loader::testing
