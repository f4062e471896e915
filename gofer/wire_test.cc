// Framing and name checks shared by the gofer and its client.
#include "gofer/wire.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gofer/test_util.h"

namespace gofer::testing {
namespace {

TEST(CheckNameTest, OnlySingleComponents) {
  EXPECT_EQ(CheckName("a"), 0);
  EXPECT_EQ(CheckName("..."), 0);
  EXPECT_EQ(CheckName(".hidden"), 0);
  EXPECT_EQ(CheckName(std::string(255, 'x')), 0);
  EXPECT_EQ(CheckName(std::string(256, 'x')), ENAMETOOLONG);
  for (const std::string& bad : std::vector<std::string>{
           "", ".", "..", "a/b", "/", "a/", std::string("a\0", 2)})
    EXPECT_EQ(CheckName(bad), EINVAL) << bad;
}

class WireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    a_.Reset(sv[0]);
    b_.Reset(sv[1]);
  }
  void SendRaw(const std::string& raw, const std::vector<int>& fds = {}) {
    ASSERT_TRUE(SendPacket(a_.get(), raw, fds).has_value());
  }
  base::UniqueFd a_, b_;
};

TEST_F(WireTest, RoundTripWithFds) {
  proto::Request req;
  req.set_id(7);
  req.mutable_walk()->set_name("x");
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  ASSERT_TRUE(SendMessage(a_.get(), req, {p[0], p[1]}).has_value());
  close(p[0]);
  close(p[1]);
  ASSERT_OK_AND_ASSIGN(pkt, ReceivePacket(b_.get()));
  proto::Request got;
  ASSERT_TRUE(got.ParseFromString(pkt.bytes));
  EXPECT_EQ(got.id(), 7u);
  EXPECT_EQ(got.walk().name(), "x");
  ASSERT_EQ(pkt.fds.size(), 2u);
  ASSERT_EQ(write(pkt.fds[1].get(), "k", 1), 1);
  char c;
  ASSERT_EQ(read(pkt.fds[0].get(), &c, 1), 1);
}

TEST_F(WireTest, BadFramingIsEbadmsgAndClosesFds) {
  int baseline = CountFds();
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  SendRaw("ab", {p[0]});                                   // too short
  SendRaw(std::string("\x05\0\0\0abc", 7), {p[0], p[1]});  // length lies
  SendRaw(std::string("\xff\xff\xff\x7f", 4) + "x");       // huge length
  SendRaw(std::string("\0\0\0\0", 4),
          {p[0], p[0], p[0], p[0], p[0]});  // too many fds
  close(p[0]);
  close(p[1]);
  for (int i = 0; i < 4; ++i) {
    auto r = ReceivePacket(b_.get());
    ASSERT_FALSE(r.has_value()) << i;
    EXPECT_EQ(r.error().value, EBADMSG) << i;
  }
  EXPECT_EQ(CountFds(), baseline);
  SendRaw(std::string("\0\0\0\0", 4));  // an empty message is fine
  ASSERT_OK_AND_ASSIGN(pkt, ReceivePacket(b_.get()));
  EXPECT_TRUE(pkt.bytes.empty());
  a_.Reset();
  auto end = ReceivePacket(b_.get());
  ASSERT_FALSE(end.has_value());
  EXPECT_EQ(end.error().value, ENODATA);
}

TEST_F(WireTest, OversizedMessagesAreRefused) {
  proto::Request req;
  req.mutable_setxattr()->set_value(std::string(kMaxMessage + 1, 'v'));
  auto r = SendMessage(a_.get(), req);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().value, EMSGSIZE);
}

TEST_F(WireTest, ServerAnswersGarbageWithEbadmsg) {
  TempDir dir;
  auto mounts = OpenMounts({{"/", dir.path(), true}});
  ASSERT_TRUE(mounts.ok());
  Server server(std::move(*mounts), {});
  std::thread serving([&] { server.Serve(b_.get()); });
  SendRaw("garbage!");
  SendRaw(std::string("\x03\0\0\0\xff\xff\xff", 7));  // does not parse
  for (int i = 0; i < 2; ++i) {
    ASSERT_OK_AND_ASSIGN(pkt, ReceivePacket(a_.get()));
    proto::Response resp;
    ASSERT_TRUE(resp.ParseFromString(pkt.bytes));
    EXPECT_EQ(resp.id(), 0u);
    EXPECT_EQ(resp.error(), static_cast<uint32_t>(EBADMSG));
  }
  proto::Request none;  // no operation
  none.set_id(9);
  ASSERT_TRUE(SendMessage(a_.get(), none).has_value());
  ASSERT_OK_AND_ASSIGN(pkt, ReceivePacket(a_.get()));
  proto::Response resp;
  ASSERT_TRUE(resp.ParseFromString(pkt.bytes));
  EXPECT_EQ(resp.id(), 9u);
  EXPECT_EQ(resp.error(), static_cast<uint32_t>(EINVAL));
  shutdown(a_.get(), SHUT_RDWR);
  serving.join();
}

}  // namespace
}  // namespace gofer::testing
