// Pipe: Linux's buffer semantics (pages, packets, PIPE_BUF atomicity),
// readiness and notifications; then blocking readers and writers on
// threads, waiting the way the syscall layer does (syscalls/blocking.cc).
#include "sentry/pipe/pipe.h"

#include <sys/epoll.h>

#include <cstring>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace pipes {
namespace {

using FilePtr = std::shared_ptr<vfs::FileDescription>;

base::Result<size_t> WriteStr(vfs::FileDescription& f, const std::string& s) {
  iovec v{const_cast<char*>(s.data()), s.size()};
  return f.Write({&v, 1});
}

// Reads up to `n` bytes; "" with *err set on failure.
std::string ReadStr(vfs::FileDescription& f, size_t n, int* err = nullptr) {
  std::string buf(n, '\0');
  iovec v{buf.data(), n};
  auto r = f.Read({&v, 1});
  if (err) *err = r ? 0 : r.error().value;
  buf.resize(r ? *r : 0);
  return buf;
}

int ErrorOf(const base::Result<size_t>& r) { return r ? 0 : r.error().value; }

TEST(PipeTest, ReadWriteAndEof) {
  PipeEnds p = NewPipe(0, 0, 0);
  EXPECT_EQ(WriteStr(*p.write, "hello"), 5u);
  EXPECT_EQ(ReadStr(*p.read, 3), "hel");
  EXPECT_EQ(ReadStr(*p.read, 100), "lo");
  int err;
  EXPECT_EQ(ReadStr(*p.read, 1, &err), "");
  EXPECT_EQ(err, EAGAIN);  // empty, writer alive: the caller waits
  EXPECT_EQ(ReadStr(*p.read, 0, &err), "");
  EXPECT_EQ(err, 0);  // zero-length reads never wait
  EXPECT_EQ(WriteStr(*p.write, "x"), 1u);
  p.write.reset();
  EXPECT_EQ(ReadStr(*p.read, 10), "x");  // queued data outlives the writer
  EXPECT_EQ(ReadStr(*p.read, 10, &err), "");
  EXPECT_EQ(err, 0);  // EOF
}

TEST(PipeTest, SetCapacityKeepsQueuedPagesInOrder) {
  PipeEnds p = NewPipe(0, 0, 0);
  Pipe* pipe = PipeOf(*p.read);
  ASSERT_NE(pipe, nullptr);
  EXPECT_EQ(PipeOf(*p.write), pipe);
  // Move the ring's head so the queued pages wrap around its end.
  for (int i = 0; i < 15; ++i) {
    EXPECT_EQ(WriteStr(*p.write, std::string(4096, 'a')), 4096u);
    EXPECT_EQ(ReadStr(*p.read, 4096).size(), 4096u);
  }
  EXPECT_EQ(WriteStr(*p.write, std::string(4096, 'b') + "c"), 4097u);
  EXPECT_EQ(ErrorOf(pipe->SetCapacity(4096)), EBUSY);
  EXPECT_EQ(pipe->SetCapacity(8192), 8192u);
  EXPECT_EQ(pipe->Capacity(), 8192u);
  EXPECT_EQ(pipe->FreeBytes(), 0u);
  EXPECT_EQ(ReadStr(*p.read, 5000), std::string(4096, 'b') + "c");
  EXPECT_EQ(RoundPipeSize(0), 4096u);
  EXPECT_EQ(RoundPipeSize(12289), 16384u);
  EXPECT_EQ(RoundPipeSize((uint64_t{1} << 31) + 1), 0u);
}

TEST(PipeTest, ReadIntoConsumesWhatTheSinkTakes) {
  PipeEnds p = NewPipe(0, 0, 0);
  Pipe* pipe = PipeOf(*p.read);
  EXPECT_EQ(WriteStr(*p.write, "abcdef"), 6u);
  std::string seen;
  auto take2 = [&](std::span<const uint8_t> b) -> base::Result<size_t> {
    seen.assign(b.begin(), b.end());
    return 2;
  };
  EXPECT_EQ(pipe->ReadInto(4, /*peek=*/true, take2), 2u);
  EXPECT_EQ(seen, "abcd");
  EXPECT_EQ(pipe->ReadInto(100, /*peek=*/false, take2), 2u);
  EXPECT_EQ(seen, "abcdef");
  auto refuse = [](std::span<const uint8_t>) -> base::Result<size_t> {
    return base::Err(EAGAIN);
  };
  EXPECT_EQ(ErrorOf(pipe->ReadInto(100, false, refuse)), EAGAIN);
  EXPECT_EQ(ReadStr(*p.read, 10), "cdef");
  EXPECT_EQ(ErrorOf(pipe->ReadInto(100, false, take2)), EAGAIN);  // empty
  p.write.reset();
  EXPECT_EQ(pipe->ReadInto(100, false, take2), 0u);  // EOF
}

TEST(PipeTest, EpipeWithoutReaders) {
  PipeEnds p = NewPipe(0, 0, 0);
  p.read.reset();
  EXPECT_EQ(ErrorOf(WriteStr(*p.write, "x")), EPIPE);
  EXPECT_EQ(WriteStr(*p.write, ""), 0u);  // as Linux: checked after len 0
}

TEST(PipeTest, SixteenPagesAndMerging) {
  PipeEnds p = NewPipe(0, 0, 0);
  const std::string chunk(4000, 'a');
  // Each 4000-byte write takes a page of its own: 16 fit, 64000 bytes.
  for (int i = 0; i < 16; ++i) ASSERT_EQ(WriteStr(*p.write, chunk), 4000u);
  EXPECT_EQ(ErrorOf(WriteStr(*p.write, chunk)), EAGAIN);
  // Small writes still top up the last page while they fit whole.
  EXPECT_EQ(WriteStr(*p.write, std::string(96, 'b')), 96u);
  EXPECT_EQ(ErrorOf(WriteStr(*p.write, "c")), EAGAIN);
  // Reading part of a page frees no page.
  EXPECT_EQ(ReadStr(*p.read, 1).size(), 1u);
  EXPECT_EQ(ErrorOf(WriteStr(*p.write, "c")), EAGAIN);
  EXPECT_EQ(ReadStr(*p.read, 3999).size(), 3999u);
  EXPECT_EQ(WriteStr(*p.write, std::string(4096, 'd')), 4096u);
}

TEST(PipeTest, SmallWritesAreAtomicLargeOnesSplit) {
  PipeEnds p = NewPipe(0, 0, 0);
  EXPECT_EQ(WriteStr(*p.write, std::string(65535, 'a')), 65535u);
  // One byte left in the last page: two do not fit whole, so none go.
  EXPECT_EQ(ErrorOf(WriteStr(*p.write, "bc")), EAGAIN);
  EXPECT_EQ(WriteStr(*p.write, "b"), 1u);
  PipeEnds q = NewPipe(0, 0, 0);
  EXPECT_EQ(WriteStr(*q.write, std::string(70000, 'a')), 65536u);
  EXPECT_EQ(ErrorOf(WriteStr(*q.write, std::string(70000, 'a'))), EAGAIN);
}

TEST(PipeTest, Packets) {
  PipeEnds p = NewPipe(O_DIRECT, 0, 0);
  EXPECT_EQ(p.read->flags(), O_RDONLY);  // O_DIRECT is the writer's
  EXPECT_EQ(p.write->flags(), O_WRONLY | O_DIRECT);
  EXPECT_EQ(WriteStr(*p.write, "one"), 3u);
  EXPECT_EQ(WriteStr(*p.write, "two!"), 4u);
  EXPECT_EQ(ReadStr(*p.read, 100), "one");  // one packet per read
  EXPECT_EQ(ReadStr(*p.read, 2), "tw");     // the rest is dropped
  int err;
  EXPECT_EQ(ReadStr(*p.read, 100, &err), "");
  EXPECT_EQ(err, EAGAIN);
  // A write larger than a page becomes page-sized packets.
  EXPECT_EQ(WriteStr(*p.write, std::string(5000, 'x')), 5000u);
  EXPECT_EQ(ReadStr(*p.read, 10000).size(), 4096u);
  EXPECT_EQ(ReadStr(*p.read, 10000).size(), 904u);
  // Every packet takes a page: 16 one-byte packets fill the pipe.
  for (int i = 0; i < 16; ++i) ASSERT_EQ(WriteStr(*p.write, "z"), 1u);
  EXPECT_EQ(ErrorOf(WriteStr(*p.write, "z")), EAGAIN);
}

TEST(PipeTest, Readiness) {
  PipeEnds p = NewPipe(0, 0, 0);
  constexpr uint64_t kAll =
      EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM | EPOLLERR | EPOLLHUP;
  EXPECT_EQ(p.read->Readiness(kAll), 0u);
  EXPECT_EQ(p.write->Readiness(kAll), uint64_t{EPOLLOUT | EPOLLWRNORM});
  ASSERT_EQ(WriteStr(*p.write, std::string(65536, 'a')), 65536u);
  EXPECT_EQ(p.read->Readiness(kAll), uint64_t{EPOLLIN | EPOLLRDNORM});
  EXPECT_EQ(p.read->Readiness(EPOLLOUT), 0u);  // only what was asked
  EXPECT_EQ(p.write->Readiness(kAll), 0u);     // full
  p.write.reset();
  EXPECT_EQ(p.read->Readiness(kAll),
            uint64_t{EPOLLIN | EPOLLRDNORM | EPOLLHUP});
  PipeEnds q = NewPipe(0, 0, 0);
  q.read.reset();
  EXPECT_EQ(q.write->Readiness(kAll),
            uint64_t{EPOLLOUT | EPOLLWRNORM | EPOLLERR});
}

class RecordingEntry : public waiter::Entry {
 public:
  explicit RecordingEntry(uint64_t mask) : Entry(mask) {}
  void Notify(uint64_t events) override { seen |= events; }
  uint64_t seen = 0;
};

TEST(PipeTest, Notifications) {
  PipeEnds p = NewPipe(0, 0, 0);
  RecordingEntry readers(EPOLLIN | EPOLLHUP);
  RecordingEntry writers(EPOLLOUT | EPOLLERR);
  p.read->EventRegister(&readers);
  p.write->EventRegister(&writers);
  ASSERT_EQ(WriteStr(*p.write, "x"), 1u);
  EXPECT_TRUE(readers.seen & EPOLLIN);
  EXPECT_EQ(ReadStr(*p.read, 1), "x");
  EXPECT_TRUE(writers.seen & EPOLLOUT);
  readers.seen = 0;
  p.write->EventUnregister(&writers);
  p.write.reset();
  EXPECT_TRUE(readers.seen & EPOLLHUP);
  p.read->EventUnregister(&readers);
}

TEST(PipeTest, StatPathAndIoctlFreeParts) {
  PipeEnds p = NewPipe(O_NONBLOCK, 1000, 1001);
  PipeEnds q = NewPipe(0, 0, 0);
  auto st = p.read->Stat();
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->st_mode, S_IFIFO | 0600u);
  EXPECT_EQ(st->st_uid, 1000u);
  EXPECT_EQ(st->st_gid, 1001u);
  EXPECT_EQ(st->st_blksize, 4096);
  EXPECT_EQ(p.write->Stat()->st_ino, st->st_ino);
  EXPECT_NE(q.read->Stat()->st_ino, st->st_ino);
  EXPECT_EQ(p.read->path(), "pipe:[" + std::to_string(st->st_ino) + "]");
  EXPECT_EQ(p.read->flags(), O_RDONLY | O_NONBLOCK);
  EXPECT_EQ(p.write->flags(), O_WRONLY | O_NONBLOCK);
  EXPECT_FALSE(p.read->writable());
  EXPECT_FALSE(p.write->readable());
  char c;
  iovec v{&c, 1};
  EXPECT_EQ(ErrorOf(p.read->PRead({&v, 1}, 0)), ESPIPE);
  EXPECT_FALSE(p.read->Seek(0, SEEK_SET).has_value());
  EXPECT_EQ(p.read->mmap_kind(), vfs::MmapKind::kNotMappable);
}

// --- Blocking, as the syscall layer does it, on threads. ---

// Task::WaitEntry with a condition variable instead of Task::Block.
class CondEntry : public waiter::Entry {
 public:
  explicit CondEntry(uint64_t mask) : Entry(mask) {}
  void Notify(uint64_t) override {
    absl::MutexLock lock(&mu_);
    ready_ = true;
    cv_.Signal();
  }
  void WaitAndClear() {
    absl::MutexLock lock(&mu_);
    while (!ready_) cv_.Wait(&mu_);
    ready_ = false;
  }

 private:
  absl::Mutex mu_;
  absl::CondVar cv_;
  bool ready_ = false;
};

// syscalls/blocking.cc's loops: register, try, wait, try again.
base::Result<size_t> BlockingIo(vfs::FileDescription& f, bool write, void* p,
                                size_t n) {
  CondEntry entry(write ? EPOLLOUT | EPOLLERR : EPOLLIN | EPOLLHUP);
  f.EventRegister(&entry);
  size_t done = 0;
  base::Result<size_t> r = 0;
  for (;;) {
    iovec v{static_cast<char*>(p) + done, n - done};
    r = write ? f.Write({&v, 1}) : f.Read({&v, 1});
    if (r && write && *r > 0 && done + *r < n) {
      done += *r;  // a blocking write goes on with the rest
      continue;
    }
    if (r || r.error().value != EAGAIN) break;
    entry.WaitAndClear();
  }
  f.EventUnregister(&entry);
  if (r && write) return done + *r;
  if (!r && done > 0) return done;
  return r;
}

// Two writers send records of <= PIPE_BUF bytes (one byte naming the
// writer, repeated): atomic writes mean no record is ever cut by another.
// The reader checks the order within each writer and ends at EOF.
TEST(PipeBlockingTest, AtomicRecordsFromTwoWritersThenEof) {
  PipeEnds p = NewPipe(0, 0, 0);
  constexpr int kRecords = 2000;
  auto writer = [&](FilePtr w, char id) {
    for (int i = 0; i < kRecords; ++i) {
      // Length in the first two bytes, then the id as filler.
      const size_t len = 3 + (i * 7919 + id) % (PIPE_BUF - 3);
      std::string rec(len, id);
      rec[0] = static_cast<char>(len & 0xff);
      rec[1] = static_cast<char>(len >> 8);
      ASSERT_EQ(BlockingIo(*w, true, rec.data(), len), len);
    }
  };
  std::thread a(writer, p.write, 'A');
  std::thread b(writer, std::move(p.write), 'B');
  std::string stream;
  std::vector<char> buf(10000);
  for (;;) {
    auto r = BlockingIo(*p.read, false, buf.data(), 1 + stream.size() % 9999);
    ASSERT_TRUE(r.has_value());
    if (*r == 0) break;
    stream.append(buf.data(), *r);
  }
  a.join();
  b.join();
  int seen[2] = {0, 0};
  size_t at = 0;
  while (at + 2 <= stream.size()) {
    const size_t len = static_cast<uint8_t>(stream[at]) |
                       static_cast<uint8_t>(stream[at + 1]) << 8;
    ASSERT_GE(len, 3u);
    ASSERT_LE(at + len, stream.size());
    const char id = stream[at + 2];
    ASSERT_TRUE(id == 'A' || id == 'B');
    EXPECT_EQ(stream.compare(at + 2, len - 2, std::string(len - 2, id)), 0);
    ++seen[id - 'A'];
    at += len;
  }
  EXPECT_EQ(at, stream.size());
  EXPECT_EQ(seen[0], kRecords);
  EXPECT_EQ(seen[1], kRecords);
}

// A large blocking write completes as the reader drains it.
TEST(PipeBlockingTest, LargeWriteCompletes) {
  PipeEnds p = NewPipe(0, 0, 0);
  std::string data(1 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i % 251);
  std::thread w([&] {
    EXPECT_EQ(BlockingIo(*p.write, true, data.data(), data.size()),
              data.size());
    p.write.reset();
  });
  std::string got;
  std::vector<char> buf(3000);
  for (;;) {
    auto r = BlockingIo(*p.read, false, buf.data(), buf.size());
    ASSERT_TRUE(r.has_value());
    if (*r == 0) break;
    got.append(buf.data(), *r);
  }
  w.join();
  EXPECT_TRUE(got == data);
}

// A writer blocked on a full pipe wakes with EPIPE when the reader goes.
TEST(PipeBlockingTest, BlockedWriterSeesEpipe) {
  PipeEnds p = NewPipe(0, 0, 0);
  std::string full(65536, 'a');
  ASSERT_EQ(WriteStr(*p.write, full), 65536u);
  std::thread w([&] {
    char c = 'x';
    EXPECT_EQ(ErrorOf(BlockingIo(*p.write, true, &c, 1)), EPIPE);
  });
  absl::SleepFor(absl::Milliseconds(20));  // let it block (not required)
  p.read.reset();
  w.join();
}

}  // namespace
}  // namespace pipes
