#include "platform/ptrace/zygote.h"

#include <cpuid.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "base/log.h"
#include "platform/ptrace/pidfd.h"
#include "platform/ptrace/retry.h"
#include "platform/ptrace/stub_abi.h"
#include "platform/ptrace/zygote_main.h"

// stub.S. Hidden, so that the references are PC-relative.
extern "C" {
__attribute__((visibility("hidden"))) extern const char ptrace_stub_start[];
__attribute__((visibility("hidden"))) extern const char ptrace_stub_end[];
__attribute__((
    visibility("hidden"))) extern const char ptrace_stub_zygote_entry[];
__attribute__((
    visibility("hidden"))) extern const char ptrace_stub_syscall_gadget[];
__attribute__((
    visibility("hidden"))) extern const char ptrace_stub_syscall_gadget_end[];
__attribute__((
    visibility("hidden"))) extern const char ptrace_stub_clone_gadget[];
__attribute__((
    visibility("hidden"))) extern const char ptrace_stub_clone_gadget_end[];
__attribute__((visibility("hidden"))) extern const char systrap_stub_handler[];
__attribute__((visibility("hidden"))) extern const char systrap_stub_restorer[];
__attribute__((visibility("hidden"))) extern const char systrap_stub_fastcall[];
__attribute__((
    visibility("hidden"))) extern const char systrap_stub_syscall_loop[];
__attribute__((
    visibility("hidden"))) extern const char systrap_stub_memfd_name[];
}

namespace platform::ptrace {
namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;
// The stub region goes at the top of the highest free 1 GiB slot below
// this address. A fixed place rather than wherever mmap(NULL) puts it
// (next to the sentry's libraries): the app can read the stub pages and
// infer MaxUserAddress, and must learn nothing of the sentry's layout.
constexpr uint64_t kTopSlotEnd = 0x7fff00000000;
constexpr int kMaxSlots = 64;

uint64_t StubOffset(const char* symbol) { return symbol - ptrace_stub_start; }

// The stub resets the FPU with XRSTOR: needs CPU and kernel support.
bool HaveXsave() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  return (ecx & bit_OSXSAVE) != 0;
}

// Threads of this process, or 0 if /proc is not there to say.
int CountThreads() {
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return 0;
  int n = 0;
  while (dirent* e = readdir(dir)) n += e->d_name[0] != '.';
  closedir(dir);
  return n;
}

base::Result<uint64_t> MapStubRegion() {
  for (int slot = 0; slot < kMaxSlots; ++slot) {
    const uint64_t want = kTopSlotEnd - slot * kGiB - STUB_REGION_SIZE;
    void* got = mmap(reinterpret_cast<void*>(want), STUB_REGION_SIZE,
                     PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (got == MAP_FAILED) {
      if (errno == EEXIST) continue;  // the sentry has something there
      return base::Err(errno);
    }
    if (reinterpret_cast<uint64_t>(got) == want) return want;
    // A kernel older than 4.17 took MAP_FIXED_NOREPLACE as a mere hint.
    CHECK(munmap(got, STUB_REGION_SIZE) == 0);
  }
  LOG(Error) << "ptrace platform: no free slot for the stub region";
  return base::Err(ENOMEM);
}

// Maps a fresh stub region, copies the stub code in and seals it r-x.
base::Result<StubLayout> LoadStub() {
  const uint64_t code_size = ptrace_stub_end - ptrace_stub_start;
  // Less than a page: the seccomp filter relies on it (zygote_main.cc).
  CHECK(code_size < STUB_CODE_SIZE);
  const uint64_t region = TRY(MapStubRegion());
  void* code = reinterpret_cast<void*>(region);
  memcpy(code, ptrace_stub_start, code_size);
  if (mprotect(code, STUB_CODE_SIZE, PROT_READ | PROT_EXEC) != 0) {
    const int err = errno;
    CHECK(munmap(code, STUB_REGION_SIZE) == 0);
    return base::Err(err);
  }
  StubLayout layout;
  layout.region_start = region;
  layout.region_end = region + STUB_REGION_SIZE;
  layout.code_start = region;
  layout.code_end = region + code_size;
  layout.syscall_gadget = region + StubOffset(ptrace_stub_syscall_gadget);
  layout.syscall_gadget_end =
      region + StubOffset(ptrace_stub_syscall_gadget_end);
  layout.clone_gadget = region + StubOffset(ptrace_stub_clone_gadget);
  layout.clone_gadget_end = region + StubOffset(ptrace_stub_clone_gadget_end);
  layout.systrap_handler = region + StubOffset(systrap_stub_handler);
  layout.systrap_restorer = region + StubOffset(systrap_stub_restorer);
  layout.systrap_syscall_loop = region + StubOffset(systrap_stub_syscall_loop);
  layout.systrap_memfd_name = region + StubOffset(systrap_stub_memfd_name);
  layout.systrap_fastcall = region + StubOffset(systrap_stub_fastcall);
  return layout;
}

}  // namespace

base::Result<std::unique_ptr<Zygote>> Zygote::Start(int memory_fd,
                                                    bool systrap) {
  if (!HaveXsave()) {
    LOG(Error) << "ptrace platform: the CPU or kernel lacks XSAVE";
    return base::Err(ENOTSUP);
  }
  if (const int threads = CountThreads(); threads > 1) {
    LOG(Error) << "ptrace platform: must start single-threaded, found "
               << threads << " threads";
    return base::Err(EINVAL);
  }
  const StubLayout layout = TRY(LoadStub());
  void* region = reinterpret_cast<void*>(layout.region_start);
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    const int err = errno;
    CHECK(munmap(region, STUB_REGION_SIZE) == 0);
    return base::Err(err);
  }
  base::UniqueFd ours(fds[0]);
  base::UniqueFd theirs(fds[1]);

  ZygoteArgs args;
  args.parent = getpid();
  args.memory_fd = memory_fd;
  args.socket_fd = theirs.get();
  args.region_start = layout.region_start;
  args.code_end = layout.code_end;
  args.entry = layout.region_start + StubOffset(ptrace_stub_zygote_entry);
  if (systrap) {
    args.systrap_handler = layout.systrap_handler;
    args.systrap_restorer = layout.systrap_restorer;
  }
  const pid_t pid = fork();
  if (pid == 0) ZygoteMain(args);
  const int fork_errno = errno;
  // The sentry itself has no use for the region; the zygote has its copy.
  CHECK(munmap(region, STUB_REGION_SIZE) == 0);
  if (pid < 0) return base::Err(fork_errno);
  theirs.Reset();

  // Not reaped yet, so the pid still names our child.
  base::UniqueFd pidfd(PidfdOpen(pid));
  if (!pidfd) {
    const int err = errno;
    CHECK(kill(pid, SIGKILL) == 0);
    RetryEintr([&] { return waitpid(pid, nullptr, 0); });
    return base::Err(err);
  }
  std::unique_ptr<Zygote> zygote(
      new Zygote(std::move(ours), std::move(pidfd), pid, layout));
  TRY(zygote->AwaitReady());
  LOG(Info) << "ptrace zygote " << pid << " ready, stub region at 0x"
            << std::hex << layout.region_start;
  return zygote;
}

Zygote::Zygote(base::UniqueFd socket, base::UniqueFd pidfd, pid_t pid,
               const StubLayout& layout)
    : socket_(std::move(socket)),
      pidfd_(std::move(pidfd)),
      pid_(pid),
      layout_(layout) {}

Zygote::~Zygote() { Stop(); }

base::Result<void> Zygote::AwaitReady() {
  char byte = 0;
  const ssize_t n =
      RetryEintr([&] { return recv(socket_.get(), &byte, 1, 0); });
  if (n == 1 && byte == STUB_READY_BYTE) return {};
  const int status = Stop();
  if (WIFEXITED(status)) {
    LOG(Error) << "ptrace zygote failed to start: "
               << DescribeZygoteExit(WEXITSTATUS(status)) << " (exit "
               << WEXITSTATUS(status) << ")";
  } else {
    LOG(Error) << "ptrace zygote failed to start, wait status " << status;
  }
  return base::Err(EIO);
}

int Zygote::Stop() {
  if (pid_ <= 0) return 0;
  socket_.Reset();  // EOF: the zygote exits by itself...
  // ... unless someone else holds a copy of our end (a fork of the sentry).
  if (PidfdSendSignal(pidfd_.get(), SIGKILL) != 0) {
    LOG(Warning) << "ptrace zygote: kill: " << base::ErrnoName(errno);
  }
  int status = 0;
  if (RetryEintr([&] { return waitpid(pid_, &status, 0); }) != pid_) {
    // ECHILD: the sentry ignores SIGCHLD, so the kernel reaped it.
    LOG(Warning) << "ptrace zygote: waitpid: " << base::ErrnoName(errno);
  }
  pid_ = -1;
  return status;
}

base::Result<pid_t> Zygote::NewStub() {
  std::lock_guard lock(mu_);
  if (!socket_) return base::Err(EPIPE);
  const char request = 1;
  ssize_t n = RetryEintr(
      [&] { return send(socket_.get(), &request, 1, MSG_NOSIGNAL); });
  if (n != 1) return base::Err(n < 0 ? errno : EPIPE);
  int32_t reply = 0;
  n = RetryEintr([&] { return recv(socket_.get(), &reply, sizeof(reply), 0); });
  if (n != sizeof(reply)) {
    LOG(Error) << "ptrace zygote " << pid_ << " is gone";
    return base::Err(n < 0 ? errno : EPIPE);
  }
  if (reply < 0) return base::Err(-reply);  // pipe2 or fork failed
  return reply;
}

}  // namespace platform::ptrace
