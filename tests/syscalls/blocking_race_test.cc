// Blocking calls whose buffers change under them: another thread forks,
// remaps, mprotects or unmaps the buffer of a pipe read, pipe write or
// wait4 while it blocks. Linux copies at completion through the mappings
// of that moment, so the data land in (or come from) what the app sees
// then. Every interleaving has one right answer, so no timing is needed for
// correctness; the yields only make the interesting one likely.
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace syscall_test {
namespace {

constexpr int kRounds = 20;

// Runs `call` on a new thread and returns once that thread is about to
// make it, giving it time to get blocked there.
template <class F>
std::thread StartBlocking(F call) {
  auto started = std::make_shared<std::atomic<bool>>(false);
  std::thread t([started, call] {
    started->store(true);
    call();
  });
  while (!started->load()) sched_yield();
  for (int i = 0; i < 50; ++i) sched_yield();
  return t;
}

struct Pipe {
  Pipe() { EXPECT_THAT(pipe(fds), SyscallSucceeds()); }
  ~Pipe() {
    close(fds[0]);
    close(fds[1]);
  }
  int r() const { return fds[0]; }
  int w() const { return fds[1]; }
  int fds[2];
};

// One private anonymous page, unmapped at the end.
struct Page {
  Page() {
    p = static_cast<char*>(mmap(nullptr, PageSize(), PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    EXPECT_NE(p, MAP_FAILED);
  }
  ~Page() { munmap(p, PageSize()); }
  // Replaces the page with a fresh zero page at the same address.
  void Remap() const {
    ASSERT_EQ(mmap(p, PageSize(), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
              p);
  }
  char* p;
};

// The python case of issue 8: a thread blocks in read(2) on a pipe while
// another forks; the child writes the data. The parent writes to the
// buffer's page after the fork (its stack would), so it has its own copy
// by the time the data arrive: they must land there, not in the child's.
TEST(BlockingRace, PipeReadAcrossForkFillsTheParentsBuffer) {
  for (int round = 0; round < kRounds; ++round) {
    Pipe data, go;
    Page page;
    ssize_t n = -1;
    std::thread reader = StartBlocking([&] {
      n = read(data.r(), page.p, 2);
    });
    const pid_t pid = fork();
    if (pid == 0) {
      char c;
      if (read(go.r(), &c, 1) != 1) _exit(1);
      _exit(write(data.w(), "OK", 2) == 2 ? 0 : 2);
    }
    ASSERT_GT(pid, 0);
    page.p[100] = static_cast<char>(round);  // the parent's own copy now
    ASSERT_THAT(write(go.w(), "g", 1), SyscallSucceedsWithValue(1));
    reader.join();
    int status;
    ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
    EXPECT_EQ(status, 0);
    ASSERT_EQ(n, 2) << "round " << round;
    EXPECT_EQ(std::string(page.p, 2), "OK") << "round " << round;
    EXPECT_EQ(page.p[100], static_cast<char>(round));
  }
}

// The buffer is replaced (MAP_FIXED) while the read blocks: the data go to
// the new page, never to the freed one.
TEST(BlockingRace, PipeReadFillsTheBufferMappedWhenDataArrive) {
  for (int round = 0; round < kRounds; ++round) {
    Pipe data;
    Page page;
    ssize_t n = -1;
    std::thread reader = StartBlocking([&] {
      n = read(data.r(), page.p, 2);
    });
    ASSERT_NO_FATAL_FAILURE(page.Remap());
    ASSERT_THAT(write(data.w(), "OK", 2), SyscallSucceedsWithValue(2));
    reader.join();
    ASSERT_EQ(n, 2) << "round " << round;
    EXPECT_EQ(std::string(page.p, 2), "OK") << "round " << round;
  }
}

// Made read-only or unmapped while the read blocks: EFAULT when the data
// arrive, and the data stay in the pipe for the next reader.
TEST(BlockingRace, PipeReadIntoABufferMadeInaccessibleFails) {
  for (bool unmap : {false, true}) {
    Pipe data;
    Page page;
    ssize_t n = 0;
    int err = 0;
    std::thread reader = StartBlocking([&] {
      n = read(data.r(), page.p, 2);
      err = errno;
    });
    if (unmap) {
      ASSERT_THAT(munmap(page.p, PageSize()), SyscallSucceeds());
    } else {
      ASSERT_THAT(mprotect(page.p, PageSize(), PROT_READ), SyscallSucceeds());
    }
    ASSERT_THAT(write(data.w(), "OK", 2), SyscallSucceedsWithValue(2));
    reader.join();
    EXPECT_EQ(n, -1) << "unmap " << unmap;
    EXPECT_EQ(err, EFAULT) << "unmap " << unmap;
    char buf[2];
    EXPECT_THAT(read(data.r(), buf, 2), SyscallSucceedsWithValue(2));
    EXPECT_EQ(std::string(buf, 2), "OK");
    if (unmap) {
      ASSERT_NO_FATAL_FAILURE(page.Remap());  // for ~Page
    }
  }
}

// A write blocked on a full pipe takes its bytes from the buffer as mapped
// when there is room, not from a page freed meanwhile.
TEST(BlockingRace, PipeWriteTakesTheBufferMappedWhenThereIsRoom) {
  for (int round = 0; round < kRounds; ++round) {
    Pipe data;
    ASSERT_THAT(fcntl(data.w(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
    size_t filled = 0;
    char chunk[4096] = {};
    for (;;) {
      ssize_t n = write(data.w(), chunk, sizeof chunk);
      if (n < 0) break;
      filled += n;
    }
    ASSERT_THAT(fcntl(data.w(), F_SETFL, 0), SyscallSucceeds());
    Page page;
    memcpy(page.p, "AB", 2);
    ssize_t n = -1;
    std::thread writer = StartBlocking([&] {
      n = write(data.w(), page.p, 2);
    });
    ASSERT_NO_FATAL_FAILURE(page.Remap());
    memcpy(page.p, "CD", 2);
    std::string got;
    while (got.size() < filled + 2) {
      ssize_t r = read(data.r(), chunk, sizeof chunk);
      ASSERT_GT(r, 0);
      got.append(chunk, r);
    }
    writer.join();
    EXPECT_EQ(n, 2);
    EXPECT_EQ(got.substr(filled), "CD") << "round " << round;
  }
}

// wait4 blocked in one thread while another forks: the status lands in the
// parent's copy of the page.
TEST(BlockingRace, Wait4AcrossForkFillsTheParentsStatus) {
  for (int round = 0; round < kRounds / 4; ++round) {
    Pipe go;
    const pid_t child = fork();
    if (child == 0) {
      char c;
      _exit(read(go.r(), &c, 1) == 1 ? 42 : 1);
    }
    ASSERT_GT(child, 0);
    Page page;
    int* status = reinterpret_cast<int*>(page.p);
    pid_t got = -1;
    std::thread waiter = StartBlocking([&] {
      got = wait4(child, status, 0, nullptr);
    });
    const pid_t other = fork();
    if (other == 0) _exit(0);
    ASSERT_GT(other, 0);
    page.p[100] = 1;  // the parent's own copy now
    ASSERT_THAT(write(go.w(), "g", 1), SyscallSucceedsWithValue(1));
    waiter.join();
    ASSERT_EQ(got, child);
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 42) << *status;
    ASSERT_THAT(waitpid(other, nullptr, 0), SyscallSucceedsWithValue(other));
  }
}

}  // namespace
}  // namespace syscall_test
