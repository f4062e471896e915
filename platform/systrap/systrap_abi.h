// Constants shared by the systrap stub code (stub_code.inc.S) and the C++
// side of the systrap platform. Preprocessor definitions only: this file is
// included from assembly.
//
// The *area* is a memfd of its own per stub process, mapped both into the
// sentry (read-write) and into the stub just below the stub region, above
// MaxUserAddress (so the app can never map over it). Its first unit
// (SYSTRAP_SLOT_SIZE bytes) is mapped read-only into the stub: the seccomp
// filter app threads install, their sigaltstack descriptors, and the
// request the stub's syscall thread executes. Then one slot per app thread
// (read-write: the handler writes the thread's state there), each also
// holding that thread's alternate signal stack.
#ifndef PLATFORM_SYSTRAP_SYSTRAP_ABI_H_
#define PLATFORM_SYSTRAP_SYSTRAP_ABI_H_

#define SYSTRAP_SLOT_SIZE 0x8000  // 32 KiB, and slots are aligned to it
#define SYSTRAP_SLOT_SHIFT 15
#define SYSTRAP_MAX_SLOTS 1000
#define SYSTRAP_AREA_SIZE ((SYSTRAP_MAX_SLOTS + 1) * SYSTRAP_SLOT_SIZE)

// The read-only unit, at the start of the area.
#define SYSTRAP_RO_OP 0  // the syscall thread's request: op, then args
#define SYSTRAP_RO_A0 8
#define SYSTRAP_RO_A1 16
#define SYSTRAP_RO_A2 24
#define SYSTRAP_RO_A3 32
#define SYSTRAP_RO_FPROG 64    // struct sock_fprog of the app-thread filter
#define SYSTRAP_RO_FILTER 512  // its instructions, up to 448
#define SYSTRAP_RO_FILTER_MAX 448
#define SYSTRAP_RO_STACKS 4096  // stack_t per slot, 24 bytes each
#define SYSTRAP_STACK_T_SIZE 24

// Requests to the syscall thread.
#define SYSTRAP_OP_MMAP 1      // a0 addr, a1 len, a2 prot, a3 file offset
#define SYSTRAP_OP_MUNMAP 2    // a0 addr, a1 len
#define SYSTRAP_OP_MPROTECT 3  // a0 addr, a1 len, a2 prot
#define SYSTRAP_OP_CLONE 4     // a0 slot index: a new app thread there

// A slot (offsets from its start).
#define SYSTRAP_SLOT_STATE 0             // u32, the futex word
#define SYSTRAP_SLOT_STUB_SLEEPING 4     // u32: the stub waits in futex
#define SYSTRAP_SLOT_SENTRY_SLEEPING 8   // u32: the sentry waits in futex
#define SYSTRAP_SLOT_FP_SIZE 12          // u32: bytes of FP state to move
#define SYSTRAP_SLOT_SPIN 16             // u64: TSC cycles to spin
#define SYSTRAP_SPIN_MAX 0x400000        // the stub spins at most this long
#define SYSTRAP_SLOT_FS_BASE 24          // u64: wanted fs_base
#define SYSTRAP_SLOT_GS_BASE 32          // u64: wanted gs_base
#define SYSTRAP_SLOT_HOST_FS_BASE 40     // u64: fs_base the handler set last
#define SYSTRAP_SLOT_HOST_GS_BASE 48     // u64
#define SYSTRAP_SLOT_SELF 56             // u64: the slot's own address in the
                                         // stub (the fast path's %gs base)
#define SYSTRAP_SLOT_FP_DIRTY 64         // u32: the sentry changed the FP
                                         // image; the fast path reloads it
#define SYSTRAP_SLOT_DEFERRED 68         // u32: a signal came while the
                                         // thread was in the fast path
#define SYSTRAP_SLOT_SIGINFO 128         // 128 bytes: the kernel's siginfo
#define SYSTRAP_SLOT_MCONTEXT 256        // 24 qwords: the signal frame's
                                         // sigcontext up to fpstate
#define SYSTRAP_SLOT_FP 4096             // the XSAVE image
#define SYSTRAP_SLOT_FP_MAX 8192
#define SYSTRAP_SLOT_STACK 12288         // the alternate signal stack ...
#define SYSTRAP_SLOT_STACK_SIZE (SYSTRAP_SLOT_SIZE - SYSTRAP_SLOT_STACK)

// SYSTRAP_SLOT_STATE values.
#define SYSTRAP_STATE_RUN 1      // sentry -> stub: run the registers given
#define SYSTRAP_STATE_TRAPPED 2  // stub -> sentry: the thread trapped

// A report from the syscall fast path carries this in si_errno (the
// siginfo is written by the stub, not the kernel), so that the sentry does
// not try to patch a site that already is.
#define SYSTRAP_FAST_MARK 0x46415354  // "FAST"

// The syscall patching table (platform/systrap/patch.h): app memory at a
// fixed address below 2 GiB whose third byte is 0x06, an invalid opcode in
// 64-bit mode. Entries of 64 bytes; entry 0 is the header.
#define SYSTRAP_TABLE_ADDR 0x60000
#define SYSTRAP_TABLE_SIZE 0x10000
#define SYSTRAP_TABLE_ENTRY 64

// fs_base/gs_base value that no thread has: forces the handler to set it.
#define SYSTRAP_BASE_UNKNOWN 0xffffffffffffffff

// Offsets in the kernel's ucontext and sigcontext (x86-64).
#define SYSTRAP_UC_MCONTEXT 40
#define SYSTRAP_UC_FPSTATE (SYSTRAP_UC_MCONTEXT + 184)
#define SYSTRAP_UC_SIGMASK (SYSTRAP_UC_MCONTEXT + 256)
#define SYSTRAP_MCONTEXT_QWORDS 24  // r8 ... cr2, fpstate
#define SYSTRAP_RESTORE_QWORDS 18   // r8 ... rip, eflags
#define SYSTRAP_FP_SW_BYTES 464     // Linux's fpx_sw_bytes in the FXSAVE area
#define SYSTRAP_FP_SW_BYTES_END 512

// Flags of the clone that makes an app thread: a Linux thread's.
#define SYSTRAP_CLONE_FLAGS 0x50f00

// Values from <asm/prctl.h>, <linux/futex.h>, <signal.h> (asserted in C++).
#define SYSTRAP_ARCH_SET_GS 0x1001
#define SYSTRAP_ARCH_SET_FS 0x1002
#define SYSTRAP_FUTEX_WAIT 0
#define SYSTRAP_FUTEX_WAKE 1
#define SYSTRAP_SECCOMP_SET_MODE_FILTER 1
#define SYSTRAP_EINTR 4
#define SYSTRAP_EINVAL 22
#define SYSTRAP_SIGSYS 31
#define SYSTRAP_SIGUSR2 12       // the interrupt signal (kInterruptSignal)
#define SYSTRAP_SI_TKILL (-6)
#define SYSTRAP_SYS_SECCOMP 1
#define SYSTRAP_AUDIT_ARCH_X86_64 0xc000003e
#define SYSTRAP_XFEATURE_AMX 0x60000  // never saved: stubs have no AMX permission

// Exit code of an app thread whose set-up failed.
#define SYSTRAP_EXIT_THREAD_SETUP 30

#endif  // PLATFORM_SYSTRAP_SYSTRAP_ABI_H_
