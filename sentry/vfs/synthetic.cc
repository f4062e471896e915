#include "sentry/vfs/synthetic.h"

#include <sys/sysmacros.h>
#include <time.h>

#include <cstring>

namespace vfs {
namespace {

// The time the sentry first made up a file: close enough to boot, and
// constant, so synthetic files never look modified.
const timespec& BootTime() {
  static const timespec boot = [] {
    timespec t{};
    clock_gettime(CLOCK_REALTIME, &t);
    return t;
  }();
  return boot;
}

// struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type;
// char d_name[]; }: the name starts at byte 19.
constexpr size_t kDirentNameOffset = 19;

}  // namespace

struct stat SyntheticStat(unsigned dev_minor, uint64_t ino, mode_t mode,
                          off_t size, dev_t rdev) {
  struct stat st {};
  st.st_dev = makedev(0, dev_minor);
  st.st_ino = ino;
  st.st_mode = mode;
  st.st_nlink = S_ISDIR(mode) ? 2 : 1;
  st.st_rdev = rdev;
  st.st_size = size;
  st.st_blksize = 4096;
  st.st_atim = st.st_mtim = st.st_ctim = BootTime();
  return st;
}

size_t WriteDirent64(std::span<uint8_t> buf, const DirEntry& entry,
                     int64_t next_offset) {
  const size_t reclen =
      (kDirentNameOffset + entry.name.size() + 1 + 7) & ~size_t{7};
  if (reclen > buf.size()) return 0;
  uint8_t* p = buf.data();
  std::memset(p, 0, reclen);  // the NUL and the padding
  const uint16_t reclen16 = static_cast<uint16_t>(reclen);
  std::memcpy(p, &entry.ino, 8);
  std::memcpy(p + 8, &next_offset, 8);
  std::memcpy(p + 16, &reclen16, 2);
  p[18] = entry.type;
  std::memcpy(p + kDirentNameOffset, entry.name.data(), entry.name.size());
  return reclen;
}

base::Result<int64_t> SyntheticDirDescription::Seek(int64_t offset,
                                                    int whence) {
  absl::MutexLock lock(&mu_);
  int64_t base;
  switch (whence) {
    case SEEK_SET:
      base = 0;
      break;
    case SEEK_CUR:
      base = index_;
      break;
    default:
      return base::Err(EINVAL);
  }
  int64_t pos;
  if (__builtin_add_overflow(base, offset, &pos) || pos < 0) {
    return base::Err(EINVAL);
  }
  index_ = pos;
  return pos;
}

base::Result<size_t> SyntheticDirDescription::Getdents64(
    std::span<uint8_t> buf) {
  absl::MutexLock lock(&mu_);
  size_t used = 0;
  while (index_ >= 0 && static_cast<size_t>(index_) < entries_.size()) {
    const size_t n =
        WriteDirent64(buf.subspan(used), entries_[index_], index_ + 1);
    if (n == 0) {
      if (used == 0) return base::Err(EINVAL);  // as Linux: buffer too small
      break;
    }
    used += n;
    ++index_;
  }
  return used;
}

}  // namespace vfs
