// ImportHostFd: the host fds a sandbox starts with (stdin, stdout, stderr)
// as open descriptions. Unlike host_fs.cc these are used as they are,
// offset and all, since the host fd may be shared with whoever started us.
#include <asm/termbits.h>  // the kernel's 36-byte termios, not glibc's
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/unique_fd.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/host_io.h"
#include "sentry/vfs/vfs.h"

namespace vfs {
namespace {

// Asks the host tty for a T and copies it to the application at `arg`.
// The host answers first, so a non-tty is ENOTTY before any copy.
template <class T>
base::Result<uint64_t> ForwardGetIoctl(int fd, kernel::Task& task, uint32_t cmd,
                                       uint64_t arg) {
  T value{};
  if (::ioctl(fd, cmd, &value) != 0) return base::Err(errno);
  TRY(task.mm().CopyOut(arg, &value, sizeof value));
  return 0;
}

class HostFdDescription : public FileDescription {
 public:
  HostFdDescription(int flags, base::UniqueFd fd, std::string name,
                    bool regular)
      : FileDescription(flags),
        fd_(std::move(fd)),
        name_(std::move(name)),
        regular_(regular) {}

  // TODO: these block the task's host thread in the host kernel (a read
  // of a terminal waits there); a host fd poller would let the task wait
  // on a sentry queue, interruptible by signals.
  base::Result<size_t> Read(std::span<const iovec> dst) override {
    return HostIo(HostIoOp::kRead, fd_.get(), dst, -1);
  }
  base::Result<size_t> Write(std::span<const iovec> src) override {
    return HostIo(HostIoOp::kWrite, fd_.get(), src, -1);
  }
  base::Result<size_t> PRead(std::span<const iovec> dst,
                             int64_t offset) override {
    if (offset < 0) return base::Err(EINVAL);
    return HostIo(HostIoOp::kRead, fd_.get(), dst, offset);
  }
  base::Result<size_t> PWrite(std::span<const iovec> src,
                              int64_t offset) override {
    if (offset < 0) return base::Err(EINVAL);
    return HostIo(HostIoOp::kWrite, fd_.get(), src, offset);
  }
  base::Result<int64_t> Seek(int64_t offset, int whence) override {
    const off_t r = ::lseek(fd_.get(), offset, whence);  // ESPIPE for pipes
    if (r < 0) return base::Err(errno);
    return r;
  }
  base::Result<struct stat> Stat() override {
    struct stat st;
    if (::fstat(fd_.get(), &st) != 0) return base::Err(errno);
    return st;
  }
  base::Result<uint64_t> Ioctl(kernel::Task& task, uint32_t cmd,
                               uint64_t arg) override {
    switch (cmd) {
      case TCGETS:
        return ForwardGetIoctl<struct termios>(fd_.get(), task, cmd, arg);
      case TIOCGWINSZ:
        return ForwardGetIoctl<struct winsize>(fd_.get(), task, cmd, arg);
      default:
        return base::Err(ENOTTY);
    }
  }
  MmapKind mmap_kind() const override {
    return regular_ ? MmapKind::kFile : MmapKind::kNotMappable;
  }
  std::string path() const override { return name_; }

 private:
  const base::UniqueFd fd_;
  const std::string name_;
  const bool regular_;
};

}  // namespace

std::shared_ptr<FileDescription> ImportHostFd(int host_fd, int flags,
                                              std::string name) {
  struct stat st;
  const bool regular = ::fstat(host_fd, &st) == 0 && S_ISREG(st.st_mode);
  return std::make_shared<HostFdDescription>(flags, base::UniqueFd(host_fd),
                                             std::move(name), regular);
}

}  // namespace vfs
