// The raw clone(2)/clone3(2) of clone_util.h, in assembly: the child must
// not return through C++ frames that live on the parent's stack.
#include "clone_util.h"

// The function pointer and its argument travel in callee-saved registers,
// which the child inherits, so the child needs nothing from its (possibly
// new, empty) stack.
asm(R"(
  .pushsection .text
  .globl clone_test_clone
  .type clone_test_clone, @function
clone_test_clone:
  push %r12
  push %r13
  mov %r9, %r12
  mov 24(%rsp), %r13
  mov %rcx, %r10
  mov $56, %eax
  syscall
  test %rax, %rax
  jz clone_test_child
  pop %r13
  pop %r12
  ret
  .size clone_test_clone, .-clone_test_clone

  .globl clone_test_clone3
  .type clone_test_clone3, @function
clone_test_clone3:
  push %r12
  push %r13
  mov %rdx, %r12
  mov %rcx, %r13
  mov $435, %eax
  syscall
  test %rax, %rax
  jz clone_test_child
  pop %r13
  pop %r12
  ret
  .size clone_test_clone3, .-clone_test_clone3

  .type clone_test_child, @function
clone_test_child:
  mov %rsp, %rsi
  mov %r13, %rdi
  and $-16, %rsp
  xor %ebp, %ebp
  call *%r12
  mov %eax, %edi
  mov $60, %eax
  syscall
  ud2
  .size clone_test_child, .-clone_test_child
  .popsection
)");
