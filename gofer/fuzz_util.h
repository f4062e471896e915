// A hostile client for the gofer: random, mutated and malformed requests
// with fixed seeds. Shared by the in-process fuzz test and the test of the
// real `runsc gofer` under its seccomp filter.
#ifndef GOFER_FUZZ_UTIL_H_
#define GOFER_FUZZ_UTIL_H_

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gofer/proto/gofer.pb.h"
#include "gofer/wire.h"

namespace gofer::testing {

class Fuzzer {
 public:
  Fuzzer(int sock, uint64_t seed) : sock_(sock), rng_(seed) {}

  // Sends one packet and reads the one answer it must get. False if the
  // gofer stopped answering (it crashed or closed the socket).
  bool Step() {
    if (handles_.size() > 1000 && !CloseAll()) return false;
    std::string bytes;
    int kind = Pick(100);
    if (kind < 55) {
      Request().SerializeToString(&bytes);
      return Exchange(Frame(bytes), Pick(20) == 0);
    }
    if (kind < 85) {
      Request().SerializeToString(&bytes);
      Mutate(&bytes);
      return Exchange(Frame(bytes), false);
    }
    if (kind < 95) return Exchange(Frame(RandomBytes(Pick(300))), false);
    // Bad framing: short, a lying length, or oversized.
    std::string raw;
    switch (Pick(3)) {
      case 0:
        raw = RandomBytes(1 + Pick(3));
        break;
      case 1:
        Request().SerializeToString(&bytes);
        raw = Frame(bytes);
        raw[0] = static_cast<char>(raw[0] + 1 + Pick(5));
        break;
      default:
        raw = Frame(std::string(kMaxMessage + 1 + Pick(64), 'z'));
        break;
    }
    return Exchange(raw, Pick(2) == 0);
  }

  // Closes every handle the gofer gave out. False if it did not answer.
  bool CloseAll() {
    proto::Request req;
    req.set_id(next_id_++);
    for (uint64_t h : handles_) req.mutable_close()->add_handles(h);
    req.mutable_close();
    handles_.clear();
    std::string bytes;
    req.SerializeToString(&bytes);
    return Exchange(Frame(bytes), false);
  }

  size_t answers() const { return answers_; }

 private:
  uint32_t Pick(uint32_t n) { return n ? rng_() % n : 0; }

  std::string RandomBytes(size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng_());
    return s;
  }

  std::string Frame(const std::string& bytes) {
    std::string out(4, '\0');
    uint32_t len = bytes.size();
    for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(len >> (8 * i));
    return out + bytes;
  }

  uint64_t Handle() {
    if (handles_.empty() || Pick(10) == 0) {
      uint64_t odd[] = {0, 1, 2, 1000, ~uint64_t{0}, rng_()};
      return odd[Pick(6)];
    }
    return handles_[Pick(handles_.size())];
  }

  std::string Name() {
    static const char* names[] = {"a",  "b", "c", "file", "sub", "s",
                                  "..", ".", "",  "x/y",  "/",   "lnk"};
    switch (Pick(16)) {
      case 0:
        return std::string(Pick(300), 'n');
      case 1:
        return std::string("a\0b", 3);
      case 2:
        return RandomBytes(1 + Pick(10));
      default:
        return names[Pick(std::size(names))];
    }
  }

  uint32_t Flags() {
    static const uint32_t common[] = {O_RDONLY,
                                      O_WRONLY,
                                      O_RDWR,
                                      O_RDWR | O_TRUNC,
                                      O_RDONLY | O_DIRECTORY,
                                      O_WRONLY | O_APPEND,
                                      O_RDONLY | O_NONBLOCK};
    return Pick(4) == 0 ? static_cast<uint32_t>(rng_())
                        : common[Pick(std::size(common))];
  }

  uint32_t Mode() {
    return Pick(4) == 0 ? static_cast<uint32_t>(rng_()) : 0600 + Pick(0200);
  }

  proto::Request Request() {
    proto::Request r;
    r.set_id(next_id_++);
    switch (Pick(24)) {
      case 0:
        r.mutable_attach()->set_mount(Pick(3) ? "" : Name());
        break;
      case 1:
      case 2: {
        auto* w = r.mutable_walk();
        w->set_dir(Handle());
        w->set_name(Name());
        break;
      }
      case 3:
        r.mutable_stat()->set_handle(Handle());
        break;
      case 4:
        r.mutable_open()->set_handle(Handle());
        r.mutable_open()->set_flags(Flags());
        break;
      case 5: {
        auto* c = r.mutable_create();
        c->set_dir(Handle());
        c->set_name(Name());
        c->set_flags(Flags());
        c->set_mode(Mode());
        if (Pick(2)) c->mutable_owner()->set_uid(Pick(3) ? 0 : rng_());
        break;
      }
      case 6: {
        auto* m = r.mutable_mkdir();
        m->set_dir(Handle());
        m->set_name(Name());
        m->set_mode(Mode());
        break;
      }
      case 7: {
        auto* m = r.mutable_mknod();
        m->set_dir(Handle());
        m->set_name(Name());
        m->set_mode(Mode() | (Pick(2) ? 0010000 : 0));
        break;
      }
      case 8: {
        auto* s = r.mutable_symlink();
        s->set_dir(Handle());
        s->set_name(Name());
        s->set_target(Pick(2) ? "/etc/passwd" : RandomBytes(Pick(5000)));
        break;
      }
      case 9: {
        auto* l = r.mutable_link();
        l->set_dir(Handle());
        l->set_name(Name());
        l->set_target(Handle());
        break;
      }
      case 10:
        r.mutable_unlink()->set_dir(Handle());
        r.mutable_unlink()->set_name(Name());
        break;
      case 11:
        r.mutable_rmdir()->set_dir(Handle());
        r.mutable_rmdir()->set_name(Name());
        break;
      case 12: {
        auto* m = r.mutable_rename();
        m->set_old_dir(Handle());
        m->set_old_name(Name());
        m->set_new_dir(Handle());
        m->set_new_name(Name());
        m->set_flags(Pick(4) == 0 ? rng_() : Pick(4));
        break;
      }
      case 13:
        r.mutable_readlink()->set_handle(Handle());
        break;
      case 14: {
        auto* g = r.mutable_getdents();
        g->set_handle(Handle());
        g->set_offset(Pick(3) ? 0 : static_cast<int64_t>(rng_()));
        g->set_count(Pick(3) ? Pick(10) : rng_());
        break;
      }
      case 15: {
        auto* s = r.mutable_setattr();
        s->set_handle(Handle());
        s->set_mask(Pick(4) == 0 ? rng_() : Pick(64));
        s->set_mode(Mode());
        s->set_uid(Pick(2) ? 0 : rng_());
        s->set_gid(Pick(2) ? 0 : rng_());
        s->set_size(Pick(3) ? Pick(10000) : static_cast<int64_t>(rng_()));
        s->set_atime_sec(rng_());
        s->set_atime_nsec(Pick(2) ? Pick(1000000000) : rng_());
        s->set_mtime_sec(Pick(100000));
        s->set_mtime_nsec(Pick(1000));
        break;
      }
      case 16:
        r.mutable_statfs()->set_handle(Handle());
        break;
      case 17:
        r.mutable_getxattr()->set_handle(Handle());
        r.mutable_getxattr()->set_name(Pick(2) ? "user.a" : Name());
        break;
      case 18: {
        auto* s = r.mutable_setxattr();
        s->set_handle(Handle());
        s->set_name(Pick(2) ? "user.a" : Name());
        s->set_value(RandomBytes(Pick(8) == 0 ? 70000 : Pick(100)));
        s->set_flags(Pick(4));
        break;
      }
      case 19:
        r.mutable_listxattr()->set_handle(Handle());
        break;
      case 20:
        r.mutable_removexattr()->set_handle(Handle());
        r.mutable_removexattr()->set_name(Pick(2) ? "user.a" : Name());
        break;
      case 21: {
        auto* b = r.mutable_bind();
        b->set_dir(Handle());
        b->set_name(Name());
        b->set_type(Pick(4) == 0 ? rng_() : 1 + Pick(5));
        b->set_mode(Mode());
        break;
      }
      case 22:
        r.mutable_connect()->set_handle(Handle());
        r.mutable_connect()->set_type(Pick(4) == 0 ? rng_() : 1 + Pick(5));
        break;
      default: {
        // Closed handles stay in handles_: using them is worth trying,
        // and CloseAll ignores the unknown ones.
        auto* c = r.mutable_close();
        for (uint32_t i = Pick(3); i > 0; --i) c->add_handles(Handle());
        break;
      }
    }
    if (Pick(50) == 0) r.clear_op();
    return r;
  }

  void Mutate(std::string* bytes) {
    if (bytes->empty()) return;
    for (uint32_t n = 1 + Pick(4); n > 0; --n) {
      size_t at = Pick(bytes->size());
      switch (Pick(4)) {
        case 0:
          (*bytes)[at] ^= static_cast<char>(1 << Pick(8));
          break;
        case 1:
          (*bytes)[at] = static_cast<char>(rng_());
          break;
        case 2:
          bytes->resize(at);
          if (bytes->empty()) return;
          break;
        default:
          bytes->insert(at, RandomBytes(1 + Pick(8)));
          break;
      }
    }
  }

  // Sends `raw` as one packet (with a few fds the gofer must close, if
  // asked) and reads one answer, keeping the handles it names.
  bool Exchange(const std::string& raw, bool with_fds) {
    int p[2] = {-1, -1};
    std::vector<int> fds;
    if (with_fds && pipe2(p, O_CLOEXEC) == 0) fds = {p[0], p[1]};
    auto sent = SendPacket(sock_, raw, fds);
    if (p[0] >= 0) close(p[0]), close(p[1]);
    // Too big to send: there is nothing to read.
    if (!sent) return sent.error().value == EMSGSIZE;
    auto packet = ReceivePacket(sock_);
    if (!packet) return false;
    proto::Response resp;
    if (!resp.ParseFromString(packet->bytes)) return false;
    ++answers_;
    const proto::Node* node = nullptr;
    switch (resp.result_case()) {
      case proto::Response::kAttach:
        node = &resp.attach().node();
        break;
      case proto::Response::kWalk:
        node = &resp.walk().node();
        break;
      case proto::Response::kCreate:
        node = &resp.create().node();
        break;
      case proto::Response::kMkdir:
        node = &resp.mkdir().node();
        break;
      case proto::Response::kMknod:
        node = &resp.mknod().node();
        break;
      case proto::Response::kSymlink:
        node = &resp.symlink().node();
        break;
      case proto::Response::kLink:
        node = &resp.link().node();
        break;
      case proto::Response::kBind:
        node = &resp.bind().node();
        break;
      default:
        break;
    }
    if (node && resp.error() == 0) handles_.push_back(node->handle());
    return true;
  }

  int sock_;
  std::mt19937_64 rng_;
  std::vector<uint64_t> handles_;
  uint64_t next_id_ = 1;
  size_t answers_ = 0;
};

}  // namespace gofer::testing

#endif  // GOFER_FUZZ_UTIL_H_
