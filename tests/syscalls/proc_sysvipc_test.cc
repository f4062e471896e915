// /proc/sysvipc/{shm,sem,msg}: one line per System V IPC object of the
// reader's IPC namespace, in Linux's columns (what ipcs -a prints from).
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

#include "proc_util.h"
#include "test_util.h"

namespace {

using proc_test::Split;
using syscall_test::ReadFileContents;
using syscall_test::SyscallSucceeds;

// The whitespace-separated fields of the line whose second field is `id`.
std::vector<std::string> LineOf(const std::string& text, int id) {
  for (const std::string& line : Split(text, '\n')) {
    std::istringstream in(line);
    std::vector<std::string> f;
    for (std::string x; in >> x;) f.push_back(x);
    if (f.size() > 1 && f[1] == std::to_string(id)) return f;
  }
  return {};
}

std::string FirstLine(const std::string& text) {
  return text.substr(0, text.find('\n') + 1);
}

TEST(ProcSysvipcTest, Shm) {
  const key_t key = 0x5eed0000 + getpid() % 0x10000;
  const int id = shmget(key, 10000, IPC_CREAT | IPC_EXCL | 0640);
  ASSERT_GE(id, 0) << strerror(errno);
  void* at = shmat(id, nullptr, 0);
  ASSERT_NE(at, reinterpret_cast<void*>(-1));
  const std::string text = ReadFileContents("/proc/sysvipc/shm");
  EXPECT_EQ(FirstLine(text),
            "       key      shmid perms                  size  cpid  lpid "
            "nattch   uid   gid  cuid  cgid      atime      dtime      ctime "
            "                  rss                  swap\n");
  const std::vector<std::string> f = LineOf(text, id);
  ASSERT_EQ(f.size(), 16u) << text;
  EXPECT_EQ(f[0], std::to_string(key));
  EXPECT_EQ(f[2], "640");
  EXPECT_EQ(f[3], "10000");
  EXPECT_EQ(f[4], std::to_string(getpid()));  // cpid
  EXPECT_EQ(f[5], std::to_string(getpid()));  // lpid: the shmat
  EXPECT_EQ(f[6], "1");                       // nattch
  EXPECT_EQ(f[7], std::to_string(geteuid()));
  EXPECT_EQ(f[9], std::to_string(geteuid()));
  EXPECT_NE(f[11], "0");  // atime
  EXPECT_EQ(f[12], "0");  // dtime: never detached
  // IPC_RMID while attached: SHM_DEST shows in the mode.
  ASSERT_THAT(shmctl(id, IPC_RMID, nullptr), SyscallSucceeds());
  std::vector<std::string> g = LineOf(ReadFileContents("/proc/sysvipc/shm"), id);
  ASSERT_EQ(g.size(), 16u);
  EXPECT_EQ(g[0], "0");  // the key is gone
  EXPECT_EQ(g[2], "1640");
  ASSERT_THAT(shmdt(at), SyscallSucceeds());
  EXPECT_TRUE(LineOf(ReadFileContents("/proc/sysvipc/shm"), id).empty());
}

TEST(ProcSysvipcTest, Sem) {
  const int id = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
  ASSERT_GE(id, 0);
  const std::string text = ReadFileContents("/proc/sysvipc/sem");
  EXPECT_EQ(FirstLine(text),
            "       key      semid perms      nsems   uid   gid  cuid  cgid "
            "     otime      ctime\n");
  std::vector<std::string> f = LineOf(text, id);
  ASSERT_EQ(f.size(), 10u) << text;
  EXPECT_EQ(f[0], "0");
  EXPECT_EQ(f[2], "600");
  EXPECT_EQ(f[3], "3");
  EXPECT_EQ(f[8], "0");  // otime: no semop yet
  struct sembuf op = {.sem_num = 1, .sem_op = 1, .sem_flg = 0};
  ASSERT_THAT(semop(id, &op, 1), SyscallSucceeds());
  f = LineOf(ReadFileContents("/proc/sysvipc/sem"), id);
  ASSERT_EQ(f.size(), 10u);
  EXPECT_NE(f[8], "0");
  ASSERT_THAT(semctl(id, 0, IPC_RMID), SyscallSucceeds());
  EXPECT_TRUE(LineOf(ReadFileContents("/proc/sysvipc/sem"), id).empty());
}

TEST(ProcSysvipcTest, Msg) {
  const int id = msgget(IPC_PRIVATE, IPC_CREAT | 0620);
  ASSERT_GE(id, 0);
  struct {
    long type;
    char text[5];
  } m = {1, "abcd"};
  ASSERT_THAT(msgsnd(id, &m, 5, 0), SyscallSucceeds());
  ASSERT_THAT(msgsnd(id, &m, 3, 0), SyscallSucceeds());
  const std::string text = ReadFileContents("/proc/sysvipc/msg");
  EXPECT_EQ(FirstLine(text),
            "       key      msqid perms      cbytes       qnum lspid lrpid   "
            "uid   gid  cuid  cgid      stime      rtime      ctime\n");
  const std::vector<std::string> f = LineOf(text, id);
  ASSERT_EQ(f.size(), 14u) << text;
  EXPECT_EQ(f[2], "620");
  EXPECT_EQ(f[3], "8");  // bytes queued
  EXPECT_EQ(f[4], "2");  // messages
  EXPECT_EQ(f[5], std::to_string(getpid()));  // last sender
  EXPECT_EQ(f[6], "0");                       // nobody received
  EXPECT_NE(f[11], "0");                      // stime
  EXPECT_EQ(f[12], "0");                      // rtime
  ASSERT_THAT(msgctl(id, IPC_RMID, nullptr), SyscallSucceeds());
  EXPECT_TRUE(LineOf(ReadFileContents("/proc/sysvipc/msg"), id).empty());
}

TEST(ProcSysvipcTest, Listing) {
  const std::string dir = ReadFileContents("/proc/sysvipc/shm");
  EXPECT_FALSE(dir.empty());
  struct stat st;
  ASSERT_THAT(stat("/proc/sysvipc", &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0555u);
  for (const char* f : {"shm", "sem", "msg"}) {
    ASSERT_THAT(stat((std::string("/proc/sysvipc/") + f).c_str(), &st),
                SyscallSucceeds());
    EXPECT_EQ(st.st_mode & 07777, 0444u) << f;
  }
}

}  // namespace
