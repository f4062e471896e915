#include "runsc/cli.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <functional>
#include <tuple>
#include <set>
#include <string>
#include <vector>

#include "runsc/cmd/commands.h"
#include "runsc/oci/spec.h"

namespace runsc {
namespace {

constexpr char kVersion[] = "0.1.0";

// The global flags that take a value, for finding the verb.
const std::set<std::string> kGlobalWithValue = {"--root",       "--log",
                                                "--log-format", "--debug-log",
                                                "--platform",   "--network"};

// Every long flag name the app knows ("--bundle"), in any verb.
void LongNames(const CLI::App& app, std::set<std::string>* out) {
  for (const CLI::Option* o : app.get_options()) {
    for (const std::string& n : o->get_lnames()) out->insert("--" + n);
  }
  for (const CLI::App* sub : app.get_subcommands({})) LongNames(*sub, out);
}

// "-bundle" and "-bundle=x" become "--bundle", "--bundle=x" for the names
// the app knows; single letters and everything else stay as they are.
std::string LongForm(const std::string& arg,
                     const std::set<std::string>& known) {
  if (arg.size() < 3 || arg[0] != '-' || arg[1] == '-') return arg;
  const std::string name = "-" + arg.substr(0, arg.find('='));
  return known.count(name) ? "-" + arg : arg;
}

}  // namespace

int RunCli(int argc, char** argv) {
  Globals g;
  CLI::App app{"runsc: runs containers in a user-space kernel sandbox",
               "runsc"};
  app.set_version_flag("-v,--version",
                       std::string("runsc version ") + kVersion +
                           "\ncommit: unknown\nspec: " + oci::kVersion);
  app.add_option("--root", g.root, "directory for container state")
      ->capture_default_str();
  app.add_option("--log", g.log,
                 "file for errors, as the runc shims read them");
  app.add_option("--log-format", g.log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--debug", g.debug, "debug logging in the sandbox");
  app.add_option("--debug-log", g.debug_log, "file for the sandbox's log");
  app.add_flag("--strace", g.strace, "log the application's syscalls");
  app.add_option("--platform", g.platform, "systrap or ptrace")
      ->check(CLI::IsMember({"systrap", "ptrace"}));
  app.add_option("--network", g.network, "sandbox, host or none (accepted)")
      ->check(CLI::IsMember({"sandbox", "host", "none"}));
  app.add_flag("--systemd-cgroup", g.systemd_cgroup, "accepted; no effect yet");
  app.require_subcommand(1);

  // Each verb: its CLI11 subcommand and what runs it.
  std::vector<std::pair<CLI::App*, std::function<int()>>> verbs;
  auto verb = [&](const char* name, const char* help, std::function<int()> fn) {
    CLI::App* sub = app.add_subcommand(name, help);
    sub->fallthrough();  // global flags after the verb too
    verbs.emplace_back(sub, std::move(fn));
    return sub;
  };

  DoFlags d;
  CLI::App* do_cmd =
      verb("do", "run a command in a new sandbox: do [flags] -- CMD ARGS",
           [&] { return Do(g, d); });
  do_cmd->fallthrough(false);
  do_cmd->prefix_command();
  do_cmd->add_option("--platform", d.platform, "systrap or ptrace");
  do_cmd->add_option("--debug-log", d.debug_log, "file for the sandbox's log");
  do_cmd->add_option("--root-dir", d.root_dir,
                     "the sandbox's root (default /)");
  std::string do_root;  // accepted as before, unused
  do_cmd->add_option("--root", do_root, "accepted; --root-dir sets the root");
  do_cmd->add_option("--network", d.network, "accepted");
  do_cmd->add_option("--pids-limit", d.pids_limit, "most tasks");
  do_cmd->add_flag("--strace", d.strace, "log the syscalls");
  do_cmd->add_flag("--debug", d.debug, "debug logging");
  do_cmd->add_flag("--force-overlay", d.force_overlay, "accepted");
  do_cmd->add_flag("-t,--tty", d.tty, "a terminal for the command");
  do_cmd->add_flag("--systrap-patch", d.systrap_patch,
                   "patch syscall sites (systrap)");

  BootFlags b;
  CLI::App* boot = verb("boot", "", [&] { return Boot(b); });
  boot->fallthrough(false);
  boot->add_option("--config-fd", b.config_fd)->required();
  boot->add_option("--gofer-fd", b.gofer_fd);
  boot->add_option("--control-fd", b.control_fd);
  boot->add_option("--ready-fd", b.ready_fd);
  boot->add_option("--debug-log", b.debug_log);
  boot->add_flag("--debug", b.debug);

  GoferFlags gf;
  CLI::App* gofer = verb("gofer", "", [&] { return Gofer(gf); });
  gofer->fallthrough(false);
  gofer->add_option("--root", gf.root);  // Gofer() explains what is missing
  gofer->add_option("--sock-fd", gf.sock_fd);
  gofer->add_option("--mounts", gf.mounts);
  gofer->add_option("--isolation", gf.isolation);
  gofer->add_option("--workers", gf.workers);
  gofer->add_flag("--read-write", gf.read_write);

  std::string format = "table";
  CLI::App* sys = verb("syscalls", "list the syscalls the sandbox supports",
                       [&] { return Syscalls(format); });
  sys->add_option("--format", format, "table or markdown");

  CreateFlags c;
  bool ignored = false;
  int preserve_fds = 0;
  auto create_flags = [&](CLI::App* sub) {
    sub->add_option("id", c.id, "container id")->required();
    sub->add_option("-b,--bundle", c.bundle, "the bundle directory")
        ->capture_default_str();
    sub->add_option("--pid-file", c.pid_file, "file for the sandbox's pid");
    sub->add_option("--console-socket", c.console_socket,
                    "unix socket that gets the master of the terminal "
                    "(process.terminal)");
    sub->add_flag("--no-pivot,--no-new-keyring", ignored, "accepted");
    sub->add_option("--preserve-fds", preserve_fds,
                    "accepted; none are passed");
  };
  create_flags(verb("create", "create a container (runs nothing until start)",
                    [&] { return Create(g, c); }));
  bool detach = false;
  CLI::App* run = verb("run", "create, start and wait for a container", [&] {
    if (detach) {
      PrintError("run --detach is not supported yet: use create and start");
      return 1;
    }
    return Run(g, c);
  });
  create_flags(run);
  run->add_flag("-d,--detach", detach, "not supported yet");

  std::string id;
  verb("start", "run the program of a created container",
       [&] { return Start(g, id); })
      ->add_option("id", id)
      ->required();
  verb("state", "print a container's state as JSON",
       [&] { return State(g, id); })
      ->add_option("id", id)
      ->required();

  std::string signal = "TERM";
  bool all = false;
  CLI::App* kill = verb("kill", "send a signal to a container",
                        [&] { return Kill(g, id, signal, all); });
  kill->add_option("id", id)->required();
  kill->add_option("signal", signal, "number or name")->capture_default_str();
  kill->add_flag("-a,--all", all, "to every process of the container");

  bool force = false;
  CLI::App* del = verb("delete", "remove a container",
                       [&] { return Delete(g, id, force); });
  del->add_option("id", id)->required();
  del->add_flag("-f,--force", force, "kill it first if it runs");

  std::string list_format = "table";
  bool quiet = false;
  CLI::App* list = verb("list", "list containers",
                        [&] { return List(g, list_format, quiet); });
  list->add_option("-f,--format", list_format, "table or json");
  list->add_flag("-q,--quiet", quiet, "ids only");

  ExecFlags ex;
  CLI::App* exec = verb(
      "exec", "run a new process in a running container: exec [flags] ID CMD ARGS",
      [&] { return Exec(g, ex); });
  exec->fallthrough(false);
  exec->prefix_command();  // CMD's own flags are not ours
  exec->add_option("id", ex.id, "container id")->required();
  exec->add_option("-p,--process", ex.process,
                   "a process.json instead of CMD ARGS");
  exec->add_flag("-d,--detach", ex.detach,
                 "return once it runs; a child of runsc waits for it");
  exec->add_option("--pid-file", ex.pid_file,
                   "file for the pid of the host process that lives as long "
                   "as it and exits with its status");
  exec->add_option("--cwd", ex.cwd, "working directory");
  exec->add_option("-e,--env", ex.env, "KEY=VALUE, added to the environment");
  exec->add_option("-u,--user", ex.user, "uid[:gid]");
  exec->add_flag("-t,--tty", ex.tty, "a terminal (with --console-socket)");
  exec->add_option("--console-socket", ex.console_socket,
                   "unix socket that gets the master of the terminal");
  exec->add_flag("--no-new-privs,--ignore-paused", ignored, "accepted");

  verb("pause", "stop every process of a container",
       [&] { return Pause(g, id); })
      ->add_option("id", id)
      ->required();
  verb("resume", "let a paused container's processes go on",
       [&] { return Resume(g, id); })
      ->add_option("id", id)
      ->required();
  std::string ps_format = "table";
  CLI::App* ps = verb("ps", "list a container's processes (sandbox pids)",
                      [&] { return Ps(g, id, ps_format); });
  ps->add_option("id", id)->required();
  ps->add_option("-f,--format", ps_format, "table or json")
      ->capture_default_str();
  verb("wait", "wait for a container's init; exit with its status",
       [&] { return Wait(g, id); })
      ->add_option("id", id)
      ->required();
  bool stats = false;
  std::string interval = "5s";
  CLI::App* events =
      verb("events", "the container's usage: once (--stats) or every interval",
           [&] { return Events(g, id, stats, interval); });
  events->add_option("id", id)->required();
  events->add_flag("--stats", stats, "once, then exit");
  events->add_option("--interval", interval, "between two (e.g. 5s)")
      ->capture_default_str();
  UpdateFlags up;
  CLI::App* update = verb("update", "change a container's resource limits",
                          [&] { return Update(g, up); });
  update->add_option("id", up.id)->required();
  update->add_option("-r,--resources", up.resources,
                     "LinuxResources JSON: a file, or - for stdin");
  update->add_option("--pids-limit", up.pids_limit, "most tasks");

  std::string bundle = ".";
  CLI::App* spec =
      verb("spec", "write a default config.json", [&] { return Spec(bundle); });
  spec->add_option("-b,--bundle", bundle)->capture_default_str();
  spec->add_flag("--rootless", ignored, "accepted");

  InstallFlags inst;
  for (auto [name, help, fn] :
       {std::tuple{"install", "add this runsc to Docker's daemon.json", &Install},
        {"uninstall", "remove it from Docker's daemon.json", &Uninstall}}) {
    CLI::App* sub = verb(name, help, [&g, &inst, fn] { return fn(g, inst); });
    sub->add_option("--runtime", inst.runtime, "the runtime's name in Docker")
        ->capture_default_str();
    sub->add_option("--config-file", inst.config_file, "Docker's daemon.json")
        ->capture_default_str();
  }

  verb("features", "print what runsc supports, as JSON",
       [&] { return Features(); });
  for (const char* name : {"checkpoint", "restore"}) {
    CLI::App* sub = verb(name, "not supported",
                         [&, name] { return Checkpoint(g, name, id); });
    sub->add_option("id", id);
    sub->allow_extras();
  }
  boot->group("");
  gofer->group("");

  // The verb is the first word that is neither a global flag nor its
  // value. `do` takes everything after "--" (or after its flags) as the
  // command, untouched.
  std::vector<std::string> args(argv + 1, argv + argc);
  size_t verb_at = 0;
  while (verb_at < args.size() && args[verb_at].starts_with("-")) {
    std::string a = args[verb_at];
    if (a.size() > 1 && a[1] != '-') a = "-" + a;
    verb_at += kGlobalWithValue.count(a) ? 2 : 1;
  }
  if (verb_at < args.size()) {
    const std::string& v = args[verb_at];
    if (std::none_of(verbs.begin(), verbs.end(),
                     [&](const auto& e) { return e.first->get_name() == v; })) {
      PrintError("unknown command \"" + v + "\" (runsc --help lists them)");
      return 125;
    }
    if (v == "do") {
      auto dash = std::find(args.begin() + verb_at, args.end(), "--");
      if (dash != args.end()) {
        d.command.assign(dash + 1, args.end());
        args.erase(dash, args.end());
      }
    }
  }
  std::set<std::string> known;
  LongNames(app, &known);
  // Not in do's command, which may have flags of its own, nor in exec's
  // (after its first word that is not a flag: ID, or a flag's value).
  const bool is_do = verb_at < args.size() && args[verb_at] == "do";
  const bool is_exec = verb_at < args.size() && args[verb_at] == "exec";
  for (size_t i = 0; i < args.size() && (!is_do || i < verb_at); ++i) {
    if (is_exec && i > verb_at && !args[i].starts_with("-")) break;
    args[i] = LongForm(args[i], known);
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes them reversed
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    if (dynamic_cast<const CLI::ExtrasError*>(&e))
      msg = "unknown flag or argument: " + msg;
    PrintError(msg);
    return 125;
  }
  if (exec->parsed()) ex.command = exec->remaining();
  if (do_cmd->parsed()) {
    // Words CLI11 did not take (an unknown flag, or the command when there
    // was no "--") come first; Do refuses a leading "-".
    std::vector<std::string> rest = do_cmd->remaining();
    if (!rest.empty() && !d.command.empty()) rest.push_back("--");
    d.command.insert(d.command.begin(), rest.begin(), rest.end());
  }
  for (auto& [sub, fn] : verbs)
    if (sub->parsed()) return fn();
  return 125;
}

}  // namespace runsc
