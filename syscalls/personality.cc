// Execution domains: personality(2).
#include <sys/personality.h>
#include <sys/syscall.h>

#include "syscalls/common.h"

namespace syscalls {
namespace {

// Personality implements Linux syscall personality(2). Like Linux it
// stores any value (a persona that does not exist just changes nothing)
// and returns the old one; 0xffffffff only asks. What the sentry acts on:
// ADDR_NO_RANDOMIZE (the loader's layout at the next execve) and
// READ_IMPLIES_EXEC (mmap and mprotect, until the next execve of a 64-bit
// program clears it).
Result<uint64_t> Personality(Task& t, uint32_t persona) {
  const uint32_t old = t.personality;
  if (persona != 0xffffffff) t.personality = persona;
  return old;
}

}  // namespace

void RegisterPersonality(Registrar& r) {
  r.Partial<&Personality>(
      SYS_personality,
      "any persona is stored; acted on: ADDR_NO_RANDOMIZE (layout at "
      "execve), READ_IMPLIES_EXEC (mmap, mprotect); not UNAME26, "
      "MMAP_PAGE_ZERO, ADDR_LIMIT_32BIT, ADDR_COMPAT_LAYOUT, SHORT_INODE, "
      "WHOLE_SECONDS, STICKY_TIMEOUTS, ADDR_LIMIT_3GB");
}

}  // namespace syscalls
