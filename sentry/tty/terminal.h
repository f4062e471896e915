// Terminal: one pseudo-terminal pair (Linux's pair of tty_structs behind
// /dev/ptmx and /dev/pts/N): the line discipline, the window size, the
// session and foreground process group it controls, and who has it open.
//
// Its I/O never sleeps: where Linux would wait it answers EAGAIN, and the
// syscall layer (syscalls/blocking.h) waits on the end's waiter::Queue,
// interruptibly, and retries. Signals a transfer causes (ISIG characters)
// are returned to the caller, which sends them once no lock is held
// (job_control.h).
//
// Lock order: Terminal::mu_ is a leaf; queues are notified after it is
// released.
#ifndef SENTRY_TTY_TERMINAL_H_
#define SENTRY_TTY_TERMINAL_H_

#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/result.h"
#include "sentry/tty/line_discipline.h"
#include "sentry/waiter/waiter.h"

namespace tty {

// Signals for a process group (0: none), from an ISIG character or a
// window size change.
struct Signals {
  int pgrp = 0;
  std::vector<int> sigs;
};

class Terminal {
 public:
  // `uid`/`gid` own /dev/pts/`index` (the creator's fsuid and the tty
  // group, as devpts with gid=5).
  Terminal(uint32_t index, uint32_t uid, uint32_t gid);
  uint32_t index() const { return index_; }

  // The master side (ptmx). Write: input for the replica (signals for the
  // foreground group in *out); read: the replica's output and echoes;
  // EIO once every replica is closed and nothing is left.
  base::Result<size_t> MasterWrite(std::span<const iovec> src, Signals* out);
  base::Result<size_t> MasterRead(std::span<const iovec> dst);
  uint64_t MasterReadiness(uint64_t mask);
  // The last master closed: replicas are hung up (read 0, write EIO) and
  // the name goes away.
  void MasterClosed();

  // The replica side (/dev/pts/N). Reads follow ICANON and VMIN/VTIME;
  // after a hangup they return 0.
  base::Result<size_t> ReplicaRead(std::span<const iovec> dst);
  base::Result<size_t> ReplicaWrite(std::span<const iovec> src);
  uint64_t ReplicaReadiness(uint64_t mask);
  // How long a blocking replica read that began at `start` may wait for
  // more: VTIME (from `start`,
  // or from the last byte in with VMIN > 0), else forever.
  absl::Time ReplicaReadDeadline(absl::Time start);
  // Counts a replica open; EIO while locked (TIOCSPTLCK) or hung up.
  base::Result<void> OpenReplica();
  void ReplicaClosed();

  waiter::Queue& master_queue() { return master_queue_; }
  waiter::Queue& replica_queue() { return replica_queue_; }

  // ioctls on either side.
  KernelTermios GetTermios();
  void SetTermios(const KernelTermios& t);
  struct winsize GetWinsize();
  // TIOCSWINSZ: SIGWINCH for the foreground group if the size changed.
  void SetWinsize(const struct winsize& ws, Signals* out);
  // FIONREAD on the replica (complete lines in canonical mode) and on the
  // master (output queued); TIOCOUTQ the other way round.
  size_t ReplicaInputQueued();
  size_t MasterInputQueued();
  // TCFLSH: queue TCIFLUSH, TCOFLUSH or TCIOFLUSH as seen from `master`.
  base::Result<void> Flush(bool master, int queue);
  void SetLocked(bool locked);
  bool locked();
  bool hung_up();
  // TIOCPKT: packet mode on the master.
  void SetPacketMode(bool on);
  bool packet_mode();

  // The session this is the controlling terminal of (0: none) and its
  // foreground process group; set only through job_control.h.
  int session();
  int pgrp();
  void SetSession(int sid, int pgrp);
  void SetPgrp(int pgrp);

  struct stat ReplicaStat(unsigned dev_minor, uint64_t ino);

 private:
  // Wakes the ends after a change (after mu_ is released).
  void NotifyAll();

  const uint32_t index_;
  const uint32_t uid_, gid_;
  const timespec created_;
  waiter::Queue master_queue_;   // master readers and writers
  waiter::Queue replica_queue_;  // replica readers and writers

  absl::Mutex mu_;
  LineDiscipline ldisc_ ABSL_GUARDED_BY(mu_);
  struct winsize winsize_ ABSL_GUARDED_BY(mu_) = {};
  bool locked_ ABSL_GUARDED_BY(mu_) = true;  // as a new pty: unlockpt first
  bool hung_up_ ABSL_GUARDED_BY(mu_) = false;
  int replicas_ ABSL_GUARDED_BY(mu_) = 0;
  bool replica_opened_ ABSL_GUARDED_BY(mu_) = false;  // ever
  bool packet_mode_ ABSL_GUARDED_BY(mu_) = false;
  // Input in since the last replica read, for VMIN > 0 with VTIME.
  absl::Time last_input_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int session_ ABSL_GUARDED_BY(mu_) = 0;
  int pgrp_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tty

#endif  // SENTRY_TTY_TERMINAL_H_
