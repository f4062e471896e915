// What every SysV IPC object has (Linux's kern_ipc_perm), the permission
// checks on it (ipcperms, ipcctl_obtain_check) and a registry of objects
// of one kind by key and id (Linux's ipc_ids).
#ifndef SENTRY_KERNEL_IPC_PERM_H_
#define SENTRY_KERNEL_IPC_PERM_H_

#include <sys/ipc.h>

#include <cstdint>
#include <map>
#include <memory>

#include "base/result.h"
#include "sentry/kernel/credentials.h"

namespace kernel::ipc {

inline constexpr int kCapIpcLock = 14;
inline constexpr int kCapIpcOwner = 15;
inline constexpr int kCapSysAdmin = 21;
// Linux's IPCMNI: an id is seq * kIdSpan + index.
inline constexpr int kIdSpan = 32768;

struct Perm {
  key_t key = IPC_PRIVATE;
  uint32_t uid = 0, gid = 0, cuid = 0, cgid = 0;
  uint32_t mode = 0;  // the 9 permission bits, plus SHM_DEST/SHM_LOCKED
  uint16_t seq = 0;
  int id = -1;
  bool removed = false;  // IPC_RMID done: the id no longer finds it

  // A new object created by `creds` with mode bits from the *get flag.
  static Perm For(const Credentials& creds, key_t key, int flag) {
    Perm p;
    p.key = key;
    p.uid = p.cuid = creds.euid;
    p.gid = p.cgid = creds.egid;
    p.mode = flag & 0777;
    return p;
  }
  // Fills the user-visible ipc_perm.
  void ToUser(ipc_perm* out) const;
};

// Linux's ipcperms: whether `creds` may access with the rwx bits of
// `flag` (S_IRUGO-style: 0444 read, 0222 write, any position).
bool MayAccess(const Credentials& creds, const Perm& perm, int flag);
// IPC_SET and IPC_RMID: the owner, the creator or CAP_SYS_ADMIN; EPERM.
base::Result<void> MayChange(const Credentials& creds, const Perm& perm);
// IPC_SET: uid, gid and the low 9 mode bits from the app's ipc_perm.
void SetFrom(Perm& perm, const ipc_perm& in);

// Objects of one kind (T has a `Perm perm`), keyed by key and by id. Not
// locked: the owner's mutex guards it.
template <class T>
class Registry {
 public:
  // The live object with this id: EINVAL when there is none.
  base::Result<std::shared_ptr<T>> Find(int id) const {
    if (id < 0) return base::Err(EINVAL);
    auto it = objects_.find(id % kIdSpan);
    if (it == objects_.end() || it->second->perm.id != id)
      return base::Err(EINVAL);
    return it->second;
  }
  // By index (SHM_STAT, SEM_STAT, MSG_STAT): EINVAL when unused.
  base::Result<std::shared_ptr<T>> AtIndex(int index) const {
    auto it = objects_.find(index);
    if (index < 0 || it == objects_.end()) return base::Err(EINVAL);
    return it->second;
  }
  std::shared_ptr<T> FindKey(key_t key) const {
    auto it = keys_.find(key);
    if (it == keys_.end()) return nullptr;
    return objects_.at(it->second);
  }
  // Gives `obj` the lowest free index and a new id; false when `limit`
  // objects exist (ENOSPC for the caller).
  bool Add(std::shared_ptr<T> obj, size_t limit) {
    if (objects_.size() >= limit) return false;
    int index = 0;
    for (const auto& [i, o] : objects_) {
      if (i != index) break;
      ++index;
    }
    obj->perm.seq = seq_;
    seq_ = (seq_ + 1) % (INT32_MAX / kIdSpan);
    obj->perm.id = obj->perm.seq * kIdSpan + index;
    if (obj->perm.key != IPC_PRIVATE) keys_[obj->perm.key] = index;
    objects_[index] = std::move(obj);
    return true;
  }
  // Frees the key only (shm IPC_RMID with attachments): the object stays
  // findable by id until Remove.
  void ForgetKey(T& obj) {
    if (obj.perm.key != IPC_PRIVATE) keys_.erase(obj.perm.key);
    obj.perm.key = IPC_PRIVATE;
  }
  void Remove(T& obj) {
    ForgetKey(obj);
    obj.perm.removed = true;
    objects_.erase(obj.perm.id % kIdSpan);
  }
  // The highest index in use, or -1 (IPC_INFO and *_INFO return it).
  int MaxIndex() const {
    return objects_.empty() ? -1 : objects_.rbegin()->first;
  }
  size_t size() const { return objects_.size(); }
  const std::map<int, std::shared_ptr<T>>& objects() const { return objects_; }

 private:
  std::map<int, std::shared_ptr<T>> objects_;  // index -> object
  std::map<key_t, int> keys_;                  // key -> index
  uint16_t seq_ = 0;
};

}  // namespace kernel::ipc

#endif  // SENTRY_KERNEL_IPC_PERM_H_
