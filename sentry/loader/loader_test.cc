// Loads ELF images built in memory: segment layout, bias, interpreter,
// the initial stack, argument limits.
#include <elf.h>
#include <sys/mman.h>

#include <cstring>
#include <map>
#include <span>

#include "sentry/loader/initial_stack.h"
#include "sentry/loader/loader_test_util.h"
#include "sentry/loader/vdso.h"

namespace loader::testing {
namespace {

using base::Errno;

TEST_F(LoaderTest, StaticExecutableSegments) {
  ElfBuilder b = StaticExe();
  auto image = b.Build();
  std::string why;
  auto r = Load(*mm_, Args(image), &why);
  ASSERT_TRUE(r.has_value()) << why;
  EXPECT_EQ(r->entry, 0x401000u);
  // Text: the file's bytes, page for page, including the headers.
  EXPECT_EQ(Read(0x400000, 0x1800),
            std::vector<uint8_t>(image.begin(), image.begin() + 0x1800));
  // The last text page shows what follows in the file (no bss there).
  EXPECT_EQ(Read(0x401800, 0x10), std::vector<uint8_t>(image.begin() + 0x1800,
                                                       image.begin() + 0x1810));
  // Data then bss: zero right after the file bytes, to the end.
  EXPECT_EQ(Read(0x402010, 0x100), b.segments[1].data);
  EXPECT_EQ(Read(0x402110, 2 * P + 0x800), std::vector<uint8_t>(2 * P + 0x800));
  EXPECT_EQ(Read(0x402000, 0x10), std::vector<uint8_t>(image.begin() + 0x2000,
                                                       image.begin() + 0x2010));
  std::map<uint64_t, int> prot;
  for (const mm::VmaInfo& v : mm_->Vmas())
    for (uint64_t a = v.start; a < v.end && a < 0x500000; a += P)
      prot[a] = v.prot;
  EXPECT_EQ(prot[0x400000], PROT_READ | PROT_EXEC);
  EXPECT_EQ(prot[0x401000], PROT_READ | PROT_EXEC);
  EXPECT_EQ(prot[0x402000], PROT_READ | PROT_WRITE);
  EXPECT_EQ(prot[0x404000], PROT_READ | PROT_WRITE);
  EXPECT_EQ(prot.count(0x405000), 0u);
  // The break starts above the bss.
  uint64_t brk = mm_->Brk(0);
  EXPECT_GE(brk, 0x405000u);
  EXPECT_EQ(brk % P, 0u);
  EXPECT_LT(brk, 0x405000u + (32 << 20));
}

TEST_F(LoaderTest, InitialStackIsLinuxs) {
  auto image = StaticExe().Build();
  LoadArgs args = Args(image);
  auto r = Load(*mm_, args);
  ASSERT_TRUE(r.has_value());
  const uint64_t sp = r->stack_pointer;
  EXPECT_EQ(sp % 16, 0u);
  Stack s = ParseStack(sp);
  EXPECT_EQ(s.argv, args.argv);
  EXPECT_EQ(s.envp, args.envp);
  const std::vector<uint64_t> order = {
      AT_HWCAP,  AT_PAGESZ, AT_CLKTCK,   AT_PHDR,   AT_PHENT,
      AT_PHNUM,  AT_BASE,   AT_FLAGS,    AT_ENTRY,  AT_UID,
      AT_EUID,   AT_GID,    AT_EGID,     AT_SECURE, AT_RANDOM,
      AT_HWCAP2, AT_EXECFN, AT_PLATFORM, AT_NULL};
  EXPECT_EQ(s.auxv_order, order);
  EXPECT_EQ(s.auxv[AT_PAGESZ], P);
  EXPECT_EQ(s.auxv[AT_CLKTCK], 100u);
  EXPECT_EQ(s.auxv[AT_PHDR], 0x400000u + sizeof(Elf64_Ehdr));
  EXPECT_EQ(s.auxv[AT_PHENT], sizeof(Elf64_Phdr));
  EXPECT_EQ(s.auxv[AT_PHNUM], 3u);
  EXPECT_EQ(s.auxv[AT_BASE], 0u);
  EXPECT_EQ(s.auxv[AT_ENTRY], 0x401000u);
  EXPECT_EQ(s.auxv[AT_UID], 1u);
  EXPECT_EQ(s.auxv[AT_EUID], 2u);
  EXPECT_EQ(s.auxv[AT_GID], 3u);
  EXPECT_EQ(s.auxv[AT_EGID], 4u);
  EXPECT_EQ(s.auxv[AT_SECURE], 1u);  // uid != euid
  EXPECT_NE(s.auxv[AT_HWCAP], 0u);
  EXPECT_EQ(String(s.auxv[AT_EXECFN]), "/bin/prog");
  EXPECT_EQ(String(s.auxv[AT_PLATFORM]), "x86_64");
  // AT_PHDR really points at the program headers.
  EXPECT_EQ(Read(s.auxv[AT_PHDR], 3 * sizeof(Elf64_Phdr)),
            std::vector<uint8_t>(image.begin() + 64,
                                 image.begin() + 64 + 3 * sizeof(Elf64_Phdr)));
  // Strings live at the top: execfn last, 8 zero bytes above it.
  auto vmas = mm_->Vmas();
  const mm::VmaInfo* stack = nullptr;
  for (const auto& v : vmas)
    if (v.name == "[stack]") stack = &v;
  ASSERT_NE(stack, nullptr);
  EXPECT_EQ(stack->prot, PROT_READ | PROT_WRITE);
  EXPECT_EQ(stack->end - stack->start, 8u << 20);
  EXPECT_LE(stack->end, mm_->max_address());
  EXPECT_GT(stack->end, mm_->max_address() - (uint64_t{1} << 27));
  EXPECT_GT(sp, stack->start);
  EXPECT_EQ(s.auxv[AT_EXECFN] + sizeof("/bin/prog") + 8, stack->end);
  EXPECT_EQ(Word(stack->end - 8), 0u);
  EXPECT_LT(s.auxv[AT_RANDOM], s.auxv[AT_PLATFORM]);
  EXPECT_GT(s.auxv[AT_RANDOM], sp);
  // The strings are in order, argv below envp.
  EXPECT_EQ(String(Word(sp + 8)) + '\0' + String(Word(sp + 16)),
            std::string("prog\0arg1", 9));
  EXPECT_LT(Word(sp + 8), Word(sp + 8 * 5));
  // The mmap area starts below the stack: a new mapping lands there.
  uint64_t a = *mm_->Mmap({.length = P, .prot = PROT_READ});
  EXPECT_LT(a, stack->start);
  EXPECT_GT(a, stack->start - (uint64_t{1} << 30));
}

TEST_F(LoaderTest, StackLimitIsClampedAndExecStackHonoured) {
  ElfBuilder b = StaticExe();
  b.gnu_stack_exec = true;
  auto image = b.Build();
  LoadArgs args = Args(image);
  args.stack_limit = ~uint64_t{0};  // RLIM_INFINITY
  ASSERT_TRUE(Load(*mm_, args).has_value());
  for (const auto& v : mm_->Vmas()) {
    if (v.name != "[stack]") continue;
    EXPECT_EQ(v.end - v.start, 64u << 20);
    EXPECT_EQ(v.prot, PROT_READ | PROT_WRITE | PROT_EXEC);
  }
}

TEST_F(LoaderTest, SmallStackLimitStillFitsTheArguments) {
  auto image = StaticExe().Build();
  LoadArgs args = Args(image);
  args.stack_limit = 4096;
  args.argv.push_back(std::string(100000, 'x'));
  auto r = Load(*mm_, args);
  ASSERT_TRUE(r.has_value());
  Stack s = ParseStack(r->stack_pointer);
  EXPECT_EQ(s.argv.back().size(), 100000u);
}

TEST_F(LoaderTest, StaticPieGetsARandomBias) {
  ElfBuilder b = StaticExe();
  b.type = ET_DYN;
  b.phdr = true;
  for (Segment& s : b.segments) s.vaddr -= 0x400000;
  b.entry = 0x1000;
  auto image = b.Build();
  auto r = Load(*mm_, Args(image));
  ASSERT_TRUE(r.has_value());
  const uint64_t bias = r->entry - 0x1000;
  EXPECT_EQ(bias % P, 0u);
  EXPECT_GE(bias, 0x555555554000u);
  EXPECT_LT(bias, 0x555555554000u + (uint64_t{1} << 40));
  EXPECT_EQ(Read(bias, 0x1800),
            std::vector<uint8_t>(image.begin(), image.begin() + 0x1800));
  Stack s = ParseStack(r->stack_pointer);
  EXPECT_EQ(s.auxv[AT_PHDR], bias + 64);  // from PT_PHDR
  EXPECT_EQ(s.auxv[AT_ENTRY], r->entry);
  EXPECT_EQ(s.auxv[AT_BASE], 0u);
}

TEST_F(LoaderTest, DynamicExecutableRunsTheInterpreter) {
  ElfBuilder exe = StaticExe();
  exe.type = ET_DYN;
  for (Segment& s : exe.segments) s.vaddr -= 0x400000;
  exe.entry = 0x1234;
  exe.interp = "/lib/ld.so";
  ElfBuilder ld;
  ld.type = ET_DYN;
  ld.entry = 0x1100;
  ld.segments.push_back({PF_R | PF_X, 0, 0, Bytes(0x1200, 5), 0x1200});
  ld.segments.push_back({PF_R | PF_W, 0x3000, 0x2000, Bytes(0x80, 6), 0x2000});
  auto ld_image = ld.Build();
  auto ld_file = std::make_shared<VectorFile>(ld_image);
  std::string opened;
  LoadArgs args = Args(exe.Build());
  args.open_interpreter = [&](const std::string& path)
      -> base::Result<std::shared_ptr<vfs::FileDescription>> {
    opened = path;
    return ld_file;
  };
  std::string why;
  auto r = Load(*mm_, args, &why);
  ASSERT_TRUE(r.has_value()) << why << " " << base::ErrnoName(r.error().value);
  EXPECT_EQ(opened, "/lib/ld.so");
  Stack s = ParseStack(r->stack_pointer);
  const uint64_t ld_base = s.auxv[AT_BASE];
  EXPECT_NE(ld_base, 0u);
  EXPECT_EQ(ld_base % P, 0u);
  EXPECT_EQ(r->entry, ld_base + 0x1100);
  EXPECT_EQ(Read(ld_base, 0x1200),
            std::vector<uint8_t>(ld_image.begin(), ld_image.begin() + 0x1200));
  EXPECT_EQ(Read(ld_base + 0x3000, 0x80), ld.segments[1].data);
  EXPECT_EQ(Read(ld_base + 0x3080, 0x2000 - 0x80),
            std::vector<uint8_t>(0x2000 - 0x80));
  // The executable is mapped too; AT_ENTRY is its entry.
  const uint64_t exe_bias = s.auxv[AT_ENTRY] - 0x1234;
  EXPECT_GE(exe_bias, 0x555555554000u);
  EXPECT_EQ(s.auxv[AT_PHDR], exe_bias + 64);
  // ld.so sits in the mmap area, below the stack.
  EXPECT_LT(ld_base, r->stack_pointer);
  EXPECT_GT(ld_base, exe_bias);
}

TEST_F(LoaderTest, MissingInterpreter) {
  ElfBuilder exe = StaticExe();
  exe.interp = "/lib/ld.so";
  std::string why;
  LoadArgs args = Args(exe.Build());
  EXPECT_EQ(Load(*mm_, args, &why).error(), Errno(ENOEXEC));
  EXPECT_NE(why.find("interpreter"), std::string::npos) << why;
  auto fresh = *mm::MemoryManager::Create(*file_, platform_);
  args.open_interpreter = [](const std::string&)
      -> base::Result<std::shared_ptr<vfs::FileDescription>> {
    return base::Err(ENOENT);
  };
  EXPECT_EQ(Load(*fresh, args, &why).error(), Errno(ENOENT));
  EXPECT_EQ(why, "cannot open the program interpreter /lib/ld.so: ENOENT");
  // An interpreter that is not an ELF file.
  auto fresh2 = *mm::MemoryManager::Create(*file_, platform_);
  args.open_interpreter = [](const std::string&)
      -> base::Result<std::shared_ptr<vfs::FileDescription>> {
    return std::make_shared<VectorFile>(std::vector<uint8_t>{'#', '!', '/'});
  };
  EXPECT_EQ(Load(*fresh2, args, &why).error(), Errno(ENOEXEC));
  EXPECT_EQ(why, "interpreter /lib/ld.so: scripts (#!) are not supported yet");
}

TEST_F(LoaderTest, ArgumentLimits) {
  auto image = StaticExe().Build();
  LoadArgs args = Args(image);
  args.argv.push_back(std::string(kMaxArgStrlen, 'a'));  // NUL makes it +1
  std::string why;
  EXPECT_EQ(Load(*mm_, args, &why).error(), Errno(E2BIG));
  EXPECT_EQ(why, "argument list too long");
  args.argv.back().pop_back();
  // A quarter of an 8 MiB stack is 2 MiB: 20 strings of 128 KiB exceed it.
  for (int i = 0; i < 20; ++i) args.envp.push_back(std::string(100000, 'e'));
  EXPECT_EQ(Load(*mm_, args).error(), Errno(E2BIG));
  args.stack_limit = 64 << 20;
  auto r = Load(*mm_, args, &why);
  ASSERT_TRUE(r.has_value()) << why;
  EXPECT_EQ(ParseStack(r->stack_pointer).envp.size(), 22u);
}

TEST_F(LoaderTest, NeedsAnEmptyMemoryManager) {
  ASSERT_TRUE(mm_->Mmap({.length = P, .prot = PROT_READ}).has_value());
  EXPECT_EQ(Load(*mm_, Args(StaticExe().Build())).error(), Errno(EINVAL));
}

// Hostile files must fail cleanly, never crash the sentry: flip random
// header and program header bytes of valid images and load them all.
}  // namespace
}  // namespace loader::testing

namespace loader::testing {
namespace {

// With a parameter page, exec maps [vvar] (that page, shared, read-only for
// good) and the vDSO image right above it, and AT_SYSINFO_EHDR comes first.
TEST_F(LoaderTest, MapsTheVdso) {
  auto page = file_->Allocate(P);
  ASSERT_TRUE(page.has_value());
  file_->base()[*page] = 0x5a;  // what the page holds shows in the app
  const VdsoParamsPage params{.file = file_.get(), .offset = *page};
  auto image = StaticExe().Build();
  LoadArgs args = Args(image);
  args.vdso = &params;
  auto r = Load(*mm_, args);
  ASSERT_TRUE(r.has_value());
  Stack s = ParseStack(r->stack_pointer);
  ASSERT_FALSE(s.auxv_order.empty());
  EXPECT_EQ(s.auxv_order[0], uint64_t{AT_SYSINFO_EHDR});
  const uint64_t vdso = s.auxv[AT_SYSINFO_EHDR];
  ASSERT_NE(vdso, 0u);
  const std::span<const uint8_t> elf = VdsoImage();
  EXPECT_EQ(Read(vdso, elf.size()),
            std::vector<uint8_t>(elf.begin(), elf.end()));
  EXPECT_EQ(Read(vdso - P, 1), std::vector<uint8_t>{0x5a});
  bool saw_vvar = false, saw_vdso = false;
  for (const mm::VmaInfo& v : mm_->Vmas()) {
    if (v.name == "[vvar]") {
      saw_vvar = true;
      EXPECT_EQ(v.start, vdso - P);
      EXPECT_EQ(v.end, vdso);
      EXPECT_EQ(v.prot, PROT_READ);
      EXPECT_TRUE(v.shared);
    }
    if (v.name == "[vdso]") {
      saw_vdso = true;
      EXPECT_EQ(v.start, vdso);
      EXPECT_EQ(v.prot, PROT_READ | PROT_EXEC);
      EXPECT_FALSE(v.shared);
    }
  }
  EXPECT_TRUE(saw_vvar);
  EXPECT_TRUE(saw_vdso);
  // The page can never be made writable, and unmapping it leaves it to
  // everyone else.
  EXPECT_EQ(mm_->Mprotect(vdso - P, P, PROT_READ | PROT_WRITE).error().value,
            EACCES);
  EXPECT_TRUE(mm_->Munmap(vdso - P, P).has_value());
  EXPECT_EQ(file_->base()[*page], 0x5a);
  file_->Free(*page, P);
}

// The image is what a dynamic linker needs: ELF, ET_DYN, no relocations
// (it is copied anywhere and never relocated).
TEST(VdsoImageTest, IsAnUnrelocatedSharedObject) {
  const std::span<const uint8_t> elf = VdsoImage();
  ASSERT_GE(elf.size(), sizeof(Elf64_Ehdr));
  Elf64_Ehdr eh;
  memcpy(&eh, elf.data(), sizeof(eh));
  EXPECT_EQ(memcmp(eh.e_ident, ELFMAG, SELFMAG), 0);
  EXPECT_EQ(eh.e_type, ET_DYN);
  EXPECT_EQ(eh.e_machine, EM_X86_64);
  bool dynamic = false;
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    ASSERT_LE(eh.e_phoff + (i + 1) * sizeof(ph), elf.size());
    memcpy(&ph, elf.data() + eh.e_phoff + i * sizeof(ph), sizeof(ph));
    if (ph.p_type == PT_LOAD) {
      EXPECT_EQ(ph.p_vaddr, 0u);
      EXPECT_EQ(ph.p_flags, uint32_t{PF_R | PF_X});
    }
    if (ph.p_type != PT_DYNAMIC) continue;
    dynamic = true;
    for (uint64_t off = ph.p_offset;
         off + sizeof(Elf64_Dyn) <= ph.p_offset + ph.p_filesz;
         off += sizeof(Elf64_Dyn)) {
      Elf64_Dyn d;
      memcpy(&d, elf.data() + off, sizeof(d));
      EXPECT_NE(d.d_tag, DT_RELA);
      EXPECT_NE(d.d_tag, DT_REL);
      EXPECT_NE(d.d_tag, DT_TEXTREL);
      EXPECT_NE(d.d_tag, DT_JMPREL);
    }
  }
  EXPECT_TRUE(dynamic);
}

}  // namespace
}  // namespace loader::testing
