// SysV shared memory: shmget/shmat/shmdt/shmctl, keys, limits,
// permissions, attachment counts across fork, exec and exit.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipc_util.h"
#include "test_util.h"

namespace syscall_test {
namespace {

constexpr int kShmStatAny = 15;

// ExecDetaches runs this binary again with SHM_TEST_WAIT set: the new
// image waits for EOF on stdin, then exits.
const bool kWaitMode = [] {
  if (getenv("SHM_TEST_WAIT") == nullptr) return false;
  char c;
  while (read(0, &c, 1) > 0) {
  }
  _exit(0);
}();

// A segment removed at the end of the test.
class Segment {
 public:
  explicit Segment(size_t size, int mode = 0600, key_t key = IPC_PRIVATE)
      : id_(shmget(key, size, IPC_CREAT | IPC_EXCL | mode)) {}
  ~Segment() {
    if (id_ >= 0) shmctl(id_, IPC_RMID, nullptr);
  }
  int id() const { return id_; }

 private:
  int id_;
};

shmid_ds Stat(int id) {
  shmid_ds ds{};
  EXPECT_THAT(shmctl(id, IPC_STAT, &ds), SyscallSucceeds());
  return ds;
}

TEST(ShmTest, AttachmentsShareMemory) {
  Segment seg(8192);
  ASSERT_GE(seg.id(), 0) << strerror(errno);
  char* a = static_cast<char*>(shmat(seg.id(), nullptr, 0));
  ASSERT_NE(a, reinterpret_cast<char*>(-1)) << strerror(errno);
  char* b = static_cast<char*>(shmat(seg.id(), nullptr, 0));
  ASSERT_NE(b, reinterpret_cast<char*>(-1)) << strerror(errno);
  EXPECT_NE(a, b);
  EXPECT_EQ(a[0], 0);  // new segments read as zero
  EXPECT_EQ(a[8191], 0);
  strcpy(a + 4096, "shared");
  EXPECT_STREQ(b + 4096, "shared");
  shmid_ds ds = Stat(seg.id());
  EXPECT_EQ(ds.shm_nattch, 2u);
  EXPECT_EQ(ds.shm_segsz, 8192u);
  EXPECT_EQ(ds.shm_cpid, getpid());
  EXPECT_EQ(ds.shm_lpid, getpid());
  EXPECT_EQ(ds.shm_perm.mode & 0777, 0600);
  EXPECT_EQ(ds.shm_perm.uid, geteuid());
  EXPECT_EQ(ds.shm_perm.cuid, geteuid());
  EXPECT_NE(ds.shm_atime, 0);
  EXPECT_THAT(shmdt(a), SyscallSucceeds());
  EXPECT_EQ(Stat(seg.id()).shm_nattch, 1u);
  EXPECT_NE(Stat(seg.id()).shm_dtime, 0);
  // munmap detaches too.
  EXPECT_THAT(munmap(b, 8192), SyscallSucceeds());
  EXPECT_EQ(Stat(seg.id()).shm_nattch, 0u);
}

TEST(ShmTest, OddSizeMapsWholePages) {
  Segment seg(100);
  ASSERT_GE(seg.id(), 0);
  EXPECT_EQ(Stat(seg.id()).shm_segsz, 100u);
  char* a = static_cast<char*>(shmat(seg.id(), nullptr, 0));
  ASSERT_NE(a, reinterpret_cast<char*>(-1));
  a[4095] = 1;  // the rest of the page is there
  EXPECT_THAT(shmdt(a), SyscallSucceeds());
}

TEST(ShmTest, Keys) {
  const key_t key = RandomKey();
  int id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
  ASSERT_GE(id, 0) << strerror(errno);
  EXPECT_THAT(shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600),
              SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(shmget(key, 4096, IPC_CREAT | 0600), SyscallSucceedsWithValue(id));
  EXPECT_THAT(shmget(key, 0, 0), SyscallSucceedsWithValue(id));
  EXPECT_THAT(shmget(key, 4097, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_EQ(Stat(id).shm_perm.__key, key);
  // IPC_PRIVATE always makes a new one.
  Segment other(4096);
  EXPECT_NE(other.id(), id);
  ASSERT_THAT(shmctl(id, IPC_RMID, nullptr), SyscallSucceeds());
  EXPECT_THAT(shmget(key, 0, 0), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(shmctl(id, IPC_STAT, nullptr), SyscallFailsWithErrno(EINVAL));
}

TEST(ShmTest, Sizes) {
  EXPECT_THAT(shmget(IPC_PRIVATE, 0, 0600), SyscallFailsWithErrno(EINVAL));
  shminfo info{};
  ASSERT_THAT(shmctl(0, IPC_INFO, reinterpret_cast<shmid_ds*>(&info)),
              SyscallSucceeds());
  EXPECT_EQ(info.shmmin, 1u);
  EXPECT_GE(info.shmmni, 1u);
  EXPECT_GE(info.shmmax, 1u << 20);
  if (info.shmmax < ~0ul)
    EXPECT_THAT(shmget(IPC_PRIVATE, info.shmmax + 1, 0600),
                SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(shmget(RandomKey(), 4096, 0600), SyscallFailsWithErrno(ENOENT));
}

TEST(ShmTest, Permissions) {
  Segment none(4096, 0);
  Segment readable(4096, 0644);
  ASSERT_GE(none.id(), 0);
  ASSERT_GE(readable.id(), 0);
  const int none_id = none.id(), readable_id = readable.id();
  int status = AsNobody([&] {
    // Root created them (or we did, with mode 0): no access either way.
    if (shmat(none_id, nullptr, SHM_RDONLY) != reinterpret_cast<void*>(-1) ||
        errno != EACCES)
      return 1;
    shmid_ds ds;
    if (shmctl(none_id, IPC_STAT, &ds) != -1 || errno != EACCES) return 2;
    // SHM_STAT_ANY skips the check.
    if (syscall(SYS_shmctl, none_id % 32768, kShmStatAny, &ds) != none_id)
      return 3;
    void* p = shmat(readable_id, nullptr, SHM_RDONLY);
    if (p == reinterpret_cast<void*>(-1)) return 4;
    if (getuid() != 0 && geteuid() == 65534) {
      // Only when root created it: nobody is then neither owner nor
      // creator (and has no CAP_IPC_OWNER).
    }
    shmdt(p);
    return 0;
  });
  EXPECT_EXIT_OK(status);
}

TEST(ShmTest, OthersCannotWriteOrRemove) {
  if (geteuid() != 0) GTEST_SKIP() << "needs a second user";
  Segment seg(4096, 0644);
  ASSERT_GE(seg.id(), 0);
  const int id = seg.id();
  int status = AsNobody([&] {
    if (shmat(id, nullptr, 0) != reinterpret_cast<void*>(-1) ||
        errno != EACCES)
      return 1;
    if (shmctl(id, IPC_RMID, nullptr) != -1 || errno != EPERM) return 2;
    shmid_ds ds{};
    if (shmctl(id, IPC_STAT, &ds) != 0) return 3;
    if (shmctl(id, IPC_SET, &ds) != -1 || errno != EPERM) return 4;
    return 0;
  });
  EXPECT_EXIT_OK(status);
}

TEST(ShmTest, ReadOnlyAttach) {
  Segment seg(4096);
  ASSERT_GE(seg.id(), 0);
  char* p = static_cast<char*>(shmat(seg.id(), nullptr, SHM_RDONLY));
  ASSERT_NE(p, reinterpret_cast<char*>(-1));
  EXPECT_EQ(p[0], 0);
  EXPECT_THAT(mprotect(p, 4096, PROT_READ | PROT_WRITE),
              SyscallFailsWithErrno(EACCES));
  int status = InChild([&] {
    p[0] = 1;
    return 0;
  });
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) << status;
  EXPECT_THAT(shmdt(p), SyscallSucceeds());
}

TEST(ShmTest, Addresses) {
  Segment seg(8192);
  ASSERT_GE(seg.id(), 0);
  // A free, aligned place to attach at.
  void* r = mmap(nullptr, 4 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
                 -1, 0);
  ASSERT_NE(r, MAP_FAILED);
  char* base = static_cast<char*>(r);
  ASSERT_THAT(munmap(base, 4 * 4096), SyscallSucceeds());
  EXPECT_EQ(shmat(seg.id(), base + 1, 0), reinterpret_cast<void*>(-1));
  EXPECT_EQ(errno, EINVAL);
  void* p = shmat(seg.id(), base + 4096 + 5, SHM_RND);
  EXPECT_EQ(p, base + 4096);
  // Overlapping an attachment: EINVAL unless SHM_REMAP.
  EXPECT_EQ(shmat(seg.id(), base, 0), reinterpret_cast<void*>(-1));
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(shmat(seg.id(), nullptr, SHM_REMAP), reinterpret_cast<void*>(-1));
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(shmat(seg.id(), base, SHM_REMAP), base);
  // shmdt needs the start of an attachment.
  EXPECT_THAT(shmdt(base + 1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(shmdt(base + 4096 * 3), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(shmdt(base), SyscallSucceeds());
  // The remapped part of the first attachment went with the remap.
  EXPECT_EQ(Stat(seg.id()).shm_nattch, 1u);
  EXPECT_THAT(munmap(base, 4 * 4096), SyscallSucceeds());
  EXPECT_EQ(Stat(seg.id()).shm_nattch, 0u);
  EXPECT_THAT(shmdt(base), SyscallFailsWithErrno(EINVAL));
  EXPECT_EQ(shmat(seg.id() + 1, nullptr, 0), reinterpret_cast<void*>(-1));
  EXPECT_EQ(errno, EINVAL);
}

TEST(ShmTest, RemoveWhileAttached) {
  const key_t key = RandomKey();
  int id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
  ASSERT_GE(id, 0);
  char* p = static_cast<char*>(shmat(id, nullptr, 0));
  ASSERT_NE(p, reinterpret_cast<char*>(-1));
  p[0] = 42;
  ASSERT_THAT(shmctl(id, IPC_RMID, nullptr), SyscallSucceeds());
  shmid_ds ds = Stat(id);  // still there while attached
  EXPECT_TRUE(ds.shm_perm.mode & SHM_DEST);
  EXPECT_EQ(ds.shm_perm.__key, IPC_PRIVATE);
  EXPECT_EQ(ds.shm_nattch, 1u);
  EXPECT_EQ(p[0], 42);
  // The key is free at once.
  int id2 = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
  EXPECT_GE(id2, 0) << strerror(errno);
  EXPECT_NE(id2, id);
  if (id2 >= 0) shmctl(id2, IPC_RMID, nullptr);
  EXPECT_THAT(shmdt(p), SyscallSucceeds());
  EXPECT_THAT(shmctl(id, IPC_STAT, &ds), SyscallFailsWithErrno(EINVAL));
}

TEST(ShmTest, ForkInheritsAttachment) {
  Segment seg(4096);
  ASSERT_GE(seg.id(), 0);
  const int id = seg.id();
  char* p = static_cast<char*>(shmat(id, nullptr, 0));
  ASSERT_NE(p, reinterpret_cast<char*>(-1));
  int status = InChild([&] {
    shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) != 0 || ds.shm_nattch != 2) return 1;
    strcpy(p, "from child");
    return 0;
  });
  EXPECT_EXIT_OK(status);
  EXPECT_STREQ(p, "from child");
  EXPECT_EQ(Stat(id).shm_nattch, 1u);  // the child's went at exit
  EXPECT_THAT(shmdt(p), SyscallSucceeds());
}

TEST(ShmTest, ExecDetaches) {
  Segment seg(4096);
  ASSERT_GE(seg.id(), 0);
  char* p = static_cast<char*>(shmat(seg.id(), nullptr, 0));
  ASSERT_NE(p, reinterpret_cast<char*>(-1));
  int cloexec[2], in[2];
  ASSERT_THAT(pipe2(cloexec, O_CLOEXEC), SyscallSucceeds());
  ASSERT_THAT(pipe(in), SyscallSucceeds());
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    close(in[1]);
    char* const argv[] = {const_cast<char*>("shm_wait"), nullptr};
    char* const envp[] = {const_cast<char*>("SHM_TEST_WAIT=1"), nullptr};
    execve("/proc/self/exe", argv, envp);
    _exit(errno == EACCES ? 126 : 127);
  }
  ASSERT_GT(pid, 0);
  close(cloexec[1]);
  close(in[0]);
  char c;
  EXPECT_EQ(read(cloexec[0], &c, 1), 0);  // EOF: the child exec'd
  EXPECT_EQ(Stat(seg.id()).shm_nattch, 1u);
  close(in[1]);  // the new image ends
  close(cloexec[0]);
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_THAT(shmdt(p), SyscallSucceeds());
  if (WIFEXITED(status) && WEXITSTATUS(status) == 126)
    GTEST_SKIP() << "this user may not exec the test binary here";
  EXPECT_EXIT_OK(status);
}

TEST(ShmTest, VisibleToOtherProcessesByKey) {
  const key_t key = RandomKey();
  Segment seg(4096, 0600, key);
  ASSERT_GE(seg.id(), 0);
  int status = InChild([&] {
    int id = shmget(key, 0, 0);
    if (id < 0) return 1;
    char* p = static_cast<char*>(shmat(id, nullptr, 0));
    if (p == reinterpret_cast<char*>(-1)) return 2;
    strcpy(p, "by key");
    return 0;
  });
  EXPECT_EXIT_OK(status);
  char* p = static_cast<char*>(shmat(seg.id(), nullptr, SHM_RDONLY));
  ASSERT_NE(p, reinterpret_cast<char*>(-1));
  EXPECT_STREQ(p, "by key");
  EXPECT_NE(Stat(seg.id()).shm_lpid, 0);
  EXPECT_THAT(shmdt(p), SyscallSucceeds());
}

TEST(ShmTest, NewIpcNamespaceSeesNone) {
  if (geteuid() != 0) GTEST_SKIP() << "unshare(CLONE_NEWIPC) needs root";
  const key_t key = RandomKey();
  Segment seg(4096, 0600, key);
  ASSERT_GE(seg.id(), 0);
  int status = InChild([&] {
    if (unshare(CLONE_NEWIPC) != 0) return 1;
    if (shmget(key, 0, 0) != -1 || errno != ENOENT) return 2;
    return 0;
  });
  EXPECT_EXIT_OK(status);
  EXPECT_THAT(shmget(key, 0, 0), SyscallSucceedsWithValue(seg.id()));
}

TEST(ShmTest, SetAndStat) {
  Segment seg(4096);
  ASSERT_GE(seg.id(), 0);
  shmid_ds ds = Stat(seg.id());
  ds.shm_perm.mode = 0640 | SHM_DEST;  // only the permission bits change
  ASSERT_THAT(shmctl(seg.id(), IPC_SET, &ds), SyscallSucceeds());
  EXPECT_EQ(Stat(seg.id()).shm_perm.mode, 0640);
  EXPECT_THAT(shmctl(seg.id(), IPC_SET, nullptr), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(shmctl(seg.id(), IPC_STAT, nullptr), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(shmctl(seg.id(), 1234, &ds), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(shmctl(-1, IPC_STAT, &ds), SyscallFailsWithErrno(EINVAL));
}

TEST(ShmTest, InfoAndStatByIndex) {
  Segment seg(3 * 4096);
  ASSERT_GE(seg.id(), 0);
  shm_info usage{};
  int max = shmctl(0, SHM_INFO, reinterpret_cast<shmid_ds*>(&usage));
  ASSERT_GE(max, 0);
  EXPECT_GE(usage.used_ids, 1);
  EXPECT_GE(usage.shm_tot, 3u);
  // Our segment is at one of the indexes up to max.
  bool found = false;
  for (int i = 0; i <= max; i++) {
    shmid_ds ds;
    int id = shmctl(i, SHM_STAT, &ds);
    if (id == seg.id()) {
      found = true;
      EXPECT_EQ(ds.shm_segsz, 3u * 4096);
    }
  }
  EXPECT_TRUE(found);
  shmid_ds ds;
  EXPECT_THAT(shmctl(max + 1, SHM_STAT, &ds), SyscallFailsWithErrno(EINVAL));
}

}  // namespace
}  // namespace syscall_test
