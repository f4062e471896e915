#include "tests/util/run_command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

extern char** environ;

namespace testing_util {

std::string RunscPath() {
  const char* p = getenv("RUNSC_PATH");
  return p ? p : RUNSC_PATH;
}

CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::string& input) {
  CommandResult res;
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
    return res;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    close(err[0]);
    res.err = "posix_spawn failed";
    return res;
  }
  // Feed stdin and drain both outputs together so no pipe fills up.
  signal(SIGPIPE, SIG_IGN);
  size_t written = 0;
  if (input.empty()) {
    close(in[1]);
    in[1] = -1;
  }
  pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0},
                   {in[1], POLLOUT, 0}};
  int open_outputs = 2;
  while (open_outputs > 0) {
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (!fds[i].revents) continue;
      char buf[4096];
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        (i == 0 ? res.out : res.err).append(buf, n);
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_outputs;
      }
    }
    if (fds[2].fd >= 0 && fds[2].revents) {
      ssize_t n = write(in[1], input.data() + written, input.size() - written);
      if (n > 0) written += n;
      if (n <= 0 || written == input.size()) {
        close(in[1]);
        fds[2].fd = -1;
      }
    }
  }
  if (fds[2].fd >= 0) close(fds[2].fd);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  res.exit_code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return res;
}

CommandResult RunSandboxed(const std::vector<std::string>& argv,
                           const std::vector<std::string>& flags,
                           const std::string& input) {
  std::vector<std::string> full = {RunscPath(), "do"};
  full.insert(full.end(), flags.begin(), flags.end());
  full.push_back("--");
  full.insert(full.end(), argv.begin(), argv.end());
  return RunCommand(full, input);
}

}  // namespace testing_util
