// /proc/<pid>/mem: the process's memory, read and written at file offsets
// that are addresses (Linux's mem_rw, used by debuggers and by programs
// that patch themselves).
#include <fcntl.h>

#include <cstring>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/vfs/procfs_internal.h"

namespace vfs::procfs {
namespace {

// An open mem file: its offset is an address, any 64-bit value (Linux's
// FMODE_UNSIGNED_OFFSET). Its transfers take the target's memory lock, so
// the syscall layer runs them on a sentry buffer (bounces_io) rather than
// on the caller's pages, which may be the very memory being read.
class MemDescription : public FileDescription, public NodeDescription {
 public:
  MemDescription(int flags, std::shared_ptr<Node> node, std::string path,
                 std::shared_ptr<ProcessMemory> memory)
      : FileDescription(flags),
        node_(std::move(node)),
        path_(std::move(path)),
        memory_(std::move(memory)) {}

  bool bounces_io() const override { return true; }

  base::Result<size_t> Read(std::span<const iovec> dst) override {
    return Transfer(dst, [this](uint64_t at, const iovec& v) {
      return memory_->Read(at, static_cast<uint8_t*>(v.iov_base), v.iov_len);
    });
  }
  base::Result<size_t> Write(std::span<const iovec> src) override {
    return Transfer(src, [this](uint64_t at, const iovec& v) {
      return memory_->Write(at, static_cast<const uint8_t*>(v.iov_base),
                            v.iov_len);
    });
  }
  base::Result<size_t> PRead(std::span<const iovec> dst,
                             int64_t offset) override {
    return TransferAt(dst, static_cast<uint64_t>(offset),
                      [this](uint64_t at, const iovec& v) {
                        return memory_->Read(
                            at, static_cast<uint8_t*>(v.iov_base), v.iov_len);
                      });
  }
  base::Result<size_t> PWrite(std::span<const iovec> src,
                              int64_t offset) override {
    return TransferAt(src, static_cast<uint64_t>(offset),
                      [this](uint64_t at, const iovec& v) {
                        return memory_->Write(
                            at, static_cast<const uint8_t*>(v.iov_base),
                            v.iov_len);
                      });
  }
  // Linux's mem_lseek: SEEK_SET and SEEK_CUR, any value.
  base::Result<int64_t> Seek(int64_t offset, int whence) override {
    absl::MutexLock lock(&mu_);
    if (whence == SEEK_SET) {
      pos_ = static_cast<uint64_t>(offset);
    } else if (whence == SEEK_CUR) {
      pos_ += static_cast<uint64_t>(offset);
    } else {
      return base::Err(EINVAL);
    }
    return static_cast<int64_t>(pos_);
  }
  base::Result<struct stat> Stat() override { return node_->Stat(); }
  std::string path() const override { return path_; }
  std::shared_ptr<Node> node() const override { return node_; }

 private:
  using Move =
      std::function<base::Result<size_t>(uint64_t at, const iovec& v)>;

  // At the file offset, which advances by what moved.
  base::Result<size_t> Transfer(std::span<const iovec> iov, const Move& move) {
    absl::MutexLock lock(&mu_);
    const size_t n = TRY(TransferAt(iov, pos_, move));
    pos_ += n;
    return n;
  }
  // Each iovec in turn until one moves less than its length.
  static base::Result<size_t> TransferAt(std::span<const iovec> iov,
                                         uint64_t at, const Move& move) {
    size_t done = 0;
    for (const iovec& v : iov) {
      if (v.iov_len == 0) continue;
      base::Result<size_t> n = move(at + done, v);
      if (!n) {
        if (done > 0) return done;
        return n;
      }
      done += *n;
      if (*n < v.iov_len) break;
    }
    return done;
  }

  const std::shared_ptr<Node> node_;
  const std::string path_;
  const std::shared_ptr<ProcessMemory> memory_;
  absl::Mutex mu_;
  uint64_t pos_ ABSL_GUARDED_BY(mu_) = 0;
};

class MemNode : public Node, public std::enable_shared_from_this<MemNode> {
 public:
  MemNode(const Walker& w, int pid, uint64_t ino, Owner owner)
      : kernel_(w.kernel), pid_(pid), caller_tid_(w.tid), ino_(ino),
        owner_(owner) {}

  mode_t type() const override { return S_IFREG; }
  bool checks_modes() const override { return true; }
  base::Result<struct stat> Stat() const override {
    struct stat st = SyntheticStat(kProcfsMinor, ino_, S_IFREG | 0600);
    st.st_uid = owner_.uid;
    st.st_gid = owner_.gid;
    return st;
  }
  base::Result<std::shared_ptr<FileDescription>> Open(
      int flags, const std::string& path) override {
    std::shared_ptr<ProcessMemory> memory =
        TRY(kernel_->OpenMemory(pid_, caller_tid_));
    return std::make_shared<MemDescription>(flags, shared_from_this(), path,
                                            std::move(memory));
  }

 private:
  const KernelView* const kernel_;
  const int pid_, caller_tid_;
  const uint64_t ino_;
  const Owner owner_;
};

}  // namespace

std::shared_ptr<Node> MakeMemNode(const Walker& w, int pid, uint64_t ino,
                                  Owner owner) {
  return std::make_shared<MemNode>(w, pid, ino, owner);
}

}  // namespace vfs::procfs
