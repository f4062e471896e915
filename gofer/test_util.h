// Shared by the gofer's tests: temporary trees and a gofer served in this
// process over a socketpair.
#ifndef GOFER_TEST_UTIL_H_
#define GOFER_TEST_UTIL_H_

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gofer/confine.h"
#include "gofer/server.h"
#include "gtest/gtest.h"
#include "sentry/fs/gofer/client.h"
#include "tests/syscalls/temp_dir.h"

namespace gofer::testing {

// A directory under /tmp, removed with everything in it.
using ::syscall_test::TempDir;

inline void WriteFile(const std::string& path, const std::string& data) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(write(fd, data.data(), data.size()),
            static_cast<ssize_t>(data.size()));
  close(fd);
}

inline std::string ReadFd(int fd) {
  std::string out;
  char buf[4096];
  for (off_t off = 0;;) {
    ssize_t n = pread(fd, buf, sizeof(buf), off);
    if (n <= 0) break;
    out.append(buf, n);
    off += n;
  }
  return out;
}

// How many fds this process holds.
inline int CountFds(const std::string& proc_dir = "/proc/self/fd") {
  DIR* d = opendir(proc_dir.c_str());
  if (!d) return -1;
  int n = 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n - (proc_dir == "/proc/self/fd" ? 1 : 0);  // opendir's own fd
}

// A Server over `specs` on one end of a socketpair, served by a thread of
// this process (unconfined), and a Client on the other end.
class InProcessGofer {
 public:
  explicit InProcessGofer(const std::vector<MountSpec>& specs,
                          Server::Options options = {}) {
    auto mounts = OpenMounts(specs);
    EXPECT_TRUE(mounts.ok()) << mounts.status();
    int sv[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    server_sock_.Reset(sv[0]);
    server_ = std::make_unique<Server>(std::move(*mounts), options);
    thread_ = std::thread([this] { server_->Serve(server_sock_.get()); });
    client_sock_ = sv[1];
    client_ = std::make_unique<Client>(base::UniqueFd(sv[1]));
  }
  // A gofer serving one directory.
  explicit InProcessGofer(const std::string& root, bool read_only = false)
      : InProcessGofer(std::vector<MountSpec>{{"/", root, read_only}}) {}
  ~InProcessGofer() {
    client_.reset();  // the server sees the end of the stream
    thread_.join();
  }

  Client& client() { return *client_; }
  Server& server() { return *server_; }
  // The client's socket, for tests that speak raw packets. Owned by the
  // client.
  int client_sock() const { return client_sock_; }

 private:
  base::UniqueFd server_sock_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  int client_sock_ = -1;
  std::unique_ptr<Client> client_;
};

// ASSERT that a Result holds a value and unwrap it.
#define ASSERT_OK_AND_ASSIGN(lhs, expr)                                 \
  auto lhs##_result_ = (expr);                                          \
  ASSERT_TRUE(lhs##_result_.has_value())                                \
      << #expr << ": " << base::ErrnoName(lhs##_result_.error().value); \
  auto lhs = std::move(*lhs##_result_)

// EXPECT that a Result failed with `err`.
#define EXPECT_ERRNO(expr, err)                                  \
  do {                                                           \
    auto r_ = (expr);                                            \
    if (r_.has_value())                                          \
      ADD_FAILURE() << #expr << " succeeded, expected "          \
                    << base::ErrnoName(err);                     \
    else                                                         \
      EXPECT_EQ(r_.error().value, err)                           \
          << #expr << ": " << base::ErrnoName(r_.error().value); \
  } while (0)

}  // namespace gofer::testing

#endif  // GOFER_TEST_UTIL_H_
