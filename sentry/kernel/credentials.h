// A task's user and group ids and capability sets. Checked in the sentry;
// never host ids or host capabilities.
#ifndef SENTRY_KERNEL_CREDENTIALS_H_
#define SENTRY_KERNEL_CREDENTIALS_H_

#include <cstdint>
#include <vector>

namespace kernel {

// A capability set (capabilities(7)): bit N is capability N (CAP_CHOWN is
// 0 ... CAP_CHECKPOINT_RESTORE is 40), as in Linux's kernel_cap_t.
using CapSet = uint64_t;
inline constexpr int kLastCap = 40;  // CAP_LAST_CAP of Linux 5.9 and later
inline constexpr CapSet kAllCaps = (CapSet{1} << (kLastCap + 1)) - 1;
constexpr CapSet CapBit(int cap) { return CapSet{1} << cap; }

// Linux's CAP_FS_MASK: what the effective set loses when the fsuid leaves
// 0 and regains (from the permitted set) when it comes back.
inline constexpr CapSet kFsCaps =
    CapBit(0) /*CHOWN*/ | CapBit(1) /*DAC_OVERRIDE*/ |
    CapBit(2) /*DAC_READ_SEARCH*/ | CapBit(3) /*FOWNER*/ |
    CapBit(4) /*FSETID*/ | CapBit(9) /*LINUX_IMMUTABLE*/ |
    CapBit(27) /*MKNOD*/ | CapBit(32) /*MAC_OVERRIDE*/;

struct Credentials {
  uint32_t ruid = 0, euid = 0, suid = 0, fsuid = 0;
  uint32_t rgid = 0, egid = 0, sgid = 0, fsgid = 0;
  std::vector<uint32_t> groups;
  // Root starts with every capability, anyone else with none; the
  // bounding set is full for both (no file capabilities or securebits yet).
  CapSet cap_permitted = kAllCaps;
  CapSet cap_effective = kAllCaps;
  CapSet cap_inheritable = 0;
  CapSet cap_bounding = kAllCaps;
  CapSet cap_ambient = 0;
  // SECBIT_* (linux/securebits.h); only KEEP_CAPS and its lock have an
  // effect (prctl PR_SET_KEEPCAPS, cleared by execve).
  uint32_t securebits = 0;

  // The credentials of the container's first process, running as uid/gid.
  static Credentials ForIds(uint32_t uid, uint32_t gid) {
    Credentials c;
    c.ruid = c.euid = c.suid = c.fsuid = uid;
    c.rgid = c.egid = c.sgid = c.fsgid = gid;
    if (uid != 0) c.cap_permitted = c.cap_effective = 0;
    return c;
  }

  // Whether the effective set holds `cap` (Linux's capable(); the sandbox
  // has a single user namespace).
  bool HasCap(int cap) const { return cap_effective & CapBit(cap); }
};

// Linux's __ptrace_may_access(PTRACE_MODE_READ_REALCREDS) of another
// process (get_robust_list(2) of its threads, for one): the caller's real
// uid and gid are each of the target's real, effective and saved ones, the
// target is dumpable (`target_dumpable`: PR_SET_DUMPABLE 1, or it has no
// memory left) and its permitted capabilities are a subset of the
// caller's (commoncap); CAP_SYS_PTRACE stands in for any of the three.
inline bool PtraceMayRead(const Credentials& caller, const Credentials& target,
                          bool target_dumpable) {
  constexpr int kCapSysPtrace = 19;
  if (caller.HasCap(kCapSysPtrace)) return true;
  const bool same_ids = caller.ruid == target.ruid &&
                        caller.ruid == target.euid &&
                        caller.ruid == target.suid &&
                        caller.rgid == target.rgid &&
                        caller.rgid == target.egid && caller.rgid == target.sgid;
  const bool subset =
      (target.cap_permitted & ~caller.cap_permitted) == 0;
  return same_ids && target_dumpable && subset;
}

}  // namespace kernel

#endif  // SENTRY_KERNEL_CREDENTIALS_H_
