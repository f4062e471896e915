// Random, mutated and malformed requests (fixed seeds, a bounded number of
// steps) against a server in this process: it answers each with an error
// or a result, never crashes, and leaks neither handles nor fds.
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "gofer/fuzz_util.h"
#include "gofer/test_util.h"

namespace gofer::testing {
namespace {

class FuzzTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(FuzzTest, SurvivesAndLeaksNothing) {
  TempDir dir;
  WriteFile(dir / "file", "data");
  ASSERT_EQ(mkdir((dir / "sub").c_str(), 0755), 0);
  ASSERT_EQ(symlink("/etc", (dir / "lnk").c_str()), 0);
  int baseline = CountFds();
  {
    auto mounts = OpenMounts({{"/", dir.path(), false}});
    ASSERT_TRUE(mounts.ok());
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    base::UniqueFd server_sock(sv[0]), client_sock(sv[1]);
    Server server(std::move(*mounts), {});
    std::thread serving([&] { server.Serve(server_sock.get()); });

    Fuzzer fuzzer(client_sock.get(), GetParam());
    // Bounded in steps and, on a slow machine, in time.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    int steps = 0;
    for (; steps < 5000 && std::chrono::steady_clock::now() < deadline; ++steps)
      ASSERT_TRUE(fuzzer.Step()) << "no answer at step " << steps;
    ASSERT_TRUE(fuzzer.CloseAll());
    EXPECT_EQ(server.HandleCount(), 0u);
    EXPECT_GT(fuzzer.answers(), 100u);
    shutdown(client_sock.get(), SHUT_RDWR);
    serving.join();
  }
  EXPECT_EQ(CountFds(), baseline);
}

INSTANTIATE_TEST_SUITE_P(Seeds, FuzzTest, ::testing::Values(1, 2, 3, 4));

}  // namespace
}  // namespace gofer::testing
