#include "sentry/vfs/mappable.h"

#include <algorithm>

namespace vfs {
namespace {

class FileMappable : public mm::Mappable {
 public:
  explicit FileMappable(std::shared_ptr<FileDescription> file)
      : file_(std::move(file)) {}

  base::Result<void> ReadInto(uint64_t pos, uint8_t* dst,
                              uint64_t len) override {
    uint64_t done = 0;
    while (done < len) {
      uint64_t at;
      if (__builtin_add_overflow(pos, done, &at) || at > uint64_t{INT64_MAX})
        break;  // Past any possible end of file: the rest stays as it is.
      // Bounded chunks keep every iovec length a valid ssize_t for the file.
      iovec iov{dst + done, std::min<uint64_t>(len - done, uint64_t{1} << 30)};
      auto n = file_->PRead(std::span<const iovec>(&iov, 1),
                            static_cast<int64_t>(at));
      if (!n) {
        // A file that claims to be mappable but cannot seek is not.
        if (n.error().value == ESPIPE) return base::Err(ENODEV);
        return std::unexpected(n.error());
      }
      if (*n == 0) break;  // EOF
      if (*n > iov.iov_len) return base::Err(EIO);
      done += *n;
    }
    return {};
  }
  std::optional<uint64_t> Size() override {
    auto st = file_->Stat();
    if (!st || st->st_size < 0) return std::nullopt;
    return static_cast<uint64_t>(st->st_size);
  }
  dev_t dev() override {
    auto st = file_->Stat();
    return st ? st->st_dev : 0;
  }
  ino_t ino() override {
    auto st = file_->Stat();
    return st ? st->st_ino : 0;
  }
  bool SharesPages() const override { return file_->shares_pages(); }
  base::Result<std::vector<mm::BackingRun>> PinPages(uint64_t offset,
                                                     uint64_t len) override {
    return file_->PinPages(offset, len);
  }
  const void* identity() const override { return file_->mapped_identity(); }
  void AddMapper(std::weak_ptr<mm::MappingSpace> space) override {
    file_->AddMapper(std::move(space));
  }

 private:
  const std::shared_ptr<FileDescription> file_;
};

}  // namespace

std::shared_ptr<mm::Mappable> MappableOf(std::shared_ptr<FileDescription> file,
                                         bool shared_writable) {
  auto m = std::make_shared<FileMappable>(file);
  if (shared_writable) file->AddWritableMapping(m);
  return m;
}

}  // namespace vfs
