// Capabilities: capget(2), capset(2). The sets live in each thread's
// credentials (sentry/kernel/credentials.h); the uid changes that adjust
// them are in credentials.cc.
#include <linux/capability.h>
#include <sys/syscall.h>

#include "syscalls/common.h"

namespace syscalls {
namespace {

using kernel::CapSet;
using kernel::Credentials;

// How many 32-bit words of each set a header version carries, or EINVAL
// after telling the caller the version we prefer (libcap probes with 0).
Result<int> Words(Task& t, UserPtr<__user_cap_header_struct> header,
                  uint32_t version) {
  switch (version) {
    case _LINUX_CAPABILITY_VERSION_1:
      return _LINUX_CAPABILITY_U32S_1;
    case _LINUX_CAPABILITY_VERSION_2:  // v2 had a bug in its headers, not
    case _LINUX_CAPABILITY_VERSION_3:  // in its layout: the same as v3
      return _LINUX_CAPABILITY_U32S_3;
    default:
      TRY(t.mm().CopyOutObj(UserPtr<uint32_t>(header.addr),
                            uint32_t{_LINUX_CAPABILITY_VERSION_3}));
      return Err(EINVAL);
  }
}

// The credentials of thread `tid` (0: the caller). Linux looks up any
// task here, threads included.
Result<Credentials> CredsOf(Task& t, int tid) {
  if (tid == 0 || tid == t.tid()) return t.creds();
  std::optional<Credentials> creds;
  t.kernel().WithTask(
      tid, [&](Task& target) { creds = target.creds(); });
  if (!creds) return Err(ESRCH);
  return *creds;
}

// Capget implements Linux syscall capget(2).
Result<void> Capget(Task& t, UserPtr<__user_cap_header_struct> header,
                    UserPtr<__user_cap_data_struct> data) {
  const auto h = TRY(t.mm().CopyInObj(header));
  auto words = Words(t, header, h.version);
  // A NULL data pointer only asks for the version: success even when the
  // version was wrong (it has been written back).
  if (data.IsNull() && !words && words.error().value == EINVAL) return {};
  if (!words) return std::unexpected(words.error());
  if (data.IsNull()) return {};
  if (h.pid < 0) return Err(EINVAL);
  const Credentials c = TRY(CredsOf(t, h.pid));
  __user_cap_data_struct out[_LINUX_CAPABILITY_U32S_3] = {};
  for (int i = 0; i < *words; ++i) {
    out[i].effective = static_cast<uint32_t>(c.cap_effective >> (32 * i));
    out[i].permitted = static_cast<uint32_t>(c.cap_permitted >> (32 * i));
    out[i].inheritable = static_cast<uint32_t>(c.cap_inheritable >> (32 * i));
  }
  return t.mm().CopyOut(data.addr, out, *words * sizeof(out[0]));
}

bool Subset(CapSet a, CapSet of) { return (a & ~of) == 0; }

// Capset implements Linux syscall capset(2).
Result<void> Capset(Task& t, UserPtr<__user_cap_header_struct> header,
                    UserPtr<__user_cap_data_struct> data) {
  const auto h = TRY(t.mm().CopyInObj(header));
  const int words = TRY(Words(t, header, h.version));
  // Only the caller's own sets can change.
  if (h.pid != 0 && h.pid != t.tid()) return Err(EPERM);
  __user_cap_data_struct in[_LINUX_CAPABILITY_U32S_3] = {};
  TRY(t.mm().CopyIn(data.addr, in, words * sizeof(in[0])));
  CapSet effective = 0, permitted = 0, inheritable = 0;
  for (int i = 0; i < words; ++i) {
    effective |= CapSet{in[i].effective} << (32 * i);
    permitted |= CapSet{in[i].permitted} << (32 * i);
    inheritable |= CapSet{in[i].inheritable} << (32 * i);
  }
  // Bits past the last capability are dropped, as Linux's CAP_VALID_MASK.
  effective &= kernel::kAllCaps;
  permitted &= kernel::kAllCaps;
  inheritable &= kernel::kAllCaps;

  // Linux's cap_capset rules.
  Credentials c = t.creds();
  // Without CAP_SETPCAP the inheritable set may only gain what is
  // permitted; with it, anything in the bounding set.
  if (!c.HasCap(CAP_SETPCAP) &&
      !Subset(inheritable, c.cap_inheritable | c.cap_permitted))
    return Err(EPERM);
  if (!Subset(inheritable, c.cap_inheritable | c.cap_bounding))
    return Err(EPERM);
  if (!Subset(permitted, c.cap_permitted)) return Err(EPERM);
  if (!Subset(effective, permitted)) return Err(EPERM);
  c.cap_effective = effective;
  c.cap_permitted = permitted;
  c.cap_inheritable = inheritable;
  // Ambient capabilities must stay both permitted and inheritable.
  c.cap_ambient &= permitted & inheritable;
  t.set_creds(std::move(c));
  return {};
}

}  // namespace

void RegisterCapabilities(Registrar& r) {
  const char* kNote =
      "capability sets per thread, as Linux; no file capabilities or "
      "securebits yet (execve's transitions are for files without "
      "capabilities)";
  r.Partial<&Capget>(SYS_capget, kNote);
  r.Partial<&Capset>(SYS_capset, kNote);
}

}  // namespace syscalls
