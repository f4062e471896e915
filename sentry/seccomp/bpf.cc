#include "sentry/seccomp/bpf.h"

#include <linux/filter.h>

#include <cstddef>

namespace seccomp {
namespace {

// The opcodes seccomp_check_filter lets through (after its rewrite of
// BPF_LD|BPF_W|BPF_LEN, which reads sizeof(seccomp_data)).
bool Allowed(uint16_t code) {
  switch (code) {
    case BPF_LD | BPF_W | BPF_ABS:
    case BPF_LD | BPF_W | BPF_LEN:
    case BPF_LDX | BPF_W | BPF_LEN:
    case BPF_RET | BPF_K:
    case BPF_RET | BPF_A:
    case BPF_ALU | BPF_ADD | BPF_K:
    case BPF_ALU | BPF_ADD | BPF_X:
    case BPF_ALU | BPF_SUB | BPF_K:
    case BPF_ALU | BPF_SUB | BPF_X:
    case BPF_ALU | BPF_MUL | BPF_K:
    case BPF_ALU | BPF_MUL | BPF_X:
    case BPF_ALU | BPF_DIV | BPF_K:
    case BPF_ALU | BPF_DIV | BPF_X:
    case BPF_ALU | BPF_MOD | BPF_K:
    case BPF_ALU | BPF_MOD | BPF_X:
    case BPF_ALU | BPF_AND | BPF_K:
    case BPF_ALU | BPF_AND | BPF_X:
    case BPF_ALU | BPF_OR | BPF_K:
    case BPF_ALU | BPF_OR | BPF_X:
    case BPF_ALU | BPF_XOR | BPF_K:
    case BPF_ALU | BPF_XOR | BPF_X:
    case BPF_ALU | BPF_LSH | BPF_K:
    case BPF_ALU | BPF_LSH | BPF_X:
    case BPF_ALU | BPF_RSH | BPF_K:
    case BPF_ALU | BPF_RSH | BPF_X:
    case BPF_ALU | BPF_NEG:
    case BPF_LD | BPF_IMM:
    case BPF_LDX | BPF_IMM:
    case BPF_MISC | BPF_TAX:
    case BPF_MISC | BPF_TXA:
    case BPF_LD | BPF_MEM:
    case BPF_LDX | BPF_MEM:
    case BPF_ST:
    case BPF_STX:
    case BPF_JMP | BPF_JA:
    case BPF_JMP | BPF_JEQ | BPF_K:
    case BPF_JMP | BPF_JEQ | BPF_X:
    case BPF_JMP | BPF_JGE | BPF_K:
    case BPF_JMP | BPF_JGE | BPF_X:
    case BPF_JMP | BPF_JGT | BPF_K:
    case BPF_JMP | BPF_JGT | BPF_X:
    case BPF_JMP | BPF_JSET | BPF_K:
    case BPF_JMP | BPF_JSET | BPF_X:
      return true;
    default:
      return false;
  }
}

// Linux's check_load_and_stores: along every path, a scratch word is
// read only after it was written. Jumps go forward only, so one pass in
// order, merging the written sets of the paths into each instruction,
// is exact.
bool LoadsFollowStores(const std::vector<Instruction>& code) {
  constexpr uint16_t kAll = 0xffff;
  std::vector<uint16_t> valid(code.size(), kAll);  // kAll: not reached yet
  valid[0] = 0;
  for (size_t pc = 0; pc < code.size(); ++pc) {
    uint16_t mem = valid[pc];
    const Instruction& in = code[pc];
    switch (in.code) {
      case BPF_ST:
      case BPF_STX:
        mem |= 1u << in.k;
        break;
      case BPF_LD | BPF_MEM:
      case BPF_LDX | BPF_MEM:
        if (!(mem & (1u << in.k))) return false;
        break;
      default:
        break;
    }
    auto flow = [&](size_t to) { valid[to] &= mem; };
    if (in.code == (BPF_JMP | BPF_JA)) {
      flow(pc + 1 + in.k);
    } else if (BPF_CLASS(in.code) == BPF_JMP) {
      flow(pc + 1 + in.jt);
      flow(pc + 1 + in.jf);
    } else if (BPF_CLASS(in.code) != BPF_RET && pc + 1 < code.size()) {
      flow(pc + 1);
    }
  }
  return true;
}

}  // namespace

base::Result<Program> Program::Create(std::vector<Instruction> code) {
  if (code.empty() || code.size() > kMaxInstructions) return base::Err(EINVAL);
  for (size_t pc = 0; pc < code.size(); ++pc) {
    const Instruction& in = code[pc];
    if (!Allowed(in.code)) return base::Err(EINVAL);
    const size_t left = code.size() - pc - 1;  // instructions after this
    switch (in.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if ((in.k & 3) != 0 || in.k >= sizeof(Data)) return base::Err(EINVAL);
        break;
      case BPF_ALU | BPF_DIV | BPF_K:
      case BPF_ALU | BPF_MOD | BPF_K:
        if (in.k == 0) return base::Err(EINVAL);
        break;
      case BPF_LD | BPF_MEM:
      case BPF_LDX | BPF_MEM:
      case BPF_ST:
      case BPF_STX:
        if (in.k >= kMemWords) return base::Err(EINVAL);
        break;
      case BPF_JMP | BPF_JA:
        if (in.k >= left) return base::Err(EINVAL);
        break;
      default:
        // Conditional jumps land inside the program, as Linux checks.
        if (BPF_CLASS(in.code) == BPF_JMP && (in.jt >= left || in.jf >= left))
          return base::Err(EINVAL);
        break;
    }
  }
  if (BPF_CLASS(code.back().code) != BPF_RET) return base::Err(EINVAL);
  if (!LoadsFollowStores(code)) return base::Err(EINVAL);
  return Program(std::move(code));
}

uint32_t Program::Run(const Data& data) const {
  uint32_t a = 0, x = 0;
  uint32_t mem[kMemWords] = {};
  const auto* bytes = reinterpret_cast<const unsigned char*>(&data);
  for (size_t pc = 0; pc < code_.size(); ++pc) {
    const Instruction& in = code_[pc];
    switch (in.code) {
      case BPF_LD | BPF_W | BPF_ABS: {
        uint32_t w;  // checked in Create: aligned and inside Data
        __builtin_memcpy(&w, bytes + in.k, sizeof(w));
        a = w;
        break;
      }
      case BPF_LD | BPF_W | BPF_LEN: a = sizeof(Data); break;
      case BPF_LDX | BPF_W | BPF_LEN: x = sizeof(Data); break;
      case BPF_LD | BPF_IMM: a = in.k; break;
      case BPF_LDX | BPF_IMM: x = in.k; break;
      case BPF_LD | BPF_MEM: a = mem[in.k]; break;
      case BPF_LDX | BPF_MEM: x = mem[in.k]; break;
      case BPF_ST: mem[in.k] = a; break;
      case BPF_STX: mem[in.k] = x; break;
      case BPF_MISC | BPF_TAX: x = a; break;
      case BPF_MISC | BPF_TXA: a = x; break;
      case BPF_ALU | BPF_ADD | BPF_K: a += in.k; break;
      case BPF_ALU | BPF_ADD | BPF_X: a += x; break;
      case BPF_ALU | BPF_SUB | BPF_K: a -= in.k; break;
      case BPF_ALU | BPF_SUB | BPF_X: a -= x; break;
      case BPF_ALU | BPF_MUL | BPF_K: a *= in.k; break;
      case BPF_ALU | BPF_MUL | BPF_X: a *= x; break;
      case BPF_ALU | BPF_DIV | BPF_K: a /= in.k; break;
      // A run-time division by zero ends the filter with 0, as Linux's
      // interpreter does (KILL_THREAD).
      case BPF_ALU | BPF_DIV | BPF_X:
        if (x == 0) return 0;
        a /= x;
        break;
      case BPF_ALU | BPF_MOD | BPF_K: a %= in.k; break;
      case BPF_ALU | BPF_MOD | BPF_X:
        if (x == 0) return 0;
        a %= x;
        break;
      case BPF_ALU | BPF_AND | BPF_K: a &= in.k; break;
      case BPF_ALU | BPF_AND | BPF_X: a &= x; break;
      case BPF_ALU | BPF_OR | BPF_K: a |= in.k; break;
      case BPF_ALU | BPF_OR | BPF_X: a |= x; break;
      case BPF_ALU | BPF_XOR | BPF_K: a ^= in.k; break;
      case BPF_ALU | BPF_XOR | BPF_X: a ^= x; break;
      // Shifts of 32 or more give 0 (Linux's interpreter masks nothing
      // for classic BPF; its converted eBPF gives 0 on x86 too).
      case BPF_ALU | BPF_LSH | BPF_K: a = in.k < 32 ? a << in.k : 0; break;
      case BPF_ALU | BPF_LSH | BPF_X: a = x < 32 ? a << x : 0; break;
      case BPF_ALU | BPF_RSH | BPF_K: a = in.k < 32 ? a >> in.k : 0; break;
      case BPF_ALU | BPF_RSH | BPF_X: a = x < 32 ? a >> x : 0; break;
      case BPF_ALU | BPF_NEG: a = 0u - a; break;
      case BPF_JMP | BPF_JA: pc += in.k; break;
      case BPF_JMP | BPF_JEQ | BPF_K: pc += a == in.k ? in.jt : in.jf; break;
      case BPF_JMP | BPF_JEQ | BPF_X: pc += a == x ? in.jt : in.jf; break;
      case BPF_JMP | BPF_JGT | BPF_K: pc += a > in.k ? in.jt : in.jf; break;
      case BPF_JMP | BPF_JGT | BPF_X: pc += a > x ? in.jt : in.jf; break;
      case BPF_JMP | BPF_JGE | BPF_K: pc += a >= in.k ? in.jt : in.jf; break;
      case BPF_JMP | BPF_JGE | BPF_X: pc += a >= x ? in.jt : in.jf; break;
      case BPF_JMP | BPF_JSET | BPF_K: pc += (a & in.k) ? in.jt : in.jf; break;
      case BPF_JMP | BPF_JSET | BPF_X: pc += (a & x) ? in.jt : in.jf; break;
      case BPF_RET | BPF_K: return in.k;
      case BPF_RET | BPF_A: return a;
      default: return 0;  // refused by Create
    }
  }
  return 0;  // Create requires a final return
}

uint32_t RunFilters(const std::vector<const Program*>& newest_first,
                    const Data& data) {
  uint32_t ret = kRetAllow;
  for (const Program* p : newest_first) {
    const uint32_t cur = p->Run(data);
    if (static_cast<int32_t>(cur & kRetActionFull) <
        static_cast<int32_t>(ret & kRetActionFull))
      ret = cur;
  }
  return ret;
}

}  // namespace seccomp
