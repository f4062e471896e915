// MAP_GROWSDOWN: an access below a grows-down mapping grows it down to the
// accessed page, within RLIMIT_STACK and the guard gap above the mapping
// below; anything else is SIGSEGV.
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

namespace syscall_test {
namespace {

constexpr size_t kPage = 4096;
constexpr size_t kArea = 16 << 20;

// A free area of kArea bytes (reserved, then released).
char* FreeArea() {
  void* p = mmap(nullptr, kArea, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  EXPECT_NE(p, MAP_FAILED);
  munmap(p, kArea);
  return static_cast<char*>(p);
}

// A one-page grows-down mapping at the top of a free area.
char* GrowsDownAtTop(char* area) {
  void* p = mmap(area + kArea - kPage, kPage, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, -1, 0);
  EXPECT_NE(p, MAP_FAILED);
  return static_cast<char*>(p);
}

bool IsMapped(char* addr) {
  void* p = mmap(addr, kPage, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p != MAP_FAILED) munmap(p, kPage);
  return p == MAP_FAILED && errno == EEXIST;
}

// Runs `f` in a child with RLIMIT_STACK at `limit`; 128+signal if killed.
template <class F>
int InChild(rlim_t limit, F f) {
  pid_t pid = fork();
  if (pid == 0) {
    rlimit rl{limit, limit};
    if (setrlimit(RLIMIT_STACK, &rl) != 0) _exit(100);
    _exit(f());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(GrowsDownTest, AccessBelowGrowsTheMapping) {
  char* area = FreeArea();
  char* stack = GrowsDownAtTop(area);
  EXPECT_EQ(InChild(4 << 20,
                    [&] {
                      volatile char* below = stack - 100 * kPage;
                      *below = 1;
                      if (*below != 1) return 1;
                      // Everything between is mapped now, and zero.
                      if (!IsMapped(stack - 50 * kPage)) return 2;
                      if (stack[-50 * static_cast<long>(kPage)] != 0) return 3;
                      return IsMapped(stack - 101 * kPage) ? 4 : 0;
                    }),
            0);
  munmap(stack, kPage);
}

TEST(GrowsDownTest, NotBeyondRlimitStack) {
  char* area = FreeArea();
  char* stack = GrowsDownAtTop(area);
  EXPECT_EQ(InChild(1 << 20,
                    [&] {
                      *(volatile char*)(stack - (2 << 20)) = 1;
                      return 0;
                    }),
            128 + SIGSEGV);
  munmap(stack, kPage);
}

TEST(GrowsDownTest, NotIntoTheGuardGapAboveAnotherMapping) {
  char* area = FreeArea();
  char* stack = GrowsDownAtTop(area);
  // An ordinary mapping 64 KiB below the stack: the 1 MiB guard gap Linux
  // keeps above it leaves no room to grow.
  void* low = mmap(stack - 16 * kPage, kPage, PROT_READ,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  ASSERT_NE(low, MAP_FAILED);
  EXPECT_EQ(InChild(8 << 20,
                    [&] {
                      *(volatile char*)(stack - 8 * kPage) = 1;
                      return 0;
                    }),
            128 + SIGSEGV);
  munmap(low, kPage);
  munmap(stack, kPage);
}

TEST(GrowsDownTest, OrdinaryMappingsDoNotGrow) {
  char* area = FreeArea();
  void* p = mmap(area + kArea - kPage, kPage, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  EXPECT_EQ(InChild(8 << 20,
                    [&] {
                      *(volatile char*)(static_cast<char*>(p) - kPage) = 1;
                      return 0;
                    }),
            128 + SIGSEGV);
  munmap(p, kPage);
}

}  // namespace
}  // namespace syscall_test
