// The kernel's termios ABI (TCGETS/TCSETS and the termios2 variants) and
// the settings a new pseudo-terminal starts with, as Linux's
// tty_std_termios.
#ifndef SENTRY_TTY_TERMIOS_H_
#define SENTRY_TTY_TERMIOS_H_

#include <termios.h>

#include <cstdint>

namespace tty {

// struct termios of <asm-generic/termbits.h>: 19 control characters, no
// speeds (glibc's struct termios is larger; it translates).
inline constexpr int kNumCc = 19;
struct KernelTermios {
  uint32_t c_iflag;
  uint32_t c_oflag;
  uint32_t c_cflag;
  uint32_t c_lflag;
  uint8_t c_line;
  uint8_t c_cc[kNumCc];
};
static_assert(sizeof(KernelTermios) == 36);

// struct termios2 (TCGETS2/TCSETS2): the same plus the speeds.
struct KernelTermios2 {
  KernelTermios t;
  uint32_t c_ispeed;
  uint32_t c_ospeed;
};
static_assert(sizeof(KernelTermios2) == 44);

// Linux's tty_std_termios with a pty's cflag (B38400 | CS8 | CREAD).
inline KernelTermios DefaultTermios() {
  KernelTermios t{};
  t.c_iflag = ICRNL | IXON;
  t.c_oflag = OPOST | ONLCR;
  t.c_cflag = B38400 | CS8 | CREAD | HUPCL;
  t.c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
  const uint8_t cc[kNumCc] = {
      3,    // VINTR ^C
      034,  // VQUIT ^\ (the index order is the kernel's)
      0177, // VERASE DEL
      025,  // VKILL ^U
      4,    // VEOF ^D
      0,    // VTIME
      1,    // VMIN
      0,    // VSWTC
      021,  // VSTART ^Q
      023,  // VSTOP ^S
      032,  // VSUSP ^Z
      0,    // VEOL
      022,  // VREPRINT ^R
      017,  // VDISCARD ^O
      027,  // VWERASE ^W
      026,  // VLNEXT ^V
      0,    // VEOL2
  };
  for (int i = 0; i < kNumCc; ++i) t.c_cc[i] = cc[i];
  return t;
}

}  // namespace tty

#endif  // SENTRY_TTY_TERMIOS_H_
