// execve(2)'s path errors, argv/envp (empty, NULL, bad pointers) and the
// E2BIG limits: MAX_ARG_STRLEN per string and the RLIMIT_STACK-derived
// bound on all strings and pointers.
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "exec_util.h"
#include "temp_dir.h"

namespace syscall_test {
namespace {

constexpr size_t kMaxArgStrlen = 32 * 4096;  // one string, NUL included

int Err(const char* path, char** argv, char** envp) {
  return ExecErrno([&] {
    syscall(SYS_execve, path, argv, envp);
    return errno;
  });
}

TEST(ExecErrorsTest, PathErrors) {
  CStrings argv({"x"});
  CStrings env = ProbeEnv();
  EXPECT_EQ(Err("/nonexistent", argv.get(), env.get()), ENOENT);
  EXPECT_EQ(Err("", argv.get(), env.get()), ENOENT);
  EXPECT_EQ(Err(kRegularFile, argv.get(), env.get()), EACCES);  // mode 644
  EXPECT_EQ(Err("/etc", argv.get(), env.get()), EACCES);
  EXPECT_EQ(Err("/etc/os-release/x", argv.get(), env.get()), ENOTDIR);
  EXPECT_EQ(Err("/dev/null", argv.get(), env.get()), EACCES);  // not regular
  EXPECT_EQ(Err(BadAddress<char>(), argv.get(), env.get()), EFAULT);
  const std::string long_name = "/" + std::string(NAME_MAX + 1, 'x');
  EXPECT_EQ(Err(long_name.c_str(), argv.get(), env.get()), ENAMETOOLONG);
}

TEST(ExecErrorsTest, PermissionsOfTheFileAndItsDirectory) {
  TempDir dir;
  ASSERT_THAT(chmod(dir.path().c_str(), 0755), SyscallSucceeds());
  const std::string prog = dir / "prog";
  ASSERT_NO_FATAL_FAILURE(CopySelf(prog, 0644));
  CStrings argv({"prog"});
  CStrings env = ProbeEnv();
  EXPECT_EQ(Err(prog.c_str(), argv.get(), env.get()), EACCES);
  // Execute permission alone is enough: the kernel reads the file.
  ASSERT_THAT(chmod(prog.c_str(), 0111), SyscallSucceeds());
  EXPECT_EQ(Err(prog.c_str(), argv.get(), env.get()), 0);
  // Another user may execute it too. Not readable by them: the process
  // is not dumpable (would_dump).
  if (geteuid() == 0) {
    ExecOutcome o = ForkAndExec([&] {
      if (setresgid(65534, 65534, 65534) != 0 ||
          setresuid(65534, 65534, 65534) != 0)
        return errno;
      return Execve(prog, CStrings({"prog"}), ProbeEnv());
    });
    ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
    EXPECT_EQ(o["uids"], "65534,65534,65534,65534");
    EXPECT_NE(o["dumpable"], "1");
  } else {
    ExecOutcome o = ForkAndExec(
        [&] { return Execve(prog, CStrings({"prog"}), ProbeEnv()); });
    ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
    EXPECT_NE(o["dumpable"], "1");
  }
  // Search permission on the directory (root has CAP_DAC_OVERRIDE).
  ASSERT_THAT(chmod(dir.path().c_str(), 0600), SyscallSucceeds());
  EXPECT_EQ(Err(prog.c_str(), argv.get(), env.get()),
            geteuid() == 0 ? 0 : EACCES);
}

// Since Linux 6.8 the file is opened before argv and envp are read.
TEST(ExecErrorsTest, OpenErrorsComeBeforeArgumentErrors) {
  CStrings argv({"x"});
  EXPECT_EQ(Err("/nonexistent", BadAddress<char*>(), argv.get()), ENOENT);
  EXPECT_EQ(Err(kRegularFile, argv.get(), BadAddress<char*>()), EACCES);
}

TEST(ExecErrorsTest, BadArgvAndEnvpPointers) {
  const char* self = "/proc/self/exe";
  CStrings good = ProbeEnv();
  EXPECT_EQ(Err(self, BadAddress<char*>(), good.get()), EFAULT);
  EXPECT_EQ(Err(self, good.get(), BadAddress<char*>()), EFAULT);
  char* bad_entry[] = {const_cast<char*>("x"), BadAddress<char>(), nullptr};
  EXPECT_EQ(Err(self, bad_entry, good.get()), EFAULT);
  EXPECT_EQ(Err(self, good.get(), bad_entry), EFAULT);
  // An array that runs into an unmapped page without its NULL.
  const size_t page = PageSize();
  char* mem = static_cast<char*>(mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE,
                                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(mem, MAP_FAILED);
  ASSERT_THAT(munmap(mem + page, page), SyscallSucceeds());
  char** unterminated = reinterpret_cast<char**>(mem);
  for (size_t i = 0; i < page / sizeof(char*); ++i)
    unterminated[i] = const_cast<char*>("x");
  EXPECT_EQ(Err(self, unterminated, good.get()), EFAULT);
  EXPECT_EQ(Err(self, good.get(), unterminated), EFAULT);
  munmap(mem, page);
}

// Linux >= 5.18 turns an empty argv into {""}; a NULL argv or envp is empty.
TEST(ExecArgsTest, EmptyAndNullArgvAndEnvp) {
  for (bool null : {false, true}) {
    SCOPED_TRACE(null);
    ExecOutcome o = ForkAndExec([&] {
      char* empty[] = {nullptr};
      syscall(SYS_execve, "/proc/self/exe", null ? nullptr : empty,
              ProbeEnv().get());
      return errno;
    });
    ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
    EXPECT_EQ(o["argc"], "1");
    EXPECT_EQ(o["argv0"], "");
    EXPECT_EQ(o["envc"], "1");
  }
  ExecOutcome o = ForkAndExec([] {
    CStrings argv({"x", "--exec-test-report=" + std::to_string(kReportFd)});
    syscall(SYS_execve, "/proc/self/exe", argv.get(), nullptr);
    return errno;
  });
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(o["argc"], "2");
  EXPECT_EQ(o["envc"], "0");
}

TEST(ExecArgsTest, LongestSingleString) {
  const std::string longest(kMaxArgStrlen - 1, 'a');
  const std::string too_long(kMaxArgStrlen, 'a');
  auto run = [](std::vector<std::string> argv, std::vector<std::string> env) {
    return ForkAndExec([&] {
      return Execve("/proc/self/exe", CStrings(argv), ProbeEnv(env));
    });
  };
  ExecOutcome o = run({"x", longest}, {});
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(o.Num("argvbytes"), 2 + kMaxArgStrlen);
  o = run({"x"}, {longest});
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(o["envc"], "2");
  EXPECT_EQ(run({"x", too_long}, {}).exec_errno, E2BIG);
  EXPECT_EQ(run({"x"}, {too_long}).exec_errno, E2BIG);
}

// fs/exec.c bprm_stack_limits: the strings (the path first) and one pointer
// per string must fit in RLIMIT_STACK / 4, at most 6 MiB, at least 128 KiB.
TEST(ExecArgsTest, TotalSizeLimitFollowsRlimitStack) {
  rlimit old;
  ASSERT_THAT(getrlimit(RLIMIT_STACK, &old), SyscallSucceeds());
  const char* path = "/proc/self/exe";
  const size_t env_bytes = kReportEnv.size() + 1;
  for (rlim_t stack : {rlim_t{256} << 10, rlim_t{1} << 20, rlim_t{8} << 20,
                       rlim_t{64} << 20}) {
    SCOPED_TRACE(stack);
    if (old.rlim_max != RLIM_INFINITY && stack > old.rlim_max) continue;
    const size_t limit =
        std::max<size_t>(std::min<size_t>(6 << 20, stack / 4), 128 << 10);
    // argv: enough strings of at most kMaxArgStrlen bytes to fill `limit`
    // exactly with the path, the environment and all pointers.
    const size_t argc = limit / kMaxArgStrlen + 2;
    const size_t fill =
        limit - strlen(path) - 1 - env_bytes - (argc + 1) * sizeof(char*);
    std::vector<std::string> argv;
    for (size_t left = fill; argv.size() < argc;) {
      const size_t n = std::min(left - (argc - argv.size() - 1), kMaxArgStrlen);
      argv.push_back(std::string(n - 1, 'a'));
      left -= n;
    }
    auto run = [&] {
      return ForkAndExec([&] {
        rlimit rl = old;
        rl.rlim_cur = stack;
        if (setrlimit(RLIMIT_STACK, &rl) != 0) return errno;
        return Execve(path, CStrings(argv), ProbeEnv());
      });
    };
    ExecOutcome o = run();
    ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
    EXPECT_EQ(o.Num("argc"), static_cast<long>(argc));
    argv.back() += "a";  // one byte more
    EXPECT_EQ(run().exec_errno, E2BIG);
  }
}

// The pointers count even when the strings are short, and a huge argv
// fails at once (not after copying every string).
TEST(ExecArgsTest, PointersCountAndHugeArgvFailsFast) {
  const std::string big(kMaxArgStrlen - 1, 'a');
  const size_t count = 1 << 20;
  std::vector<char*> many(count + 1, const_cast<char*>(big.c_str()));
  many[count] = nullptr;
  CStrings env = ProbeEnv();
  EXPECT_EQ(Err("/proc/self/exe", many.data(), env.get()), E2BIG);
  // 40000 pointers to "" are 320000 bytes: over the 256 KiB of a 1 MiB stack.
  std::vector<char*> empties(40001, const_cast<char*>(""));
  empties.back() = nullptr;
  rlimit old;
  ASSERT_THAT(getrlimit(RLIMIT_STACK, &old), SyscallSucceeds());
  EXPECT_EQ(ExecErrno([&] {
              rlimit rl = old;
              rl.rlim_cur = 1 << 20;
              if (setrlimit(RLIMIT_STACK, &rl) != 0) return errno;
              syscall(SYS_execve, "/proc/self/exe", empties.data(), env.get());
              return errno;
            }),
            E2BIG);
}

}  // namespace
}  // namespace syscall_test
