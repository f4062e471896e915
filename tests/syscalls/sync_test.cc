// sync_file_range(2) and readahead(2): what they accept and their errors
// in Linux's order (nothing to write back or read ahead in the sandbox).
#include <fcntl.h>
#include <unistd.h>

#include "splice_util.h"
#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

constexpr unsigned kAllSyncFlags = SYNC_FILE_RANGE_WAIT_BEFORE |
                                   SYNC_FILE_RANGE_WRITE |
                                   SYNC_FILE_RANGE_WAIT_AFTER;

TEST(SyncFileRangeTest, FilesAndErrors) {
  TempDir dir;
  MakeFile(dir / "f", "data");
  FileDescriptor f = OpenOrFail((dir / "f").c_str(), O_RDONLY);
  FileDescriptor w = OpenOrFail((dir / "f").c_str(), O_WRONLY);
  FileDescriptor d = OpenOrFail(dir.path().c_str(), O_RDONLY | O_DIRECTORY);
  FileDescriptor path = OpenOrFail((dir / "f").c_str(), O_PATH);
  Pipe p = MakePipe();
  EXPECT_THAT(sync_file_range(f.get(), 0, 0, 0), SyscallSucceeds());
  EXPECT_THAT(sync_file_range(w.get(), 0, 10, kAllSyncFlags), SyscallSucceeds());
  EXPECT_THAT(sync_file_range(d.get(), 0, 0, kAllSyncFlags), SyscallSucceeds());
  // The descriptor first, then the flags, the range, the file type.
  EXPECT_THAT(sync_file_range(-1, 0, 0, 8), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(sync_file_range(path.get(), 0, 0, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(sync_file_range(f.get(), 0, 0, 8), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sync_file_range(f.get(), -1, 0, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sync_file_range(f.get(), 1, -2, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sync_file_range(f.get(), 0x7fffffffffffffff, 1, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sync_file_range(p.r.get(), -1, 0, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sync_file_range(p.r.get(), 0, 0, 0), SyscallFailsWithErrno(ESPIPE));
  FileDescriptor null = OpenOrFail("/dev/null", O_RDWR);
  EXPECT_THAT(sync_file_range(null.get(), 0, 0, 0), SyscallFailsWithErrno(ESPIPE));
}

TEST(ReadaheadTest, FilesAndErrors) {
  TempDir dir;
  MakeFile(dir / "f", "data");
  FileDescriptor f = OpenOrFail((dir / "f").c_str(), O_RDONLY);
  FileDescriptor w = OpenOrFail((dir / "f").c_str(), O_WRONLY);
  FileDescriptor d = OpenOrFail(dir.path().c_str(), O_RDONLY | O_DIRECTORY);
  FileDescriptor path = OpenOrFail((dir / "f").c_str(), O_PATH);
  Pipe p = MakePipe();
  EXPECT_THAT(readahead(f.get(), 0, 100), SyscallSucceeds());
  EXPECT_THAT(readahead(f.get(), -1, 10), SyscallSucceeds());
  EXPECT_THAT(readahead(-1, 0, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(readahead(w.get(), 0, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(readahead(path.get(), 0, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(readahead(d.get(), 0, 1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(readahead(p.r.get(), 0, 1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(readahead(f.get(), 0, static_cast<size_t>(-1)),
              SyscallFailsWithErrno(EINVAL));
  FileDescriptor null = OpenOrFail("/dev/null", O_RDONLY);
  EXPECT_THAT(readahead(null.get(), 0, 1), SyscallFailsWithErrno(EINVAL));
}

}  // namespace
}  // namespace syscall_test
