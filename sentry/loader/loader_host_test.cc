// Loads real executables from the host (static, static-pie, dynamic with
// ld.so) and, to check the whole layout end to end, runs them: a forked
// child maps the memory file exactly as the fake stub recorded, points rsp
// at the initial stack and jumps to the entry. The program then makes its
// syscalls to the host kernel directly, which is fine for a test.
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <sstream>

#include "gtest/gtest.h"
#include "sentry/loader/elf.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/fake_file.h"
#include "sentry/mm/fake_platform.h"

#ifndef LOADER_TEST_PROG_DIR
#define LOADER_TEST_PROG_DIR ""
#endif

namespace loader {
namespace {

using mm::testing::FakePlatform;
using mm::testing::HostFile;

// Below the host's own mappings (libraries and stack near 0x7fxxxxxxxxxx),
// so that the child can map the loaded image without clobbering itself.
constexpr uint64_t kMaxAddress = 0x600000000000;

struct Mapping {
  uint64_t addr, len, offset;
  int prot;
};

struct RunResult {
  int status;  // as from waitpid
  std::string out;
};

[[noreturn]] void Jump(uint64_t sp, uint64_t entry) {
  // rdx = 0: no rtld_fini for a static program (the ABI's atexit hook).
  asm volatile(
      "mov %%rdi, %%rsp\n"
      "xor %%edx, %%edx\n"
      "xor %%ebp, %%ebp\n"
      "jmp *%%rsi\n" ::"D"(sp),
      "S"(entry)
      : "memory");
  __builtin_unreachable();
}

bool OverlapsOurMappings(const std::vector<Mapping>& maps) {
  std::ifstream in("/proc/self/maps");
  std::string line;
  while (std::getline(in, line)) {
    uint64_t start = std::stoull(line.substr(0, line.find('-')), nullptr, 16);
    uint64_t end = std::stoull(line.substr(line.find('-') + 1), nullptr, 16);
    for (const Mapping& m : maps)
      if (m.addr < end && start < m.addr + m.len) return true;
  }
  return false;
}

class HostLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override { file_ = *mm::MemoryFile::Create(uint64_t{1} << 32); }

  // Loads `path`, retrying with a fresh address space when the random
  // layout happens to collide with this test process's own mappings.
  bool LoadPath(const std::string& path, std::vector<std::string> argv,
                std::vector<std::string> envp) {
    for (int attempt = 0; attempt < 8; ++attempt) {
      mm_.reset();
      mm_ = *mm::MemoryManager::Create(*file_, platform_);
      LoadArgs a;
      a.file = HostFile::Open(path);
      if (!a.file) return false;
      a.argv = argv;
      a.envp = envp;
      a.execfn = path;
      a.open_interpreter = [](const std::string& p)
          -> base::Result<std::shared_ptr<vfs::FileDescription>> {
        auto f = HostFile::Open(p);
        if (!f) return base::Err(ENOENT);
        return f;
      };
      std::string why;
      auto r = Load(*mm_, a, &why);
      EXPECT_TRUE(r.has_value()) << why;
      if (!r) return false;
      result_ = *r;
      maps_.clear();
      for (const auto& [start, seg] : platform_.stub().segments)
        maps_.push_back({start, seg.end - start, seg.offset, seg.prot});
      if (!OverlapsOurMappings(maps_)) return true;
    }
    ADD_FAILURE() << "layout kept colliding with the test's own mappings";
    return false;
  }

  RunResult Run() {
    int pipefd[2];
    EXPECT_EQ(pipe(pipefd), 0);
    const int memfd = file_->fd();
    const std::vector<Mapping> maps = maps_;
    const LoadResult r = result_;
    pid_t pid = fork();
    if (pid == 0) {
      // Only async-signal-safe calls from here on.
      close(pipefd[0]);
      dup2(pipefd[1], 1);
      int null = open("/dev/null", O_RDONLY);
      dup2(null, 0);
      alarm(20);
      for (const Mapping& m : maps) {
        void* p = mmap(reinterpret_cast<void*>(m.addr), m.len, m.prot,
                       MAP_SHARED | MAP_FIXED, memfd, m.offset);
        if (p == MAP_FAILED) _exit(120);
      }
      Jump(r.stack_pointer, r.entry);
    }
    close(pipefd[1]);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(pipefd[0], buf, sizeof(buf))) > 0) out.append(buf, n);
    close(pipefd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return {status, out};
  }

  // Every PT_LOAD reads back as the file's bytes, then zeros to p_memsz.
  void ExpectSegmentsMatchFile(const std::string& path, uint64_t bias) {
    auto f = HostFile::Open(path);
    std::string why;
    auto elf = ReadElf(*f, kMaxAddress, &why);
    ASSERT_TRUE(elf.has_value()) << why;
    for (const Elf64_Phdr& ph : elf->phdrs) {
      if (ph.p_type != PT_LOAD) continue;
      std::vector<uint8_t> want(ph.p_memsz), got(ph.p_memsz);
      ASSERT_EQ(*ReadAt(*f, want.data(), ph.p_filesz, ph.p_offset),
                ph.p_filesz);
      // WriteForce-free read: the data segment is readable anyway.
      ASSERT_TRUE(mm_->CopyIn(bias + ph.p_vaddr, got.data(), got.size()));
      EXPECT_TRUE(want == got) << "segment at " << std::hex << ph.p_vaddr;
    }
  }

  uint64_t e_entry(const std::string& path) {
    auto f = HostFile::Open(path);
    std::string why;
    return ReadElf(*f, kMaxAddress, &why)->ehdr.e_entry;
  }

  FakePlatform platform_{kMaxAddress};
  std::unique_ptr<mm::MemoryFile> file_;
  std::unique_ptr<mm::MemoryManager> mm_;
  LoadResult result_;
  std::vector<Mapping> maps_;
};

std::string Prog(const char* variant) {
  return std::string(LOADER_TEST_PROG_DIR) + "/loader_test_prog_" + variant;
}

std::string Expected(const std::string& path, bool has_interp) {
  return "argv[0]=prog\nargv[1]=a b\nargv[2]=\nenv=X=1\nenv=Y=\nexecfn=" +
         path + "\nplatform=x86_64\npagesz=4096\nrandom=yes\nbase=" +
         (has_interp ? "set" : "zero") + "\nmalloc=ok\n";
}

TEST_F(HostLoaderTest, StaticExecutableRuns) {
  const std::string path = Prog("static");
  ASSERT_TRUE(LoadPath(path, {"prog", "a b", ""}, {"X=1", "Y="}));
  EXPECT_EQ(result_.entry, e_entry(path));
  ExpectSegmentsMatchFile(path, 0);
  RunResult run = Run();
  EXPECT_TRUE(WIFEXITED(run.status)) << "status " << run.status;
  EXPECT_EQ(WEXITSTATUS(run.status), 3);
  EXPECT_EQ(run.out, Expected(path, false));
}

TEST_F(HostLoaderTest, StaticPieRuns) {
  const std::string path = Prog("static_pie");
  ASSERT_TRUE(LoadPath(path, {"prog", "a b", ""}, {"X=1", "Y="}));
  const uint64_t bias = result_.entry - e_entry(path);
  EXPECT_GE(bias, 0x555555554000u);
  ExpectSegmentsMatchFile(path, bias);
  RunResult run = Run();
  EXPECT_TRUE(WIFEXITED(run.status)) << "status " << run.status;
  EXPECT_EQ(WEXITSTATUS(run.status), 3);
  EXPECT_EQ(run.out, Expected(path, false));
}

TEST_F(HostLoaderTest, DynamicExecutableRunsThroughLdSo) {
  const std::string path = Prog("dynamic");
  ASSERT_TRUE(LoadPath(path, {"prog", "a b", ""}, {"X=1", "Y="}));
  RunResult run = Run();
  EXPECT_TRUE(WIFEXITED(run.status)) << "status " << run.status;
  EXPECT_EQ(WEXITSTATUS(run.status), 3);
  EXPECT_EQ(run.out, Expected(path, true));
}

TEST_F(HostLoaderTest, HostBinaries) {
  if (access("/bin/true", X_OK) != 0) GTEST_SKIP() << "no /bin/true";
  ASSERT_TRUE(LoadPath("/bin/true", {"true"}, {}));
  EXPECT_EQ(Run().status, 0);
  ASSERT_TRUE(LoadPath("/bin/false", {"false"}, {}));
  RunResult run = Run();
  EXPECT_TRUE(WIFEXITED(run.status));
  EXPECT_EQ(WEXITSTATUS(run.status), 1);
  ASSERT_TRUE(LoadPath("/bin/echo", {"echo", "hi", "there"}, {}));
  EXPECT_EQ(Run().out, "hi there\n");
}

TEST_F(HostLoaderTest, StaticBusybox) {
  const std::string path = "/bin/busybox";
  auto f = HostFile::Open(path);
  std::string why;
  if (!f || !ReadElf(*f, kMaxAddress, &why) ||
      !ReadElf(*f, kMaxAddress, &why)->interp.empty())
    GTEST_SKIP() << "no static /bin/busybox";
  ASSERT_TRUE(LoadPath(path, {"echo", "hello", "world"}, {}));
  EXPECT_EQ(result_.entry, e_entry(path));
  ExpectSegmentsMatchFile(path, 0);
  EXPECT_EQ(Run().out, "hello world\n");
  ASSERT_TRUE(LoadPath(path, {"env"}, {"A=1", "B=two words"}));
  EXPECT_EQ(Run().out, "A=1\nB=two words\n");
}

}  // namespace
}  // namespace loader
