#include "sentry/boot/boot.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "base/log.h"
#include "sentry/boot/boot_mounts.h"
#include "sentry/boot/confine.h"
#include "base/unique_fd.h"
#include "sentry/boot/control_ops.h"
#include "sentry/boot/control_server.h"
#include "sentry/fs/gofer/gofer_fs.h"
#include "sentry/kernel/kernel.h"
#include "sentry/tty/console.h"
#include "syscalls/table.h"

namespace boot {
namespace {

// The sandbox's fds 0-2 are the host's, imported as host files.
std::vector<std::shared_ptr<vfs::FileDescription>> ImportStdio() {
  std::vector<std::shared_ptr<vfs::FileDescription>> stdio;
  const char* names[] = {"host:[stdin]", "host:[stdout]", "host:[stderr]"};
  for (int fd = 0; fd < 3; ++fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) {
      stdio.push_back(nullptr);  // not open: the app sees it closed too
      continue;
    }
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (copy < 0) {
      stdio.push_back(nullptr);
      continue;
    }
    stdio.push_back(vfs::ImportHostFd(copy, flags & ~O_CLOEXEC, names[fd]));
  }
  return stdio;
}

void Complain(const std::string& what) {
  base::WriteLogLine("runsc: " + what);
  if (base::LogFd() != 2) {
    std::string line = "runsc: " + what + "\n";
    (void)!write(2, line.data(), line.size());
  }
}

// Signals runsc do forwards (the user's ^C, a kill of runsc) are blocked in
// every sentry thread and taken by one thread that passes them to the
// application, instead of killing the sentry.
constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

void BlockForwardedSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kForwarded) sigaddset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

// The kernel the forwarding thread may use; null once it is going away.
absl::Mutex g_forward_mu;
kernel::Kernel* g_forward_to ABSL_GUARDED_BY(g_forward_mu) = nullptr;
// The gofer went away (before the kernel was registered, perhaps).
bool g_gofer_dead ABSL_GUARDED_BY(g_forward_mu) = false;
// What the sandbox exits with then: runsc's own failure, not the app's.
constexpr kernel::ExitStatus kGoferDeadStatus{.code = 125};

void ForwardSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kForwarded) sigaddset(&set, sig);
  for (;;) {
    int sig = sigwaitinfo(&set, nullptr);
    if (sig <= 0) continue;
    absl::MutexLock lock(&g_forward_mu);
    if (g_forward_to) g_forward_to->SignalFromHost(sig);
  }
}

// The file a command names, as a shell's execvp finds it: a name with a
// '/' is a path; a bare name is looked up in the app's PATH (the default
// of glibc's confstr(_CS_PATH) plus the sbin directories, as runsc do
// and shells use) in the sandbox's own tree. The first regular file the
// user may execute wins; else the first one found (its exec then fails
// with EACCES: 126); ENOENT if there is none (127).
base::Result<std::string> FindCommand(vfs::Vfs& vfs, const Config& config) {
  const std::string& cmd = config.argv[0];
  if (cmd.empty() || cmd.find('/') != std::string::npos) return cmd;
  std::string search =
      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const std::string& e : config.env) {
    if (e.starts_with("PATH=")) search = e.substr(5);
  }
  const vfs::PathContext ctx{
      .start = "/", .creds = {.uid = config.uid, .gid = config.gid}};
  std::string denied;
  size_t pos = 0;
  for (;;) {
    const size_t end = std::min(search.find(':', pos), search.size());
    std::string dir = search.substr(pos, end - pos);
    // An empty entry is the working directory.
    if (dir.empty() || dir[0] != '/') {
      dir = config.cwd + (dir.empty() ? "" : "/" + dir);
    }
    const std::string candidate = dir + "/" + cmd;
    auto st = vfs.Stat(ctx, candidate, /*follow=*/true);
    if (st && S_ISREG(st->st_mode)) {
      if (vfs.Access(ctx, candidate, X_OK, true, config.uid, config.gid)) {
        return candidate;
      }
      if (denied.empty()) denied = candidate;
    }
    if (end == search.size()) break;
    pos = end + 1;
  }
  if (!denied.empty()) return denied;
  return base::Err(ENOENT);
}

// The gofer died (or was killed): calls waiting on it have failed with EIO,
// and no file can be served any more. The sandbox stops rather than limp.
void StopWithoutGofer() {
  Complain("the gofer is gone: the sandbox's files cannot be served; "
           "stopping the sandbox");
  absl::MutexLock lock(&g_forward_mu);
  g_gofer_dead = true;
  if (g_forward_to) g_forward_to->Shutdown(kGoferDeadStatus);
}

// Serves config.root and config.visible through the gofer behind `sock`.
// The client (and its receiver thread) is made at the first use, once the
// platform has started: it must start single-threaded.
auto GoferTrees(const Config& config, int sock) {
  auto client = std::make_shared<std::shared_ptr<gofer::Client>>();
  return [client, config, sock](const std::string& host_path)
             -> base::Result<std::unique_ptr<vfs::Filesystem>> {
    if (!*client)
      *client = std::make_shared<gofer::Client>(base::UniqueFd(sock),
                                                StopWithoutGofer);
    std::string mount;  // the root
    if (host_path != config.root) {
      auto it = std::find(config.visible.begin(), config.visible.end(),
                          host_path);
      if (it == config.visible.end()) return base::Err(ENOENT);
      mount = GoferMountName(it - config.visible.begin());
    }
    return TRY(gofer::GoferFs::Create(*client, mount, {}));
  };
}

// The control server's kill: init (pid 0), everything (`all`), or one
// process runsc exec started.
std::string Kill(int sig, bool all, int pid) {
  absl::MutexLock lock(&g_forward_mu);
  if (!g_forward_to) return "container not running";
  if (pid > 0) {
    if (!g_forward_to->SignalProcessFromHost(pid, sig))
      return "no such process";
    return "";
  }
  // TODO: --all with a signal other than SIGKILL reaches init only.
  // SIGKILL for init ends everything, as init's end does; through
  // Shutdown it also reaches a paused sandbox.
  if (sig == SIGKILL) {
    g_forward_to->Shutdown(kernel::ExitStatus{.signal = SIGKILL});
  } else {
    g_forward_to->SignalFromHost(sig);
  }
  return "";
}

// The last answer of an exec or a wait: how the process ended.
void SendExit(int conn, const kernel::ExitStatus& status) {
  control::Response done;
  done.set_exited(true);
  done.set_exit_code(status.code);
  done.set_exit_signal(status.signal);
  (void)Send(conn, done);
  close(conn);
}

// Exec threads still running: the kernel must outlive them.
int g_execs ABSL_GUARDED_BY(g_forward_mu) = 0;

// One runsc exec, on its own thread: starts the process, answers with its
// pid, waits for it and answers with how it ended.
void RunExec(kernel::Kernel& k, int conn,
             const control::ExecRequest& req,
             std::vector<base::UniqueFd> fds) {
  Config c;
  c.argv.assign(req.argv().begin(), req.argv().end());
  c.env.assign(req.env().begin(), req.env().end());
  c.cwd = req.cwd().empty() ? "/" : req.cwd();
  c.uid = req.uid();
  c.gid = req.gid();
  if (c.argv.empty() || c.cwd[0] != '/') {
    Reply(conn, "exec: args must not be empty and cwd must be absolute");
    return;
  }
  auto path = FindCommand(k.vfs(), c);
  if (!path) {
    Reply(conn, "exec: \"" + c.argv[0] +
                    "\": executable file not found in $PATH");
    return;
  }
  kernel::Kernel::InitProcess spec{
      .argv = c.argv,
      .path = *path,
      .envp = c.env,
      .cwd = c.cwd,
      .creds = kernel::Credentials::ForIds(c.uid, c.gid),
  };
  const char* names[] = {"host:[stdin]", "host:[stdout]", "host:[stderr]"};
  const size_t n = std::min<size_t>(
      3, std::min<size_t>(fds.size(), std::max(0, req.stdio_fds())));
  std::unique_ptr<tty::Console> console;  // ends (flushed) before we answer
  if (req.terminal()) {
    if (fds.empty()) {
      Reply(conn, "exec: a terminal needs its host fd");
      return;
    }
    auto cons = tty::Console::Start(k, fds[0].Release(), c.uid, &spec.stdio,
                                    /*session=*/0);
    if (!cons) {
      Reply(conn, "exec: cannot make the terminal: " +
                      std::string(base::ErrnoName(cons.error().value)));
      return;
    }
    console = std::move(*cons);
    spec.before_exec = [c = console.get()](int pid) { c->AttachSession(pid); };
  }
  for (size_t i = 0; i < n && !req.terminal(); ++i) {
    const int flags = fcntl(fds[i].get(), F_GETFL);
    if (flags < 0) {
      spec.stdio.push_back(nullptr);
      continue;
    }
    spec.stdio.push_back(
        vfs::ImportHostFd(fds[i].Release(), flags & ~O_CLOEXEC, names[i]));
  }
  std::string why;
  auto pid = k.StartProcess(std::move(spec), &why);
  if (!pid) {
    Reply(conn, "exec: " + (why.empty() ? std::string(base::ErrnoName(
                                              pid.error().value))
                                        : why));
    return;
  }
  control::Response started;
  started.set_pid(*pid);
  (void)Send(conn, started);
  const kernel::ExitStatus status = k.WaitProcess(*pid);
  console.reset();
  SendExit(conn, status);
}

void StartExec(int conn,
               const control::ExecRequest& req,
               std::vector<base::UniqueFd> fds) {
  kernel::Kernel* k;
  {
    absl::MutexLock lock(&g_forward_mu);
    if (!g_forward_to) {
      Reply(conn, "container not running");
      return;
    }
    k = g_forward_to;
    ++g_execs;
  }
  std::thread([k, conn, req, fds = std::move(fds)]() mutable {
    RunExec(*k, conn, req, std::move(fds));
    absl::MutexLock lock(&g_forward_mu);
    --g_execs;
  }).detach();
}

// The control requests other than start, kill and exec. wait answers
// from a thread of its own once init has ended (counted in g_execs, so
// that the answer goes out before the sandbox exits).
void Other(int conn, const control::Request& req) {
  absl::MutexLock lock(&g_forward_mu);
  kernel::Kernel* k = g_forward_to;
  if (!k) {
    Reply(conn, "container not running");
    return;
  }
  control::Response resp;
  switch (req.op_case()) {
    case control::Request::kPause:
      k->Pause();
      break;
    case control::Request::kResume:
      k->Resume();
      break;
    case control::Request::kPs:
      ListProcesses(*k, &resp);
      break;
    case control::Request::kStats:
      FillStats(*k, resp.mutable_stats());
      break;
    case control::Request::kUpdate:
      if (req.update().pids_limit() > 0)
        k->set_pids_limit(static_cast<size_t>(req.update().pids_limit()));
      break;
    case control::Request::kWait:
      ++g_execs;
      std::thread([k, conn] {
        SendExit(conn, k->WaitInit());
        absl::MutexLock lock(&g_forward_mu);
        --g_execs;
      }).detach();
      return;
    default:
      Reply(conn, "unknown control request");
      return;
  }
  (void)Send(conn, resp);
  close(conn);
}

// After init's end: the exec threads finish (their processes were killed
// with init; one that started a process meanwhile has it killed again).
void AwaitExecs(kernel::Kernel& k) {
  absl::MutexLock lock(&g_forward_mu);
  while (!g_forward_mu.AwaitWithTimeout(
      absl::Condition(
          +[](int* n) { return *n == 0; }, &g_execs),
      absl::Milliseconds(100))) {
    g_forward_mu.Unlock();
    k.Shutdown(kernel::ExitStatus{.signal = SIGKILL});
    g_forward_mu.Lock();
  }
}

// The first process's credentials: runc sets the spec's groups and
// capability sets on itself, then execs the app, which applies Linux's
// exec rule to them (Kernel::StartInit execs too). An ambient capability
// must be permitted and inheritable, as PR_CAP_AMBIENT_RAISE requires.
kernel::Credentials InitCredentials(const Config& config) {
  kernel::Credentials creds =
      kernel::Credentials::ForIds(config.uid, config.gid);
  creds.groups = config.groups;
  if (config.has_capabilities) {
    const CapabilitySets& c = config.capabilities;
    creds.cap_bounding = c.bounding & kernel::kAllCaps;
    creds.cap_permitted = c.permitted & kernel::kAllCaps;
    creds.cap_effective = c.effective & creds.cap_permitted;
    creds.cap_inheritable = c.inheritable & kernel::kAllCaps;
    creds.cap_ambient = c.ambient & creds.cap_permitted & creds.cap_inheritable;
  }
  return creds;
}

}  // namespace

std::string GoferMountName(size_t i) { return "m" + std::to_string(i); }

int Run(const Config& config, int gofer_fd, int control_fd, int ready_fd) {
  BlockForwardedSignals();
  std::string why;
  kernel::Kernel::Options options{
      .platform = config.platform,
      .platform_options = {.systrap_patch = config.systrap_patch},
      .syscalls = &syscalls::Table(),
      .strace = config.strace,
      .hostname = config.hostname,
      .host_root = config.root,
      .host_mounts = config.visible,
      .pids_limit = config.pids_limit,
  };
  if (gofer_fd >= 0) options.open_tree = GoferTrees(config, gofer_fd);
  auto k = kernel::Kernel::Create(options, &why);
  if (!k) {
    Complain(why + ": " + std::string(base::ErrnoName(k.error().value)));
    return 125;
  }
  // From here on the app may run: hold nothing of the host (confine.h).
  if (auto r = EnterEmptyRoot(); !r) {
    if (r.error().value != EPERM) {
      Complain("cannot leave the host's root: " +
               std::string(base::ErrnoName(r.error().value)));
      return 125;
    }
    LOG(Info) << "unprivileged: the sentry keeps the host's root";
  }
  if (auto r = InstallSentrySeccomp(); !r) {
    Complain("cannot install the sentry's seccomp filter: " +
             std::string(base::ErrnoName(r.error().value)));
    return 125;
  }
  if (auto r = ApplyMounts((*k)->vfs(), config, &why); !r) {
    Complain(why);
    return 125;
  }
  kernel::Credentials creds = InitCredentials(config);
  std::string path;
  if (!config.argv.empty()) {
    auto found = FindCommand((*k)->vfs(), config);
    if (!found) {
      Complain(config.argv[0] + ": command not found");
      return 127;
    }
    path = std::move(*found);
  }
  kernel::Kernel::InitProcess init{
      .argv = config.argv,
      .path = path,
      .envp = config.env,
      .cwd = config.cwd,
      .creds = creds,
      .umask = static_cast<mode_t>(config.umask >= 0 ? config.umask & 0777
                                                     : 022),
      .no_new_privs = config.no_new_privs,
      .domainname = config.domainname,
  };
  for (const RlimitSpec& r : config.rlimits)
    init.rlimits.push_back({r.resource, {r.soft, r.hard}});
  std::unique_ptr<tty::Console> console;  // goes before the kernel
  if (config.tty) {
    auto c = tty::Console::Start(**k, kConsoleFd, config.uid, &init.stdio);
    if (!c) {
      Complain("cannot make the console: " +
               std::string(base::ErrnoName(c.error().value)));
      return 125;
    }
    console = std::move(*c);
  } else {
    init.stdio = ImportStdio();
  }
  // runsc create: the program is loaded now, so that a binary that cannot
  // run fails create, as with runc; it runs at start.
  init.hold = control_fd >= 0;
  base::UniqueFd status_file;  // from runsc start, for runsc wait
  // ... and it is a container's init, which signals from inside the
  // container with their default action do not reach.
  init.unkillable = control_fd >= 0;
  if (auto r = (*k)->StartInit(std::move(init), &why); !r) {
    Complain(why);
    // As a shell: 127 when the command is not found, 126 when it is found
    // but cannot be executed.
    return r.error().value == ENOENT ? 127 : 126;
  }
  if (control_fd >= 0) {
    // The sandbox is built and the program loaded; say so, and let nothing
    // run until runsc start (or a kill) comes. On a kill the kernel's
    // Shutdown ends the held init.
    const char ready = 1;
    (void)!write(ready_fd, &ready, 1);
    close(ready_fd);
    StartOrder order = WaitForStart(control_fd);
    if (!order.start) return 128 + order.signal;
    status_file = std::move(order.status_file);
    (*k)->ReleaseInit();
    Reply(order.conn, "");
  }
  {
    absl::MutexLock lock(&g_forward_mu);
    g_forward_to = k->get();
    if (g_gofer_dead) g_forward_to->Shutdown(kGoferDeadStatus);
  }
  // Detached: it sleeps in sigwaitinfo until the process exits.
  std::thread(ForwardSignals).detach();
  if (control_fd >= 0) {
    ServeControl(control_fd, {.kill = Kill, .exec = StartExec, .other = Other});
  }
  kernel::ExitStatus status = (*k)->WaitInit();
  // Written before a wait can hear "container not running" and look here.
  if (status_file.valid()) {
    const std::string text = std::to_string(status.ShellStatus());
    (void)!write(status_file.get(), text.data(), text.size());
  }
  {
    absl::MutexLock lock(&g_forward_mu);
    g_forward_to = nullptr;
  }
  AwaitExecs(**k);
  LOG(Info) << "init exited: code " << status.code << " signal "
            << status.signal;
  return status.ShellStatus();
}

}  // namespace boot
