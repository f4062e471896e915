// crash MODE: dies the way MODE says, so tests can check that the sandbox
// reports the signal like a shell would (128 + N).
#include <string.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  if (strcmp(argv[1], "segv") == 0) {
    volatile int* p = (volatile int*)16;
    return *p;
  }
  if (strcmp(argv[1], "ud2") == 0) __asm__ volatile("ud2");
  if (strcmp(argv[1], "int3") == 0) __asm__ volatile("int3");
  return 2;
}
