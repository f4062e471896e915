// read(2), write(2) and their vectored and positional forms; lseek(2).
#include <sys/syscall.h>

#include <climits>
#include <vector>

#include "syscalls/blocking.h"
#include "syscalls/common.h"
#include "syscalls/iovec.h"

namespace syscalls {
namespace {

// The app buffer of one transfer, capped as Linux caps it. Its pages are
// resolved at each attempt (BlockingRead/BlockingWrite): a buffer that
// becomes inaccessible part way ends the transfer there (a short count);
// EFAULT only when not even the first byte is accessible.
std::vector<mm::UserRange> Ranges(uint64_t addr, size_t len) {
  if (len > kMaxRwCount) len = kMaxRwCount;
  return {{addr, len}};
}

// Where a positional transfer that has moved `done` bytes goes on. Wraps
// (to an offset the file rejects) rather than overflow.
int64_t PositionAfter(int64_t offset, size_t done) {
  return static_cast<int64_t>(static_cast<uint64_t>(offset) + done);
}

Result<FilePtr> Readable(Task& t, Fd fd) {
  FilePtr f = TRY(GetFile(t, fd));
  if (!f->readable()) return Err(EBADF);
  return f;
}

Result<FilePtr> Writable(Task& t, Fd fd) {
  FilePtr f = TRY(GetFile(t, fd));
  if (!f->writable()) return Err(EBADF);
  return f;
}

// Read implements Linux syscall read(2).
Result<size_t> Read(Task& t, Fd fd, UserPtr<uint8_t> buf, size_t count) {
  FilePtr f = TRY(Readable(t, fd));
  auto buffers = Ranges(buf.addr, count);
  return BlockingRead(t, *f, buffers,
                      [&](auto iov, size_t) { return f->Read(iov); });
}

// Write implements Linux syscall write(2).
Result<size_t> Write(Task& t, Fd fd, UserPtr<uint8_t> buf, size_t count) {
  FilePtr f = TRY(Writable(t, fd));
  if (f->ignores_write_data()) return count < kMaxRwCount ? count : kMaxRwCount;
  auto buffers = Ranges(buf.addr, count);
  return BlockingWrite(t, *f, buffers,
                       [&](auto iov, size_t) { return f->Write(iov); });
}

// Readv implements Linux syscall readv(2).
Result<size_t> Readv(Task& t, Fd fd, UserPtr<struct iovec> iov, int iovcnt) {
  FilePtr f = TRY(Readable(t, fd));
  auto buffers = TRY(VectorRanges(t, iov, iovcnt));
  return BlockingRead(t, *f, buffers,
                      [&](auto v, size_t) { return f->Read(v); });
}

// Writev implements Linux syscall writev(2).
Result<size_t> Writev(Task& t, Fd fd, UserPtr<struct iovec> iov, int iovcnt) {
  FilePtr f = TRY(Writable(t, fd));
  if (f->ignores_write_data()) {
    size_t total;
    TRY(CopyInIovecs(t, iov, iovcnt, &total));
    return total < kMaxRwCount ? total : kMaxRwCount;
  }
  auto buffers = TRY(VectorRanges(t, iov, iovcnt));
  return BlockingWrite(t, *f, buffers,
                       [&](auto v, size_t) { return f->Write(v); });
}

// Pread64 implements Linux syscall pread64(2).
Result<size_t> Pread64(Task& t, Fd fd, UserPtr<uint8_t> buf, size_t count,
                       int64_t offset) {
  FilePtr f = TRY(Readable(t, fd));
  if (offset < 0) return Err(EINVAL);
  auto buffers = Ranges(buf.addr, count);
  return BlockingRead(t, *f, buffers, [&](auto iov, size_t done) {
    return f->PRead(iov, PositionAfter(offset, done));
  });
}

// Pwrite64 implements Linux syscall pwrite64(2).
Result<size_t> Pwrite64(Task& t, Fd fd, UserPtr<uint8_t> buf, size_t count,
                        int64_t offset) {
  FilePtr f = TRY(Writable(t, fd));
  if (offset < 0) return Err(EINVAL);
  if (f->ignores_write_data()) return count < kMaxRwCount ? count : kMaxRwCount;
  auto buffers = Ranges(buf.addr, count);
  return BlockingWrite(t, *f, buffers, [&](auto iov, size_t done) {
    return f->PWrite(iov, PositionAfter(offset, done));
  });
}

// Preadv implements Linux syscall preadv(2).
Result<size_t> Preadv(Task& t, Fd fd, UserPtr<struct iovec> iov, int iovcnt,
                      int64_t offset) {
  FilePtr f = TRY(Readable(t, fd));
  if (offset < 0) return Err(EINVAL);
  auto buffers = TRY(VectorRanges(t, iov, iovcnt));
  return BlockingRead(t, *f, buffers, [&](auto v, size_t done) {
    return f->PRead(v, PositionAfter(offset, done));
  });
}

// Pwritev implements Linux syscall pwritev(2).
Result<size_t> Pwritev(Task& t, Fd fd, UserPtr<struct iovec> iov, int iovcnt,
                       int64_t offset) {
  FilePtr f = TRY(Writable(t, fd));
  if (offset < 0) return Err(EINVAL);
  auto buffers = TRY(VectorRanges(t, iov, iovcnt));
  return BlockingWrite(t, *f, buffers, [&](auto v, size_t done) {
    return f->PWrite(v, PositionAfter(offset, done));
  });
}

// Lseek implements Linux syscall lseek(2).
Result<int64_t> Lseek(Task& t, Fd fd, int64_t offset, unsigned whence) {
  FilePtr f = TRY(GetFile(t, fd));
  if (whence > SEEK_HOLE) return Err(EINVAL);
  return f->Seek(offset, static_cast<int>(whence));
}

}  // namespace

void RegisterReadWrite(Registrar& r) {
  r.Full<&Read>(SYS_read).Show(SYS_read, 1, ArgKind::kOutBuf);
  r.Full<&Write>(SYS_write).Show(SYS_write, 1, ArgKind::kInBuf);
  r.Full<&Readv>(SYS_readv);
  r.Full<&Writev>(SYS_writev);
  r.Full<&Pread64>(SYS_pread64).Show(SYS_pread64, 1, ArgKind::kOutBuf);
  r.Full<&Pwrite64>(SYS_pwrite64).Show(SYS_pwrite64, 1, ArgKind::kInBuf);
  r.Full<&Preadv>(SYS_preadv);  // pos_h is always 0 on x86-64
  r.Full<&Pwritev>(SYS_pwritev);
  r.Full<&Lseek>(SYS_lseek);
}

}  // namespace syscalls
