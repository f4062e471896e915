// The stub: the only code of ours that runs in stub processes.
//
// zygote.cc copies the bytes between ptrace_stub_start and ptrace_stub_end
// into the code page of the stub region, so this must be position
// independent (relative jumps only) and must touch no memory outside the
// stub region: once it has started, nothing of the sentry is mapped.
// It makes raw syscalls only. Its first act is to install the zygote's
// seccomp filter, which allows syscalls from this page and nowhere else.
//
// Register use: syscall clobbers %rax, %rcx, %r11. %r12 holds the region's
// address, %r15 the zygote's pid, %rbx a fork result.

#include <asm/unistd.h>

#include "platform/ptrace/stub_abi.h"

  .section .text.runsc_ptrace_stub, "ax", @progbits
  .balign 16
  .globl ptrace_stub_start
  .hidden ptrace_stub_start
ptrace_stub_start:

// Entered by a jump from ZygoteMain (zygote_main.cc) with %rdi = the
// address of the stub region, %rsi = the seccomp filter (a sock_fprog in
// ZygoteMain's frame, still mapped) and %rsp = the end of the region.
  .globl ptrace_stub_zygote_entry
  .hidden ptrace_stub_zygote_entry
ptrace_stub_zygote_entry:
  endbr64
  mov %rdi, %r12

  // The filter allows syscalls from this page only, so it is installed
  // here rather than in C++, where the compiler may add calls of its own
  // (sanitizers do) between the install and the jump.
  mov %rsi, %rbx
  mov $__NR_prctl, %eax
  mov $STUB_PR_SET_NO_NEW_PRIVS, %edi
  mov $1, %esi
  xor %edx, %edx
  xor %r10d, %r10d
  xor %r8d, %r8d
  syscall
  test %rax, %rax
  jnz .Lfail_seccomp
  mov $__NR_seccomp, %eax
  mov $STUB_SECCOMP_SET_MODE_FILTER, %edi
  xor %esi, %esi
  mov %rbx, %rdx
  syscall
  test %rax, %rax
  jnz .Lfail_seccomp

  // Unmap everything below the region...
  xor %edi, %edi
  mov %r12, %rsi
  mov $__NR_munmap, %eax
  syscall
  test %rax, %rax
  jnz .Lfail_munmap_low

  // ... and everything above it (stack, vdso, vvar). Try the 5-level paging
  // limit first; EINVAL means 4-level. [vsyscall] is above both and stays.
  lea STUB_REGION_SIZE(%r12), %rdi
  movabs $STUB_TASK_SIZE_5LEVEL, %rsi
  sub %rdi, %rsi
  mov $__NR_munmap, %eax
  syscall
  cmp $-STUB_EINVAL, %rax
  jne 1f
  lea STUB_REGION_SIZE(%r12), %rdi
  movabs $STUB_TASK_SIZE_4LEVEL, %rsi
  sub %rdi, %rsi
  mov $__NR_munmap, %eax
  syscall
1:
  test %rax, %rax
  jnz .Lfail_munmap_high

  // Put the x87/SSE/AVX registers in their init state: the zygote inherited
  // the sentry's (pointers, copied data), and every stub inherits the
  // zygote's. XRSTOR with XSTATE_BV = 0 (the data page is still all zero)
  // initialises every requested component; MXCSR comes from the legacy area.
  lea STUB_CODE_SIZE(%r12), %rbx
  movl $STUB_MXCSR_DEFAULT, 24(%rbx)
  xor %ecx, %ecx
  xgetbv
  and $~STUB_XFEATURE_AMX, %eax
  xrstor (%rbx)

  mov $__NR_getpid, %eax
  syscall
  mov %rax, %r15

  // 0(%rsp): message buffer; 8(%rsp): the two fds of a pipe.
  sub $16, %rsp
  movb $STUB_READY_BYTE, (%rsp)
  mov $__NR_write, %eax
  mov $STUB_SOCKET_FD, %edi
  mov %rsp, %rsi
  mov $1, %edx
  syscall
  cmp $1, %rax
  jne .Lfail_ready

// One request byte in, one new stub out (its pid, or -errno, as 4 bytes).
.Lzygote_loop:
  mov $__NR_read, %eax
  mov $STUB_SOCKET_FD, %edi
  mov %rsp, %rsi
  mov $1, %edx
  syscall
  cmp $-STUB_EINTR, %rax
  je .Lzygote_loop
  cmp $1, %rax
  jne .Lexit_ok  // EOF or error: the sentry is done with us.

  // The child closes its copy of the pipe's write end as the last step of
  // its set-up, so EOF on the read end means the stub is ready to be seized
  // (or dead). Without this the sentry could seize it half set up. Both
  // pipe fds must be below STUB_MEM_FD (they are: 0-2 are free, and pipe2
  // takes the lowest), because the child closes that range last.
  mov $__NR_pipe2, %eax
  lea 8(%rsp), %rdi
  xor %esi, %esi
  syscall
  test %rax, %rax
  js .Lreply
  cmpl $STUB_MEM_FD, 8(%rsp)
  jae .Lbad_pipe
  cmpl $STUB_MEM_FD, 12(%rsp)
  jae .Lbad_pipe

  mov $__NR_fork, %eax
  syscall
  test %rax, %rax
  jz .Lstub_child
  mov %rax, %rbx

  mov $__NR_close, %eax
  movl 12(%rsp), %edi
  syscall
  test %rbx, %rbx
  js 3f
2:
  mov $__NR_read, %eax
  movl 8(%rsp), %edi
  mov %rsp, %rsi
  mov $1, %edx
  syscall
  cmp $-STUB_EINTR, %rax
  je 2b
3:
  mov $__NR_close, %eax
  movl 8(%rsp), %edi
  syscall
  mov %rbx, %rax

  jmp .Lreply
.Lbad_pipe:
  mov $__NR_close, %eax
  movl 8(%rsp), %edi
  syscall
  mov $__NR_close, %eax
  movl 12(%rsp), %edi
  syscall
  mov $-STUB_EMFILE, %rax

.Lreply:
  movl %eax, (%rsp)
  mov $__NR_write, %eax
  mov $STUB_SOCKET_FD, %edi
  mov %rsp, %rsi
  mov $4, %edx
  syscall
  cmp $4, %rax
  je .Lzygote_loop
  jmp .Lexit_ok

// A new stub. Until the sentry seizes it, it must die with the zygote
// (which dies with the sentry); afterwards PTRACE_O_EXITKILL also ties it
// to its tracer.
.Lstub_child:
  mov $__NR_prctl, %eax
  mov $STUB_PR_SET_PDEATHSIG, %edi
  mov $STUB_SIGKILL, %esi
  syscall
  test %rax, %rax
  jnz .Lfail_child
  // The zygote may have died before the prctl took effect.
  mov $__NR_getppid, %eax
  syscall
  cmp %r15, %rax
  jne .Lfail_child

  // Keep the memory file only. First the request socket (and anything
  // above it), then the pipe below STUB_MEM_FD: closing its write end tells
  // the zygote we are ready, so it must come last.
  mov $__NR_close_range, %eax
  mov $(STUB_MEM_FD + 1), %edi
  mov $-1, %esi
  xor %edx, %edx
  syscall
  test %rax, %rax
  jnz .Lfail_child
  mov $__NR_close_range, %eax
  xor %edi, %edi
  mov $(STUB_MEM_FD - 1), %esi
  xor %edx, %edx
  syscall
  test %rax, %rax
  jnz .Lfail_child

  // Wait to be seized. The sentry's PTRACE_INTERRUPT stops us here.
.Lpause:
  mov $__NR_pause, %eax
  syscall
  jmp .Lpause

// Injected syscalls: the tracer sets %rip here and the arguments in the
// registers, then PTRACE_CONTs; the int3 stops the stub again with the
// result in %rax and %rip = ptrace_stub_syscall_gadget_end.
  .globl ptrace_stub_syscall_gadget
  .hidden ptrace_stub_syscall_gadget
ptrace_stub_syscall_gadget:
  syscall
  int3
  .globl ptrace_stub_syscall_gadget_end
  .hidden ptrace_stub_syscall_gadget_end
ptrace_stub_syscall_gadget_end:

// New stub threads: the tracer injects clone(CLONE_VM | CLONE_THREAD | ...,
// newsp = 0) here. The parent stops at the int3 with the new thread's tid
// (or -errno) in %rax; the child (%rax = 0) goes to a pause() loop that
// touches no memory, not even the stack it shares with its parent, and
// waits there, untraced, until a sentry thread seizes it.
  .globl ptrace_stub_clone_gadget
  .hidden ptrace_stub_clone_gadget
ptrace_stub_clone_gadget:
  syscall
  test %rax, %rax
  jz .Lthread_pause
  int3
  .globl ptrace_stub_clone_gadget_end
  .hidden ptrace_stub_clone_gadget_end
ptrace_stub_clone_gadget_end:
.Lthread_pause:
  mov $__NR_pause, %eax
  syscall
  jmp .Lthread_pause

.Lexit_ok:
  xor %edi, %edi
  jmp .Lexit
.Lfail_seccomp:
  mov $STUB_EXIT_SECCOMP, %edi
  jmp .Lexit
.Lfail_munmap_low:
  mov $STUB_EXIT_MUNMAP_LOW, %edi
  jmp .Lexit
.Lfail_munmap_high:
  mov $STUB_EXIT_MUNMAP_HIGH, %edi
  jmp .Lexit
.Lfail_ready:
  mov $STUB_EXIT_READY, %edi
  jmp .Lexit
.Lfail_child:
  mov $STUB_EXIT_CHILD_SETUP, %edi
.Lexit:
  mov $__NR_exit_group, %eax
  syscall
  ud2

// The systrap platform's handler and syscall thread: in this page, so that
// the zygote's filter lets them make their few syscalls.
#include "platform/systrap/stub_code.inc.S"

  .globl ptrace_stub_end
  .hidden ptrace_stub_end
ptrace_stub_end:

  .section .note.GNU-stack, "", @progbits
