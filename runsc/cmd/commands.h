// The runsc verbs, one file each. runsc/cli.cc parses the command line
// (CLI11) into these structs and calls the verb, which returns the process
// exit status. Only cli.cc includes CLI11: it costs ~20 s to compile.
#ifndef RUNSC_CMD_COMMANDS_H_
#define RUNSC_CMD_COMMANDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "runsc/globals.h"

namespace runsc {

struct DoFlags {
  std::string platform;  // "" for the global --platform
  std::string debug_log;
  std::string root_dir;
  std::string network;
  std::string pids_limit;
  bool strace = false, debug = false, tty = false, systrap_patch = false;
  bool force_overlay = false;
  std::vector<std::string> command;
};
int Do(const Globals& g, const DoFlags& flags);

struct BootFlags {
  int config_fd = -1, gofer_fd = -1, control_fd = -1, ready_fd = -1;
  std::string debug_log;
  bool debug = false;
};
int Boot(const BootFlags& flags);

struct GoferFlags {
  std::string root, mounts, isolation = "pivot";
  int sock_fd = -1, workers = 0;
  bool read_write = false;
};
int Gofer(const GoferFlags& flags);

int Syscalls(const std::string& format);

// The OCI verbs (runc's command line).
struct CreateFlags {
  std::string id, bundle = ".", pid_file, console_socket;
};
int Create(const Globals& g, const CreateFlags& flags);
int Run(const Globals& g, const CreateFlags& flags);
int Start(const Globals& g, const std::string& id);
int State(const Globals& g, const std::string& id);
int Kill(const Globals& g, const std::string& id, const std::string& signal,
         bool all);
int Delete(const Globals& g, const std::string& id, bool force);
int List(const Globals& g, const std::string& format, bool quiet);
int Spec(const std::string& bundle);
struct ExecFlags {
  std::string id, process, pid_file, cwd, user, console_socket;
  std::vector<std::string> env, command;
  bool detach = false, tty = false;
};
int Exec(const Globals& g, const ExecFlags& flags);
int Pause(const Globals& g, const std::string& id);
int Resume(const Globals& g, const std::string& id);
int Ps(const Globals& g, const std::string& id, const std::string& format);
int Wait(const Globals& g, const std::string& id);
int Events(const Globals& g, const std::string& id, bool stats,
           const std::string& interval);
struct UpdateFlags {
  std::string id, resources;
  int64_t pids_limit = 0;
};
int Update(const Globals& g, const UpdateFlags& flags);
int Features();
int Checkpoint(const Globals& g, const std::string& verb,
               const std::string& id);

struct InstallFlags {
  std::string runtime = "runsc";
  std::string config_file = "/etc/docker/daemon.json";
};
int Install(const Globals& g, const InstallFlags& flags);
int Uninstall(const Globals& g, const InstallFlags& flags);

// Prints "runsc: <msg>" to stderr.
void PrintError(const std::string& msg);

}  // namespace runsc

#endif  // RUNSC_CMD_COMMANDS_H_
