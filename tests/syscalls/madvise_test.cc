// madvise: DONTFORK/DOFORK and WIPEONFORK/KEEPONFORK across fork, the
// DONTDUMP/DODUMP flags, REMOVE on shared and private memory,
// POPULATE_READ/WRITE and their errors.
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

const size_t kPage = PageSize();

bool AllEqual(const char* p, size_t n, char c) {
  return std::all_of(p, p + n, [c](char x) { return x == c; });
}

char* Map(size_t len, int prot, int flags, int fd = -1, off_t off = 0) {
  void* p = mmap(nullptr, len, prot, flags, fd, off);
  EXPECT_NE(p, MAP_FAILED) << ErrnoName(errno);
  return p == MAP_FAILED ? nullptr : static_cast<char*>(p);
}

char* MapAnon(size_t len, int prot = PROT_READ | PROT_WRITE) {
  return Map(len, prot, MAP_PRIVATE | MAP_ANONYMOUS);
}

TEST(MadviseForkTest, DontForkRangeIsUnmappedInTheChild) {
  char* p = MapAnon(3 * kPage);
  ASSERT_NE(p, nullptr);
  memset(p, 'a', 3 * kPage);
  ASSERT_THAT(madvise(p + kPage, kPage, MADV_DONTFORK), SyscallSucceeds());
  EXPECT_EQ(InChild([&] {
              if (!AllEqual(p, kPage, 'a')) return 1;
              if (!IsUnmapped(p + kPage, kPage)) return 2;
              if (!AllEqual(p + 2 * kPage, kPage, 'a')) return 3;
              return 0;
            }),
            0);
  // The parent keeps it.
  EXPECT_TRUE(AllEqual(p, 3 * kPage, 'a'));
  EXPECT_THAT(munmap(p, 3 * kPage), SyscallSucceeds());
}

TEST(MadviseForkTest, DoForkUndoesDontFork) {
  char* p = MapAnon(2 * kPage);
  ASSERT_NE(p, nullptr);
  memset(p, 'b', 2 * kPage);
  ASSERT_THAT(madvise(p, 2 * kPage, MADV_DONTFORK), SyscallSucceeds());
  ASSERT_THAT(madvise(p, kPage, MADV_DOFORK), SyscallSucceeds());
  EXPECT_EQ(InChild([&] {
              if (!AllEqual(p, kPage, 'b')) return 1;
              return IsUnmapped(p + kPage, kPage) ? 0 : 2;
            }),
            0);
  EXPECT_THAT(munmap(p, 2 * kPage), SyscallSucceeds());
}

TEST(MadviseForkTest, DontForkIsKeptAcrossSplits) {
  char* p = MapAnon(4 * kPage);
  ASSERT_NE(p, nullptr);
  memset(p, 'c', 4 * kPage);
  ASSERT_THAT(madvise(p, 4 * kPage, MADV_DONTFORK), SyscallSucceeds());
  // Splits the VMA in three.
  ASSERT_THAT(mprotect(p + kPage, kPage, PROT_READ), SyscallSucceeds());
  EXPECT_EQ(InChild([&] { return IsUnmapped(p, 4 * kPage) ? 0 : 1; }), 0);
  EXPECT_THAT(munmap(p, 4 * kPage), SyscallSucceeds());
}

TEST(MadviseForkTest, WipeOnForkChildSeesZeros) {
  char* p = MapAnon(3 * kPage);
  ASSERT_NE(p, nullptr);
  memset(p, 'd', 3 * kPage);
  ASSERT_THAT(madvise(p + kPage, kPage, MADV_WIPEONFORK), SyscallSucceeds());
  EXPECT_EQ(InChild([&] {
              if (!AllEqual(p, kPage, 'd')) return 1;
              if (!AllEqual(p + kPage, kPage, 0)) return 2;
              if (!AllEqual(p + 2 * kPage, kPage, 'd')) return 3;
              // The child may use it, and the flag stays: its own child
              // sees zeros again.
              memset(p + kPage, 'e', kPage);
              int grandchild = InChild(
                  [&] { return AllEqual(p + kPage, kPage, 0) ? 0 : 1; });
              return grandchild == 0 ? 0 : 4;
            }),
            0);
  // The parent's data is untouched, by the fork and by the child.
  EXPECT_TRUE(AllEqual(p, 3 * kPage, 'd'));
  EXPECT_THAT(munmap(p, 3 * kPage), SyscallSucceeds());
}

TEST(MadviseForkTest, KeepOnForkUndoesWipeOnFork) {
  char* p = MapAnon(kPage);
  ASSERT_NE(p, nullptr);
  memset(p, 'f', kPage);
  ASSERT_THAT(madvise(p, kPage, MADV_WIPEONFORK), SyscallSucceeds());
  ASSERT_THAT(madvise(p, kPage, MADV_KEEPONFORK), SyscallSucceeds());
  EXPECT_EQ(InChild([&] { return AllEqual(p, kPage, 'f') ? 0 : 1; }), 0);
  EXPECT_THAT(munmap(p, kPage), SyscallSucceeds());
}

TEST(MadviseForkTest, WipeOnForkIsForPrivateAnonymousMemoryOnly) {
  char* shared = Map(kPage, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
  ASSERT_NE(shared, nullptr);
  EXPECT_THAT(madvise(shared, kPage, MADV_WIPEONFORK),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(munmap(shared, kPage), SyscallSucceeds());

  FileDescriptor fd = OpenOrFail(kRegularFile, O_RDONLY);
  char* file = Map(kPage, PROT_READ, MAP_PRIVATE, fd.get());
  ASSERT_NE(file, nullptr);
  EXPECT_THAT(madvise(file, kPage, MADV_WIPEONFORK),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(munmap(file, kPage), SyscallSucceeds());
}

TEST(MadviseTest, DontDumpAndDoDumpAreAccepted) {
  char* p = MapAnon(2 * kPage);
  ASSERT_NE(p, nullptr);
  EXPECT_THAT(madvise(p, 2 * kPage, MADV_DONTDUMP), SyscallSucceeds());
  EXPECT_THAT(madvise(p, kPage, MADV_DODUMP), SyscallSucceeds());
  // A hole: the mapped part is advised, then ENOMEM.
  EXPECT_THAT(munmap(p + kPage, kPage), SyscallSucceeds());
  EXPECT_THAT(madvise(p, 2 * kPage, MADV_DONTDUMP),
              SyscallFailsWithErrno(ENOMEM));
  EXPECT_THAT(munmap(p, kPage), SyscallSucceeds());
}

TEST(MadviseRemoveTest, SharedAnonymousMemoryReadsZeroEverywhere) {
  char* p = Map(2 * kPage, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
  ASSERT_NE(p, nullptr);
  memset(p, 'g', 2 * kPage);
  int to_child[2];
  ASSERT_THAT(pipe(to_child), SyscallSucceeds());
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    if (read(to_child[0], &c, 1) != 1) _exit(10);
    // The parent removed the first page: the child sees it too.
    if (!AllEqual(p, kPage, 0)) _exit(1);
    _exit(AllEqual(p + kPage, kPage, 'g') ? 0 : 2);
  }
  ASSERT_GT(pid, 0);
  EXPECT_THAT(madvise(p, kPage, MADV_REMOVE), SyscallSucceeds());
  EXPECT_TRUE(AllEqual(p, kPage, 0));
  EXPECT_TRUE(AllEqual(p + kPage, kPage, 'g'));
  ASSERT_EQ(write(to_child[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  close(to_child[0]);
  close(to_child[1]);
  // The memory is usable again afterwards.
  p[0] = 'h';
  EXPECT_EQ(p[0], 'h');
  EXPECT_THAT(munmap(p, 2 * kPage), SyscallSucceeds());
}

TEST(MadviseRemoveTest, SharedFileMappingReadsZero) {
  TempDir dir;
  const std::string path = dir.path() + "/f";
  ASSERT_NO_FATAL_FAILURE(MakeFile(path, std::string(2 * kPage, 'i')));
  FileDescriptor fd = OpenOrFail(path.c_str(), O_RDWR);
  char* p = Map(2 * kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get());
  ASSERT_NE(p, nullptr);
  EXPECT_THAT(madvise(p + kPage, kPage, MADV_REMOVE), SyscallSucceeds());
  EXPECT_TRUE(AllEqual(p, kPage, 'i'));
  EXPECT_TRUE(AllEqual(p + kPage, kPage, 0));
  EXPECT_THAT(munmap(p, 2 * kPage), SyscallSucceeds());
}

TEST(MadviseRemoveTest, PrivateOrReadOnlyMappingsAreRefused) {
  // Private anonymous memory has no file to punch.
  char* anon = MapAnon(kPage);
  ASSERT_NE(anon, nullptr);
  anon[0] = 'j';
  EXPECT_THAT(madvise(anon, kPage, MADV_REMOVE), SyscallFailsWithErrno(EINVAL));
  EXPECT_EQ(anon[0], 'j');
  EXPECT_THAT(munmap(anon, kPage), SyscallSucceeds());
  // A private file mapping may not change its file.
  FileDescriptor fd = OpenOrFail(kRegularFile, O_RDONLY);
  char* priv = Map(kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd.get());
  ASSERT_NE(priv, nullptr);
  EXPECT_THAT(madvise(priv, kPage, MADV_REMOVE), SyscallFailsWithErrno(EACCES));
  EXPECT_THAT(munmap(priv, kPage), SyscallSucceeds());
  // Nor a shared mapping of a file open read-only.
  char* ro = Map(kPage, PROT_READ, MAP_SHARED, fd.get());
  ASSERT_NE(ro, nullptr);
  EXPECT_THAT(madvise(ro, kPage, MADV_REMOVE), SyscallFailsWithErrno(EACCES));
  EXPECT_THAT(munmap(ro, kPage), SyscallSucceeds());
}

TEST(MadvisePopulateTest, ReadAndWriteSucceedOnAccessibleMemory) {
  char* p = MapAnon(4 * kPage);
  ASSERT_NE(p, nullptr);
  memset(p, 'k', kPage);
  EXPECT_THAT(madvise(p, 4 * kPage, MADV_POPULATE_READ), SyscallSucceeds());
  EXPECT_THAT(madvise(p, 4 * kPage, MADV_POPULATE_WRITE), SyscallSucceeds());
  EXPECT_TRUE(AllEqual(p, kPage, 'k'));
  EXPECT_TRUE(AllEqual(p + kPage, 3 * kPage, 0));
  EXPECT_THAT(munmap(p, 4 * kPage), SyscallSucceeds());
}

TEST(MadvisePopulateTest, WriteBreaksCopyOnWriteOnly) {
  char* p = MapAnon(2 * kPage);
  ASSERT_NE(p, nullptr);
  memset(p, 'l', 2 * kPage);
  int to_child[2], to_parent[2];
  ASSERT_THAT(pipe(to_child), SyscallSucceeds());
  ASSERT_THAT(pipe(to_parent), SyscallSucceeds());
  pid_t pid = fork();
  if (pid == 0) {
    // Populating for writing gives the child pages of its own, with the
    // same contents; the parent's later writes are not seen.
    if (madvise(p, 2 * kPage, MADV_POPULATE_WRITE) != 0) _exit(1);
    if (!AllEqual(p, 2 * kPage, 'l')) _exit(2);
    char c = 'x';
    if (write(to_parent[1], &c, 1) != 1) _exit(10);
    if (read(to_child[0], &c, 1) != 1) _exit(11);
    _exit(AllEqual(p, 2 * kPage, 'l') ? 0 : 3);
  }
  ASSERT_GT(pid, 0);
  char c;
  ASSERT_EQ(read(to_parent[0], &c, 1), 1);
  memset(p, 'm', 2 * kPage);
  ASSERT_EQ(write(to_child[1], &c, 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  for (int fd : {to_child[0], to_child[1], to_parent[0], to_parent[1]})
    close(fd);
  EXPECT_THAT(munmap(p, 2 * kPage), SyscallSucceeds());
}

TEST(MadvisePopulateTest, ProtectionErrorsAreEinval) {
  char* none = MapAnon(kPage, PROT_NONE);
  ASSERT_NE(none, nullptr);
  EXPECT_THAT(madvise(none, kPage, MADV_POPULATE_READ),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(madvise(none, kPage, MADV_POPULATE_WRITE),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(munmap(none, kPage), SyscallSucceeds());
  char* ro = MapAnon(kPage, PROT_READ);
  ASSERT_NE(ro, nullptr);
  EXPECT_THAT(madvise(ro, kPage, MADV_POPULATE_READ), SyscallSucceeds());
  EXPECT_THAT(madvise(ro, kPage, MADV_POPULATE_WRITE),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(munmap(ro, kPage), SyscallSucceeds());
}

TEST(MadvisePopulateTest, HolesAreEnomem) {
  char* p = MapAnon(3 * kPage);
  ASSERT_NE(p, nullptr);
  ASSERT_THAT(munmap(p + kPage, kPage), SyscallSucceeds());
  EXPECT_THAT(madvise(p, 3 * kPage, MADV_POPULATE_READ),
              SyscallFailsWithErrno(ENOMEM));
  EXPECT_THAT(madvise(p + kPage, 2 * kPage, MADV_POPULATE_WRITE),
              SyscallFailsWithErrno(ENOMEM));
  EXPECT_THAT(munmap(p, 3 * kPage), SyscallSucceeds());
}

TEST(MadvisePopulateTest, PagesPastEndOfFileAreEfault) {
  TempDir dir;
  const std::string path = dir.path() + "/f";
  ASSERT_NO_FATAL_FAILURE(MakeFile(path, "short"));
  FileDescriptor fd = OpenOrFail(path.c_str(), O_RDONLY);
  char* p = Map(3 * kPage, PROT_READ, MAP_PRIVATE, fd.get());
  ASSERT_NE(p, nullptr);
  // The page holding EOF is fine, the next is a SIGBUS page.
  EXPECT_THAT(madvise(p, kPage, MADV_POPULATE_READ), SyscallSucceeds());
  EXPECT_THAT(madvise(p, 2 * kPage, MADV_POPULATE_READ),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(munmap(p, 3 * kPage), SyscallSucceeds());
}

TEST(MadviseTest, UnknownAdviceIsEinval) {
  char* p = MapAnon(kPage);
  ASSERT_NE(p, nullptr);
  EXPECT_THAT(madvise(p, kPage, 12345), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(munmap(p, kPage), SyscallSucceeds());
}

}  // namespace
}  // namespace syscall_test
