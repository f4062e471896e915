#include "sentry/tty/line_discipline.h"

#include <signal.h>

#include <string>

#include "gtest/gtest.h"

namespace tty {
namespace {

size_t Type(LineDiscipline& ld, const std::string& s,
            std::vector<int>* sigs = nullptr) {
  std::vector<int> ignored;
  return ld.ReceiveInput(
      std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()),
      sigs ? sigs : &ignored);
}

std::string ReadIn(LineDiscipline& ld, size_t n = 4096) {
  std::string buf(n, '\0');
  iovec v{buf.data(), buf.size()};
  buf.resize(ld.ReadInput(std::span(&v, 1)));
  return buf;
}

std::string ReadOut(LineDiscipline& ld) {
  std::string buf(LineDiscipline::kOutputCap, '\0');
  iovec v{buf.data(), buf.size()};
  buf.resize(ld.ReadOutput(std::span(&v, 1)));
  return buf;
}

TEST(LineDisciplineTest, CanonicalLineWithEcho) {
  LineDiscipline ld;
  EXPECT_EQ(Type(ld, "ab"), 2u);
  EXPECT_FALSE(ld.HasLine());
  EXPECT_EQ(Type(ld, "\r"), 1u);  // ICRNL
  ASSERT_TRUE(ld.HasLine());
  EXPECT_EQ(ReadIn(ld), "ab\n");
  EXPECT_EQ(ReadOut(ld), "ab\r\n");  // ECHO, ONLCR
}

TEST(LineDisciplineTest, EraseAndKill) {
  LineDiscipline ld;
  Type(ld, "abc\177d\n");
  EXPECT_EQ(ReadIn(ld), "abd\n");
  EXPECT_EQ(ReadOut(ld), "abc\b \bd\r\n");
  Type(ld, "xyz\025q\n");
  EXPECT_EQ(ReadIn(ld), "q\n");
}

TEST(LineDisciplineTest, EofLineReadsAsZero) {
  LineDiscipline ld;
  Type(ld, "hi\004\004");
  EXPECT_EQ(ReadIn(ld), "hi");
  ASSERT_TRUE(ld.HasLine());
  EXPECT_EQ(ReadIn(ld), "");
  EXPECT_FALSE(ld.HasLine());
}

TEST(LineDisciplineTest, PartialReadOfLine) {
  LineDiscipline ld;
  Type(ld, "hello\n");
  EXPECT_EQ(ReadIn(ld, 2), "he");
  EXPECT_EQ(ReadIn(ld), "llo\n");
}

TEST(LineDisciplineTest, InterruptSignalsAndFlushes) {
  LineDiscipline ld;
  std::vector<int> sigs;
  Type(ld, "abc\003", &sigs);
  EXPECT_EQ(sigs, std::vector<int>{SIGINT});
  EXPECT_EQ(ld.InputReadable(), 0u);
  EXPECT_EQ(ReadOut(ld), "^C");
}

TEST(LineDisciplineTest, RawModeKeepsBytes) {
  LineDiscipline ld;
  KernelTermios t = ld.termios();
  t.c_lflag &= ~(ICANON | ECHO | ISIG);
  t.c_iflag &= ~ICRNL;
  ld.SetTermios(t);
  Type(ld, "a\r\003");
  EXPECT_EQ(ReadIn(ld), "a\r\003");
}

TEST(LineDisciplineTest, RawInputFillsUp) {
  LineDiscipline ld;
  KernelTermios t = ld.termios();
  t.c_lflag &= ~ICANON;
  ld.SetTermios(t);
  EXPECT_EQ(Type(ld, std::string(5000, 'x')), LineDiscipline::kInputCap);
}

TEST(LineDisciplineTest, SwitchingToCanonicalPushesALine) {
  LineDiscipline ld;
  KernelTermios t = ld.termios();
  t.c_lflag &= ~ICANON;
  ld.SetTermios(t);
  Type(ld, "ab");
  t.c_lflag |= ICANON;
  ld.SetTermios(t);
  EXPECT_TRUE(ld.HasLine());
  EXPECT_EQ(ReadIn(ld), "ab");
}

}  // namespace
}  // namespace tty
