// The namespaces a task lives in (Linux's nsproxy): UTS (host and domain
// name), IPC and mount (sentry/vfs/mount_namespace.h). Each task holds a
// reference to its own; clone(2) shares the parent's unless
// CLONE_NEWUTS/CLONE_NEWIPC/CLONE_NEWNS asks for a new one, and unshare(2)
// swaps the caller's for a copy. The sandbox has one user, pid, network
// and cgroup namespace (see syscalls/README.md).
//
// Lock order: UtsNamespace::mu_ is a leaf.
#ifndef SENTRY_KERNEL_NAMESPACES_H_
#define SENTRY_KERNEL_NAMESPACES_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/kernel/ipc/mqueue.h"
#include "sentry/kernel/ipc/msg.h"
#include "sentry/kernel/ipc/sem.h"
#include "sentry/kernel/ipc/shm.h"
#include "sentry/vfs/mount_namespace.h"

namespace kernel {

// Linux's __NEW_UTS_LEN: the longest host or domain name.
inline constexpr size_t kMaxUtsName = 64;

class UtsNamespace {
 public:
  UtsNamespace(std::string hostname, std::string domainname)
      : id_(next_id_.fetch_add(1, std::memory_order_relaxed)),
        hostname_(std::move(hostname)),
        domainname_(std::move(domainname)) {}

  // Distinct for every namespace made in this sentry (/proc/<pid>/ns).
  uint64_t id() const { return id_; }

  // A new namespace starting with this one's names (CLONE_NEWUTS).
  std::shared_ptr<UtsNamespace> Copy() const {
    absl::MutexLock lock(&mu_);
    return std::make_shared<UtsNamespace>(hostname_, domainname_);
  }

  std::string hostname() const {
    absl::MutexLock lock(&mu_);
    return hostname_;
  }
  std::string domainname() const {
    absl::MutexLock lock(&mu_);
    return domainname_;
  }
  // The caller checked the length (at most kMaxUtsName) and the privilege.
  void set_hostname(std::string name) {
    absl::MutexLock lock(&mu_);
    hostname_ = std::move(name);
  }
  void set_domainname(std::string name) {
    absl::MutexLock lock(&mu_);
    domainname_ = std::move(name);
  }

 private:
  static inline std::atomic<uint64_t> next_id_{1};
  const uint64_t id_;
  mutable absl::Mutex mu_;
  std::string hostname_ ABSL_GUARDED_BY(mu_);
  std::string domainname_ ABSL_GUARDED_BY(mu_);
};

// An IPC namespace: its System V IPC objects and POSIX message queues
// (sentry/kernel/ipc/), one registry per kind. A new namespace starts
// empty.
class IpcNamespace {
 public:
  IpcNamespace() : id_(next_id_.fetch_add(1, std::memory_order_relaxed)) {}
  // Distinct for every namespace ever made in this sentry (/proc/<pid>/ns).
  uint64_t id() const { return id_; }

  ipc::Shm& shm() { return *shm_; }
  ipc::Sem& sem() { return sem_; }
  ipc::Msg& msg() { return msg_; }
  ipc::Mqueues& mqueues() { return mqueues_; }

 private:
  static inline std::atomic<uint64_t> next_id_{1};
  const uint64_t id_;
  // Shared: attachments keep it alive while an address space maps one of
  // its segments.
  const std::shared_ptr<ipc::Shm> shm_ = std::make_shared<ipc::Shm>();
  ipc::Sem sem_;
  ipc::Msg msg_;
  ipc::Mqueues mqueues_;
};

// What a task holds: one reference per kind. Copied by value; a task's
// own thread changes its set (unshare), so no lock.
struct Namespaces {
  std::shared_ptr<UtsNamespace> uts;
  std::shared_ptr<IpcNamespace> ipc;
  std::shared_ptr<vfs::MountNamespace> mnt;
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_NAMESPACES_H_
