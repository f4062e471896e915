// ImportHostFd: the host fds a sandbox starts with (stdin, stdout, stderr)
// as open descriptions. Unlike host_fs.cc these are used as they are,
// offset and all, since the host fd may be shared with whoever started us.
//
// Pipes, sockets and terminals can make a host read or write wait. The
// task must not wait there, uninterruptibly, so I/O on them first asks the
// host (poll, zero timeout) whether it would block and answers EAGAIN if
// so; the syscall layer then waits on this file's queue, which the host
// poller (host_poller.h) notifies. The host fd's own O_NONBLOCK is left
// alone: its open file description is shared with whoever started us.
#include <asm/termbits.h>  // the kernel's 36-byte termios, not glibc's
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "base/log.h"
#include "base/unique_fd.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/file_size_limit.h"
#include "sentry/vfs/host_io.h"
#include "sentry/vfs/host_poller.h"
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

size_t TotalLength(std::span<const iovec> iov) {
  size_t n = 0;
  for (const iovec& v : iov) n += v.iov_len;
  return n;
}

// The first `max` bytes of `iov`.
std::vector<iovec> Prefix(std::span<const iovec> iov, size_t max) {
  std::vector<iovec> out;
  for (const iovec& v : iov) {
    if (max == 0) break;
    out.push_back({v.iov_base, std::min(v.iov_len, max)});
    max -= out.back().iov_len;
  }
  return out;
}

class HostFdDescription : public FileDescription {
 public:
  HostFdDescription(int flags, base::UniqueFd fd, std::string name, mode_t mode)
      : FileDescription(flags),
        fd_(std::move(fd)),
        name_(std::move(name)),
        regular_(S_ISREG(mode)),
        pollable_(S_ISFIFO(mode) || S_ISSOCK(mode) || S_ISCHR(mode)) {}

  base::Result<size_t> Read(std::span<const iovec> dst) override {
    if (pollable_ && TotalLength(dst) > 0 && !HostReady(POLLIN))
      return base::Err(EAGAIN);
    return HostIo(HostIoOp::kRead, fd_.get(), dst, -1);
  }
  base::Result<size_t> Write(std::span<const iovec> src) override {
    if (regular_) {
      std::vector<iovec> cut;
      TRY(CutToSizeLimit(src, -1, &cut));
      return HostIo(HostIoOp::kWrite, fd_.get(), cut, -1);
    }
    if (!pollable_ || TotalLength(src) == 0)
      return HostIo(HostIoOp::kWrite, fd_.get(), src, -1);
    if (!HostReady(POLLOUT)) return base::Err(EAGAIN);
    // A writable pipe has a free page and a writable socket far more, so
    // PIPE_BUF bytes go without waiting; more could wait for the reader.
    // The syscall layer writes the rest (syscalls/blocking.h). A terminal
    // may still hold us briefly if its output is stopped (^S).
    if (TotalLength(src) <= PIPE_BUF)
      return HostIo(HostIoOp::kWrite, fd_.get(), src, -1);
    return HostIo(HostIoOp::kWrite, fd_.get(), Prefix(src, PIPE_BUF), -1);
  }
  base::Result<size_t> PRead(std::span<const iovec> dst,
                             int64_t offset) override {
    if (offset < 0) return base::Err(EINVAL);
    return HostIo(HostIoOp::kRead, fd_.get(), dst, offset);
  }
  base::Result<size_t> PWrite(std::span<const iovec> src,
                              int64_t offset) override {
    if (offset < 0) return base::Err(EINVAL);
    if (regular_) {
      std::vector<iovec> cut;
      TRY(CutToSizeLimit(src, offset, &cut));
      return HostIo(HostIoOp::kWrite, fd_.get(), cut, offset);
    }
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
  uint64_t Readiness(uint64_t mask) override {
    if (!pollable_) return mask & kAlwaysReady;
    pollfd p{fd_.get(), static_cast<short>(mask & 0xffff), 0};
    while (::poll(&p, 1, 0) < 0) {
      if (errno != EINTR) return 0;
    }
    return p.revents & mask;
  }
  void EventRegister(waiter::Entry* e) override {
    queue_.Register(e);
    if (!pollable_) return;
    HostPoller* poller = HostPoller::Default();
    if (!poller) return;
    // EPERM: a file the host cannot poll (/dev/null), which the host
    // reports always ready, so there is nothing to wait for.
    if (auto r = poller->Watch(fd_.get(), &queue_);
        !r && r.error().value != EPERM)
      LOG(Warning) << name_ << ": host poller refused the fd: "
                   << base::ErrnoName(r.error().value);
  }
  // epoll_ctl takes what the host can wait for (not regular files).
  bool pollable() const override { return pollable_; }
  void EventUnregister(waiter::Entry* e) override {
    queue_.Unregister(e);
    if (!pollable_) return;
    if (HostPoller* poller = HostPoller::Default()) poller->Unwatch(fd_.get());
  }
  std::string path() const override { return name_; }

 private:
  // RLIMIT_FSIZE for a regular host file (stdout redirected to a file):
  // `*out` is `src` cut to end at the limit, from `offset` (-1: the host
  // file's offset, or its end with O_APPEND). Costs host calls only when
  // a limit is set.
  base::Result<void> CutToSizeLimit(std::span<const iovec> src, int64_t offset,
                                    std::vector<iovec>* out) {
    size_t n = TotalLength(src);
    if (n > 0 && CurrentFileSizeLimit() != RLIM_INFINITY) {
      if (offset < 0) {
        const int fl = ::fcntl(fd_.get(), F_GETFL);
        struct stat st;
        if (fl >= 0 && (fl & O_APPEND) && ::fstat(fd_.get(), &st) == 0) {
          offset = st.st_size;
        } else {
          offset = ::lseek(fd_.get(), 0, SEEK_CUR);
        }
        if (offset < 0) return base::Err(errno);
      }
      TRY(CheckWriteLimit(static_cast<uint64_t>(offset), &n));
    }
    *out = Prefix(src, n);
    return {};
  }

  // Whether the host would let `events` (or an error or hangup, which a
  // read or write must then report) through without waiting.
  bool HostReady(short events) const {
    pollfd p{fd_.get(), events, 0};
    while (::poll(&p, 1, 0) < 0) {
      if (errno != EINTR) return true;  // let the I/O report it
    }
    return p.revents != 0;
  }

  const base::UniqueFd fd_;
  const std::string name_;
  const bool regular_;
  // Pipes, sockets, terminals: I/O may wait (see the top of the file).
  const bool pollable_;
  waiter::Queue queue_;
};

}  // namespace

std::shared_ptr<FileDescription> ImportHostFd(int host_fd, int flags,
                                              std::string name) {
  struct stat st;
  const mode_t mode = ::fstat(host_fd, &st) == 0 ? st.st_mode : 0;
  return std::make_shared<HostFdDescription>(flags, base::UniqueFd(host_fd),
                                             std::move(name), mode);
}

}  // namespace vfs
