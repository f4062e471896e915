#include "sentry/vfs/file_size_limit.h"

#include <sys/resource.h>

namespace vfs {
namespace {

thread_local FileSizeLimit* current_limit = nullptr;

}  // namespace

ScopedFileSizeLimit::ScopedFileSizeLimit(FileSizeLimit* limit)
    : previous_(current_limit) {
  current_limit = limit;
}

ScopedFileSizeLimit::~ScopedFileSizeLimit() { current_limit = previous_; }

uint64_t CurrentFileSizeLimit() {
  return current_limit ? current_limit->Get() : RLIM_INFINITY;
}

base::Result<void> CheckWriteLimit(uint64_t pos, size_t* count) {
  const uint64_t limit = CurrentFileSizeLimit();
  if (limit == RLIM_INFINITY) return {};
  if (pos >= limit) {
    current_limit->Exceeded();
    return base::Err(EFBIG);
  }
  if (*count > limit - pos) *count = static_cast<size_t>(limit - pos);
  return {};
}

base::Result<void> CheckNewSizeLimit(uint64_t old_size, uint64_t new_size) {
  if (new_size <= old_size) return {};
  const uint64_t limit = CurrentFileSizeLimit();
  if (limit != RLIM_INFINITY && new_size > limit) {
    current_limit->Exceeded();
    return base::Err(EFBIG);
  }
  return {};
}

}  // namespace vfs
