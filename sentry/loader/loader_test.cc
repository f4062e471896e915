// Loads ELF images built in memory: layout, initial stack, and rejection
// of malformed files.
#include "sentry/loader/loader.h"

#include <elf.h>
#include <sys/mman.h>

#include <cstring>
#include <map>

#include "gtest/gtest.h"
#include "sentry/loader/initial_stack.h"
#include "sentry/mm/fake_file.h"
#include "sentry/mm/fake_platform.h"

namespace loader {
namespace {

using base::Errno;
using mm::testing::FakePlatform;
using mm::testing::VectorFile;

constexpr uint64_t P = 4096;

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

std::vector<uint8_t> Bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 13 + seed);
  return v;
}

// A static executable: text at 0x400000 (with the headers, as ld makes
// them), data at 0x402010 with a bss two and a half pages long.
ElfBuilder StaticExe() {
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
      EXPECT_EQ(r.error(), Errno(err)) << why;
    }
    return why;
  }

  FakePlatform platform_;
  std::unique_ptr<mm::MemoryFile> file_;
  std::unique_ptr<mm::MemoryManager> mm_;
  std::shared_ptr<VectorFile> exe_;
};

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
        -> base::Result<std::shared_ptr<vfs::FileDescription>> {
      return ld;
    };
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

TEST(InitialStackTest, LayoutMatchesLinux) {
  StackInputs in;
  in.argv = {"a", "bc"};
  in.envp = {"X=1"};
  in.execfn = "/x";
  in.auxv = {
      {AT_PAGESZ, 4096}, {AT_RANDOM, 0}, {AT_EXECFN, 0}, {AT_PLATFORM, 0}};
  for (int i = 0; i < 16; ++i) in.random[i] = i + 1;
  for (uint64_t pad : {0, 1, 15, 16, 8191}) {
    in.pad = pad;
    const uint64_t top = 0x7fff0000;
    StackImage im = BuildInitialStack(top, in);
    EXPECT_EQ(im.sp % 16, 0u);
    EXPECT_EQ(im.sp + im.bytes.size(), top);
    EXPECT_LE(im.bytes.size(), InitialStackSize(in));
    auto word = [&](uint64_t addr) {
      uint64_t v;
      memcpy(&v, &im.bytes[addr - im.sp], 8);
      return v;
    };
    auto str = [&](uint64_t addr) {
      return std::string(reinterpret_cast<char*>(&im.bytes[addr - im.sp]));
    };
    EXPECT_EQ(word(im.sp), 2u);
    EXPECT_EQ(str(word(im.sp + 8)), "a");
    EXPECT_EQ(str(word(im.sp + 16)), "bc");
    EXPECT_EQ(word(im.sp + 24), 0u);
    EXPECT_EQ(str(word(im.sp + 32)), "X=1");
    EXPECT_EQ(word(im.sp + 40), 0u);
    EXPECT_EQ(word(im.sp + 48), uint64_t{AT_PAGESZ});
    const uint64_t random = word(im.sp + 72);
    EXPECT_EQ(im.bytes[random - im.sp], 1);
    EXPECT_EQ(im.bytes[random + 15 - im.sp], 16);
    const uint64_t execfn = word(im.sp + 88);
    EXPECT_EQ(execfn, top - 8 - 3);
    EXPECT_EQ(str(execfn), "/x");
    EXPECT_EQ(str(word(im.sp + 104)), "x86_64");
    EXPECT_EQ(word(im.sp + 112), uint64_t{AT_NULL});
    // Exactly Linux's strings block: argv, envp, execfn back to back.
    EXPECT_EQ(word(im.sp + 32), execfn - 4);
    EXPECT_EQ(word(im.sp + 16), execfn - 4 - 3);
    EXPECT_EQ(word(im.sp + 8), execfn - 4 - 3 - 2);
    // Platform then random below the (padded, aligned) strings.
    EXPECT_EQ(word(im.sp + 104), ((execfn - 9 - pad) & ~15ull) - 7);
    EXPECT_EQ(random, word(im.sp + 104) - 16);
  }
}

TEST(InitialStackTest, ArgLimits) {
  EXPECT_TRUE(CheckArgLimits({"a"}, {}, "/a", 8 << 20).has_value());
  EXPECT_TRUE(
      CheckArgLimits({std::string(kMaxArgStrlen - 1, 'a')}, {}, "/a", 8 << 20)
          .has_value());
  EXPECT_FALSE(
      CheckArgLimits({std::string(kMaxArgStrlen, 'a')}, {}, "/a", 8 << 20)
          .has_value());
  // Tiny limits still allow ARG_MAX (128 KiB) minus the pointers.
  EXPECT_TRUE(
      CheckArgLimits({std::string(100000, 'a')}, {}, "/a", 0).has_value());
  EXPECT_FALSE(CheckArgLimits({std::string(100000, 'a')},
                              {std::string(40000, 'b')}, "/a", 0)
                   .has_value());
  // At most 6 MiB however large the stack.
  std::vector<std::string> many(50, std::string(130000, 'c'));
  EXPECT_FALSE(CheckArgLimits(many, {}, "/a", uint64_t{1} << 40).has_value());
  many.resize(40);
  EXPECT_TRUE(CheckArgLimits(many, {}, "/a", uint64_t{1} << 40).has_value());
}

}  // namespace
}  // namespace loader
