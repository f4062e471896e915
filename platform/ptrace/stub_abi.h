// Constants shared by stub.S and the C++ side of the ptrace platform.
//
// Preprocessor definitions only: this file is included from assembly.
// zygote.cc static_asserts the ones that mirror system headers.
#ifndef PLATFORM_PTRACE_STUB_ABI_H_
#define PLATFORM_PTRACE_STUB_ABI_H_

// File descriptors a stub keeps. Every other fd is closed.
#define STUB_MEM_FD 3     // the memory file; MapFile maps it
#define STUB_SOCKET_FD 4  // zygote only: the request socket to the sentry

// The stub region: one page of code (r-x) then one data page (rw-). The
// data page starts with the XRSTOR area used to reset the FPU state and
// ends with the zygote's stack.
#define STUB_PAGE_SIZE 4096
#define STUB_CODE_SIZE 4096
#define STUB_DATA_SIZE 4096
#define STUB_REGION_SIZE (STUB_CODE_SIZE + STUB_DATA_SIZE)

// The end of the user address range with 4-level and 5-level page tables
// (TASK_SIZE_MAX). munmap with a length past TASK_SIZE fails with EINVAL,
// which is how the stub learns which one applies.
#define STUB_TASK_SIZE_4LEVEL 0x00007ffffffff000
#define STUB_TASK_SIZE_5LEVEL 0x00fffffffffff000

// XCR0 bits 17-18 (AMX TILECFG/TILEDATA): never restored by the stub, since
// touching them without arch_prctl(ARCH_REQ_XCOMP_PERM) faults.
#define STUB_XFEATURE_AMX 0x60000
// The default MXCSR (all exceptions masked), as after execve.
#define STUB_MXCSR_DEFAULT 0x1f80

// The byte the zygote sends once it has shed the sentry's mappings.
#define STUB_READY_BYTE 0x52

// Values from <signal.h>, <sys/prctl.h>, <linux/seccomp.h>, <errno.h>
// (asserted in zygote_main.cc).
#define STUB_SIGKILL 9
#define STUB_PR_SET_PDEATHSIG 1
#define STUB_PR_SET_NO_NEW_PRIVS 38
#define STUB_SECCOMP_SET_MODE_FILTER 1
#define STUB_EINTR 4
#define STUB_EINVAL 22
#define STUB_EMFILE 24

// Exit codes of a zygote that failed to start, so the sentry can say why.
// 1..19 are the C++ set-up steps (zygote_main.h), these are the assembly
// ones.
#define STUB_EXIT_SECCOMP 19
#define STUB_EXIT_MUNMAP_LOW 20
#define STUB_EXIT_MUNMAP_HIGH 21
#define STUB_EXIT_READY 22
// A new stub whose set-up failed (its zygote died, most likely).
#define STUB_EXIT_CHILD_SETUP 23

#endif  // PLATFORM_PTRACE_STUB_ABI_H_
