// The Linux version the sandbox reports (uname(2), /proc/version,
// /proc/sys/kernel/osrelease): new enough for current glibc and programs
// that probe features, which fall back when a call is ENOSYS.
#ifndef BASE_LINUX_VERSION_H_
#define BASE_LINUX_VERSION_H_

namespace base {

inline constexpr char kLinuxRelease[] = "5.15.0";
inline constexpr char kLinuxVersion[] = "#1 SMP runsc";

}  // namespace base

#endif  // BASE_LINUX_VERSION_H_
