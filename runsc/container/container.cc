#include "runsc/container/container.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/unique_fd.h"
#include "runsc/host_pty.h"
#include "runsc/container/cgroup.h"
#include "runsc/container/hooks.h"
#include "runsc/container/sandbox_config.h"
#include "runsc/errors.h"
#include "runsc/oci/spec.h"
#include "sentry/boot/proto/control.pb.h"

namespace runsc::container {
namespace {

// A unix socket address for `name` in the directory `dir_fd`: through
// /proc/self/fd, so that it fits sun_path however long --root is.
sockaddr_un SocketAddress(int dir_fd, const std::string& name) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/%s", dir_fd,
           name.c_str());
  return addr;
}

absl::StatusOr<base::UniqueFd> ListenControl(const std::string& dir) {
  base::UniqueFd dir_fd(open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0) return absl::ErrnoToStatus(errno, "open " + dir);
  base::UniqueFd sock(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) return absl::ErrnoToStatus(errno, "socket");
  sockaddr_un addr = SocketAddress(dir_fd.get(), kControlSocket);
  if (bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    return absl::ErrnoToStatus(errno, "bind the control socket");
  if (listen(sock.get(), 16) != 0)
    return absl::ErrnoToStatus(errno, "listen on the control socket");
  return sock;
}

}  // namespace

absl::StatusOr<base::UniqueFd> ConnectControl(const Globals& g,
                                              const std::string& id) {
  const std::string dir = ContainerDir(g.root, id);
  base::UniqueFd dir_fd(open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0)
    return absl::NotFoundError("container \"" + id + "\" does not exist");
  base::UniqueFd sock(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) return absl::ErrnoToStatus(errno, "socket");
  sockaddr_un addr = SocketAddress(dir_fd.get(), kControlSocket);
  if (connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) !=
      0)
    return absl::FailedPreconditionError("container not running");
  return sock;
}

absl::Status SendRequest(int sock, const control::Request& req,
                         const std::vector<int>& fds) {
  const std::string out = req.SerializeAsString();
  iovec iov{.iov_base = const_cast<char*>(out.data()), .iov_len = out.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n;
  do {
    n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EMSGSIZE)
      return absl::InvalidArgumentError("control request too long");
    return absl::FailedPreconditionError("container not running");
  }
  return absl::OkStatus();
}

absl::StatusOr<control::Response> CallControl(const Globals& g,
                                              const std::string& id,
                                              const control::Request& req,
                                              const std::vector<int>& fds) {
  auto sock = ConnectControl(g, id);
  if (!sock.ok()) return sock.status();
  if (auto s = SendRequest(sock->get(), req, fds); !s.ok()) return s;
  // A ps of many processes is long.
  std::vector<char> buf(1 << 20);
  ssize_t n;
  do {
    n = recv(sock->get(), buf.data(), buf.size(), 0);
  } while (n < 0 && errno == EINTR);
  control::Response resp;
  if (n <= 0 || !resp.ParseFromArray(buf.data(), static_cast<int>(n)))
    return absl::FailedPreconditionError("container not running");
  if (!resp.ok()) return absl::FailedPreconditionError(resp.error());
  return resp;
}

namespace {

absl::Status Call(const Globals& g, const std::string& id,
                  const control::Request& req) {
  return CallControl(g, id, req).status();
}

// Kills `pid` if it is still the process started at `start`, and waits
// until it has exited (as a zombie, perhaps: whoever is its parent reaps
// it). Killing the sandbox process, a pid namespace's init, takes every
// process in the sandbox with it.
absl::Status KillAndWait(pid_t pid, uint64_t start) {
  if (start == 0 || ProcessStartTime(pid) != start) return absl::OkStatus();
  base::UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (pidfd.get() < 0) {
    if (errno == ESRCH) return absl::OkStatus();
    return absl::ErrnoToStatus(errno, "pidfd_open");
  }
  // The pidfd now pins the process: check it is still ours, then kill.
  if (ProcessStartTime(pid) != start) return absl::OkStatus();
  if (syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0) != 0 &&
      errno != ESRCH)
    return absl::ErrnoToStatus(errno, "kill the sandbox");
  pollfd p{.fd = pidfd.get(), .events = POLLIN};
  // SIGKILL cannot be held off; the bound only keeps a wedged host from
  // hanging delete for ever.
  int r;
  do {
    r = poll(&p, 1, 30000);
  } while (r < 0 && errno == EINTR);
  if (r <= 0) return absl::DeadlineExceededError("the sandbox does not die");
  return absl::OkStatus();
}

void RemoveDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

constexpr char kHooksFile[] = "hooks.json";
// The cgroup directories create made (cgroup.h, RemoveCgroup).
constexpr char kCgroupRecord[] = "cgroup.json";

// The hooks create kept in the container's dir (none if it kept none).
oci::Hooks LoadHooks(const Globals& g, const std::string& id) {
  std::ifstream f(ContainerDir(g.root, id) + "/" + kHooksFile);
  if (!f) return {};
  std::stringstream text;
  text << f.rdbuf();
  auto hooks = oci::HooksFromJson(text.str());
  if (!hooks.ok()) {
    Warn(g, std::string(hooks.status().message()));
    return {};
  }
  return *hooks;
}

std::string Now() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", absl::Now(),
                          absl::UTCTimeZone());
}

// The rest of Create, once the container's dir is ours: on failure the
// caller removes the dir and whatever was started.
absl::StatusOr<State> Build(const Globals& g, const CreateRequest& req,
                            const oci::Spec& spec, Sandbox* sandbox) {
  const std::string dir = ContainerDir(g.root, req.id);
  auto listener = ListenControl(dir);
  if (!listener.ok()) return listener.status();
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe2");
  base::UniqueFd ready_rd(ready[0]), ready_wr(ready[1]);
  base::UniqueFd replica;  // the terminal's, the sandbox's copy
  int console_fd = req.console_fd;
  if (spec.process.terminal && !req.console_socket.empty()) {
    auto r = ConsoleForSocket(req.console_socket,
                              WinsizeOf(spec.process.console_size));
    if (!r.ok()) return r.status();
    replica = std::move(*r);
    console_fd = replica.get();
  }
  SandboxOptions options{.debug_log = g.debug_log,
                         .debug = g.debug,
                         .console_fd = console_fd,
                         .control_fd = listener->get(),
                         .ready_fd = ready_wr.get(),
                         .detached = req.detached};
  std::vector<std::string> warnings;
  auto config = SandboxConfig(g, spec, &warnings);
  if (!config.ok()) return config.status();
  for (const std::string& w : warnings) Warn(g, w);
  // The cgroup holding the whole sandbox: made before the sandbox, which
  // joins it before it runs anything. Unprivileged, there is none (as
  // rootless runc, which cannot make one either).
  if (geteuid() == 0) {
    auto path = CgroupPath(spec.cgroups_path, g.systemd_cgroup, req.id);
    if (!path.ok()) return path.status();
    auto procs = SetUpCgroup(*path, spec.resources, spec.pids_limit,
                             dir + "/" + kCgroupRecord);
    if (!procs.ok()) return procs.status();
    options.cgroup_procs = std::move(*procs);
  }
  auto started = StartSandbox(*config, options);
  if (!started.ok()) return started.status();
  *sandbox = *started;
  ready_wr.Reset();
  replica.Reset();
  listener->Reset();

  State state;
  state.oci_version = spec.oci_version;
  state.id = req.id;
  state.pid = sandbox->sentry;
  state.pid_start = ProcessStartTime(sandbox->sentry);
  state.gofer = sandbox->gofer;
  state.gofer_start = ProcessStartTime(sandbox->gofer);
  state.status = "creating";
  state.bundle = req.bundle;
  state.rootfs = spec.root.path;
  state.created = Now();
  state.annotations = spec.annotations;
  // Saved before the wait, so that delete --force finds the processes of
  // a create that dies half-way.
  if (auto s = SaveState(g.root, state); !s.ok()) return s;

  char byte = 0;
  ssize_t n;
  do {
    n = read(ready_rd.get(), &byte, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) {
    // The sandbox said why on stderr; it has exited, or is about to.
    int status = 0;
    while (waitpid(sandbox->sentry, &status, 0) < 0 && errno == EINTR) {
    }
    sandbox->sentry = -1;
    return absl::FailedPreconditionError(absl::StrCat(
        "the sandbox failed to start (status ",
        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), ")"));
  }
  // The sandbox is built and the program not yet run: the point of the
  // prestart, createRuntime and createContainer hooks. Start and delete
  // read theirs from the container's dir.
  if (auto s = WriteFileAtomic(dir + "/" + kHooksFile,
                               oci::HooksToJson(spec.hooks), 0600);
      !s.ok())
    return s;
  const std::string creating = StateJson(state, "creating");
  if (auto s = RunHooks("prestart", spec.hooks.prestart, creating); !s.ok())
    return s;
  if (auto s = RunHooks("createRuntime", spec.hooks.create_runtime, creating);
      !s.ok())
    return s;
  if (auto s =
          RunHooks("createContainer", spec.hooks.create_container, creating);
      !s.ok())
    return s;
  state.status = "created";
  if (auto s = SaveState(g.root, state); !s.ok()) return s;
  if (!req.pid_file.empty()) {
    if (auto s = WriteFileAtomic(req.pid_file, std::to_string(state.pid), 0644);
        !s.ok())
      return s;
  }
  return state;
}

}  // namespace

absl::StatusOr<State> Create(const Globals& g, const CreateRequest& req,
                             Sandbox* sandbox) {
  if (auto s = ValidateId(req.id); !s.ok()) return s;
  auto spec = oci::LoadSpec(req.bundle);
  if (!spec.ok()) return spec.status();
  // runc's checks and wording.
  if (spec->process.terminal && req.detached && req.console_socket.empty())
    return absl::InvalidArgumentError(
        "cannot allocate tty if runc will detach without setting console "
        "socket");
  if (!spec->process.terminal && !req.console_socket.empty())
    return absl::InvalidArgumentError(
        "cannot use console socket if runc will not detach or allocate tty");
  if (mkdir(g.root.c_str(), 0711) != 0 && errno != EEXIST)
    return absl::ErrnoToStatus(errno, "cannot make --root " + g.root);
  const std::string dir = ContainerDir(g.root, req.id);
  if (mkdir(dir.c_str(), 0711) != 0) {
    if (errno == EEXIST)
      return absl::AlreadyExistsError("container with id exists: " + req.id);
    return absl::ErrnoToStatus(errno, "mkdir " + dir);
  }
  auto state = Build(g, req, *spec, sandbox);
  if (!state.ok()) {
    if (sandbox->sentry > 0) {
      kill(sandbox->sentry, SIGKILL);
      while (waitpid(sandbox->sentry, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    if (sandbox->gofer > 0) {
      kill(sandbox->gofer, SIGKILL);
      while (waitpid(sandbox->gofer, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    RemoveCgroup(dir + "/" + kCgroupRecord);
    RemoveDir(dir);
  }
  return state;
}

absl::Status Start(const Globals& g, const std::string& id) {
  auto state = LoadState(g.root, id);
  if (!state.ok()) return state.status();
  const std::string status = CurrentStatus(*state);
  if (status == "stopped")
    return absl::FailedPreconditionError(
        "cannot start a container that has stopped");
  if (status == "running")
    return absl::FailedPreconditionError(
        "cannot start an already running container");
  if (status != "created")
    return absl::FailedPreconditionError("cannot start a container that is " +
                                         status);
  const oci::Hooks hooks = LoadHooks(g, id);
  // A failed startContainer hook stops the container (runtime-spec): it
  // never runs its program.
  if (auto s = RunHooks("startContainer", hooks.start_container,
                        StateJson(*state, "created"));
      !s.ok()) {
    (void)KillAndWait(state->pid, state->pid_start);
    (void)KillAndWait(state->gofer, state->gofer_start);
    return s;
  }
  control::Request req;
  req.mutable_start();
  // The sentry writes init's exit status here, for runsc wait.
  base::UniqueFd status_file(
      open((ContainerDir(g.root, id) + "/" + kExitStatusFile).c_str(),
           O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!status_file.valid())
    return absl::ErrnoToStatus(errno, "cannot make the exit status file");
  if (auto s = CallControl(g, id, req, {status_file.get()}).status(); !s.ok())
    return s;
  state->status = "running";
  if (auto s = SaveState(g.root, *state); !s.ok()) return s;
  // runtime-spec 1.0.2: a failed poststart hook is a warning.
  if (auto s = RunHooks("poststart", hooks.poststart,
                        StateJson(*state, "running"));
      !s.ok())
    Warn(g, std::string(s.message()));
  return absl::OkStatus();
}

absl::Status Kill(const Globals& g, const std::string& id, int sig, bool all) {
  auto state = LoadState(g.root, id);
  if (!state.ok()) return state.status();
  const std::string status = CurrentStatus(*state);
  if (status == "stopped" || status == "creating")
    return absl::FailedPreconditionError("container not running");
  control::Request req;
  req.mutable_kill()->set_signal(sig);
  req.mutable_kill()->set_all(all);
  return Call(g, id, req);
}

absl::Status Pause(const Globals& g, const std::string& id) {
  if (auto s = ValidateId(id); !s.ok()) return s;
  auto state = LoadState(g.root, id);
  if (!state.ok()) return state.status();
  const std::string status = CurrentStatus(*state);
  if (status == "paused")
    return absl::FailedPreconditionError("container already paused");
  if (status != "running")
    return absl::FailedPreconditionError("container not running");
  control::Request req;
  req.mutable_pause();
  if (auto s = Call(g, id, req); !s.ok()) return s;
  state->status = "paused";
  return SaveState(g.root, *state);
}

absl::Status Resume(const Globals& g, const std::string& id) {
  if (auto s = ValidateId(id); !s.ok()) return s;
  auto state = LoadState(g.root, id);
  if (!state.ok()) return state.status();
  const std::string status = CurrentStatus(*state);
  if (status == "stopped")
    return absl::FailedPreconditionError("container not running");
  if (status != "paused")
    return absl::FailedPreconditionError("container not paused");
  control::Request req;
  req.mutable_resume();
  if (auto s = Call(g, id, req); !s.ok()) return s;
  state->status = "running";
  return SaveState(g.root, *state);
}

absl::StatusOr<int> ExitStatus(const Globals& g, const std::string& id) {
  std::ifstream f(ContainerDir(g.root, id) + "/" + kExitStatusFile);
  int status = -1;
  if (!(f >> status) || status < 0)
    return absl::FailedPreconditionError("container not running");
  return status;
}

absl::StatusOr<control::Response> Query(const Globals& g,
                                        const std::string& id,
                                        const control::Request& req) {
  if (auto s = ValidateId(id); !s.ok()) return s;
  auto state = LoadState(g.root, id);
  if (!state.ok()) return state.status();
  if (CurrentStatus(*state) == "stopped")
    return absl::FailedPreconditionError("container not running");
  return CallControl(g, id, req);
}

absl::Status Delete(const Globals& g, const std::string& id, bool force) {
  if (auto s = ValidateId(id); !s.ok()) return s;
  const std::string dir = ContainerDir(g.root, id);
  auto state = LoadState(g.root, id);
  if (!state.ok()) {
    struct stat st;
    // A create killed before it saved any state: only the dir is left.
    if (force && state.status().code() == absl::StatusCode::kNotFound &&
        stat(dir.c_str(), &st) == 0) {
      RemoveDir(dir);
      return absl::OkStatus();
    }
    return state.status();
  }
  const std::string status = CurrentStatus(*state);
  if ((status == "running" || status == "paused") && !force)
    return absl::FailedPreconditionError("cannot delete container " + id +
                                         " that is not stopped: " + status);
  if (status == "creating" && !force)
    return absl::FailedPreconditionError(
        "cannot delete container " + id +
        " that is being created (--force kills it)");
  // A created container is killed, as runc does.
  if (auto s = KillAndWait(state->pid, state->pid_start); !s.ok()) return s;
  if (auto s = KillAndWait(state->gofer, state->gofer_start); !s.ok()) return s;
  RemoveCgroup(dir + "/" + kCgroupRecord);
  // runtime-spec 1.0.2: a failed poststop hook is a warning.
  if (auto s = RunHooks("poststop", LoadHooks(g, id).poststop,
                        StateJson(*state, "stopped"));
      !s.ok())
    Warn(g, std::string(s.message()));
  RemoveDir(dir);
  return absl::OkStatus();
}

absl::StatusOr<int> ParseSignal(const std::string& s) {
  static const auto* names = new std::map<std::string, int>{
      {"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT},
      {"ILL", SIGILL},   {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},
      {"IOT", SIGIOT},   {"BUS", SIGBUS},       {"FPE", SIGFPE},
      {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
      {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},
      {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},
      {"CONT", SIGCONT}, {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},
      {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
      {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM},
      {"PROF", SIGPROF}, {"WINCH", SIGWINCH},   {"IO", SIGIO},
      {"POLL", SIGPOLL}, {"PWR", SIGPWR},       {"SYS", SIGSYS}};
  int n = 0;
  if (absl::SimpleAtoi(s, &n)) {
    if (n >= 1 && n <= 64) return n;
  } else {
    std::string name = absl::AsciiStrToUpper(s);
    if (name.starts_with("SIG")) name = name.substr(3);
    if (auto it = names->find(name); it != names->end()) return it->second;
  }
  return absl::InvalidArgumentError("unknown signal \"" + s + "\"");
}

}  // namespace runsc::container
