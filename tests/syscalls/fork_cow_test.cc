// fork(2) memory semantics: private memory is the child's own copy
// (copy-on-write in the sandbox), shared memory stays shared, and writes
// made by the kernel on a process's behalf (read(2) into a buffer) land
// only in that process.
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "temp_dir.h"
#include "test_util.h"

namespace {

using syscall_test::SyscallSucceeds;
using syscall_test::SyscallSucceedsWithValue;

constexpr size_t kPage = 4096;

// Runs `child` in a forked child; returns its exit code (or 128+signal).
template <class F>
int InChild(F child) {
  pid_t pid = fork();
  if (pid == 0) _exit(child());
  EXPECT_THAT(pid, SyscallSucceeds());
  int status = 0;
  EXPECT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

char* MapAnon(size_t len, int flags = MAP_PRIVATE) {
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS,
                 -1, 0);
  EXPECT_NE(p, MAP_FAILED);
  return static_cast<char*>(p);
}

TEST(ForkCowTest, WritesAfterForkStayOnTheirSide) {
  char* p = MapAnon(4 * kPage);
  memset(p, 'a', 4 * kPage);
  int to_child[2], to_parent[2];
  ASSERT_THAT(pipe(to_child), SyscallSucceeds());
  ASSERT_THAT(pipe(to_parent), SyscallSucceeds());
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    char c;
    // The parent writes first; the child must still see the old bytes.
    if (read(to_child[0], &c, 1) != 1) _exit(10);
    if (p[0] != 'a' || p[3 * kPage] != 'a') _exit(11);
    memset(p, 'c', 4 * kPage);
    if (write(to_parent[1], "x", 1) != 1) _exit(12);
    _exit(p[kPage] == 'c' ? 0 : 13);
  }
  p[0] = 'p';
  p[3 * kPage] = 'p';
  ASSERT_THAT(write(to_child[1], "x", 1), SyscallSucceedsWithValue(1));
  char c;
  ASSERT_THAT(read(to_parent[0], &c, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p[0], 'p');
  EXPECT_EQ(p[kPage], 'a');
  EXPECT_EQ(p[3 * kPage], 'p');
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  for (int fd : {to_child[0], to_child[1], to_parent[0], to_parent[1]})
    close(fd);
  munmap(p, 4 * kPage);
}

TEST(ForkCowTest, ReadIntoABufferInTheChildLeavesTheParentsCopy) {
  char* buf = MapAnon(kPage);
  strcpy(buf, "parent");
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  ASSERT_THAT(write(fds[1], "child!", 6), SyscallSucceedsWithValue(6));
  EXPECT_EQ(InChild([&] {
              // The kernel writes into the child's page here, not the CPU.
              if (read(fds[0], buf, 6) != 6) return 1;
              return memcmp(buf, "child!", 6) == 0 ? 0 : 2;
            }),
            0);
  EXPECT_STREQ(buf, "parent");
  close(fds[0]);
  close(fds[1]);
  munmap(buf, kPage);
}

TEST(ForkCowTest, SharedAnonymousMemoryStaysShared) {
  char* shared = MapAnon(kPage, MAP_SHARED);
  char* priv = MapAnon(kPage);
  shared[0] = priv[0] = 1;
  EXPECT_EQ(InChild([&] {
              shared[0] = 2;
              priv[0] = 2;
              return 0;
            }),
            0);
  EXPECT_EQ(shared[0], 2);
  EXPECT_EQ(priv[0], 1);
  munmap(shared, kPage);
  munmap(priv, kPage);
}

TEST(ForkCowTest, PrivateFileMappingIsCopyOnWriteToo) {
  syscall_test::TempDir dir;
  std::string path = dir.path() + "/f";
  int fd = open(path.c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_THAT(fd, SyscallSucceeds());
  ASSERT_THAT(write(fd, "file", 4), SyscallSucceedsWithValue(4));
  char* p = static_cast<char*>(
      mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
  ASSERT_NE(p, MAP_FAILED);
  p[0] = 'F';
  EXPECT_EQ(InChild([&] {
              if (p[0] != 'F') return 1;
              p[1] = 'I';
              return 0;
            }),
            0);
  EXPECT_EQ(memcmp(p, "File", 4), 0);
  munmap(p, kPage);
  close(fd);
}

TEST(ForkCowTest, DontneedInTheChildDoesNotZeroTheParent) {
  char* p = MapAnon(2 * kPage);
  memset(p, 7, 2 * kPage);
  EXPECT_EQ(InChild([&] {
              if (madvise(p, 2 * kPage, MADV_DONTNEED) != 0) return 1;
              return p[0] == 0 && p[kPage] == 0 ? 0 : 2;
            }),
            0);
  EXPECT_EQ(p[0], 7);
  EXPECT_EQ(p[kPage], 7);
  munmap(p, 2 * kPage);
}

TEST(ForkCowTest, MprotectAfterForkKeepsTheCopiesApart) {
  char* p = MapAnon(kPage);
  p[0] = 1;
  EXPECT_EQ(InChild([&] {
              if (mprotect(p, kPage, PROT_READ) != 0) return 1;
              if (mprotect(p, kPage, PROT_READ | PROT_WRITE) != 0) return 2;
              p[0] = 2;
              return 0;
            }),
            0);
  ASSERT_THAT(mprotect(p, kPage, PROT_READ), SyscallSucceeds());
  ASSERT_THAT(mprotect(p, kPage, PROT_READ | PROT_WRITE), SyscallSucceeds());
  EXPECT_EQ(p[0], 1);
  p[0] = 3;
  EXPECT_EQ(p[0], 3);
  munmap(p, kPage);
}

TEST(ForkCowTest, ReadOnlyMemoryStillFaultsAfterFork) {
  char* p = static_cast<char*>(mmap(nullptr, kPage, PROT_READ,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(p, MAP_FAILED);
  // A write to read-only memory is SIGSEGV in the child, not a copy.
  EXPECT_EQ(InChild([&] {
              *reinterpret_cast<volatile char*>(p) = 1;
              return 0;
            }),
            128 + SIGSEGV);
  munmap(p, kPage);
}

// Executing a writable page without PROT_EXEC faults on a page that is
// mapped and accessible: the sandbox retries such a fault once (another
// thread may have resolved it) and must then deliver SIGSEGV, not loop.
TEST(ForkCowTest, ExecutingDataIsSigsegvNotALoop) {
  char* p = MapAnon(kPage);
  p[0] = static_cast<char>(0xc3);  // ret
  EXPECT_EQ(InChild([&] {
              reinterpret_cast<void (*)()>(p)();
              return 0;
            }),
            128 + SIGSEGV);
  munmap(p, kPage);
}

TEST(ForkCowTest, ThreeGenerations) {
  char* p = MapAnon(kPage);
  p[0] = 1;
  EXPECT_EQ(InChild([&] {
              p[0] = 2;
              int grandchild = InChild([&] {
                p[0] = 3;
                return p[0] == 3 ? 0 : 1;
              });
              return grandchild == 0 && p[0] == 2 ? 0 : 1;
            }),
            0);
  EXPECT_EQ(p[0], 1);
  munmap(p, kPage);
}

// A process with 64 MiB touched forks (perf/ measures 256 MiB); the child
// rewrites all of it and the parent's copy is unchanged.
TEST(ForkCowTest, LargeTouchedMemory) {
  constexpr size_t kLen = size_t{64} << 20;
  char* p = MapAnon(kLen);
  for (size_t i = 0; i < kLen; i += kPage) p[i] = static_cast<char>(i >> 12);
  EXPECT_EQ(InChild([&] {
              for (size_t i = 0; i < kLen; i += kPage)
                if (p[i] != static_cast<char>(i >> 12)) return 1;
              for (size_t i = 0; i < kLen; i += kPage) p[i] = 0x55;
              return 0;
            }),
            0);
  for (size_t i = 0; i < kLen; i += kPage)
    ASSERT_EQ(p[i], static_cast<char>(i >> 12)) << i;
  munmap(p, kLen);
}

// Another thread keeps writing while the main thread forks: each child sees
// one consistent snapshot that no longer changes.
TEST(ForkCowTest, ForkWhileAnotherThreadWrites) {
  static std::atomic<bool> stop{false};
  static volatile uint64_t counter = 0;
  stop = false;
  pthread_t writer;
  ASSERT_EQ(pthread_create(
                &writer, nullptr,
                [](void*) -> void* {
                  while (!stop.load(std::memory_order_relaxed)) counter = counter + 1;
                  return nullptr;
                },
                nullptr),
            0);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(InChild([&] {
                uint64_t a = counter;
                for (volatile int spin = 0; spin < 100000; spin = spin + 1) {
                }
                return counter == a ? 0 : 1;
              }),
              0);
  }
  stop = true;
  pthread_join(writer, nullptr);
}

// Several threads of the parent write the same copy-on-write page at once:
// one fault copies it, the others find it done and must just retry.
TEST(ForkCowTest, ThreadsFaultOnTheSamePageAtOnce) {
  char* p = MapAnon(kPage);
  p[0] = 1;
  for (int round = 0; round < 10; ++round) {
    int fds[2];
    ASSERT_THAT(pipe(fds), SyscallSucceeds());
    pid_t pid = fork();
    if (pid == 0) {
      char c;
      // Holds its copy until the parent's threads are done.
      if (read(fds[0], &c, 1) != 1) _exit(2);
      _exit(p[0] == 1 && p[8] == 0 ? 0 : 1);
    }
    ASSERT_THAT(pid, SyscallSucceeds());
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
      threads.emplace_back([&, i] {
        while (!go.load()) {
        }
        p[8 + i] = static_cast<char>(i + 1);
      });
    go = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(p[9], 2);
    ASSERT_THAT(write(fds[1], "x", 1), SyscallSucceedsWithValue(1));
    int status;
    ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    close(fds[0]);
    close(fds[1]);
    memset(p + 8, 0, 4);
  }
  munmap(p, kPage);
}

}  // namespace
