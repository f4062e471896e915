#include "sentry/tty/console.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "absl/synchronization/mutex.h"
#include "base/fd_io.h"
#include "sentry/kernel/kernel.h"
#include "sentry/tty/devpts.h"
#include "sentry/tty/job_control.h"

namespace tty {
// Wakes the relay threads on any change of the terminal.
class Console::Waker : public waiter::Entry {
 public:
  Waker() : Entry(~uint64_t{0}) {}
  void Notify(uint64_t events) override {
    absl::MutexLock lock(&mu_);
    ++changes_;
  }
  uint64_t changes() {
    absl::MutexLock lock(&mu_);
    return changes_;
  }
  void WaitPast(uint64_t seen, const std::atomic<bool>& stopping) {
    absl::MutexLock lock(&mu_);
    auto changed = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return changes_ != seen || stopping.load();
    };
    mu_.Await(absl::Condition(&changed));
  }

 private:
  absl::Mutex mu_;
  uint64_t changes_ ABSL_GUARDED_BY(mu_) = 0;
};

base::Result<std::unique_ptr<Console>> Console::Start(
    kernel::Kernel& k, int host_fd, uint32_t uid,
    std::vector<std::shared_ptr<vfs::FileDescription>>* stdio, int session) {
  DevPtsFs* devpts = k.vfs().devpts();
  if (devpts == nullptr) return base::Err(ENODEV);
  DevPtsFs::Console c = TRY(devpts->NewConsole(&k, uid));
  stdio->assign(3, c.replica);
  auto console = std::unique_ptr<Console>(
      new Console(k, host_fd, c.terminal, c.master));
  // Init (pid 1) leads session 1 and its group 1: its terminal from the
  // start, as runc's console.
  if (session > 0) console->AttachSession(session);
  return console;
}

void Console::AttachSession(int sid) {
  term_->SetSession(sid, sid);
  kernel_.terminals().Set(sid, term_);
}

Console::Console(kernel::Kernel& k, int host_fd, std::shared_ptr<Terminal> term,
                 std::shared_ptr<vfs::FileDescription> master)
    : kernel_(k),
      host_fd_(host_fd),
      term_(std::move(term)),
      master_(std::move(master)),
      raw_(isatty(host_fd) == 1),
      waker_(std::make_unique<Waker>()) {
  term_->master_queue().Register(waker_.get());
  if (raw_) {
    SyncWinsize();  // process.consoleSize, set by runsc on the master
    if (pipe2(stop_pipe_, O_CLOEXEC) != 0) stop_pipe_[0] = stop_pipe_[1] = -1;
    input_ = std::thread([this] { RelayRawInput(); });
  } else {
    input_ = std::thread([this] { RelayInput(); });
  }
  output_ = std::thread([this] { RelayOutput(); });
}

Console::~Console() {
  stopping_ = true;
  if (raw_) {
    if (stop_pipe_[1] >= 0) (void)!write(stop_pipe_[1], "", 1);
  } else {
    shutdown(host_fd_, SHUT_RD);  // ends the input thread's read
  }
  term_->master_queue().Notify(EPOLLIN);
  input_.join();
  output_.join();
  term_->master_queue().Unregister(waker_.get());
  close(host_fd_);
  for (int fd : stop_pipe_)
    if (fd >= 0) close(fd);
}

void Console::SyncWinsize() {
  struct winsize ws {};
  if (ioctl(host_fd_, TIOCGWINSZ, &ws) != 0) return;
  if (ws.ws_row == winsize_.ws_row && ws.ws_col == winsize_.ws_col &&
      ws.ws_xpixel == winsize_.ws_xpixel && ws.ws_ypixel == winsize_.ws_ypixel)
    return;
  winsize_ = ws;
  Signals s;
  term_->SetWinsize(ws, &s);
  SendSignals(kernel_, s);
}

void Console::WriteMaster(const uint8_t* data, size_t len) {
  size_t done = 0;
  while (done < len && !stopping_) {
    const uint64_t seen = waker_->changes();
    iovec v{const_cast<uint8_t*>(data) + done, len - done};
    Signals s;
    auto n = term_->MasterWrite(std::span(&v, 1), &s);
    SendSignals(kernel_, s);
    if (n) {
      done += *n;
      continue;
    }
    waker_->WaitPast(seen, stopping_);  // the input queue is full
  }
}

void Console::RelayRawInput() {
  std::vector<uint8_t> buf(4096);
  for (;;) {
    pollfd p[2] = {{.fd = host_fd_, .events = POLLIN},
                   {.fd = stop_pipe_[0], .events = POLLIN}};
    int r = poll(p, stop_pipe_[0] >= 0 ? 2 : 1, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || stopping_ || (p[1].revents & POLLIN)) return;
    ssize_t n = read(host_fd_, buf.data(), buf.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    // EIO: the master (the shim's) was closed.
    if (n <= 0) return;
    SyncWinsize();
    WriteMaster(buf.data(), static_cast<size_t>(n));
  }
}

void Console::RelayInput() {
  for (;;) {
    char type;
    if (!base::ReadFull(host_fd_, &type, 1)) return;
    if (type == kConsoleWinsize) {
      struct winsize ws;
      if (!base::ReadFull(host_fd_, &ws, sizeof ws)) return;
      Signals s;
      term_->SetWinsize(ws, &s);
      SendSignals(kernel_, s);
      continue;
    }
    uint8_t len[2];
    if (type != kConsoleData || !base::ReadFull(host_fd_, len, 2)) return;
    std::vector<uint8_t> data(len[0] | len[1] << 8);
    if (!base::ReadFull(host_fd_, data.data(), data.size())) return;
    WriteMaster(data.data(), data.size());
  }
}

void Console::RelayOutput() {
  std::vector<uint8_t> buf(4096);
  for (;;) {
    const uint64_t seen = waker_->changes();
    iovec v{buf.data(), buf.size()};
    auto n = term_->MasterRead(std::span(&v, 1));
    if (n && *n > 0) {
      if (!base::WriteFull(host_fd_, buf.data(), *n)) return;
      continue;
    }
    if (stopping_) return;  // everything written
    waker_->WaitPast(seen, stopping_);
  }
}

}  // namespace tty
