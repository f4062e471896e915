// Pipe capacity (F_GETPIPE_SZ/F_SETPIPE_SZ), splice(2), tee(2), vmsplice(2):
// data moved, offsets, blocking and O_NONBLOCK/SPLICE_F_NONBLOCK, signals,
// and the errors in Linux's order.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <atomic>
#include <string>

#include "cap_util.h"
#include "ipc_util.h"
#include "splice_util.h"
#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

constexpr int kPage = 4096;

TEST(PipeSizeTest, DefaultIs64KiBOnBothEnds) {
  Pipe p = MakePipe();
  EXPECT_THAT(fcntl(p.r.get(), F_GETPIPE_SZ), SyscallSucceedsWithValue(65536));
  EXPECT_THAT(fcntl(p.w.get(), F_GETPIPE_SZ), SyscallSucceedsWithValue(65536));
}

TEST(PipeSizeTest, RoundsUpToAPowerOfTwoOfPages) {
  Pipe p = MakePipe();
  EXPECT_THAT(fcntl(p.w.get(), F_SETPIPE_SZ, 0), SyscallSucceedsWithValue(kPage));
  EXPECT_THAT(fcntl(p.w.get(), F_SETPIPE_SZ, 1), SyscallSucceedsWithValue(kPage));
  EXPECT_THAT(fcntl(p.w.get(), F_SETPIPE_SZ, 3 * kPage),
              SyscallSucceedsWithValue(4 * kPage));
  EXPECT_THAT(fcntl(p.r.get(), F_GETPIPE_SZ), SyscallSucceedsWithValue(4 * kPage));
  EXPECT_THAT(fcntl(p.r.get(), F_SETPIPE_SZ, 0x80000001u),
              SyscallFailsWithErrno(EINVAL));
}

TEST(PipeSizeTest, CapacityLimitsWrites) {
  Pipe p = MakePipe(O_NONBLOCK);
  ASSERT_THAT(fcntl(p.w.get(), F_SETPIPE_SZ, kPage), SyscallSucceeds());
  std::string big(3 * kPage, 'x');
  EXPECT_THAT(write(p.w.get(), big.data(), big.size()),
              SyscallSucceedsWithValue(kPage));
  EXPECT_THAT(write(p.w.get(), "y", 1), SyscallFailsWithErrno(EAGAIN));
  // Growing makes room again, keeping what is queued.
  ASSERT_THAT(fcntl(p.w.get(), F_SETPIPE_SZ, 2 * kPage),
              SyscallSucceedsWithValue(2 * kPage));
  EXPECT_THAT(write(p.w.get(), big.data(), big.size()),
              SyscallSucceedsWithValue(kPage));
  EXPECT_EQ(ReadAll(p.r.get(), 2 * kPage), std::string(2 * kPage, 'x'));
}

TEST(PipeSizeTest, ShrinkingBelowTheContentsIsEbusy) {
  Pipe p = MakePipe(O_NONBLOCK);
  std::string data(3 * kPage, 'z');
  ASSERT_THAT(write(p.w.get(), data.data(), data.size()),
              SyscallSucceedsWithValue(data.size()));
  EXPECT_THAT(fcntl(p.w.get(), F_SETPIPE_SZ, 2 * kPage),
              SyscallFailsWithErrno(EBUSY));
  EXPECT_THAT(fcntl(p.w.get(), F_GETPIPE_SZ), SyscallSucceedsWithValue(65536));
  // Three pages fit in four.
  EXPECT_THAT(fcntl(p.w.get(), F_SETPIPE_SZ, 4 * kPage),
              SyscallSucceedsWithValue(4 * kPage));
  EXPECT_EQ(ReadAll(p.r.get(), data.size()), data);
}

TEST(PipeSizeTest, NotAPipeIsEbadf) {
  TempDir dir;
  MakeFile(dir / "f", "x");
  FileDescriptor fd = OpenOrFail((dir / "f").c_str(), O_RDWR);
  EXPECT_THAT(fcntl(fd.get(), F_GETPIPE_SZ), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fcntl(fd.get(), F_SETPIPE_SZ, kPage), SyscallFailsWithErrno(EBADF));
}

// /proc/sys/fs/pipe-max-size (1 MiB) bounds growth without CAP_SYS_RESOURCE.
TEST(PipeSizeTest, PipeMaxSizeLimitsUnprivilegedGrowth) {
  Pipe p = MakePipe();
  if (HasEffectiveCap(CAP_SYS_RESOURCE)) {
    EXPECT_THAT(fcntl(p.w.get(), F_SETPIPE_SZ, 2 << 20),
                SyscallSucceedsWithValue(2 << 20));
    EXPECT_THAT(fcntl(p.w.get(), F_SETPIPE_SZ, kPage), SyscallSucceeds());
  }
  int status = AsNobody([&] {
    if (fcntl(p.w.get(), F_SETPIPE_SZ, 1 << 20) != (1 << 20)) return 1;
    if (fcntl(p.w.get(), F_SETPIPE_SZ, (1 << 20) + 1) != -1 || errno != EPERM)
      return 2;
    // Shrinking is always allowed, even over the limit.
    if (fcntl(p.w.get(), F_SETPIPE_SZ, kPage) != kPage) return 3;
    return 0;
  });
  EXPECT_EXIT_OK(status);
}

TEST(SpliceTest, PipeToPipe) {
  Pipe a = MakePipe(), b = MakePipe();
  ASSERT_THAT(write(a.w.get(), "hello world", 11), SyscallSucceeds());
  EXPECT_THAT(splice(a.r.get(), nullptr, b.w.get(), nullptr, 5, 0),
              SyscallSucceedsWithValue(5));
  EXPECT_EQ(ReadAll(b.r.get(), 5), "hello");
  EXPECT_EQ(ReadAll(a.r.get(), 6), " world");
}

TEST(SpliceTest, FileToPipeWithAndWithoutOffset) {
  TempDir dir;
  MakeFile(dir / "f", "0123456789");
  FileDescriptor fd = OpenOrFail((dir / "f").c_str(), O_RDONLY);
  Pipe p = MakePipe();
  loff_t off = 2;
  EXPECT_THAT(splice(fd.get(), &off, p.w.get(), nullptr, 4, 0),
              SyscallSucceedsWithValue(4));
  EXPECT_EQ(off, 6);
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
  EXPECT_EQ(ReadAll(p.r.get(), 4), "2345");
  // Without an offset: the file's own, which moves. Short at EOF.
  ASSERT_THAT(lseek(fd.get(), 7, SEEK_SET), SyscallSucceeds());
  EXPECT_THAT(splice(fd.get(), nullptr, p.w.get(), nullptr, 100, 0),
              SyscallSucceedsWithValue(3));
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(10));
  EXPECT_EQ(ReadAll(p.r.get(), 3), "789");
  EXPECT_THAT(splice(fd.get(), nullptr, p.w.get(), nullptr, 100, 0),
              SyscallSucceedsWithValue(0));
}

TEST(SpliceTest, PipeToFile) {
  TempDir dir;
  MakeFile(dir / "f", "..........");
  FileDescriptor fd = OpenOrFail((dir / "f").c_str(), O_RDWR);
  Pipe p = MakePipe();
  ASSERT_THAT(write(p.w.get(), "abcdef", 6), SyscallSucceeds());
  loff_t off = 3;
  EXPECT_THAT(splice(p.r.get(), nullptr, fd.get(), &off, 2, 0),
              SyscallSucceedsWithValue(2));
  EXPECT_EQ(off, 5);
  EXPECT_THAT(splice(p.r.get(), nullptr, fd.get(), nullptr, 10, 0),
              SyscallSucceedsWithValue(4));
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(4));
  EXPECT_EQ(ReadFileContents((dir / "f").c_str()), "cdefb.....");
}

TEST(SpliceTest, Errors) {
  TempDir dir;
  MakeFile(dir / "f", "data");
  FileDescriptor file = OpenOrFail((dir / "f").c_str(), O_RDWR);
  FileDescriptor appending = OpenOrFail((dir / "f").c_str(), O_WRONLY | O_APPEND);
  Pipe p = MakePipe();
  loff_t off = 0;
  // A zero length succeeds before anything is looked at.
  EXPECT_THAT(splice(-1, nullptr, -1, nullptr, 0, 0), SyscallSucceedsWithValue(0));
  EXPECT_THAT(splice(p.r.get(), nullptr, file.get(), nullptr, 1, 0x100),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(splice(-1, nullptr, p.w.get(), nullptr, 1, 0),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(splice(file.get(), nullptr, -1, nullptr, 1, 0),
              SyscallFailsWithErrno(EBADF));
  // The write end cannot be read, the read end not written.
  EXPECT_THAT(splice(p.w.get(), nullptr, file.get(), nullptr, 1, 0),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(splice(file.get(), nullptr, p.r.get(), nullptr, 1, 0),
              SyscallFailsWithErrno(EBADF));
  // One end must be a pipe; a pipe takes no offset.
  EXPECT_THAT(splice(file.get(), nullptr, file.get(), nullptr, 1, 0),
              SyscallFailsWithErrno(EINVAL));
  ASSERT_THAT(write(p.w.get(), "x", 1), SyscallSucceeds());
  EXPECT_THAT(splice(p.r.get(), &off, file.get(), nullptr, 1, 0),
              SyscallFailsWithErrno(ESPIPE));
  EXPECT_THAT(splice(file.get(), nullptr, p.w.get(), &off, 1, 0),
              SyscallFailsWithErrno(ESPIPE));
  EXPECT_THAT(splice(p.r.get(), nullptr, p.w.get(), nullptr, 1, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(splice(p.r.get(), nullptr, appending.get(), nullptr, 1, 0),
              SyscallFailsWithErrno(EINVAL));
  off = -1;
  EXPECT_THAT(splice(p.r.get(), nullptr, file.get(), &off, 1, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(splice(p.r.get(), nullptr, file.get(),
                     reinterpret_cast<loff_t*>(8), 1, 0),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_EQ(ReadAll(p.r.get(), 1), "x");  // nothing moved
}

TEST(SpliceTest, NonblockingAndEof) {
  Pipe a = MakePipe(), b = MakePipe();
  EXPECT_THAT(splice(a.r.get(), nullptr, b.w.get(), nullptr, 1,
                     SPLICE_F_NONBLOCK),
              SyscallFailsWithErrno(EAGAIN));
  // O_NONBLOCK on either pipe is enough.
  ASSERT_THAT(fcntl(b.w.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  EXPECT_THAT(splice(a.r.get(), nullptr, b.w.get(), nullptr, 1, 0),
              SyscallFailsWithErrno(EAGAIN));
  a.w.reset();
  EXPECT_THAT(splice(a.r.get(), nullptr, b.w.get(), nullptr, 1, 0),
              SyscallSucceedsWithValue(0));
}

TEST(SpliceTest, FullPipeAndNoReaders) {
  TempDir dir;
  MakeFile(dir / "f", "data");
  FileDescriptor fd = OpenOrFail((dir / "f").c_str(), O_RDONLY);
  Pipe p = MakePipe(O_NONBLOCK);
  ASSERT_THAT(fcntl(p.w.get(), F_SETPIPE_SZ, kPage), SyscallSucceeds());
  std::string page(kPage, 'p');
  ASSERT_THAT(write(p.w.get(), page.data(), page.size()), SyscallSucceeds());
  loff_t off = 0;
  EXPECT_THAT(splice(fd.get(), &off, p.w.get(), nullptr, 4, 0),
              SyscallFailsWithErrno(EAGAIN));
  IgnoreSigpipe ignore;
  p.r.reset();
  EXPECT_THAT(splice(fd.get(), &off, p.w.get(), nullptr, 4, 0),
              SyscallFailsWithErrno(EPIPE));
}

struct BlockedSplice {
  int in, out;
  std::atomic<long> result{-2};
  std::atomic<int> err{0};
};

void* SpliceThread(void* arg) {
  auto* s = static_cast<BlockedSplice*>(arg);
  long r = splice(s->in, nullptr, s->out, nullptr, 16, 0);
  s->err = errno;
  s->result = r;
  return nullptr;
}

TEST(SpliceTest, BlocksUntilDataArrive) {
  Pipe a = MakePipe(), b = MakePipe();
  BlockedSplice s{a.r.get(), b.w.get()};
  pthread_t th;
  ASSERT_EQ(pthread_create(&th, nullptr, SpliceThread, &s), 0);
  ASSERT_THAT(write(a.w.get(), "late", 4), SyscallSucceeds());
  pthread_join(th, nullptr);
  EXPECT_EQ(s.result, 4);
  EXPECT_EQ(ReadAll(b.r.get(), 4), "late");
}

TEST(SpliceTest, SignalInterruptsABlockedSplice) {
  Pipe a = MakePipe(), b = MakePipe();
  ScopedSignalHandler handler(SIGUSR1);
  BlockedSplice s{a.r.get(), b.w.get()};
  pthread_t th;
  ASSERT_EQ(pthread_create(&th, nullptr, SpliceThread, &s), 0);
  // A signal before the thread blocks only runs the handler: keep sending
  // until one finds it blocked.
  while (s.result == -2) {
    pthread_kill(th, SIGUSR1);
    sched_yield();
  }
  pthread_join(th, nullptr);
  EXPECT_EQ(s.result, -1);
  EXPECT_EQ(s.err, EINTR);
}

TEST(TeeTest, DuplicatesWithoutConsuming) {
  Pipe a = MakePipe(), b = MakePipe();
  ASSERT_THAT(write(a.w.get(), "abcdef", 6), SyscallSucceeds());
  EXPECT_THAT(tee(a.r.get(), b.w.get(), 4, 0), SyscallSucceedsWithValue(4));
  EXPECT_EQ(ReadAll(b.r.get(), 4), "abcd");
  EXPECT_EQ(ReadAll(a.r.get(), 6), "abcdef");
}

TEST(TeeTest, Errors) {
  TempDir dir;
  MakeFile(dir / "f", "data");
  FileDescriptor file = OpenOrFail((dir / "f").c_str(), O_RDWR);
  Pipe a = MakePipe(), b = MakePipe();
  EXPECT_THAT(tee(a.r.get(), b.w.get(), 0, 0), SyscallSucceedsWithValue(0));
  EXPECT_THAT(tee(a.r.get(), b.w.get(), 1, 0x100), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(tee(-1, b.w.get(), 1, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(tee(a.r.get(), -1, 1, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(tee(a.w.get(), b.w.get(), 1, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(tee(file.get(), b.w.get(), 1, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(tee(a.r.get(), file.get(), 1, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(tee(a.r.get(), a.w.get(), 1, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(tee(a.r.get(), b.w.get(), 1, SPLICE_F_NONBLOCK),
              SyscallFailsWithErrno(EAGAIN));
  a.w.reset();
  EXPECT_THAT(tee(a.r.get(), b.w.get(), 1, 0), SyscallSucceedsWithValue(0));
}

TEST(VmspliceTest, WritesAndReadsUserMemory) {
  Pipe p = MakePipe();
  char x[] = "vm", y[] = "splice";
  struct iovec out[2] = {{x, 2}, {y, 6}};
  EXPECT_THAT(vmsplice(p.w.get(), out, 2, 0), SyscallSucceedsWithValue(8));
  char a[3], b[16];
  struct iovec in[2] = {{a, 3}, {b, sizeof b}};
  EXPECT_THAT(vmsplice(p.r.get(), in, 2, 0), SyscallSucceedsWithValue(8));
  EXPECT_EQ(std::string(a, 3) + std::string(b, 5), "vmsplice");
}

// Two page-aligned pages of memory for one test.
class PageBuffer {
 public:
  PageBuffer()
      : p_(static_cast<char*>(mmap(nullptr, 2 * kPage, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))) {
    EXPECT_NE(p_, MAP_FAILED);
  }
  ~PageBuffer() { munmap(p_, 2 * kPage); }
  char* get() const { return p_; }

 private:
  char* p_;
};

// Linux gives each user page its own pipe buffer: a page's worth that
// straddles two pages needs two slots, and a later write never tops up.
TEST(VmspliceTest, EachUserPageTakesASlot) {
  Pipe p = MakePipe();
  ASSERT_THAT(fcntl(p.w.get(), F_SETPIPE_SZ, 2 * kPage), SyscallSucceeds());
  PageBuffer buf;
  struct iovec v = {buf.get() + 176, kPage};
  EXPECT_THAT(vmsplice(p.w.get(), &v, 1, SPLICE_F_NONBLOCK),
              SyscallSucceedsWithValue(kPage));
  ASSERT_THAT(fcntl(p.w.get(), F_SETPIPE_SZ, 2 * kPage), SyscallSucceeds());
  EXPECT_EQ(ReadAll(p.r.get(), 100).size(), 100u);
  ASSERT_THAT(fcntl(p.w.get(), F_SETPIPE_SZ, kPage), SyscallFailsWithErrno(EBUSY));
  // A 1-slot pipe takes only the bytes up to the page boundary, and the
  // slot's free tail is not topped up by a write, as it is after write(2).
  Pipe q = MakePipe(O_NONBLOCK);
  ASSERT_THAT(fcntl(q.w.get(), F_SETPIPE_SZ, kPage), SyscallSucceeds());
  EXPECT_THAT(vmsplice(q.w.get(), &v, 1, 0), SyscallSucceedsWithValue(kPage - 176));
  EXPECT_THAT(write(q.w.get(), "x", 1), SyscallFailsWithErrno(EAGAIN));
  EXPECT_EQ(ReadAll(q.r.get(), kPage - 176).size(), kPage - 176u);
  std::string data(kPage - 176, 'd');
  ASSERT_THAT(write(q.w.get(), data.data(), data.size()), SyscallSucceeds());
  EXPECT_THAT(write(q.w.get(), "x", 1), SyscallSucceedsWithValue(1));
}

TEST(VmspliceTest, Errors) {
  TempDir dir;
  MakeFile(dir / "f", "data");
  FileDescriptor file = OpenOrFail((dir / "f").c_str(), O_RDWR);
  Pipe p = MakePipe(O_NONBLOCK);
  char c = 'c';
  struct iovec v = {&c, 1};
  EXPECT_THAT(vmsplice(p.w.get(), &v, 1, 0x100), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(vmsplice(-1, &v, 1, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(vmsplice(file.get(), &v, 1, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(vmsplice(p.w.get(), &v, 1025, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(vmsplice(p.w.get(), nullptr, 0, 0), SyscallSucceedsWithValue(0));
  // Only SPLICE_F_NONBLOCK makes vmsplice non-blocking, not O_NONBLOCK.
  EXPECT_THAT(vmsplice(p.r.get(), &v, 1, SPLICE_F_NONBLOCK),
              SyscallFailsWithErrno(EAGAIN));
  ASSERT_THAT(fcntl(p.w.get(), F_SETPIPE_SZ, kPage), SyscallSucceeds());
  PageBuffer page;
  struct iovec full = {page.get(), kPage};
  EXPECT_THAT(vmsplice(p.w.get(), &full, 1, 0), SyscallSucceedsWithValue(kPage));
  EXPECT_THAT(vmsplice(p.w.get(), &v, 1, SPLICE_F_NONBLOCK),
              SyscallFailsWithErrno(EAGAIN));
}

}  // namespace
}  // namespace syscall_test
