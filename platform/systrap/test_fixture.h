// Fixture of the systrap platform tests (platform/test_fixture.h); the
// programs come from platform/ptrace/test_programs.S.
#ifndef PLATFORM_SYSTRAP_TEST_FIXTURE_H_
#define PLATFORM_SYSTRAP_TEST_FIXTURE_H_

#include "platform/systrap/systrap_platform.h"
#include "platform/test_fixture.h"

namespace platform::systrap {

class SystrapTest : public PlatformFixture<SystrapPlatform> {
 public:
  static void SetUpTestSuite() { CreatePlatform("systrap"); }

 protected:
  SystrapAddressSpace& sas() {
    return static_cast<SystrapAddressSpace&>(*as_);
  }
  SystrapContext& sctx() { return static_cast<SystrapContext&>(*ctx_); }
};

}  // namespace platform::systrap

#endif  // PLATFORM_SYSTRAP_TEST_FIXTURE_H_
