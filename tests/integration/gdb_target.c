/* A small program for gdb under runsc (ptrace_programs_test.cc). */
#include <stdio.h>

int x = 42;

int add(int a, int b) { return a + b; }

int main(void) {
  x = add(x, 1);
  printf("x is %d\n", x);
  return 0;
}
