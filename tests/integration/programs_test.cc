// Real programs under `runsc do`: shells, pipelines, python, a compiler,
// make, threads, and a kill from outside.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/util/run_command.h"

namespace {

using ::testing::HasSubstr;
using testing_util::RunSandboxed;
using testing_util::RunscPath;

void RequireProgram(const char* path) {
  if (access(path, X_OK) != 0) GTEST_SKIP() << path << " is not installed";
}

TEST(ProgramsTest, BashPipeline) {
  RequireProgram("/bin/bash");
  auto r = RunSandboxed({"/bin/bash", "-c",
                         "for i in $(seq 1 200); do echo $i; done | "
                         "sort -n | tail -1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "200\n");
}

TEST(ProgramsTest, BashExitStatusAndSubshells) {
  RequireProgram("/bin/bash");
  auto r = RunSandboxed({"/bin/bash", "-c", "(exit 4); echo $?; exit 7"});
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_EQ(r.out, "4\n");
}

TEST(ProgramsTest, PythonThreadsSubprocessAndAlarm) {
  RequireProgram("/usr/bin/python3");
  const char* script = R"(
import signal, subprocess, threading
results = []
def work(i):
    results.append(sum(range(i * 1000)))
threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
for t in threads: t.start()
for t in threads: t.join()
assert len(results) == 8, results
out = subprocess.run("echo one two | tr a-z A-Z", shell=True,
                     capture_output=True, text=True, check=True).stdout
assert out == "ONE TWO\n", out
fired = []
signal.signal(signal.SIGALRM, lambda s, f: fired.append(s))
signal.alarm(1)
signal.pause()
assert fired == [signal.SIGALRM], fired
print("ok")
raise SystemExit(5)
)";
  auto r = RunSandboxed({"/usr/bin/python3", "-c", script});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_EQ(r.out, "ok\n");
}

// SysV IPC from Python: a segment attached in parent and child, and a
// semaphore the parent sleeps on until the child has written. (Python's
// multiprocessing.shared_memory needs a writable /dev/shm, which the
// sandbox does not have yet, so this goes through ctypes.)
TEST(ProgramsTest, PythonSysvSharedMemoryAndSemaphore) {
  RequireProgram("/usr/bin/python3");
  const char* script = R"(
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmdt.argtypes = [ctypes.c_void_p]
class Sembuf(ctypes.Structure):
    _fields_ = [("num", ctypes.c_ushort), ("op", ctypes.c_short),
                ("flg", ctypes.c_short)]
IPC_PRIVATE, IPC_CREAT, IPC_RMID = 0, 0o1000, 0
def check(r):
    if r == -1 or r is None:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return r
shm = check(libc.shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600))
sem = check(libc.semget(IPC_PRIVATE, 1, IPC_CREAT | 0o600))
pid = os.fork()
if pid == 0:
    addr = check(libc.shmat(shm, None, 0))
    ctypes.memmove(addr, b"hello from the child\0", 21)
    check(libc.shmdt(ctypes.c_void_p(addr)))
    check(libc.semop(sem, ctypes.byref(Sembuf(0, 1, 0)), 1))
    os._exit(0)
addr = check(libc.shmat(shm, None, 0))
check(libc.semop(sem, ctypes.byref(Sembuf(0, -1, 0)), 1))
print(ctypes.string_at(addr).decode())
_, status = os.waitpid(pid, 0)
assert status == 0, status
check(libc.shmdt(ctypes.c_void_p(addr)))
check(libc.shmctl(shm, IPC_RMID, None))
check(libc.semctl(sem, 0, IPC_RMID))
)";
  auto r = RunSandboxed({"/usr/bin/python3", "-c", script});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello from the child\n");
}

// CPython's own thread tests (Debian's libpython3.11-testsuite), which
// include test_forkinthread: a thread blocked in os.read while another
// forks (the data-loss bug of issue 8 failed it every time).
TEST(ProgramsTest, CpythonTestThread) {
  if (access("/usr/lib/python3.11/test/test_thread.py", R_OK) != 0)
    GTEST_SKIP() << "libpython3.11-testsuite is not installed";
  auto r = RunSandboxed({"/usr/bin/python3", "-m", "test", "test_thread"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, ::testing::HasSubstr("Tests result: SUCCESS"));
}

TEST(ProgramsTest, GccCompilesAndRunsInside) {
  RequireProgram("/usr/bin/gcc");
  auto r = RunSandboxed(
      {"/bin/sh", "-c",
       "printf '#include <stdio.h>\\nint main(void){puts(\"hello\");"
       "return 0;}\\n' > /tmp/hello.c && gcc -O2 /tmp/hello.c -o "
       "/tmp/hello && /tmp/hello"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello\n");
}

TEST(ProgramsTest, MakeJ2) {
  RequireProgram("/usr/bin/make");
  // Eight independent targets and one that needs them all.
  std::string makefile = "all: ";
  for (int i = 0; i < 8; ++i) makefile += "t" + std::to_string(i) + " ";
  makefile += "\n\t@cat /tmp/mk/t* | wc -l\n";
  for (int i = 0; i < 8; ++i)
    makefile += "t" + std::to_string(i) + ":\n\t@echo " + std::to_string(i) +
                " > /tmp/mk/$@\n";
  auto r = RunSandboxed({"/bin/sh", "-c",
                         "mkdir -p /tmp/mk && cat > /tmp/mk/Makefile && "
                         "make -s -j2 -C /tmp/mk"},
                        {}, makefile);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("8"));
}

TEST(ProgramsTest, ThreadPingPong) {
  auto r = RunSandboxed({PINGPONG_PATH, "16", "2000"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "32000\n");
}

TEST(ProgramsTest, SigtermFromOutsideEndsTheApp) {
  // runsc do forwards SIGTERM; sleep dies of it; runsc do exits 128+15.
  std::string runsc = RunscPath();
  const char* argv[] = {runsc.c_str(), "do", "--", "/bin/busybox", "sleep",
                        "100", nullptr};
  pid_t pid;
  ASSERT_EQ(posix_spawn(&pid, argv[0], nullptr, nullptr,
                        const_cast<char**>(argv), nullptr),
            0);
  sleep(1);  // let the sandbox start; a missed signal fails the test
  kill(pid, SIGTERM);
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 143);
}

}  // namespace
