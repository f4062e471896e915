// A tiny program for loader_host_test: built static, static-pie and
// dynamic, loaded by the loader and run for real. It reports what it
// received from the initial stack; its exit status is argc.
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>

extern char** environ;

int main(int argc, char** argv) {
  for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
  for (char** e = environ; *e; e++) printf("env=%s\n", *e);
  printf("execfn=%s\n", (const char*)getauxval(AT_EXECFN));
  printf("platform=%s\n", (const char*)getauxval(AT_PLATFORM));
  printf("pagesz=%lu\n", getauxval(AT_PAGESZ));
  printf("random=%s\n", getauxval(AT_RANDOM) ? "yes" : "no");
  printf("base=%s\n", getauxval(AT_BASE) ? "set" : "zero");
  void* p = malloc(100000);
  printf("malloc=%s\n", p ? "ok" : "failed");
  free(p);
  return argc;
}
