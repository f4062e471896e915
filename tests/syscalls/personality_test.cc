// personality(2): the query form, any value stored and the old one
// returned, per thread, kept by fork and execve (but READ_IMPLIES_EXEC,
// which a 64-bit execve clears); ADDR_NO_RANDOMIZE giving the same layout
// on every execve; READ_IMPLIES_EXEC making readable memory executable.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "test_util.h"

namespace syscall_test {
namespace {

constexpr char kProbeEnv[] = "PERSONALITY_PROBE_FD";
constexpr unsigned long kQuery = 0xffffffff;

long Personality(unsigned long p) { return syscall(SYS_personality, p); }

// The exec'd side: reports the persona and where the stack, a new mapping
// and the brk landed, then exits before gtest runs.
__attribute__((constructor)) void Probe() {
  const char* fd = getenv(kProbeEnv);
  if (fd == nullptr) return;
  int local = 0;
  void* map =
      mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char buf[256];
  const int n =
      snprintf(buf, sizeof(buf), "%lx %p %p %lx\n", Personality(kQuery),
               static_cast<void*>(&local), map, syscall(SYS_brk, 0));
  (void)!write(atoi(fd), buf, n);
  _exit(0);
}

// Runs this binary as the probe under `persona`; returns its report.
std::string ExecProbe(unsigned long persona) {
  int fds[2];
  EXPECT_THAT(pipe(fds), SyscallSucceeds());
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    if (Personality(persona) < 0) _exit(1);
    const std::string env =
        std::string(kProbeEnv) + "=" + std::to_string(fds[1]);
    char* const argv[] = {const_cast<char*>("probe"), nullptr};
    char* const envp[] = {const_cast<char*>(env.c_str()), nullptr};
    execve("/proc/self/exe", argv, envp);
    _exit(2);
  }
  close(fds[1]);
  const std::string report = ReadToEnd(fds[0]);
  close(fds[0]);
  int status;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  return report;
}

// Some hosts close "/" to other users (0700): a non-root user cannot
// execve anything there.
#define SKIP_IF_CANNOT_EXEC_SELF()         \
  if (access("/proc/self/exe", X_OK) != 0) \
  GTEST_SKIP() << "this user cannot execve this binary: " << ErrnoName(errno)

// Puts the caller's persona back, whatever a test did.
class PersonalityTest : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = Personality(kQuery); }
  void TearDown() override { Personality(saved_); }
  unsigned long saved_ = 0;
};

TEST_F(PersonalityTest, QueryAndSet) {
  EXPECT_THAT(Personality(kQuery), SyscallSucceedsWithValue(saved_));
  EXPECT_THAT(Personality(PER_LINUX), SyscallSucceedsWithValue(saved_));
  EXPECT_THAT(Personality(kQuery), SyscallSucceedsWithValue(PER_LINUX));
  // Any value is stored, known persona or not, and returned unsigned.
  EXPECT_THAT(Personality(PER_BSD), SyscallSucceedsWithValue(PER_LINUX));
  EXPECT_THAT(Personality(0x12345678), SyscallSucceedsWithValue(PER_BSD));
  EXPECT_THAT(Personality(0xfffffffe), SyscallSucceedsWithValue(0x12345678));
  EXPECT_THAT(Personality(kQuery), SyscallSucceedsWithValue(0xfffffffe));
  // The argument is 32 bits: this is the query again.
  EXPECT_THAT(Personality(0x1ffffffffUL), SyscallSucceedsWithValue(0xfffffffe));
  EXPECT_THAT(Personality(PER_LINUX | ADDR_NO_RANDOMIZE),
              SyscallSucceedsWithValue(0xfffffffe));
  EXPECT_THAT(Personality(kQuery),
              SyscallSucceedsWithValue(PER_LINUX | ADDR_NO_RANDOMIZE));
}

TEST_F(PersonalityTest, ForkKeepsIt) {
  ASSERT_THAT(Personality(ADDR_NO_RANDOMIZE | UNAME26), SyscallSucceeds());
  EXPECT_EQ(InChild([] {
              return Personality(kQuery) == (ADDR_NO_RANDOMIZE | UNAME26) ? 0
                                                                          : 1;
            }),
            0);
}

void* SetInThread(void*) {
  Personality(PER_SVR4);
  return reinterpret_cast<void*>(Personality(kQuery));
}

// Each thread has its own (a new thread starts with its creator's).
TEST_F(PersonalityTest, PerThread) {
  ASSERT_THAT(Personality(ADDR_NO_RANDOMIZE), SyscallSucceeds());
  pthread_t thread;
  ASSERT_EQ(pthread_create(&thread, nullptr, SetInThread, nullptr), 0);
  void* seen;
  ASSERT_EQ(pthread_join(thread, &seen), 0);
  EXPECT_EQ(reinterpret_cast<unsigned long>(seen),
            static_cast<unsigned long>(PER_SVR4));
  EXPECT_THAT(Personality(kQuery), SyscallSucceedsWithValue(ADDR_NO_RANDOMIZE));
}

unsigned long ReportedPersona(const std::string& report) {
  return strtoul(report.c_str(), nullptr, 16);
}

// execve keeps the persona, but a 64-bit image drops READ_IMPLIES_EXEC.
TEST_F(PersonalityTest, ExecKeepsItButReadImpliesExec) {
  SKIP_IF_CANNOT_EXEC_SELF();
  EXPECT_EQ(ReportedPersona(ExecProbe(ADDR_NO_RANDOMIZE)),
            static_cast<unsigned long>(ADDR_NO_RANDOMIZE));
  EXPECT_EQ(ReportedPersona(
                ExecProbe(ADDR_NO_RANDOMIZE | READ_IMPLIES_EXEC | SHORT_INODE)),
            static_cast<unsigned long>(ADDR_NO_RANDOMIZE | SHORT_INODE));
}

// setarch -R: every execve lays the process out at the same addresses
// (stack, mmap base, brk), as gdb expects.
TEST_F(PersonalityTest, AddrNoRandomizeFixesTheLayout) {
  SKIP_IF_CANNOT_EXEC_SELF();
  const std::string first = ExecProbe(ADDR_NO_RANDOMIZE);
  ASSERT_FALSE(first.empty());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(ExecProbe(ADDR_NO_RANDOMIZE), first);
}

// Runs a `ret` from a page mapped PROT_READ | PROT_WRITE (by mmap), or
// then made PROT_READ (by mprotect); returns the child's status (killed by
// SIGSEGV when the page is not executable).
int RunDataAsCode(unsigned long persona, bool then_mprotect) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (Personality(persona) < 0) _exit(1);
    void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) _exit(2);
    *static_cast<volatile uint8_t*>(page) = 0xc3;  // ret
    if (then_mprotect && mprotect(page, 4096, PROT_READ) != 0) _exit(3);
    reinterpret_cast<void (*)()>(page)();
    _exit(0);
  }
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  return status;
}

TEST_F(PersonalityTest, ReadImpliesExec) {
  for (bool then_mprotect : {false, true}) {
    SCOPED_TRACE(then_mprotect ? "mprotect" : "mmap");
    // Without it, data is not code.
    int status = RunDataAsCode(PER_LINUX, then_mprotect);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) << status;
    status = RunDataAsCode(PER_LINUX | READ_IMPLIES_EXEC, then_mprotect);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
}

}  // namespace
}  // namespace syscall_test
