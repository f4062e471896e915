// splice(2), tee(2), vmsplice(2), sendfile(2), copy_file_range(2): data
// moved between descriptions inside the sentry, through a bounce buffer
// (Linux moves page references; the bytes and counts are the same).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "sentry/pipe/pipe.h"
#include "syscalls/blocking.h"
#include "syscalls/common.h"
#include "syscalls/iovec.h"

namespace syscalls {
namespace {

constexpr unsigned kSpliceFlags =
    SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT;
// The most one attempt copies: bounds the bounce buffer.
constexpr size_t kChunk = 1 << 20;

bool IsSeekable(vfs::FileDescription& f) {
  return f.Seek(0, SEEK_CUR).has_value();
}

bool IsDirectory(vfs::FileDescription& f) {
  auto st = f.Stat();
  return st && S_ISDIR(st->st_mode);
}

// An `loff_t *` argument: none, or the offset it holds (EFAULT).
Result<std::optional<int64_t>> CopyInOffset(Task& t, UserPtr<int64_t> p) {
  if (p.addr == 0) return std::nullopt;
  return TRY(t.mm().CopyInObj(p));
}

// The file side of a transfer: an explicit offset, or the description's
// own position, which moves by what the transfer kept (Finish). Files
// that cannot seek (a host pipe or terminal) are read and written as a
// stream.
class FileEnd {
 public:
  FileEnd(vfs::FileDescription& f, std::optional<int64_t> off)
      : f_(f), explicit_(off.has_value()) {
    if (off) {
      pos_ = *off;
    } else if (auto p = f.Seek(0, SEEK_CUR)) {
      pos_ = *p;
    } else {
      stream_ = true;
    }
  }
  int64_t pos() const { return pos_; }
  vfs::FileDescription& file() const { return f_; }

  // Reads into `buf` at the position without moving it (a stream is
  // consumed).
  Result<size_t> Read(std::span<uint8_t> buf) {
    iovec v{buf.data(), buf.size()};
    if (!stream_) {
      Result<size_t> r = f_.PRead({&v, 1}, pos_);
      // Seekable but not positional (some devices): a plain read.
      if (r || r.error().value != ESPIPE || explicit_) return r;
    }
    return f_.Read({&v, 1});
  }
  // Writes `buf` at the position and moves past what was written.
  Result<size_t> Write(std::span<const uint8_t> buf) {
    iovec v{const_cast<uint8_t*>(buf.data()), buf.size()};
    if (!explicit_) return f_.Write({&v, 1});  // the file's own offset
    const size_t n = TRY(f_.PWrite({&v, 1}, pos_));
    pos_ += n;
    return n;
  }
  void Advance(size_t n) { pos_ += n; }
  // Leaves the description's own position where the transfer ended.
  void Finish() {
    if (!explicit_ && !stream_) (void)f_.Seek(pos_, SEEK_SET);
  }

 private:
  vfs::FileDescription& f_;
  const bool explicit_;
  bool stream_ = false;
  int64_t pos_ = 0;
};

// Writes all of `bytes` to `out`, or as much as it takes; EAGAIN (asking to
// wait for `file`) only if it took nothing.
Result<size_t> WriteOut(FileEnd& out, vfs::FileDescription& file,
                        std::span<const uint8_t> bytes, WaitFor& wait) {
  size_t done = 0;
  while (done < bytes.size()) {
    Result<size_t> r = out.Write(bytes.subspan(done));
    if (!r) {
      if (done > 0) break;
      if (r.error().value == EAGAIN) wait = {&file, true};
      return r;
    }
    if (*r == 0) break;
    done += *r;
  }
  return done;
}

// One move from a file into a pipe: no more than the pipe has room for
// now, so it takes everything read. EPIPE without readers.
Result<size_t> FileToPipe(FileEnd& in, pipes::Pipe& out,
                          vfs::FileDescription& out_file, size_t len,
                          WaitFor& wait) {
  if (!out.HasReaders()) return Err(EPIPE);
  const size_t room = out.FreeBytes();
  if (room == 0) {
    wait = {&out_file, true};
    return Err(EAGAIN);
  }
  std::vector<uint8_t> buf(std::min({len, room, kChunk}));
  Result<size_t> got = in.Read(buf);
  // An empty socket or host pipe: wait until it has data.
  if (!got && got.error().value == EAGAIN) wait = {&in.file(), false};
  const size_t n = TRY(std::move(got));
  if (n == 0) return 0;
  iovec v{buf.data(), n};
  // Only a racing writer can make this short; a stream then loses the
  // rest (positional reads just stop there).
  const size_t w = TRY(out.Write({&v, 1}, out_file.flags() & O_DIRECT));
  in.Advance(w);
  return w;
}

// One move out of pipe `in` (empty: wait for `in_file`), into `sink`.
Result<size_t> FromPipe(pipes::Pipe& in, vfs::FileDescription& in_file,
                        size_t len, bool peek, WaitFor& wait,
                        pipes::Pipe::Sink sink) {
  Result<size_t> r = in.ReadInto(std::min(len, kChunk), peek, sink);
  if (!r && r.error().value == EAGAIN && wait.file == nullptr)
    wait = {&in_file, false};
  return r;
}

// Into pipe `out` from a splice or tee: EPIPE without readers, EAGAIN
// (wait for room) when full.
Result<size_t> IntoPipe(pipes::Pipe& out, vfs::FileDescription& out_file,
                        std::span<const uint8_t> bytes, WaitFor& wait) {
  iovec v{const_cast<uint8_t*>(bytes.data()), bytes.size()};
  Result<size_t> r = out.Write({&v, 1}, out_file.flags() & O_DIRECT);
  if (!r && r.error().value == EAGAIN) wait = {&out_file, true};
  return r;
}

bool Nonblocking(const vfs::FileDescription& f) {
  return f.flags() & O_NONBLOCK;
}

// Splice implements Linux syscall splice(2).
Result<size_t> Splice(Task& t, Fd fd_in, UserPtr<int64_t> off_in, Fd fd_out,
                      UserPtr<int64_t> off_out, size_t len, unsigned flags) {
  if (len == 0) return 0;
  if (flags & ~kSpliceFlags) return Err(EINVAL);
  FilePtr in = TRY(GetFile(t, fd_in));
  FilePtr out = TRY(GetFile(t, fd_out));
  pipes::Pipe* ipipe = pipes::PipeOf(*in);
  pipes::Pipe* opipe = pipes::PipeOf(*out);
  if ((ipipe && off_in.addr) || (opipe && off_out.addr)) return Err(ESPIPE);
  std::optional<int64_t> in_off = TRY(CopyInOffset(t, off_in));
  std::optional<int64_t> out_off = TRY(CopyInOffset(t, off_out));
  if (!in->readable() || !out->writable()) return Err(EBADF);
  len = std::min(len, kMaxRwCount);
  bool nonblocking = flags & SPLICE_F_NONBLOCK;

  if (ipipe && opipe) {
    if (ipipe == opipe) return Err(EINVAL);
    nonblocking |= Nonblocking(*in) || Nonblocking(*out);
    return kernel::WithSigpipe(
        t, BlockingTransfer(t, nonblocking, [&](WaitFor& wait) {
          return FromPipe(*ipipe, *in, len, false, wait, [&](auto bytes) {
            return IntoPipe(*opipe, *out, bytes, wait);
          });
        }));
  }
  if (ipipe) {
    if (out_off && !IsSeekable(*out)) return Err(EINVAL);
    if (out->flags() & O_APPEND) return Err(EINVAL);
    if (out_off && *out_off < 0) return Err(EINVAL);
    nonblocking |= Nonblocking(*in);
    FileEnd dst(*out, out_off);
    const size_t n = TRY(BlockingTransfer(t, nonblocking, [&](WaitFor& wait) {
      return FromPipe(*ipipe, *in, len, false, wait, [&](auto bytes) {
        return WriteOut(dst, *out, bytes, wait);
      });
    }));
    if (out_off) TRY(t.mm().CopyOutObj(off_out, dst.pos()));
    return n;
  }
  if (opipe) {
    if (in_off && !IsSeekable(*in)) return Err(EINVAL);
    if (in_off && *in_off < 0) return Err(EINVAL);
    if (IsDirectory(*in)) return Err(EINVAL);
    nonblocking |= Nonblocking(*out);
    FileEnd src(*in, in_off);
    const size_t n = TRY(kernel::WithSigpipe(
        t, BlockingTransfer(t, nonblocking, [&](WaitFor& wait) {
          return FileToPipe(src, *opipe, *out, len, wait);
        })));
    src.Finish();
    if (in_off) TRY(t.mm().CopyOutObj(off_in, src.pos()));
    return n;
  }
  return Err(EINVAL);
}

// Tee implements Linux syscall tee(2).
Result<size_t> Tee(Task& t, Fd fd_in, Fd fd_out, size_t len, unsigned flags) {
  if (flags & ~kSpliceFlags) return Err(EINVAL);
  if (len == 0) return 0;
  FilePtr in = TRY(GetFile(t, fd_in));
  FilePtr out = TRY(GetFile(t, fd_out));
  if (!in->readable() || !out->writable()) return Err(EBADF);
  pipes::Pipe* ipipe = pipes::PipeOf(*in);
  pipes::Pipe* opipe = pipes::PipeOf(*out);
  if (!ipipe || !opipe || ipipe == opipe) return Err(EINVAL);
  const bool nonblocking = (flags & SPLICE_F_NONBLOCK) || Nonblocking(*in) ||
                           Nonblocking(*out);
  return kernel::WithSigpipe(
      t, BlockingTransfer(t, nonblocking, [&](WaitFor& wait) {
        return FromPipe(*ipipe, *in, len, true, wait, [&](auto bytes) {
          return IntoPipe(*opipe, *out, bytes, wait);
        });
      }));
}

// Vmsplice implements Linux syscall vmsplice(2).
Result<size_t> Vmsplice(Task& t, Fd fd, UserPtr<struct iovec> iov,
                        unsigned long nr_segs, unsigned flags) {
  if (flags & ~kSpliceFlags) return Err(EINVAL);
  FilePtr f = TRY(GetFile(t, fd));
  // A description that can write is spliced into, else one that can read
  // is spliced out of.
  const bool to_pipe = f->writable();
  if (!to_pipe && !f->readable()) return Err(EBADF);
  if (nr_segs > kMaxIovecs) return Err(EINVAL);
  std::vector<mm::UserRange> ranges =
      TRY(VectorRanges(t, iov, static_cast<int>(nr_segs)));
  if (ranges.empty()) return 0;
  pipes::Pipe* pipe = pipes::PipeOf(*f);
  if (!pipe) return Err(EBADF);
  // Only SPLICE_F_NONBLOCK makes it non-blocking, not O_NONBLOCK (Linux).
  const bool nonblocking = flags & SPLICE_F_NONBLOCK;
  if (to_pipe) {
    return kernel::WithSigpipe(
        t, BlockingTransfer(t, nonblocking, [&](WaitFor& wait) {
          wait = {f.get(), true};
          return t.mm().WithIoBlocks(
              ranges, mm::Access::kRead,
              [&](std::span<const iovec> v) { return pipe->WriteSegments(v); });
        }));
  }
  return BlockingTransfer(t, nonblocking, [&](WaitFor& wait) {
    wait = {f.get(), false};
    return t.mm().WithIoBlocks(
        ranges, mm::Access::kWrite,
        [&](std::span<const iovec> v) { return pipe->Read(v); });
  });
}

// Sendfile implements Linux syscall sendfile(2).
Result<size_t> Sendfile(Task& t, Fd out_fd, Fd in_fd, UserPtr<int64_t> offset,
                        size_t count) {
  std::optional<int64_t> off = TRY(CopyInOffset(t, offset));
  FilePtr in = TRY(GetFile(t, in_fd));
  if (!in->readable()) return Err(EBADF);
  if (off && !IsSeekable(*in)) return Err(ESPIPE);
  if (off && *off < 0) return Err(EINVAL);
  count = std::min(count, kMaxRwCount);
  FilePtr out = TRY(GetFile(t, out_fd));
  if (!out->writable()) return Err(EBADF);
  // Linux reads through the input's splice_read, which pipes and
  // directories lack.
  if (pipes::PipeOf(*in) || IsDirectory(*in)) return Err(EINVAL);
  FileEnd src(*in, off);
  size_t done = 0;
  if (pipes::Pipe* opipe = pipes::PipeOf(*out)) {
    if (count > 0) {
      done = TRY(kernel::WithSigpipe(
          t, BlockingTransfer(t, Nonblocking(*out), [&](WaitFor& wait) {
            return FileToPipe(src, *opipe, *out, count, wait);
          })));
    }
  } else {
    if (out->flags() & O_APPEND) return Err(EINVAL);
    FileEnd dst(*out, std::nullopt);
    // Read but not yet written: a stream cannot be read again.
    std::vector<uint8_t> pending;
    size_t pending_at = 0;
    while (done < count) {
      Result<size_t> r =
          BlockingTransfer(t, Nonblocking(*out), [&](WaitFor& wait)
                                                     -> Result<size_t> {
            if (pending_at == pending.size()) {
              pending.resize(std::min(count - done, kChunk));
              Result<size_t> got = src.Read(pending);
              if (!got && got.error().value == EAGAIN) {
                pending.clear();
                wait = {in.get(), false};  // an empty socket
              }
              pending.resize(TRY(std::move(got)));
              pending_at = 0;
              if (pending.empty()) return 0;
            }
            auto bytes = std::span<const uint8_t>(pending).subspan(pending_at);
            const size_t n = TRY(WriteOut(dst, *out, bytes, wait));
            pending_at += n;
            src.Advance(n);
            return n;
          });
      if (!r) {
        if (done > 0) break;
        src.Finish();
        return std::unexpected(r.error());
      }
      if (*r == 0) break;
      done += *r;
    }
  }
  src.Finish();
  if (off) TRY(t.mm().CopyOutObj(offset, src.pos()));
  return done;
}

// CopyFileRange implements Linux syscall copy_file_range(2).
Result<size_t> CopyFileRange(Task& t, Fd fd_in, UserPtr<int64_t> off_in,
                             Fd fd_out, UserPtr<int64_t> off_out, size_t len,
                             unsigned flags) {
  FilePtr in = TRY(GetFile(t, fd_in));
  FilePtr out = TRY(GetFile(t, fd_out));
  std::optional<int64_t> in_off = TRY(CopyInOffset(t, off_in));
  std::optional<int64_t> out_off = TRY(CopyInOffset(t, off_out));
  if (flags != 0) return Err(EINVAL);
  // Linux's generic_copy_file_checks, in its order.
  const struct stat si = TRY(in->Stat());
  const struct stat so = TRY(out->Stat());
  if (S_ISDIR(si.st_mode) || S_ISDIR(so.st_mode)) return Err(EISDIR);
  if (!S_ISREG(si.st_mode) || !S_ISREG(so.st_mode)) return Err(EINVAL);
  if (!in->readable() || !out->writable() || (out->flags() & O_APPEND))
    return Err(EBADF);
  FileEnd src(*in, in_off);
  FileEnd dst(*out, out_off.has_value() ? out_off : out->Seek(0, SEEK_CUR)
                                                        .value_or(0));
  const uint64_t pin = static_cast<uint64_t>(src.pos());
  const uint64_t pout = static_cast<uint64_t>(dst.pos());
  if (pin + len < pin || pout + len < pout) return Err(EOVERFLOW);
  if (src.pos() >= si.st_size) {
    len = 0;
  } else {
    len = std::min<uint64_t>(len, si.st_size - src.pos());
  }
  const bool same = si.st_dev == so.st_dev && si.st_ino == so.st_ino;
  if (same && dst.pos() + static_cast<int64_t>(len) > src.pos() &&
      dst.pos() < src.pos() + static_cast<int64_t>(len))
    return Err(EINVAL);
  if (src.pos() < 0 || dst.pos() < 0) return Err(EINVAL);
  len = std::min(len, kMaxRwCount);
  if (len == 0) return 0;
  // Linux copies only within one filesystem (its superblock: st_dev here).
  if (si.st_dev != so.st_dev) return Err(EXDEV);
  std::vector<uint8_t> buf(std::min(len, kChunk));
  size_t done = 0;
  WaitFor unused;
  while (done < len) {
    std::span<uint8_t> chunk(buf.data(), std::min(buf.size(), len - done));
    Result<size_t> r = src.Read(chunk);
    if (r && *r > 0) r = WriteOut(dst, *out, chunk.first(*r), unused);
    if (!r) {
      if (done > 0) break;
      return std::unexpected(r.error());
    }
    if (*r == 0) break;
    src.Advance(*r);
    done += *r;
    if (*r < chunk.size()) break;
  }
  if (in_off) {
    TRY(t.mm().CopyOutObj(off_in, src.pos()));
  } else {
    src.Finish();
  }
  if (out_off) {
    TRY(t.mm().CopyOutObj(off_out, dst.pos()));
  } else {
    (void)out->Seek(dst.pos(), SEEK_SET);
  }
  return done;
}

}  // namespace

void RegisterSplice(Registrar& r) {
  constexpr const char* kCopied =
      "data are copied through the sentry, not moved by page reference: a "
      "pipe takes spliced data as if written (vmsplice keeps Linux's one "
      "slot per user page)";
  r.Partial<&Splice>(SYS_splice, kCopied);
  r.Partial<&Tee>(SYS_tee, kCopied);
  r.Partial<&Vmsplice>(SYS_vmsplice, kCopied);
  r.Full<&Sendfile>(SYS_sendfile);
  r.Full<&CopyFileRange>(SYS_copy_file_range);
}

}  // namespace syscalls
