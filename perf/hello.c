/* The small program perf/workloads.sh compiles with gcc. */
#include <stdio.h>

int main(void) {
  printf("hello, world\n");
  return 0;
}
