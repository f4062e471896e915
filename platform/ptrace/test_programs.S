// Tiny x86-64 programs for ptrace_platform_test. The test copies the bytes
// between <name> and <name>_end into the memory file and runs them as app
// code, so each is position independent. They live in a non-executable
// section: the test process never runs them itself.

#define PROGRAM(name) \
  .globl name, name##_end; .hidden name, name##_end; name:
#define END(name) name##_end:

  .section .rodata.ptrace_test_programs, "a", @progbits

// getpid(); then exit(result of getpid, r12).
PROGRAM(prog_two_syscalls)
  mov $39, %eax
  syscall
  mov %rax, %rdi
  mov %r12, %rsi
  mov $60, %eax
  syscall
  ud2
END(prog_two_syscalls)

// getpid() forever: the benchmark.
PROGRAM(prog_syscall_loop)
1:
  mov $39, %eax
  syscall
  jmp 1b
END(prog_syscall_loop)

// *(u64*)rdi = rsi; rdx = *(u64*)rdi; exit().
PROGRAM(prog_store_load)
  mov %rsi, (%rdi)
  mov (%rdi), %rdx
  mov $60, %eax
  syscall
  ud2
END(prog_store_load)

PROGRAM(prog_ud2)
  ud2
END(prog_ud2)

PROGRAM(prog_int3)
  int3
  ud2
END(prog_int3)

PROGRAM(prog_spin)
1:
  jmp 1b
END(prog_spin)

// A 32-bit syscall (exit) from 64-bit code; rcx cleared, as is likely.
PROGRAM(prog_int80)
  xor %ecx, %ecx
  mov $1, %eax
  int $0x80
  ud2
END(prog_int80)

// gettimeofday(NULL, NULL) through the legacy vsyscall page.
PROGRAM(prog_vsyscall)
  xor %edi, %edi
  xor %esi, %esi
  movabs $0xffffffffff600000, %rax
  call *%rax
  .globl prog_vsyscall_ret; .hidden prog_vsyscall_ret
prog_vsyscall_ret:
  mov $60, %eax
  syscall
  ud2
END(prog_vsyscall)

// Reports the FPU state a new stub starts with: rdi|rsi = the OR of all
// sixteen xmm registers, rdx = MXCSR, r10 = the x87 control word.
PROGRAM(prog_fpu_state)
  por %xmm1, %xmm0
  por %xmm2, %xmm0
  por %xmm3, %xmm0
  por %xmm4, %xmm0
  por %xmm5, %xmm0
  por %xmm6, %xmm0
  por %xmm7, %xmm0
  por %xmm8, %xmm0
  por %xmm9, %xmm0
  por %xmm10, %xmm0
  por %xmm11, %xmm0
  por %xmm12, %xmm0
  por %xmm13, %xmm0
  por %xmm14, %xmm0
  por %xmm15, %xmm0
  movq %xmm0, %rdi
  pshufd $0x4e, %xmm0, %xmm0
  movq %xmm0, %rsi
  sub $16, %rsp
  stmxcsr (%rsp)
  mov (%rsp), %edx
  fnstcw 8(%rsp)
  movzwl 8(%rsp), %r10d
  mov $60, %eax
  syscall
  ud2
END(prog_fpu_state)

// xmm3 = rdi; getpid(); exit(xmm3): the FPU state survives a trap.
PROGRAM(prog_fpu_keep)
  movq %rdi, %xmm3
  mov $39, %eax
  syscall
  movq %xmm3, %rdi
  mov $60, %eax
  syscall
  ud2
END(prog_fpu_keep)

// rdx = *(u64*)rdi; getpid().
PROGRAM(prog_load)
  mov (%rdi), %rdx
  mov $39, %eax
  syscall
  ud2
END(prog_load)

// Spins until *(u64*)rdi == rsi, then getpid().
PROGRAM(prog_wait_flag)
1:
  pause
  cmp (%rdi), %rsi
  jne 1b
  mov $39, %eax
  syscall
  ud2
END(prog_wait_flag)

// Reads *(u64*)rdi forever (until it faults).
PROGRAM(prog_spin_read)
1:
  mov (%rdi), %rax
  jmp 1b
END(prog_spin_read)

// xmm0 = rsi:rdi, MXCSR = edx; getpid(); then reports rdi:rsi = xmm0,
// rdx = MXCSR, r10 = the x87 control word; exit().
PROGRAM(prog_fpu_set_report)
  sub $32, %rsp
  mov %rdi, (%rsp)
  mov %rsi, 8(%rsp)
  movdqu (%rsp), %xmm0
  mov %edx, 16(%rsp)
  ldmxcsr 16(%rsp)
  mov $39, %eax
  syscall
  movdqu %xmm0, (%rsp)
  mov (%rsp), %rdi
  mov 8(%rsp), %rsi
  stmxcsr 16(%rsp)
  mov 16(%rsp), %edx
  fnstcw 24(%rsp)
  movzwl 24(%rsp), %r10d
  mov $60, %eax
  syscall
  ud2
END(prog_fpu_set_report)

// Reports as prog_fpu_set_report does, without setting anything first.
PROGRAM(prog_fpu_report)
  sub $32, %rsp
  movdqu %xmm0, (%rsp)
  mov (%rsp), %rdi
  mov 8(%rsp), %rsi
  stmxcsr 16(%rsp)
  mov 16(%rsp), %edx
  fnstcw 24(%rsp)
  movzwl 24(%rsp), %r10d
  mov $60, %eax
  syscall
  ud2
END(prog_fpu_report)

// rax = rsi; jumps to rdi (the systrap test jumps into the stub's code).
PROGRAM(prog_jump)
  mov %rsi, %rax
  jmp *%rdi
END(prog_jump)

// rdx = *(u64*)%fs:0; getpid(): fs_base reaches the app.
PROGRAM(prog_read_fs)
  mov %fs:0, %rdx
  mov $39, %eax
  syscall
  ud2
END(prog_read_fs)

// The systrap patching test: getpid() forever, r12 counting the calls,
// r13 = the last result, xmm3 kept in rbp's low half after each call.
PROGRAM(prog_patch_loop)
1:
  mov $39, %eax
  syscall
  mov %rax, %r13
  inc %r12
  movq %xmm3, %rbp
  jmp 1b
END(prog_patch_loop)

  .section .note.GNU-stack, "", @progbits
