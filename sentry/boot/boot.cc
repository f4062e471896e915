#include "sentry/boot/boot.h"

#include <fcntl.h>
#include <unistd.h>

#include "base/log.h"
#include "sentry/kernel/kernel.h"
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

}  // namespace

int Run(const Config& config) {
  std::string why;
  kernel::Kernel::Options options{
      .platform = config.platform,
      .syscalls = &syscalls::Table(),
      .strace = config.strace,
      .hostname = config.hostname,
      .host_root = config.root,
  };
  auto k = kernel::Kernel::Create(options, &why);
  if (!k) {
    Complain(why + ": " + std::string(base::ErrnoName(k.error().value)));
    return 125;
  }
  kernel::Credentials creds;
  creds.ruid = creds.euid = creds.suid = creds.fsuid = config.uid;
  creds.rgid = creds.egid = creds.sgid = creds.fsgid = config.gid;
  kernel::Kernel::InitProcess init{
      .argv = config.argv,
      .envp = config.env,
      .cwd = config.cwd,
      .stdio = ImportStdio(),
      .creds = creds,
  };
  if (auto r = (*k)->StartInit(std::move(init), &why); !r) {
    Complain(why);
    // As a shell: 127 when the command is not found, 126 when it is found
    // but cannot be executed.
    return r.error().value == ENOENT ? 127 : 126;
  }
  kernel::ExitStatus status = (*k)->WaitInit();
  LOG(Info) << "init exited: code " << status.code << " signal "
            << status.signal;
  return status.ShellStatus();
}

}  // namespace boot
