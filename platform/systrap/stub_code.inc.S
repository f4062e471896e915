// The systrap platform's stub code. Included by platform/ptrace/stub.S, so
// that it lies in the same code page as the zygote (whose seccomp filter
// allows syscalls from that page only) and is copied with it into every
// stub. Same rules: position independent, raw syscalls, and nothing of the
// sentry may be touched. See platform/README.md ("The systrap platform").
//
// Nothing here trusts memory the app can write for control flow: the
// syscall thread reads its requests from the area's read-only unit and
// keeps everything else in registers; the handler runs on the app thread
// itself, so whatever the app does to its slot harms that app only.

#include "platform/systrap/systrap_abi.h"

// ---------------------------------------------------------------------------
// The signal handler of app threads: SIGSYS (every syscall the app makes,
// through the seccomp filter's SECCOMP_RET_TRAP), CPU faults, and the
// interrupt signal. On the thread's alternate stack, which lies in its slot,
// so the slot is %rsp rounded down. Copies the frame's siginfo, registers
// and XSAVE image into the slot, hands over to the sentry, waits for its
// answer (a short spin, then a futex sleep), copies the answer back into the
// frame and returns through rt_sigreturn (the restorer below).
// %rbx = slot, %r12 = ucontext, %r13 = spin deadline.
  .balign 16
  .globl systrap_stub_handler
  .hidden systrap_stub_handler
systrap_stub_handler:
  endbr64
  cld
  mov %rsp, %rbx
  and $-SYSTRAP_SLOT_SIZE, %rbx
  mov %rdx, %r12

  lea SYSTRAP_SLOT_SIGINFO(%rbx), %rdi  // %rsi = siginfo
  mov $16, %ecx
  rep movsq
  lea SYSTRAP_UC_MCONTEXT(%r12), %rsi
  lea SYSTRAP_SLOT_MCONTEXT(%rbx), %rdi
  mov $SYSTRAP_MCONTEXT_QWORDS, %ecx
  rep movsq
  mov SYSTRAP_UC_FPSTATE(%r12), %rsi
  test %rsi, %rsi
  jz 1f
  lea SYSTRAP_SLOT_FP(%rbx), %rdi
  movl SYSTRAP_SLOT_FP_SIZE(%rbx), %ecx
  cmp $SYSTRAP_SLOT_FP_MAX, %ecx
  jbe 2f
  mov $SYSTRAP_SLOT_FP_MAX, %ecx
2:
  shr $3, %ecx
  rep movsq
1:
  // Report. xchg is a full barrier: the sleeping flag is read after the
  // state is visible (the sentry does the mirror image).
  mov $SYSTRAP_STATE_TRAPPED, %eax
  xchg %eax, SYSTRAP_SLOT_STATE(%rbx)
  cmpl $0, SYSTRAP_SLOT_SENTRY_SLEEPING(%rbx)
  je .Lwait
  mov $__NR_futex, %eax
  lea SYSTRAP_SLOT_STATE(%rbx), %rdi
  mov $SYSTRAP_FUTEX_WAKE, %esi
  mov $1, %edx
  syscall

.Lwait:
  // The budget is in app-writable memory: capped, so that a parked thread
  // never spins for long whatever the app wrote there.
  mov SYSTRAP_SLOT_SPIN(%rbx), %r13
  mov $SYSTRAP_SPIN_MAX, %eax
  cmp %rax, %r13
  cmova %rax, %r13
  rdtsc
  shl $32, %rdx
  or %rdx, %rax
  add %rax, %r13
.Lspin:
  cmpl $SYSTRAP_STATE_TRAPPED, SYSTRAP_SLOT_STATE(%rbx)
  jne .Lresume
  pause
  rdtsc
  shl $32, %rdx
  or %rdx, %rax
  cmp %r13, %rax
  jb .Lspin
.Lsleep:
  movl $1, SYSTRAP_SLOT_STUB_SLEEPING(%rbx)
  mfence
  cmpl $SYSTRAP_STATE_TRAPPED, SYSTRAP_SLOT_STATE(%rbx)
  jne .Lwoken
  mov $__NR_futex, %eax
  lea SYSTRAP_SLOT_STATE(%rbx), %rdi
  mov $SYSTRAP_FUTEX_WAIT, %esi
  mov $SYSTRAP_STATE_TRAPPED, %edx
  xor %r10d, %r10d
  syscall
  cmpl $SYSTRAP_STATE_TRAPPED, SYSTRAP_SLOT_STATE(%rbx)
  je .Lsleep
.Lwoken:
  movl $0, SYSTRAP_SLOT_STUB_SLEEPING(%rbx)

.Lresume:
  lea SYSTRAP_SLOT_MCONTEXT(%rbx), %rsi
  lea SYSTRAP_UC_MCONTEXT(%r12), %rdi
  mov $SYSTRAP_RESTORE_QWORDS, %ecx
  rep movsq
  // App threads run with no host signal blocked: the app's signal mask is
  // the sentry's business. (A new thread starts with most signals blocked,
  // inherited from the syscall thread; its first return unblocks them.)
  movq $0, SYSTRAP_UC_SIGMASK(%r12)
  mov SYSTRAP_UC_FPSTATE(%r12), %rdi
  test %rdi, %rdi
  jz 3f
  // The FXSAVE area but the frame's own fpx_sw_bytes, then the rest.
  lea SYSTRAP_SLOT_FP(%rbx), %rsi
  mov $(SYSTRAP_FP_SW_BYTES / 8), %ecx
  rep movsq
  add $(SYSTRAP_FP_SW_BYTES_END - SYSTRAP_FP_SW_BYTES), %rsi
  add $(SYSTRAP_FP_SW_BYTES_END - SYSTRAP_FP_SW_BYTES), %rdi
  movl SYSTRAP_SLOT_FP_SIZE(%rbx), %ecx
  cmp $SYSTRAP_SLOT_FP_MAX, %ecx
  jbe 2f
  mov $SYSTRAP_SLOT_FP_MAX, %ecx
2:
  sub $SYSTRAP_FP_SW_BYTES_END, %ecx
  jbe 3f
  shr $3, %ecx
  rep movsq
3:
  // fs_base and gs_base are not in the frame; set them only when they
  // change (this CPU has no FSGSBASE instructions for the app to use).
  mov SYSTRAP_SLOT_FS_BASE(%rbx), %rsi
  cmp SYSTRAP_SLOT_HOST_FS_BASE(%rbx), %rsi
  je 4f
  mov %rsi, SYSTRAP_SLOT_HOST_FS_BASE(%rbx)
  mov $__NR_arch_prctl, %eax
  mov $SYSTRAP_ARCH_SET_FS, %edi
  syscall
4:
  mov SYSTRAP_SLOT_GS_BASE(%rbx), %rsi
  cmp SYSTRAP_SLOT_HOST_GS_BASE(%rbx), %rsi
  je 5f
  mov %rsi, SYSTRAP_SLOT_HOST_GS_BASE(%rbx)
  mov $__NR_arch_prctl, %eax
  mov $SYSTRAP_ARCH_SET_GS, %edi
  syscall
5:
  ret  // to the restorer: rt_sigreturn loads the frame

  .globl systrap_stub_restorer
  .hidden systrap_stub_restorer
systrap_stub_restorer:
  mov $__NR_rt_sigreturn, %eax
  syscall
  ud2

// ---------------------------------------------------------------------------
// The syscall thread: the stub process's leader, once the sentry has set it
// up. It changes the stub's mappings and clones app threads, one request at
// a time: a byte on its socket wakes it, the request is in the area's
// read-only unit, and the reply is a message whose length is the answer
// (1: success; 1 + errno: failure), so the app, which shares this memory
// but cannot call read or write, can neither forge a request nor a reply.
// Entered with %r12 = area, %r13 = the socket, %r14 = a scratch buffer of
// 4 KiB. Uses no stack.
  .globl systrap_stub_syscall_loop
  .hidden systrap_stub_syscall_loop
systrap_stub_syscall_loop:
  mov $__NR_read, %eax
  mov %r13, %rdi
  mov %r14, %rsi
  mov $1, %edx
  syscall
  cmp $-SYSTRAP_EINTR, %rax
  je systrap_stub_syscall_loop
  cmp $1, %rax
  jne .Lsys_exit  // EOF: the address space is gone
  mov SYSTRAP_RO_OP(%r12), %rax
  mov SYSTRAP_RO_A0(%r12), %rdi
  mov SYSTRAP_RO_A1(%r12), %rsi
  mov SYSTRAP_RO_A2(%r12), %rdx
  cmp $SYSTRAP_OP_MMAP, %rax
  je .Lsys_mmap
  cmp $SYSTRAP_OP_MUNMAP, %rax
  je .Lsys_munmap
  cmp $SYSTRAP_OP_MPROTECT, %rax
  je .Lsys_mprotect
  cmp $SYSTRAP_OP_CLONE, %rax
  je .Lsys_clone
  mov $-SYSTRAP_EINVAL, %rax
  jmp .Lsys_reply
.Lsys_mmap:
  mov $0x11, %r10d  // MAP_SHARED | MAP_FIXED
  mov $STUB_MEM_FD, %r8d
  mov SYSTRAP_RO_A3(%r12), %r9
  mov $__NR_mmap, %eax
  syscall
  jmp .Lsys_status
.Lsys_munmap:
  mov $__NR_munmap, %eax
  syscall
  jmp .Lsys_status
.Lsys_mprotect:
  mov $__NR_mprotect, %eax
  syscall
  jmp .Lsys_status
.Lsys_clone:
  // The child finds its slot and its stack_t in these two registers.
  mov %rdi, %rbx
  inc %rbx
  shl $SYSTRAP_SLOT_SHIFT, %rbx
  add %r12, %rbx
  imul $SYSTRAP_STACK_T_SIZE, %rdi, %rbp
  add $SYSTRAP_RO_STACKS, %rbp
  add %r12, %rbp
  mov $__NR_clone, %eax
  mov $SYSTRAP_CLONE_FLAGS, %edi
  xor %esi, %esi  // newsp = 0: neither thread uses a stack here
  xor %edx, %edx
  xor %r10d, %r10d
  xor %r8d, %r8d
  syscall
  test %rax, %rax
  jz .Lthread_start
  js .Lsys_reply
  // The new thread's tid in two more messages, 12 bits each: lengths,
  // like the status, so that the app cannot forge them.
  mov %rax, %r15
  mov $1, %edx
  mov $__NR_write, %eax
  mov %r13, %rdi
  mov %r14, %rsi
  syscall
  mov %r15, %rdx
  and $0xfff, %edx
  inc %edx
  mov $__NR_write, %eax
  mov %r13, %rdi
  mov %r14, %rsi
  syscall
  mov %r15, %rdx
  shr $12, %rdx
  inc %rdx
  mov $__NR_write, %eax
  mov %r13, %rdi
  mov %r14, %rsi
  syscall
  jmp systrap_stub_syscall_loop
.Lsys_status:
  test %rax, %rax
  js .Lsys_reply
  xor %eax, %eax
.Lsys_reply:
  mov $1, %edx
  test %rax, %rax
  jns 6f
  neg %rax
  cmp $4095, %rax
  jbe 7f
  mov $4095, %eax
7:
  lea 1(%rax), %rdx
6:
  mov $__NR_write, %eax
  mov %r13, %rdi
  mov %r14, %rsi
  syscall
  jmp systrap_stub_syscall_loop
.Lsys_exit:
  mov $__NR_exit_group, %eax
  xor %edi, %edi
  syscall
  ud2

// A new app thread (%rbx = its slot, %rbp = its stack_t, %r12 = area): its
// alternate stack, the app-thread filter on top of the zygote's, then a
// syscall that filter traps. The handler reports that first trap, and the
// sentry's first Switch replaces the whole frame: this code never resumes.
.Lthread_start:
  mov $__NR_sigaltstack, %eax
  mov %rbp, %rdi
  xor %esi, %esi
  syscall
  test %rax, %rax
  jnz .Lthread_fail
  mov $__NR_seccomp, %eax
  mov $SYSTRAP_SECCOMP_SET_MODE_FILTER, %edi
  xor %esi, %esi
  lea SYSTRAP_RO_FPROG(%r12), %rdx
  syscall
  test %rax, %rax
  jnz .Lthread_fail
  mov $__NR_getpid, %eax
  syscall
  ud2
.Lthread_fail:
  mov $__NR_exit, %eax
  mov $SYSTRAP_EXIT_THREAD_SETUP, %edi
  syscall
  ud2

  .globl systrap_stub_memfd_name
  .hidden systrap_stub_memfd_name
systrap_stub_memfd_name:
  .asciz "runsc-systrap"
