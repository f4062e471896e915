// memfd_create(2)'s files and the seals of tmpfs files (tmpfs.h).
#include <sys/sysmacros.h>

#include <atomic>
#include <string>

#include "sentry/vfs/tmpfs.h"
#include "sentry/vfs/tmpfs_internal.h"

namespace vfs {
namespace {

// Linux's internal shm mount, which holds every memfd: st_dev 0:1.
constexpr unsigned kShmMinor = 1;
// The kernel's O_LARGEFILE, which F_GETFL shows (glibc's is 0 on x86-64).
constexpr int kOLargefile = 0100000;

// Inode numbers of memfds: one sequence for the sentry's life, as they
// share one mount on Linux.
uint64_t NextMemfdIno() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

// The tmpfs file behind a description, if it is one.
std::shared_ptr<tmpfs::File> FileOf(FileDescription& f) {
  auto* nd = dynamic_cast<NodeDescription*>(&f);
  if (nd == nullptr) return nullptr;
  return std::dynamic_pointer_cast<tmpfs::File>(nd->node());
}

}  // namespace

std::shared_ptr<FileDescription> TmpfsMemfd(mm::MemoryFile& memory_file,
                                            std::string_view name,
                                            uint32_t uid, uint32_t gid,
                                            bool allow_sealing, bool noexec) {
  // Each memfd has a state of its own: it has no directory to share a
  // namespace lock with, and its numbers come from NextMemfdIno. Its
  // xattrs get one maximal value's room: memfds are many and cheap, and
  // their xattrs live in the sentry's heap.
  constexpr uint64_t kMemfdXattrSpace = 64 * 1024 + 1024;
  auto fs = std::make_shared<tmpfs::FsState>(
      memory_file, makedev(0, kShmMinor), kMemfdXattrSpace);
  auto file = std::make_shared<tmpfs::File>(
      fs, S_IFREG | (noexec ? 0666 : 0777), uid, gid, NextMemfdIno());
  if (noexec) {
    file->SetInitialSeals(kSealExec);
  } else if (allow_sealing) {
    file->SetInitialSeals(0);
  }
  std::string path = "/memfd:";
  path.append(name);
  path += " (deleted)";
  return *file->Open(O_RDWR | kOLargefile, path);
}

base::Result<uint32_t> TmpfsGetSeals(FileDescription& f) {
  std::shared_ptr<tmpfs::File> file = FileOf(f);
  if (!file) return base::Err(EINVAL);
  return file->Seals();
}

base::Result<void> TmpfsAddSeals(FileDescription& f, uint32_t seals) {
  std::shared_ptr<tmpfs::File> file = FileOf(f);
  if (!file) return base::Err(EINVAL);
  return file->AddSeals(seals);
}

}  // namespace vfs
