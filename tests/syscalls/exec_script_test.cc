// execve(2) of "#!" scripts: the interpreter's argv, the optional argument
// and its whitespace, the 256-byte line, nested interpreters, errors, and
// scripts run through execveat(2).
#include <sys/syscall.h>

#include "exec_util.h"
#include "temp_dir.h"

namespace syscall_test {
namespace {

std::string Str(long v) { return std::to_string(v); }

// The interpreter of every script here is a copy of this binary: the
// probe reports the argv it gets.
class ExecScriptTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(CopySelf(interp_)); }

  std::string Script(const std::string& name, const std::string& text,
                     mode_t mode = 0755) {
    const std::string path = dir_ / name;
    MakeFile(path, text, mode);
    return path;
  }
  static ExecOutcome Run(const std::string& path,
                         std::vector<std::string> argv = {"zero", "one"}) {
    return ForkAndExec(
        [&] { return Execve(path, CStrings(argv), ProbeEnv()); });
  }
  static int Err(const std::string& path) {
    return ExecErrno(
        [&] { return Execve(path, CStrings({"zero"}), ProbeEnv()); });
  }
  // argv0, argv1, ... as one string, to compare whole.
  static std::string Argv(const ExecOutcome& o) {
    std::string out;
    for (long i = 0; i < o.Num("argc"); ++i)
      out += (i ? "|" : "") + o["argv" + Str(i)];
    return out;
  }

  TempDir dir_;
  const std::string interp_ = dir_ / "interp";
};

TEST_F(ExecScriptTest, InterpreterGetsTheScriptPathInsteadOfArgv0) {
  const std::string s = Script("script", "#!" + interp_ + "\necho hi\n");
  ExecOutcome o = Run(s, {"zero", "one", "two"});
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(Argv(o), interp_ + "|" + s + "|one|two");
  EXPECT_EQ(o["exe"], interp_);
  EXPECT_EQ(o["execfn"], s);       // the path the caller gave
  EXPECT_EQ(o["comm"], "script");  // named after the script, not interp
}

TEST_F(ExecScriptTest, OneOptionalArgumentWithInnerSpacesKept) {
  const std::string s =
      Script("script", "#! \t" + interp_ + " \t one  two \t\nrest\n");
  ExecOutcome o = Run(s);
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(Argv(o), interp_ + "|one  two|" + s + "|one");
}

TEST_F(ExecScriptTest, LineWithoutNewlineAtEndOfFile) {
  const std::string s = Script("script", "#!" + interp_ + " arg");
  ExecOutcome o = Run(s);
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(Argv(o), interp_ + "|arg|" + s + "|one");
}

TEST_F(ExecScriptTest, NulEndsTheNameAndTheArgument) {
  std::string text = "#!" + interp_ + " arg";
  text += std::string("\0junk\n", 6);
  const std::string s = Script("script", text);
  ExecOutcome o = Run(s);
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(Argv(o), interp_ + "|arg|" + s + "|one");

  text = "#!" + interp_ + std::string("\0 junk\n", 7);
  const std::string s2 = Script("script2", text);
  o = Run(s2);
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(Argv(o), interp_ + "|" + s2 + "|one");
}

TEST_F(ExecScriptTest, RelativeScriptPathIsPassedAsGiven) {
  Script("script", "#!" + interp_ + "\n");
  ExecOutcome o = ForkAndExec([&] {
    if (chdir(dir_.path().c_str()) != 0) return errno;
    return Execve("./script", CStrings({"zero"}), ProbeEnv());
  });
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(Argv(o), interp_ + "|./script");
  EXPECT_EQ(o["execfn"], "./script");
}

TEST_F(ExecScriptTest, EmptyArgv) {
  const std::string s = Script("script", "#!" + interp_ + " arg\n");
  ExecOutcome o = Run(s, {});
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(Argv(o), interp_ + "|arg|" + s);
}

// Linux's exec_binprm follows at most 5 interpreters that are scripts
// themselves (depth > 5 is ELOOP).
TEST_F(ExecScriptTest, NestedInterpreters) {
  std::string prev = interp_;
  std::string expected = interp_;
  std::vector<std::string> chain;
  for (int i = 1; i <= 6; ++i) {
    prev = Script("s" + Str(i), "#!" + prev + "\n");
    chain.push_back(prev);
  }
  for (int depth = 1; depth <= 5; ++depth) {
    SCOPED_TRACE(depth);
    expected += "|" + chain[depth - 1];
    ExecOutcome o = Run(chain[depth - 1]);
    ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
    EXPECT_EQ(Argv(o), expected + "|one");
    EXPECT_EQ(o["exe"], interp_);
  }
  EXPECT_EQ(Err(chain[5]), ELOOP);
}

// The line is read from the first 256 bytes (BINPRM_BUF_SIZE): a long
// argument is cut, an interpreter name that may be cut is ENOEXEC.
TEST_F(ExecScriptTest, LongLines) {
  const std::string s =
      Script("long_arg", "#!" + interp_ + " " + std::string(300, 'a') + "\n");
  ExecOutcome o = Run(s);
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  // The argument ends before the buffer's last byte.
  EXPECT_EQ(o["argv1"], std::string(255 - 3 - interp_.size(), 'a'));
  EXPECT_EQ(o["argv2"], s);

  const std::string spaces =
      Script("spaces", "#!" + interp_ + std::string(300, ' ') + "x\n");
  o = Run(spaces);
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(Argv(o), interp_ + "|" + spaces + "|one");

  // No space, tab or NUL after the name within the buffer.
  EXPECT_EQ(Err(Script("long_name", "#!" + std::string(300, '/') + "\n")),
            ENOEXEC);
  EXPECT_EQ(Err(Script("long_name2", "#!" + std::string(300, '/') + interp_)),
            ENOEXEC);
}

TEST_F(ExecScriptTest, Errors) {
  EXPECT_EQ(Err(Script("missing", "#!" + (dir_ / "nope") + "\n")), ENOENT);
  EXPECT_EQ(Err(Script("crlf", "#!" + interp_ + "\r\n")), ENOENT);
  const std::string noexec = Script("noexec", "#!" + interp_ + "\n", 0644);
  EXPECT_EQ(Err(noexec), EACCES);
  EXPECT_EQ(Err(Script("via_noexec", "#!" + noexec + "\n")), EACCES);
  EXPECT_EQ(Err(Script("via_dir", "#!" + dir_.path() + "\n")), EACCES);
  EXPECT_EQ(Err(Script("empty_line", "#!\n")), ENOEXEC);
  EXPECT_EQ(Err(Script("blank_line", "#! \t \nx\n")), ENOEXEC);
  // A NUL right after "#!" (or the buffer's NUL padding) is an empty name:
  // Linux opens "", which is the cwd, a directory.
  EXPECT_EQ(Err(Script("just_hash_bang", "#!")), EACCES);
  EXPECT_EQ(Err(Script("nul_name", std::string("#!\0 x\n", 6))), EACCES);
  EXPECT_EQ(Err(Script("text", "echo hi\n")), ENOEXEC);
  EXPECT_EQ(Err(Script("empty", "")), ENOEXEC);
  // An interpreter that is neither ELF nor a script.
  const std::string text = Script("text_interp", "hello\n");
  EXPECT_EQ(Err(Script("via_text", "#!" + text + "\n")), ENOEXEC);
}

// The kernel reads the script; only the caller's execute permission counts.
TEST_F(ExecScriptTest, ExecuteOnlyScriptRuns) {
  const std::string s = Script("script", "#!" + interp_ + "\n", 0111);
  ExecOutcome o = Run(s);
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(Argv(o), interp_ + "|" + s + "|one");
}

TEST_F(ExecScriptTest, ExecveatPassesDevFdPath) {
  Script("script", "#!" + interp_ + "\n");
  FileDescriptor fd(open((dir_ / "script").c_str(), O_RDONLY));
  FileDescriptor dirfd(open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_GE(fd.get(), 0);
  ASSERT_GE(dirfd.get(), 0);
  auto run = [&](int fd, const char* path, int flags) {
    return ForkAndExec([&] {
      syscall(SYS_execveat, fd, path, CStrings({"zero"}).get(),
              ProbeEnv().get(), flags);
      return errno;
    });
  };
  ExecOutcome o = run(fd.get(), "", AT_EMPTY_PATH);
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(Argv(o), interp_ + "|/dev/fd/" + Str(fd.get()));
  EXPECT_EQ(o["comm"], "interp");  // the file run in the end
  o = run(dirfd.get(), "script", 0);
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(Argv(o), interp_ + "|/dev/fd/" + Str(dirfd.get()) + "/script");
  EXPECT_EQ(o["comm"], "script");
  // The interpreter could not open /dev/fd/N once N is closed at exec.
  ASSERT_THAT(fcntl(fd.get(), F_SETFD, FD_CLOEXEC), SyscallSucceeds());
  ASSERT_THAT(fcntl(dirfd.get(), F_SETFD, FD_CLOEXEC), SyscallSucceeds());
  EXPECT_EQ(run(fd.get(), "", AT_EMPTY_PATH).exec_errno, ENOENT);
  EXPECT_EQ(run(dirfd.get(), "script", 0).exec_errno, ENOENT);
}

// Real programs of the host (moved from fork_test.cc): a static busybox,
// and /usr/bin/ldd, a /bin/sh script on Debian.
int RunHostProgram(const char* path, std::vector<std::string> argv) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    execve(path, CStrings(std::move(argv)).get(), CStrings({}).get());
    _exit(100 + errno);
  }
  int status = -1;
  EXPECT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  return status;
}

TEST(ExecHostProgramTest, BusyboxShell) {
  if (access("/bin/busybox", X_OK) != 0) GTEST_SKIP() << "no busybox";
  const int status =
      RunHostProgram("/bin/busybox", {"busybox", "sh", "-c", "exit 9"});
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 9) << status;
}

TEST(ExecHostProgramTest, ShellScriptRunsItsInterpreter) {
  if (access("/usr/bin/ldd", X_OK) != 0) GTEST_SKIP() << "no ldd";
  const int status = RunHostProgram("/usr/bin/ldd", {"ldd", "--version"});
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace syscall_test
