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

  // A signal that interrupts the syscall fast path (below) must not touch
  // the slot the fast path is using. Before its tail: a fault is reported
  // as it is (only a broken slot can make the fast path fault); any other
  // signal is deferred, the fast path reports it once the sentry has
  // answered. In the tail the registers to resume with are all in the
  // slot: the signal is taken there, as if the app had just resumed.
  mov (SYSTRAP_UC_MCONTEXT + 16 * 8)(%r12), %rax  // the interrupted %rip
  lea systrap_stub_fast_begin(%rip), %rcx
  sub %rcx, %rax
  cmp $(.Lfast_end - systrap_stub_fast_begin), %rax
  jae .Lsig_copy
  cmp $(.Lfast_tail - systrap_stub_fast_begin), %rax
  jae .Lsig_in_tail
  cmpl $0, 8(%rsi)  // si_code > 0: raised by the CPU
  jg .Lsig_copy
  movl $1, SYSTRAP_SLOT_DEFERRED(%rbx)
  ret  // to the restorer: nothing changed
.Lsig_in_tail:
  mov %rsi, %r13
  lea SYSTRAP_SLOT_MCONTEXT(%rbx), %rsi
  lea SYSTRAP_UC_MCONTEXT(%r12), %rdi
  mov $SYSTRAP_RESTORE_QWORDS, %ecx
  rep movsq
  mov %r13, %rsi
  // The fast path's own way back when %gs is not the slot: this frame now
  // holds the app's registers, and rt_sigreturn loads them.
  cmp $(.Lfast_via_signal - systrap_stub_fast_begin), %rax
  jne .Lsig_copy
  ret

.Lsig_copy:
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
  call systrap_report_wait

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
  // rt_sigreturn loads the image: the sentry's change is applied.
  movl $0, SYSTRAP_SLOT_FP_DIRTY(%rbx)
  call systrap_set_bases
  ret  // to the restorer: rt_sigreturn loads the frame

// ---------------------------------------------------------------------------
// The syscall fast path. A patched `mov $nr, %eax; syscall` in the app
// jumps to its entry in the patching table (app memory, patch.h), which
// sets %rcx to the address after the site (what `syscall` puts there),
// %eax to the number, and jumps here with %r11 clobbered (`syscall` sets
// it to rflags, done below). %gs base is the thread's slot (the sentry
// sets it so while the app's is 0). No signal frame: the registers go
// straight into the slot in the frame's layout, with a siginfo such as the
// seccomp trap would give, the XSAVE image too; then the same handshake as
// the handler's; then everything comes back from the slot and the thread
// jumps to the %rip the sentry gave. Signals meanwhile: see the handler.
  .balign 16
  .globl systrap_stub_fast_begin
  .hidden systrap_stub_fast_begin
systrap_stub_fast_begin:
// The two subroutines are shared with the handler, and inside the fast
// path's range: a signal while the fast path runs them is deferred.
// Hands the slot (%rbx) to the sentry and waits for its answer. Clobbers
// %rax, %rcx, %rdx, %rsi, %rdi, %r10, %r11, %r13.
systrap_report_wait:
  // xchg is a full barrier: the sleeping flag is read after the state is
  // visible (the sentry does the mirror image).
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
  ret

// fs_base and gs_base are not in the frame; set them only when they
// change (this CPU has no FSGSBASE instructions for the app to use).
// %rbx = slot; clobbers %rax, %rcx, %rsi, %rdi, %r11.
systrap_set_bases:
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
  ret

  .globl systrap_stub_fastcall
  .hidden systrap_stub_fastcall
systrap_stub_fastcall:
  // Nothing below changes rflags before pushfq saves them.
  mov %rsp, %gs:(SYSTRAP_SLOT_MCONTEXT + 15 * 8)
  mov %gs:SYSTRAP_SLOT_SELF, %rsp
  lea SYSTRAP_SLOT_SIZE(%rsp), %rsp
  pushfq
  pop %r11
  mov %r8, %gs:(SYSTRAP_SLOT_MCONTEXT + 0 * 8)
  mov %r9, %gs:(SYSTRAP_SLOT_MCONTEXT + 1 * 8)
  mov %r10, %gs:(SYSTRAP_SLOT_MCONTEXT + 2 * 8)
  mov %r11, %gs:(SYSTRAP_SLOT_MCONTEXT + 3 * 8)
  mov %r12, %gs:(SYSTRAP_SLOT_MCONTEXT + 4 * 8)
  mov %r13, %gs:(SYSTRAP_SLOT_MCONTEXT + 5 * 8)
  mov %r14, %gs:(SYSTRAP_SLOT_MCONTEXT + 6 * 8)
  mov %r15, %gs:(SYSTRAP_SLOT_MCONTEXT + 7 * 8)
  mov %rdi, %gs:(SYSTRAP_SLOT_MCONTEXT + 8 * 8)
  mov %rsi, %gs:(SYSTRAP_SLOT_MCONTEXT + 9 * 8)
  mov %rbp, %gs:(SYSTRAP_SLOT_MCONTEXT + 10 * 8)
  mov %rbx, %gs:(SYSTRAP_SLOT_MCONTEXT + 11 * 8)
  mov %rdx, %gs:(SYSTRAP_SLOT_MCONTEXT + 12 * 8)
  mov %rax, %gs:(SYSTRAP_SLOT_MCONTEXT + 13 * 8)
  mov %rcx, %gs:(SYSTRAP_SLOT_MCONTEXT + 14 * 8)
  mov %rcx, %gs:(SYSTRAP_SLOT_MCONTEXT + 16 * 8)
  mov %r11, %gs:(SYSTRAP_SLOT_MCONTEXT + 17 * 8)
  mov %gs:SYSTRAP_SLOT_SELF, %rbx
  // The siginfo of a seccomp trap at this site.
  movl $SYSTRAP_SIGSYS, (SYSTRAP_SLOT_SIGINFO + 0)(%rbx)
  movl $SYSTRAP_FAST_MARK, (SYSTRAP_SLOT_SIGINFO + 4)(%rbx)
  movl $SYSTRAP_SYS_SECCOMP, (SYSTRAP_SLOT_SIGINFO + 8)(%rbx)
  mov %rcx, (SYSTRAP_SLOT_SIGINFO + 16)(%rbx)
  movl %eax, (SYSTRAP_SLOT_SIGINFO + 24)(%rbx)
  movl $SYSTRAP_AUDIT_ARCH_X86_64, (SYSTRAP_SLOT_SIGINFO + 28)(%rbx)
  // The FP state stays in the registers; the sentry reads the image.
  mov $~SYSTRAP_XFEATURE_AMX, %eax
  mov $-1, %edx
  xsave64 SYSTRAP_SLOT_FP(%rbx)
  movl $0, SYSTRAP_SLOT_FP_DIRTY(%rbx)
.Lfast_report:
  call systrap_report_wait
.Lfast_resume:
  cmpl $0, SYSTRAP_SLOT_FP_DIRTY(%rbx)
  je 1f
  movl $0, SYSTRAP_SLOT_FP_DIRTY(%rbx)
  mov $~SYSTRAP_XFEATURE_AMX, %eax
  mov $-1, %edx
  xrstor64 SYSTRAP_SLOT_FP(%rbx)
1:
  call systrap_set_bases
  jmp .Lfast_tail

// A signal came while in the fast path: reported now, with the registers
// the sentry gave, as an interrupt there (the sentry resumes the thread
// if it had none pending). The FP image in the slot is still the state
// (or the sentry's new one, which stays marked dirty).
.Lfast_deferred:
  movl $0, SYSTRAP_SLOT_DEFERRED(%rbx)
  movl $SYSTRAP_SIGUSR2, (SYSTRAP_SLOT_SIGINFO + 0)(%rbx)
  movl $0, (SYSTRAP_SLOT_SIGINFO + 4)(%rbx)
  movl $SYSTRAP_SI_TKILL, (SYSTRAP_SLOT_SIGINFO + 8)(%rbx)
  jmp .Lfast_report

.Lfast_tail:
  // From here on a signal is taken at the registers in the slot (see the
  // handler), so a deferred one is checked here, not before.
  cmpl $0, SYSTRAP_SLOT_DEFERRED(%rbx)
  jne .Lfast_deferred
  mov SYSTRAP_SLOT_SELF(%rbx), %rax
  cmp SYSTRAP_SLOT_HOST_GS_BASE(%rbx), %rax
  jne .Lfast_via_signal
  pushq (SYSTRAP_SLOT_MCONTEXT + 17 * 8)(%rbx)
  mov (SYSTRAP_SLOT_MCONTEXT + 0 * 8)(%rbx), %r8
  mov (SYSTRAP_SLOT_MCONTEXT + 1 * 8)(%rbx), %r9
  mov (SYSTRAP_SLOT_MCONTEXT + 2 * 8)(%rbx), %r10
  mov (SYSTRAP_SLOT_MCONTEXT + 3 * 8)(%rbx), %r11
  mov (SYSTRAP_SLOT_MCONTEXT + 4 * 8)(%rbx), %r12
  mov (SYSTRAP_SLOT_MCONTEXT + 5 * 8)(%rbx), %r13
  mov (SYSTRAP_SLOT_MCONTEXT + 6 * 8)(%rbx), %r14
  mov (SYSTRAP_SLOT_MCONTEXT + 7 * 8)(%rbx), %r15
  mov (SYSTRAP_SLOT_MCONTEXT + 8 * 8)(%rbx), %rdi
  mov (SYSTRAP_SLOT_MCONTEXT + 9 * 8)(%rbx), %rsi
  mov (SYSTRAP_SLOT_MCONTEXT + 10 * 8)(%rbx), %rbp
  mov (SYSTRAP_SLOT_MCONTEXT + 12 * 8)(%rbx), %rdx
  mov (SYSTRAP_SLOT_MCONTEXT + 13 * 8)(%rbx), %rax
  mov (SYSTRAP_SLOT_MCONTEXT + 14 * 8)(%rbx), %rcx
  mov (SYSTRAP_SLOT_MCONTEXT + 11 * 8)(%rbx), %rbx
  popfq
  mov %gs:(SYSTRAP_SLOT_MCONTEXT + 15 * 8), %rsp
  jmp *%gs:(SYSTRAP_SLOT_MCONTEXT + 16 * 8)
.Lfast_via_signal:
  // %gs base is the app's now (it set one): the handler returns through
  // a frame made of the slot's registers.
  ud2
.Lfast_end:


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
