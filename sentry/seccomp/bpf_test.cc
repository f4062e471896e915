#include "sentry/seccomp/bpf.h"

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace seccomp {
namespace {

Instruction Stmt(uint16_t code, uint32_t k) { return {code, 0, 0, k}; }
Instruction Jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
  return {code, jt, jf, k};
}

constexpr uint32_t kNr = offsetof(Data, nr);
constexpr uint32_t kArch = offsetof(Data, arch);
constexpr uint32_t kArg0Low = offsetof(Data, args);

Data Call(int nr, uint64_t arg0 = 0) {
  Data d{};
  d.nr = nr;
  d.arch = AUDIT_ARCH_X86_64;
  d.args[0] = arg0;
  return d;
}

// The shape every Docker profile compiles to: check the arch, then
// compare the syscall number, with a default action at the end.
std::vector<Instruction> DenyMkdir() {
  return {Stmt(BPF_LD | BPF_W | BPF_ABS, kArch),
          Jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
          Stmt(BPF_RET | BPF_K, kRetKillProcess),
          Stmt(BPF_LD | BPF_W | BPF_ABS, kNr),
          Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_mkdir, 0, 1),
          Stmt(BPF_RET | BPF_K, kRetErrno | EPERM),
          Stmt(BPF_RET | BPF_K, kRetAllow)};
}

TEST(BpfTest, RunsAnArchAndNumberFilter) {
  auto p = Program::Create(DenyMkdir());
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->Run(Call(SYS_mkdir)), kRetErrno | EPERM);
  EXPECT_EQ(p->Run(Call(SYS_getpid)), kRetAllow);
  Data other = Call(SYS_getpid);
  other.arch = AUDIT_ARCH_I386;
  EXPECT_EQ(p->Run(other), kRetKillProcess);
}

TEST(BpfTest, ArgumentsScratchMemoryAndAlu) {
  // allow iff (arg0 & 0xff) * 2 + 1 == 7, going through M[3] and X.
  std::vector<Instruction> code = {
      Stmt(BPF_LD | BPF_W | BPF_ABS, kArg0Low),
      Stmt(BPF_ALU | BPF_AND | BPF_K, 0xff),
      Stmt(BPF_ST, 3),
      Stmt(BPF_LDX | BPF_MEM, 3),
      Stmt(BPF_LD | BPF_IMM, 2),
      Stmt(BPF_ALU | BPF_MUL | BPF_X, 0),
      Stmt(BPF_ALU | BPF_ADD | BPF_K, 1),
      Jump(BPF_JMP | BPF_JEQ | BPF_K, 7, 0, 1),
      Stmt(BPF_RET | BPF_K, kRetAllow),
      Stmt(BPF_RET | BPF_K, kRetErrno | 1)};
  auto p = Program::Create(code);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->Run(Call(0, 0x1203)), kRetAllow);
  EXPECT_EQ(p->Run(Call(0, 0x1204)), kRetErrno | 1);
}

TEST(BpfTest, JumpsAndReturnA) {
  std::vector<Instruction> code = {
      Stmt(BPF_LD | BPF_W | BPF_LEN, 0),  // 64
      Jump(BPF_JMP | BPF_JGE | BPF_K, 64, 0, 2),
      Jump(BPF_JMP | BPF_JSET | BPF_K, 0x40, 0, 1),
      Stmt(BPF_JMP | BPF_JA, 1),
      Stmt(BPF_RET | BPF_K, 0),
      Stmt(BPF_ALU | BPF_NEG, 0),
      Stmt(BPF_RET | BPF_A, 0)};
  auto p = Program::Create(code);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->Run(Call(0)), 0u - 64u);
}

TEST(BpfTest, RefusesWhatLinuxRefuses) {
  auto bad = [](std::vector<Instruction> code) {
    return !Program::Create(std::move(code)).has_value();
  };
  const Instruction ret = Stmt(BPF_RET | BPF_K, kRetAllow);
  EXPECT_TRUE(bad({}));
  EXPECT_TRUE(bad(std::vector<Instruction>(kMaxInstructions + 1, ret)));
  EXPECT_FALSE(bad(std::vector<Instruction>(kMaxInstructions, ret)));
  EXPECT_TRUE(bad({Stmt(BPF_LD | BPF_IMM, 0)}));                // no return
  EXPECT_TRUE(bad({Stmt(BPF_LD | BPF_W | BPF_ABS, 2), ret}));   // unaligned
  EXPECT_TRUE(bad({Stmt(BPF_LD | BPF_W | BPF_ABS, 64), ret}));  // outside
  EXPECT_TRUE(bad({Stmt(BPF_LD | BPF_H | BPF_ABS, 0), ret}));   // half word
  EXPECT_TRUE(bad({Stmt(BPF_LD | BPF_W | BPF_IND, 0), ret}));   // indirect
  EXPECT_TRUE(bad({Stmt(BPF_ALU | BPF_DIV | BPF_K, 0), ret}));
  EXPECT_TRUE(bad({Stmt(BPF_ST, 16), ret}));
  EXPECT_TRUE(bad({Stmt(BPF_LD | BPF_MEM, 0), ret}));  // read before write
  EXPECT_TRUE(bad({Stmt(BPF_JMP | BPF_JA, 1), ret}));  // past the end
  EXPECT_TRUE(bad({Jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1), ret}));
  // Written on one path only: still refused.
  EXPECT_TRUE(bad({Jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
                   Stmt(BPF_ST, 0), Stmt(BPF_LD | BPF_MEM, 0), ret}));
  EXPECT_FALSE(bad({Stmt(BPF_ST, 0), Jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
                    Stmt(BPF_ST, 1), Stmt(BPF_LD | BPF_MEM, 0), ret}));
}

TEST(BpfTest, RuntimeDivisionByZeroReturnsKillThread) {
  auto p = Program::Create({Stmt(BPF_LDX | BPF_IMM, 0),
                            Stmt(BPF_ALU | BPF_DIV | BPF_X, 0),
                            Stmt(BPF_RET | BPF_K, kRetAllow)});
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->Run(Call(0)), kRetKillThread);
}

TEST(BpfTest, PrecedenceAcrossFilters) {
  auto ret = [](uint32_t v) {
    return *Program::Create({Stmt(BPF_RET | BPF_K, v)});
  };
  Program allow = ret(kRetAllow), log = ret(kRetLog), trace = ret(kRetTrace),
          errno1 = ret(kRetErrno | 1), errno2 = ret(kRetErrno | 2),
          trap = ret(kRetTrap), kill_thread = ret(kRetKillThread),
          kill_process = ret(kRetKillProcess);
  const Data d = Call(0);
  EXPECT_EQ(RunFilters({}, d), kRetAllow);
  EXPECT_EQ(RunFilters({&allow, &log}, d), kRetLog);
  EXPECT_EQ(RunFilters({&log, &trace}, d), kRetTrace);
  EXPECT_EQ(RunFilters({&trace, &errno1}, d), kRetErrno | 1);
  // The newest filter's data wins a tie.
  EXPECT_EQ(RunFilters({&errno2, &errno1}, d), kRetErrno | 2);
  EXPECT_EQ(RunFilters({&errno1, &trap}, d), kRetTrap);
  EXPECT_EQ(RunFilters({&trap, &kill_thread}, d), kRetKillThread);
  EXPECT_EQ(RunFilters({&kill_thread, &kill_process, &allow}, d),
            kRetKillProcess);
}

// The same programs, given to the host's seccomp, act the same: the
// interpreter is checked against Linux, not against itself.
TEST(BpfTest, AgreesWithTheHostKernel) {
  auto p = Program::Create(DenyMkdir());
  ASSERT_TRUE(p.has_value());
  std::vector<Instruction> code = DenyMkdir();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    sock_fprog prog{static_cast<unsigned short>(code.size()),
                    reinterpret_cast<sock_filter*>(code.data())};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(2);
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) _exit(3);
    const long r = syscall(SYS_mkdir, "/nonexistent-dir/x", 0700);
    _exit(r == -1 && errno == EPERM ? 0 : 4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(p->Run(Call(SYS_mkdir)), kRetErrno | EPERM);
  // A program the host refuses, this refuses too.
  std::vector<Instruction> unaligned = {Stmt(BPF_LD | BPF_W | BPF_ABS, 2),
                                        Stmt(BPF_RET | BPF_K, kRetAllow)};
  sock_fprog bad{2, reinterpret_cast<sock_filter*>(unaligned.data())};
  pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    _exit(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &bad) == -1 &&
                  errno == EINVAL
              ? 0
              : 1);
  }
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(Program::Create(unaligned).has_value());
}

}  // namespace
}  // namespace seccomp
