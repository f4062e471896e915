// Fixture of the ptrace platform tests (platform/test_fixture.h).
#ifndef PLATFORM_PTRACE_TEST_FIXTURE_H_
#define PLATFORM_PTRACE_TEST_FIXTURE_H_

#include "platform/ptrace/ptrace_platform.h"
#include "platform/test_fixture.h"

namespace platform::ptrace {

class PtraceTest : public PlatformFixture<PtracePlatform> {
 public:
  static void SetUpTestSuite() { CreatePlatform("ptrace"); }

 protected:
  PtraceAddressSpace& pas() { return static_cast<PtraceAddressSpace&>(*as_); }
  PtraceContext& pctx() { return static_cast<PtraceContext&>(*ctx_); }
};

}  // namespace platform::ptrace

#endif  // PLATFORM_PTRACE_TEST_FIXTURE_H_
