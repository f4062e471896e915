// runsc exec, and create loading the container's program (oci_fixture.h):
// a new process in a running container with the caller's stdio, its exit
// status back to the caller, --process, --detach with a pid file, --env,
// --cwd, --user, signals passed on, runc's wording for bad states.
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "tests/integration/oci_fixture.h"

namespace {

using namespace oci_test;  // NOLINT: the fixture and its helpers

class OciExecTest : public OciTest {
 protected:
  void SetUp() override {
    OciTest::SetUp();
    const std::string bin = bundle_ + "/rootfs/bin/";
    for (const char* name : {"pwd", "env", "stty", "tty", "kill"})
      ASSERT_EQ(symlink("busybox", (bin + name).c_str()), 0);
    err_ = open((dir_ + "/spawn_err").c_str(),
                O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  }

  void TearDown() override {
    close(err_);
    OciTest::TearDown();
  }

  // runsc with the given stdin and stdout, stderr appended to
  // dir_/spawn_err; returns its pid.
  pid_t Spawn(const std::vector<std::string>& args, int in, int out) {
    return OciTest::Spawn(args, in, out, err_);
  }

  // create ID with the given stdin and stdout (the container's); returns
  // the sandbox's pid.
  pid_t CreateWithStdio(const std::string& id, int in, int out) {
    const std::string pid_file = dir_ + "/" + id + ".pid";
    pid_t create = Spawn(
        {"create", "--bundle", bundle_, "--pid-file", pid_file, id}, in, out);
    EXPECT_EQ(WaitExit(create), 0) << ReadFile(dir_ + "/spawn_err");
    const std::string text = ReadFile(pid_file);
    return text.empty() ? -1 : std::stoi(text);
  }

  // A running container whose init sleeps; returns the sandbox's pid.
  pid_t StartSleeper(const std::string& id) {
    WriteConfig(Config({"sleep", "100000"}));
    pid_t pid = Create(id);
    auto r = Runsc({"start", id});
    EXPECT_EQ(r.code, 0) << r.err;
    return pid;
  }

  // Ends the container and reaps its sandbox process.
  void KillAndDelete(const std::string& id, pid_t pid) {
    auto r = Runsc({"kill", id, "KILL"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(WaitExit(pid), 128 + SIGKILL);
    r = Runsc({"delete", id});
    EXPECT_EQ(r.code, 0) << r.err;
  }

  // A listening console socket (as the shims make) at dir_/console.sock.
  int ConsoleSocket() {
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string path = dir_ + "/console.sock";
    strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    EXPECT_EQ(bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(s, 1), 0);
    return s;
  }

  // The master runsc sent to the console socket `s`, after "/dev/ptmx".
  int ReceiveMaster(int s) {
    int conn = accept4(s, nullptr, nullptr, SOCK_CLOEXEC);
    EXPECT_GE(conn, 0);
    char data[32] = {};
    iovec iov{.iov_base = data, .iov_len = sizeof(data)};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    EXPECT_GT(recvmsg(conn, &msg, MSG_CMSG_CLOEXEC), 0);
    close(conn);
    EXPECT_EQ(std::string(data), "/dev/ptmx");
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof(fd));
    return fd;
  }

  // Reads the terminal until its output so far (`*got`, kept across
  // calls) contains `want`; false if the other side went first.
  static bool ReadUntil(int master, const std::string& want,
                        std::string* got) {
    char buf[256];
    while (got->find(want) == std::string::npos) {
      ssize_t n = read(master, buf, sizeof(buf));
      if (n <= 0) return false;  // EIO: the other side is gone
      got->append(buf, n);
    }
    return true;
  }

  int err_ = -1;

  // Reads `fd` to EOF.
  static std::string ReadAll(int fd) {
    std::string s;
    char buf[256];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) s.append(buf, n);
    return s;
  }
};

TEST_F(OciExecTest, CreateLoadsTheProgramAndStartRunsIt) {
  WriteConfig(Config({"echo", "ran"}));
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  const pid_t sandbox = CreateWithStdio("c", -1, p[1]);
  close(p[1]);
  ASSERT_GT(sandbox, 0);
  // Loaded but held: nothing was written (a program that ran at create
  // would have raced this read, and sometimes won).
  ASSERT_EQ(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
  char byte;
  EXPECT_EQ(read(p[0], &byte, 1), -1);
  EXPECT_EQ(errno, EAGAIN);
  ASSERT_EQ(fcntl(p[0], F_SETFL, 0), 0);
  auto r = Runsc({"start", "c"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(WaitExit(sandbox), 0);
  EXPECT_EQ(Runsc({"delete", "c"}).code, 0);
  // Every writer (sandbox, gofer) is gone now.
  EXPECT_EQ(ReadAll(p[0]), "ran\n");
  close(p[0]);
}

TEST_F(OciExecTest, CreateFailsWhenTheProgramCannotRun) {
  // Missing, and present but not executable: create fails, as runc's
  // does, and leaves nothing.
  const std::string plain = bundle_ + "/rootfs/etc/plain";
  std::ofstream(plain) << "not a program\n";
  chmod(plain.c_str(), 0644);
  for (const char* prog : {"/bin/missing", "/etc/plain"}) {
    WriteConfig(Config({prog}));
    auto r = Runsc({"create", "--bundle", bundle_, "c"});
    EXPECT_NE(r.code, 0) << prog;
    EXPECT_THAT(r.err, HasSubstr("the sandbox failed to start")) << prog;
    EXPECT_TRUE(RootEmpty()) << prog;
  }
}

TEST_F(OciExecTest, ExecReturnsTheProcessStatusAndOutput) {
  pid_t pid = StartSleeper("c");
  auto r = Runsc({"exec", "c", "echo", "hello", "-n"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "hello -n\n");  // the command's flags stay its own
  r = Runsc({"exec", "c", "sh", "-c", "exit 5"});
  EXPECT_EQ(r.code, 5) << r.err;
  r = Runsc({"exec", "c", "sh", "-c", "kill -9 $$"});
  EXPECT_EQ(r.code, 128 + SIGKILL) << r.err;
  // It is in the container: init is pid 1, and the exec'd process has no
  // parent there (as in gVisor).
  r = Runsc({"exec", "c", "sh", "-c", "cat /proc/1/cmdline; echo; "
                                      "grep PPid /proc/self/status"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("sleep"));
  EXPECT_THAT(r.out, HasSubstr("PPid:\t0"));
  r = Runsc({"exec", "c", "nosuchprogram"});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("executable file not found"));
  KillAndDelete("c", pid);
}

TEST_F(OciExecTest, ExecFlagsEnvCwdUser) {
  pid_t pid = StartSleeper("c");
  auto r = Runsc({"exec", "--env", "FOO=bar", "-e", "BAZ=qux", "--cwd",
                  "/proc", "--user", "1000:1001", "c", "sh", "-c",
                  "echo $FOO $BAZ $PATH; pwd; id -u; id -g"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "bar qux /bin\n/proc\n1000\n1001\n");
  r = Runsc({"exec", "--cwd", "relative", "c", "true"});
  EXPECT_NE(r.code, 0);
  r = Runsc({"exec", "--user", "root", "c", "true"});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("uid[:gid]"));
  KillAndDelete("c", pid);
}

TEST_F(OciExecTest, ExecProcessFile) {
  pid_t pid = StartSleeper("c");
  const std::string process = dir_ + "/process.json";
  std::ofstream(process) << json{{"args", {"sh", "-c", "echo $X; pwd; exit 4"}},
                                 {"env", {"PATH=/bin", "X=from-file"}},
                                 {"cwd", "/bin"},
                                 {"user", {{"uid", 0}, {"gid", 0}}}}
                                .dump();
  auto r = Runsc({"exec", "--process", process, "c"});
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_EQ(r.out, "from-file\n/bin\n");
  std::ofstream(process) << "{\"args\": []}";
  r = Runsc({"exec", "--process", process, "c"});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("process.args"));
  KillAndDelete("c", pid);
}

TEST_F(OciExecTest, DetachedExecPidFileLivesAsLongAsTheProcess) {
  pid_t pid = StartSleeper("c");
  int in[2];
  ASSERT_EQ(pipe2(in, O_CLOEXEC), 0);
  const std::string pid_file = dir_ + "/exec.pid";
  pid_t exec = Spawn({"exec", "--detach", "--pid-file", pid_file, "c", "sh",
                      "-c", "read x; exit 7"},
                     in[0], -1);
  close(in[0]);
  ASSERT_EQ(WaitExit(exec), 0) << ReadFile(dir_ + "/spawn_err");
  const std::string text = ReadFile(pid_file);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.find('\n'), std::string::npos);
  const pid_t waiter = std::stoi(text);
  // Still there, as the process is (it waits for our input), and ours to
  // reap, as the shim's would be.
  EXPECT_EQ(waitpid(waiter, nullptr, WNOHANG), 0);
  ASSERT_EQ(write(in[1], "x\n", 2), 2);
  close(in[1]);
  EXPECT_EQ(WaitExit(waiter), 7);
  KillAndDelete("c", pid);
}

TEST_F(OciExecTest, SignalsToExecArePassedOn) {
  pid_t pid = StartSleeper("c");
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  pid_t exec = Spawn({"exec", "c", "sh", "-c",
                      "trap 'exit 9' TERM; echo ready; sleep 100000 & wait"},
                     -1, out[1]);
  close(out[1]);
  char buf[6] = {};
  ASSERT_EQ(read(out[0], buf, 6), 6);
  EXPECT_EQ(std::string(buf, 6), "ready\n");
  ASSERT_EQ(kill(exec, SIGTERM), 0);
  EXPECT_EQ(WaitExit(exec), 9) << ReadFile(dir_ + "/spawn_err");
  close(out[0]);
  KillAndDelete("c", pid);
}

TEST_F(OciExecTest, ExecEndsWithTheContainer) {
  pid_t pid = StartSleeper("c");
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  pid_t exec = Spawn({"exec", "c", "sh", "-c", "echo ready; sleep 100000"}, -1,
                     out[1]);
  close(out[1]);
  char buf[6] = {};
  ASSERT_EQ(read(out[0], buf, 6), 6);
  close(out[0]);
  KillAndDelete("c", pid);
  EXPECT_EQ(WaitExit(exec), 128 + SIGKILL);
}

TEST_F(OciExecTest, ExecIntoUnknownCreatedOrStoppedContainerFails) {
  auto r = Runsc({"exec", "nosuch", "true"});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("does not exist"));
  WriteConfig(Config({"true"}));
  pid_t pid = Create("c");
  r = Runsc({"exec", "c", "true"});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("container not running"));
  ASSERT_EQ(Runsc({"start", "c"}).code, 0);
  EXPECT_EQ(WaitExit(pid), 0);
  r = Runsc({"exec", "c", "true"}, {"--log-format", "json", "--log",
                                    dir_ + "/log.json"});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("cannot exec in a stopped container"));
  EXPECT_THAT(ReadFile(dir_ + "/log.json"),
              HasSubstr("cannot exec in a stopped container"));
  r = Runsc({"exec", "c"});
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(Runsc({"delete", "c"}).code, 0);
}

// --console-socket: a terminal for create and exec.

TEST_F(OciExecTest, CreateSendsTheTerminalsMasterToTheConsoleSocket) {
  json config = Config({"sh", "-c",
                        "stty size; tty; read x; stty size; echo got $x"});
  config["process"]["terminal"] = true;
  config["process"]["consoleSize"] = {{"height", 40}, {"width", 100}};
  WriteConfig(config);
  int s = ConsoleSocket();
  const std::string pid_file = dir_ + "/c.pid";
  auto r = Runsc({"create", "--bundle", bundle_, "--pid-file", pid_file,
                  "--console-socket", dir_ + "/console.sock", "c"});
  ASSERT_EQ(r.code, 0) << r.err;
  const pid_t pid = std::stoi(ReadFile(pid_file));
  int master = ReceiveMaster(s);
  close(s);
  ASSERT_GE(master, 0);
  EXPECT_EQ(isatty(master), 1);  // the shim checks it is a terminal
  ASSERT_EQ(Runsc({"start", "c"}).code, 0);
  std::string out;
  EXPECT_TRUE(ReadUntil(master, "/dev/pts/", &out)) << out;
  EXPECT_THAT(out, HasSubstr("40 100\r\n"));  // consoleSize, then tty
  // A resize, as the shim's ResizePty, reaches the sandbox with the input.
  winsize ws{.ws_row = 50, .ws_col = 120};
  ASSERT_EQ(ioctl(master, TIOCSWINSZ, &ws), 0);
  ASSERT_EQ(write(master, "hello\r", 6), 6);
  out.clear();
  EXPECT_TRUE(ReadUntil(master, "got hello", &out)) << out;
  EXPECT_THAT(out, HasSubstr("50 120"));
  EXPECT_EQ(WaitExit(pid), 0);
  close(master);
  EXPECT_EQ(Runsc({"delete", "c"}).code, 0);
}

TEST_F(OciExecTest, TerminalWithoutConsoleSocketFailsAsRuncDoes) {
  json config = Config({"sh"});
  config["process"]["terminal"] = true;
  WriteConfig(config);
  auto r = Runsc({"create", "--bundle", bundle_, "c"});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("cannot allocate tty"));
  EXPECT_TRUE(RootEmpty());
  WriteConfig(Config({"true"}));
  r = Runsc({"create", "--bundle", bundle_, "--console-socket",
             dir_ + "/console.sock", "c"});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("cannot use console socket"));
  EXPECT_TRUE(RootEmpty());
}

TEST_F(OciExecTest, ExecWithATerminal) {
  pid_t pid = StartSleeper("c");
  int s = ConsoleSocket();
  // ^C on the terminal is SIGINT for the process: it leads the session
  // the terminal controls.
  pid_t exec = Spawn({"exec", "--tty", "--console-socket",
                      dir_ + "/console.sock", "c", "sh", "-c",
                      "trap 'echo INT; exit 4' INT; tty; echo ready; read x"},
                     -1, -1);
  int master = ReceiveMaster(s);
  close(s);
  ASSERT_GE(master, 0);
  std::string out;
  EXPECT_TRUE(ReadUntil(master, "ready", &out)) << out;
  EXPECT_THAT(out, HasSubstr("/dev/pts/"));
  ASSERT_EQ(write(master, "\x03", 1), 1);
  out.clear();
  EXPECT_TRUE(ReadUntil(master, "INT\r\n", &out)) << out;
  EXPECT_EQ(WaitExit(exec), 4) << ReadFile(dir_ + "/spawn_err");
  close(master);
  auto r = Runsc({"exec", "--tty", "c", "true"});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("--console-socket"));
  KillAndDelete("c", pid);
}

// ps, pause/resume, wait, events, update.

TEST_F(OciExecTest, PsListsTheSandboxPids) {
  pid_t pid = StartSleeper("c");
  auto r = Runsc({"ps", "--format", "json", "c"});
  ASSERT_EQ(r.code, 0) << r.err;
  json pids = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(pids.is_array()) << r.out;
  EXPECT_EQ(pids, json::parse("[1]"));
  // An exec'd process is there while it runs, and reaped after.
  r = Runsc({"exec", "c", "sh", "-c", "set -- /proc/[0-9]*; echo $#"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "2\n");
  r = Runsc({"ps", "--format", "json", "c"});
  EXPECT_EQ(json::parse(r.out, nullptr, false), json::parse("[1]"));
  r = Runsc({"ps", "c"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("PID"));
  EXPECT_THAT(r.out, HasSubstr("sleep"));
  r = Runsc({"ps", "--format", "yaml", "c"});
  EXPECT_NE(r.code, 0);
  KillAndDelete("c", pid);
  r = Runsc({"ps", "c"});
  EXPECT_THAT(r.err, HasSubstr("does not exist"));
}

TEST_F(OciExecTest, PauseStopsEveryProcessAndResumeGoesOn) {
  // init counts in a loop: paused, the count stands still.
  WriteConfig(Config({"sh", "-c",
                      "i=0; while true; do i=$((i+1)); echo $i > /tmp/n; "
                      "done"}));
  pid_t pid = Create("c");
  ASSERT_EQ(Runsc({"start", "c"}).code, 0);
  auto r = Runsc({"pause", "c"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(State("c")["status"], "paused");
  EXPECT_THAT(Runsc({"pause", "c"}).err, HasSubstr("already paused"));
  EXPECT_THAT(Runsc({"exec", "c", "true"}).err,
              HasSubstr("cannot exec in a paused container"));
  EXPECT_THAT(Runsc({"delete", "c"}).err, HasSubstr("not stopped: paused"));
  // ps still answers (the sentry does, not the app).
  r = Runsc({"ps", "--format", "json", "c"});
  EXPECT_EQ(r.code, 0) << r.err;
  r = Runsc({"resume", "c"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(State("c")["status"], "running");
  EXPECT_THAT(Runsc({"resume", "c"}).err, HasSubstr("not paused"));
  // It runs again: an exec sees the count move (two reads, the second
  // after the first, of a file rewritten without end).
  r = Runsc({"exec", "c", "sh", "-c",
             "a=$(cat /tmp/n); until [ \"$(cat /tmp/n)\" != \"$a\" ]; do :; "
             "done; echo moved"});
  EXPECT_EQ(r.out, "moved\n") << r.err;
  // A paused container can be killed.
  ASSERT_EQ(Runsc({"pause", "c"}).code, 0);
  KillAndDelete("c", pid);
}

TEST_F(OciExecTest, WaitExitsWithInitsStatus) {
  WriteConfig(Config({"sh", "-c", "read x; exit 6"}));
  int in[2];
  ASSERT_EQ(pipe2(in, O_CLOEXEC), 0);
  const pid_t pid = CreateWithStdio("c", in[0], -1);
  close(in[0]);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(Runsc({"start", "c"}).code, 0);
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  pid_t wait = Spawn({"wait", "c"}, -1, out[1]);
  close(out[1]);
  // Whether wait asks before or after init's end, the answer is the same
  // (after, it comes from the file the sentry wrote).
  ASSERT_EQ(write(in[1], "x\n", 2), 2);
  close(in[1]);
  EXPECT_EQ(WaitExit(wait), 6);
  EXPECT_EQ(ReadAll(out[0]), "{\"exitStatus\":6,\"id\":\"c\"}\n");
  close(out[0]);
  EXPECT_EQ(WaitExit(pid), 6);
  auto r = Runsc({"wait", "c"});
  EXPECT_EQ(r.code, 6) << r.err;
  EXPECT_EQ(Runsc({"delete", "c"}).code, 0);
  EXPECT_THAT(Runsc({"wait", "c"}).err, HasSubstr("does not exist"));
}

TEST_F(OciExecTest, EventsStatsAndUpdate) {
  pid_t pid = StartSleeper("c");
  auto r = Runsc({"events", "--stats", "c"});
  ASSERT_EQ(r.code, 0) << r.err;
  json e = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(e.is_object()) << r.out;
  EXPECT_EQ(e["type"], "stats");
  EXPECT_EQ(e["id"], "c");
  EXPECT_GT(e["data"]["memory"]["usage"]["usage"].get<uint64_t>(), 0u);
  EXPECT_EQ(e["data"]["pids"]["current"], 1);
  EXPECT_EQ(e["data"]["pids"]["limit"], 1024);
  // update: pids applied (a fork beyond it fails), the rest named.
  const std::string res = dir_ + "/res.json";
  std::ofstream(res) << R"({"pids": {"limit": 2}, "memory": {"limit": 1000000}})";
  r = Runsc({"update", "--resources", res, "c"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("memory not applied"));
  r = Runsc({"events", "--stats", "c"});
  EXPECT_EQ(json::parse(r.out, nullptr, false)["data"]["pids"]["limit"], 2);
  // init and the exec'd sh are two tasks: sh's fork is the third.
  r = Runsc({"exec", "c", "sh", "-c", "true & wait"});
  EXPECT_NE(r.code, 0);
  std::ofstream(res) << "{not json";
  EXPECT_NE(Runsc({"update", "--resources", res, "c"}).code, 0);
  EXPECT_NE(Runsc({"events", "--interval", "bogus", "c"}).code, 0);
  KillAndDelete("c", pid);
}

// Issue 9 item 4: a container's init is a pid namespace's init.

TEST_F(OciExecTest, InitIgnoresDefaultActionSignalsFromInside) {
  pid_t pid = StartSleeper("c");
  // kill(2) succeeds, and does nothing: sleep has no handlers.
  for (const char* sig : {"TERM", "INT", "USR1", "KILL", "STOP"}) {
    auto r = Runsc({"exec", "c", "kill", std::string("-") + sig, "1"});
    EXPECT_EQ(r.code, 0) << sig << ": " << r.err;
  }
  EXPECT_EQ(State("c")["status"], "running");
  EXPECT_EQ(Runsc({"exec", "c", "true"}).code, 0);  // not stopped either
  // From outside, the default action applies.
  EXPECT_EQ(Runsc({"kill", "c", "TERM"}).code, 0);
  EXPECT_EQ(WaitExit(pid), 128 + SIGTERM);
  EXPECT_EQ(Runsc({"delete", "c"}).code, 0);
}

TEST_F(OciExecTest, InitWithAHandlerGetsSignalsFromInside) {
  WriteConfig(Config(
      {"sh", "-c", "trap 'exit 3' USR1; echo ready; sleep 100000 & wait"}));
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  const pid_t pid = CreateWithStdio("c", -1, out[1]);
  close(out[1]);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(Runsc({"start", "c"}).code, 0);
  char buf[6] = {};
  ASSERT_EQ(read(out[0], buf, 6), 6);
  auto r = Runsc({"exec", "c", "kill", "-USR1", "1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(WaitExit(pid), 3);
  EXPECT_EQ(Runsc({"delete", "c"}).code, 0);
  close(out[0]);
}

TEST_F(OciExecTest, SigkillFromOutsideEndsAnInitThatIgnoresEverything) {
  WriteConfig(Config({"sh", "-c", "trap '' TERM INT HUP; sleep 100000"}));
  pid_t pid = Create("c");
  ASSERT_EQ(Runsc({"start", "c"}).code, 0);
  // sh execs sleep... or not: either way TERM is ignored (inherited SIG_IGN
  // survives exec), so only KILL ends it.
  EXPECT_EQ(Runsc({"kill", "c", "TERM"}).code, 0);
  EXPECT_EQ(Runsc({"exec", "c", "true"}).code, 0);  // still running
  EXPECT_EQ(Runsc({"kill", "c", "KILL"}).code, 0);
  EXPECT_EQ(WaitExit(pid), 128 + SIGKILL);
  EXPECT_EQ(Runsc({"delete", "c"}).code, 0);
}

TEST_F(OciExecTest, RunIgnoresInitsOwnDefaultSignalButDoDoesNot) {
  WriteConfig(Config({"sh", "-c", "kill -TERM $$; echo alive"}));
  auto r = Runsc({"run", "--bundle", bundle_, "c"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "alive\n");
  // runsc do: the command is an ordinary process, as natively.
  r = Runsc({"do", "--root-dir", bundle_ + "/rootfs", "--", "/bin/sh", "-c",
             "kill -TERM $$; echo alive"});
  EXPECT_EQ(r.code, 128 + SIGTERM) << r.err;
  EXPECT_EQ(r.out, "");
}

}  // namespace
