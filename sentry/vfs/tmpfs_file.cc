// tmpfs file data in memory-file pages, and the open descriptions of
// tmpfs files and directories.
#include <fcntl.h>
#include <linux/falloc.h>

#include <algorithm>
#include <cstring>

#include "sentry/vfs/file_size_limit.h"
#include "sentry/vfs/tmpfs_internal.h"

namespace vfs::tmpfs {
namespace {

constexpr uint64_t kPage = mm::kPageSize;

// Sizes are at most kMaxFileSize, so this cannot overflow.
uint64_t PageRoundUp(uint64_t x) { return (x + kPage - 1) / kPage * kPage; }
constexpr uint64_t kMaxFileSize = INT64_MAX;  // MAX_LFS_FILESIZE

size_t TotalLength(std::span<const iovec> iov) {
  size_t total = 0;
  for (const iovec& v : iov) total += v.iov_len;
  return total;
}

// Walks `iov` as one byte stream: calls fn(ptr, len) for consecutive
// pieces, none crossing a page boundary of the file position `pos`, up to
// `limit` bytes. Stops early (returning the count so far) if fn fails.
template <class Fn>
base::Result<size_t> ForEachPiece(std::span<const iovec> iov, uint64_t pos,
                                  size_t limit, Fn fn) {
  size_t done = 0;
  for (const iovec& v : iov) {
    auto* p = static_cast<uint8_t*>(v.iov_base);
    size_t left = std::min(v.iov_len, limit - done);
    while (left > 0) {
      const uint64_t at = pos + done;
      const size_t n = std::min<uint64_t>(left, kPage - at % kPage);
      if (auto r = fn(at, p, n); !r) {
        if (done == 0) return std::unexpected(r.error());
        return done;
      }
      p += n;
      left -= n;
      done += n;
    }
    if (done == limit) break;
  }
  return done;
}

class FileDesc : public FileDescription, public NodeDescription {
 public:
  FileDesc(int flags, std::shared_ptr<File> file, std::string path)
      : FileDescription(flags),
        file_(std::move(file)),
        path_(std::move(path)) {}

  base::Result<size_t> Read(std::span<const iovec> dst) override {
    absl::MutexLock lock(&mu_);  // one offset update at a time
    const size_t n = TRY(file_->Read(dst, offset_));
    offset_ += static_cast<int64_t>(n);
    if (!(flags() & O_NOATIME)) file_->Accessed();
    return n;
  }
  base::Result<size_t> Write(std::span<const iovec> src) override {
    absl::MutexLock lock(&mu_);
    int64_t end = offset_;
    const size_t n = TRY(file_->Write(src, offset_, flags() & O_APPEND, &end));
    offset_ = end;
    return n;
  }
  base::Result<size_t> PRead(std::span<const iovec> dst,
                             int64_t offset) override {
    if (offset < 0) return base::Err(EINVAL);
    const size_t n = TRY(file_->Read(dst, offset));
    if (!(flags() & O_NOATIME)) file_->Accessed();
    return n;
  }
  // As Linux, pwrite on an O_APPEND description appends.
  base::Result<size_t> PWrite(std::span<const iovec> src,
                              int64_t offset) override {
    if (offset < 0) return base::Err(EINVAL);
    int64_t end;
    return file_->Write(src, offset, flags() & O_APPEND, &end);
  }
  base::Result<int64_t> Seek(int64_t offset, int whence) override {
    absl::MutexLock lock(&mu_);
    int64_t base;
    switch (whence) {
      case SEEK_SET:
        base = 0;
        break;
      case SEEK_CUR:
        base = offset_;
        break;
      case SEEK_END:
        base = file_->Size();
        break;
      case SEEK_DATA:
      case SEEK_HOLE:
        return offset_ = TRY(file_->SeekData(offset, whence == SEEK_HOLE));
      default:
        return base::Err(EINVAL);
    }
    int64_t pos;
    if (__builtin_add_overflow(base, offset, &pos) || pos < 0) {
      return base::Err(EINVAL);
    }
    return offset_ = pos;
  }
  base::Result<struct stat> Stat() override { return file_->Stat(); }
  MmapKind mmap_kind() const override { return MmapKind::kFile; }
  bool shares_pages() const override { return true; }
  base::Result<std::vector<mm::BackingRun>> PinPages(uint64_t offset,
                                                     uint64_t len) override {
    return file_->PinPages(offset, len);
  }
  void AddWritableMapping(std::weak_ptr<const void> mapping) override {
    file_->AddWritableMapping(std::move(mapping));
  }
  const void* mapped_identity() const override { return file_.get(); }
  void AddMapper(std::weak_ptr<mm::MappingSpace> space) override {
    file_->AddMapper(std::move(space));
  }
  std::string path() const override { return path_; }
  std::shared_ptr<Node> node() const override { return file_; }

 private:
  const std::shared_ptr<File> file_;
  const std::string path_;
  absl::Mutex mu_;
  int64_t offset_ ABSL_GUARDED_BY(mu_) = 0;
};

// An open tmpfs directory: the offset is a cookie (see Dir::List), so a
// listing resumes correctly whatever was removed meanwhile.
class DirDesc : public FileDescription, public NodeDescription {
 public:
  DirDesc(int flags, std::shared_ptr<Dir> dir, std::string path)
      : FileDescription(flags), dir_(std::move(dir)), path_(std::move(path)) {}

  base::Result<size_t> Read(std::span<const iovec> dst) override {
    return base::Err(EISDIR);
  }
  base::Result<size_t> PRead(std::span<const iovec> dst,
                             int64_t offset) override {
    return base::Err(EISDIR);
  }
  base::Result<int64_t> Seek(int64_t offset, int whence) override {
    absl::MutexLock lock(&mu_);
    int64_t pos;
    if (whence == SEEK_SET) {
      pos = offset;
    } else if (whence != SEEK_CUR ||
               __builtin_add_overflow(pos_, offset, &pos)) {
      return base::Err(EINVAL);
    }
    if (pos < 0) return base::Err(EINVAL);
    return pos_ = pos;
  }
  base::Result<size_t> Getdents64(std::span<uint8_t> buf) override {
    absl::MutexLock lock(&mu_);
    size_t used = 0;
    for (;;) {
      std::vector<Dir::Listed> batch = dir_->List(pos_, 64);
      if (batch.empty()) break;
      for (const Dir::Listed& l : batch) {
        const size_t n = WriteDirent64(buf.subspan(used), l.entry, l.next);
        if (n == 0) {
          if (used == 0) return base::Err(EINVAL);  // buffer too small
          dir_->Accessed();
          return used;
        }
        used += n;
        pos_ = l.next;
      }
    }
    dir_->Accessed();
    return used;
  }
  base::Result<struct stat> Stat() override { return dir_->Stat(); }
  std::string path() const override { return path_; }
  std::shared_ptr<Node> node() const override { return dir_; }

 private:
  const std::shared_ptr<Dir> dir_;
  const std::string path_;
  absl::Mutex mu_;
  int64_t pos_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

base::Result<std::shared_ptr<FileDescription>> Dir::Open(
    int flags, const std::string& path) {
  return std::make_shared<DirDesc>(
      flags, std::static_pointer_cast<Dir>(shared_from_this()), path);
}

File::~File() {
  for (const auto& [index, offset] : pages_) fs_->mf.Free(offset, kPage);
  fs_->pages.fetch_sub(pages_.size());
}

base::Result<std::shared_ptr<FileDescription>> File::Open(
    int flags, const std::string& path) {
  return std::make_shared<FileDesc>(
      flags, std::static_pointer_cast<File>(shared_from_this()), path);
}

base::Result<struct stat> File::Stat() const {
  absl::MutexLock lock(&data_mu_);
  struct stat st = TRY(Inode::Stat());
  st.st_size = static_cast<off_t>(size_);
  st.st_blocks = static_cast<blkcnt_t>(pages_.size() * (kPage / 512));
  return st;
}

base::Result<uint64_t> File::PageLocked(uint64_t index) {
  if (auto it = pages_.find(index); it != pages_.end()) return it->second;
  auto offset = fs_->mf.Allocate(kPage);
  if (!offset) return base::Err(ENOSPC);  // the memory file is full
  pages_.emplace(index, *offset);
  fs_->pages.fetch_add(1);
  return *offset;
}

void File::TruncateLocked(uint64_t size) {
  if (size < size_) {
    // Whole pages past the end go back to the memory file; the tail of
    // the last one is zeroed, so growing the file again reads zeros.
    const uint64_t keep = (size + kPage - 1) / kPage;
    for (auto it = pages_.lower_bound(keep); it != pages_.end();) {
      fs_->mf.Free(it->second, kPage);
      fs_->pages.fetch_sub(1);
      it = pages_.erase(it);
    }
    if (size % kPage != 0) {
      if (auto it = pages_.find(size / kPage); it != pages_.end()) {
        std::memset(fs_->mf.base() + it->second + size % kPage, 0,
                    kPage - size % kPage);
      }
    }
  }
  size_ = size;
}

void File::PunchHoleLocked(uint64_t start, uint64_t end) {
  // Whole pages inside go back to the memory file (reads see a hole,
  // SEEK_HOLE finds it); the parts of the edge pages inside are zeroed.
  const uint64_t first_whole = (start + kPage - 1) / kPage;
  const uint64_t end_whole = end / kPage;
  for (auto it = pages_.lower_bound(first_whole);
       it != pages_.end() && it->first < end_whole;) {
    fs_->mf.Free(it->second, kPage);
    fs_->pages.fetch_sub(1);
    it = pages_.erase(it);
  }
  auto zero = [&](uint64_t from, uint64_t to) {  // within one page
    if (from >= to) return;
    if (auto it = pages_.find(from / kPage); it != pages_.end()) {
      std::memset(fs_->mf.base() + it->second + from % kPage, 0, to - from);
    }
  };
  if (start / kPage == (end - 1) / kPage && start % kPage != 0) {
    zero(start, end);  // inside one page
    return;
  }
  if (start % kPage != 0) zero(start, (start / kPage + 1) * kPage);
  if (end % kPage != 0 && end / kPage >= first_whole) {
    zero(end / kPage * kPage, end);
  }
}

base::Result<void> File::SetAttr(const AttrChange& change) {
  std::vector<std::shared_ptr<mm::MappingSpace>> mappers;
  uint64_t old_end = 0, new_end = 0;  // the pages the size change moved
  base::Result<void> r;
  {
    absl::MutexLock lock(&data_mu_);
    AttrChange rest = change;
    if (change.size) {
      TRY(CheckNewSizeLimit(size_, *change.size));  // RLIMIT_FSIZE
      if (*change.size > kMaxFileSize) return base::Err(EFBIG);
      if ((*change.size < size_ && (seals_ & F_SEAL_SHRINK)) ||
          (*change.size > size_ && (seals_ & F_SEAL_GROW)))
        return base::Err(EPERM);
      old_end = PageRoundUp(size_);
      TruncateLocked(*change.size);
      new_end = PageRoundUp(size_);
      if (old_end != new_end) mappers = MappersLocked();
      rest.size.reset();
      // truncate(2) always moves mtime (and ctime), as Linux's do_truncate.
      if (!rest.mtime) rest.mtime = timespec{0, UTIME_NOW};
    }
    r = Inode::SetAttr(rest);
  }
  Invalidate(mappers, std::min(old_end, new_end), std::max(old_end, new_end));
  return r;
}

std::vector<std::shared_ptr<mm::MappingSpace>> File::MappersLocked() {
  std::vector<std::shared_ptr<mm::MappingSpace>> live;
  for (const auto& m : mappers_)
    if (auto s = m.lock()) live.push_back(std::move(s));
  return live;
}

void File::Invalidate(
    const std::vector<std::shared_ptr<mm::MappingSpace>>& mappers,
    uint64_t start, uint64_t end) const {
  if (start >= end) return;
  for (const auto& m : mappers) m->Invalidate(this, start, end);
}

void File::AddMapper(std::weak_ptr<mm::MappingSpace> space) {
  absl::MutexLock lock(&data_mu_);
  std::erase_if(mappers_, [&](const std::weak_ptr<mm::MappingSpace>& m) {
    return m.expired() || (!m.owner_before(space) && !space.owner_before(m));
  });
  mappers_.push_back(std::move(space));
}

base::Result<void> File::Allocate(uint64_t offset, uint64_t length, int mode) {
  // As Linux's shmem_fallocate: only these two bits (ZERO_RANGE,
  // COLLAPSE_RANGE, INSERT_RANGE... are EOPNOTSUPP on tmpfs).
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) {
    return base::Err(EOPNOTSUPP);
  }
  uint64_t end;
  if (__builtin_add_overflow(offset, length, &end) || end > kMaxFileSize) {
    return base::Err(EFBIG);
  }
  std::vector<std::shared_ptr<mm::MappingSpace>> mappers;
  uint64_t changed_start = 0, changed_end = 0;  // pages mappings must redo
  {
    absl::MutexLock lock(&data_mu_);
    if (mode & FALLOC_FL_PUNCH_HOLE) {
      if (seals_ & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
        return base::Err(EPERM);
      PunchHoleLocked(offset, end);
      // The whole pages inside went: mappings take the file's new ones.
      changed_start = PageRoundUp(offset);
      changed_end = end / kPage * kPage;
      if (changed_start < changed_end) mappers = MappersLocked();
      absl::MutexLock meta(&fs_->mu);
      TouchLocked(false, true, true);
    } else {
      // Checked even with KEEP_SIZE, as Linux.
      TRY(CheckNewSizeLimit(size_, end));  // RLIMIT_FSIZE
      if (end > size_ && (seals_ & F_SEAL_GROW)) return base::Err(EPERM);
      // All or nothing, as Linux's shmem_fallocate.
      if (!FillHolesLocked(offset / kPage, (end + kPage - 1) / kPage))
        return base::Err(ENOSPC);
      if (end > size_ && !(mode & FALLOC_FL_KEEP_SIZE)) {
        changed_start = PageRoundUp(size_);
        size_ = end;
        changed_end = PageRoundUp(size_);
        if (changed_start < changed_end) mappers = MappersLocked();
      }
      absl::MutexLock meta(&fs_->mu);
      TouchLocked(false, false, true);
    }
  }
  Invalidate(mappers, changed_start, changed_end);
  return {};
}

base::Result<size_t> File::Read(std::span<const iovec> dst, int64_t offset) {
  absl::MutexLock lock(&data_mu_);
  const uint64_t pos = static_cast<uint64_t>(offset);
  if (pos >= size_) return 0;
  const size_t limit = std::min<uint64_t>(TotalLength(dst), size_ - pos);
  return ForEachPiece(
      dst, pos, limit,
      [&](uint64_t at, uint8_t* p, size_t n) -> base::Result<void> {
        if (auto it = pages_.find(at / kPage); it != pages_.end()) {
          std::memcpy(p, fs_->mf.base() + it->second + at % kPage, n);
        } else {
          std::memset(p, 0, n);  // a hole
        }
        return {};
      });
}

base::Result<size_t> File::Write(std::span<const iovec> src, int64_t offset,
                                 bool append, int64_t* end) {
  absl::MutexLock lock(&data_mu_);
  const uint64_t pos = append ? size_ : static_cast<uint64_t>(offset);
  *end = static_cast<int64_t>(pos);
  size_t limit = TotalLength(src);
  if (limit == 0) return 0;
  TRY(CheckWriteLimit(pos, &limit));  // RLIMIT_FSIZE: may cut the write
  if (pos >= kMaxFileSize) return base::Err(EFBIG);
  limit = std::min<uint64_t>(limit, kMaxFileSize - pos);
  if (seals_ & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) return base::Err(EPERM);
  if ((seals_ & F_SEAL_GROW) && pos + limit > size_) {
    // As Linux 6.x: the write stops at the size; nothing fits, EPERM.
    if (pos >= size_) return base::Err(EPERM);
    limit = size_ - pos;
  }
  const size_t n = TRY(ForEachPiece(
      src, pos, limit,
      [&](uint64_t at, uint8_t* p, size_t len) -> base::Result<void> {
        const uint64_t page = TRY(PageLocked(at / kPage));
        std::memcpy(fs_->mf.base() + page + at % kPage, p, len);
        return {};
      }));
  *end = static_cast<int64_t>(pos + n);
  size_ = std::max<uint64_t>(size_, pos + n);
  absl::MutexLock meta(&fs_->mu);
  TouchLocked(false, true, true);
  return n;
}

uint32_t File::Seals() {
  absl::MutexLock lock(&data_mu_);
  return seals_;
}

bool File::FillHolesLocked(uint64_t first, uint64_t last) {
  std::vector<uint64_t> added;
  for (uint64_t i = first; i < last; ++i) {
    if (pages_.contains(i)) continue;
    if (!PageLocked(i)) {
      for (uint64_t j : added) {
        fs_->mf.Free(pages_.at(j), kPage);
        pages_.erase(j);
      }
      fs_->pages.fetch_sub(added.size());
      return false;
    }
    added.push_back(i);
  }
  return true;
}

base::Result<std::vector<mm::BackingRun>> File::PinPages(uint64_t offset,
                                                        uint64_t len) {
  absl::MutexLock lock(&data_mu_);
  const uint64_t first = offset / kPage, last = (offset + len) / kPage;
  if (!FillHolesLocked(first, last)) return base::Err(ENOMEM);
  std::vector<mm::BackingRun> runs;
  for (uint64_t i = first; i < last; ++i) {
    const uint64_t at = pages_.at(i);
    if (!runs.empty() && runs.back().offset + runs.back().len == at)
      runs.back().len += kPage;
    else
      runs.push_back({at, kPage});
  }
  for (const mm::BackingRun& r : runs) fs_->mf.IncRef(r.offset, r.len);
  return runs;
}

void File::AddWritableMapping(std::weak_ptr<const void> mapping) {
  absl::MutexLock lock(&data_mu_);
  std::erase_if(writable_mappings_,
                [](const std::weak_ptr<const void>& m) { return m.expired(); });
  writable_mappings_.push_back(std::move(mapping));
}

base::Result<void> File::AddSeals(uint32_t seals) {
  absl::MutexLock lock(&data_mu_);
  if (seals_ & F_SEAL_SEAL) return base::Err(EPERM);
  // A shared mapping that may write would bypass the seal.
  if ((seals & F_SEAL_WRITE) && !(seals_ & F_SEAL_WRITE) &&
      std::ranges::any_of(writable_mappings_,
                          [](const auto& m) { return !m.expired(); }))
    return base::Err(EBUSY);
  // F_SEAL_EXEC on an executable file also seals writes (W^X).
  if (seals & kSealExec) {
    absl::MutexLock meta(&fs_->mu);
    if (perm_ & 0111)
      seals |= F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
  }
  seals_ |= seals;
  return {};
}

void File::SetInitialSeals(uint32_t seals) {
  absl::MutexLock lock(&data_mu_);
  seals_ = seals;
}

int64_t File::Size() {
  absl::MutexLock lock(&data_mu_);
  return static_cast<int64_t>(size_);
}

base::Result<int64_t> File::SeekData(int64_t offset, bool hole) {
  absl::MutexLock lock(&data_mu_);
  if (offset < 0 || static_cast<uint64_t>(offset) >= size_) {
    return base::Err(ENXIO);
  }
  const uint64_t pos = static_cast<uint64_t>(offset);
  uint64_t index = pos / kPage;
  if (hole) {
    for (auto it = pages_.find(index); it != pages_.end() && it->first == index;
         ++it) {
      ++index;
    }
    return static_cast<int64_t>(std::min(std::max(pos, index * kPage), size_));
  }
  auto it = pages_.lower_bound(index);
  if (it == pages_.end()) return base::Err(ENXIO);
  const uint64_t data = std::max(pos, it->first * kPage);
  if (data >= size_) return base::Err(ENXIO);
  return static_cast<int64_t>(data);
}

}  // namespace vfs::tmpfs
