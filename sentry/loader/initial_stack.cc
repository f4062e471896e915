#include "sentry/loader/initial_stack.h"

#include <elf.h>

#include <algorithm>
#include <cstring>

#include "base/log.h"

namespace loader {
namespace {

constexpr char kPlatform[] = "x86_64";  // AT_PLATFORM, NUL included
constexpr uint64_t kMaxPad = 8192;

}  // namespace

uint64_t ArgSpaceLimit(uint64_t stack_limit) {
  const uint64_t limit = std::min<uint64_t>(uint64_t{6} << 20, stack_limit / 4);
  return std::max<uint64_t>(limit, 128 << 10);
}

base::Result<void> CheckArgLimits(const std::vector<std::string>& argv,
                                  const std::vector<std::string>& envp,
                                  const std::string& execfn,
                                  uint64_t stack_limit) {
  // bprm_stack_limits, minus the pointers.
  uint64_t limit = ArgSpaceLimit(stack_limit);
  uint64_t ptrs = (std::max<uint64_t>(argv.size(), 1) + envp.size()) * 8;
  if (limit <= ptrs) return base::Err(E2BIG);
  limit -= ptrs;
  uint64_t total = 0;
  auto add = [&](const std::string& s) {
    uint64_t len = s.size() + 1;
    if (len > kMaxArgStrlen) return false;
    total += len;
    return total <= limit;
  };
  if (!add(execfn)) return base::Err(E2BIG);
  for (const std::string& s : envp)
    if (!add(s)) return base::Err(E2BIG);
  for (const std::string& s : argv)
    if (!add(s)) return base::Err(E2BIG);
  return {};
}

uint64_t InitialStackSize(const StackInputs& in) {
  uint64_t strings = in.execfn.size() + 1;
  for (const std::string& s : in.argv) strings += s.size() + 1;
  for (const std::string& s : in.envp) strings += s.size() + 1;
  uint64_t words = 1 + (in.argv.size() + 1) + (in.envp.size() + 1) +
                   2 * (in.auxv.size() + 1);
  return 8 + strings + kMaxPad + 16 + sizeof(kPlatform) + 16 + words * 8 + 16;
}

StackImage BuildInitialStack(uint64_t top, const StackInputs& in) {
  CHECK(top % 16 == 0 && top >= InitialStackSize(in));
  // Addresses first, from the top down, exactly as Linux places them.
  uint64_t p = top - 8;  // Linux leaves a NULL word at the very top.
  auto place = [&](const std::string& s) { return p -= s.size() + 1; };
  const uint64_t execfn_addr = place(in.execfn);
  std::vector<uint64_t> envp_addrs(in.envp.size());
  for (size_t i = in.envp.size(); i-- > 0;) envp_addrs[i] = place(in.envp[i]);
  const uint64_t env_start = p;
  std::vector<uint64_t> argv_addrs(in.argv.size());
  for (size_t i = in.argv.size(); i-- > 0;) argv_addrs[i] = place(in.argv[i]);
  const uint64_t arg_start = p;
  p = (p - in.pad % kMaxPad) & ~uint64_t{15};  // arch_align_stack
  const uint64_t platform_addr = p -= sizeof(kPlatform);
  const uint64_t random_addr = p -= sizeof(in.random);

  std::vector<std::pair<uint64_t, uint64_t>> auxv = in.auxv;
  for (auto& [type, value] : auxv) {
    if (type == AT_RANDOM) value = random_addr;
    if (type == AT_EXECFN) value = execfn_addr;
    if (type == AT_PLATFORM) value = platform_addr;
  }
  auxv.push_back({AT_NULL, 0});
  const uint64_t words =
      1 + (in.argv.size() + 1) + (in.envp.size() + 1) + 2 * auxv.size();
  // STACK_ROUND: rsp at entry is 16-byte aligned and points at argc.
  StackImage image;
  image.arg_start = arg_start;
  image.arg_end = image.env_start = env_start;
  image.env_end = execfn_addr;
  image.sp = (p - words * 8) & ~uint64_t{15};
  image.bytes.assign(top - image.sp, 0);

  auto at = [&](uint64_t addr) {
    return image.bytes.data() + (addr - image.sp);
  };
  auto put_word = [&](uint64_t& addr, uint64_t v) {
    memcpy(at(addr), &v, 8);
    addr += 8;
  };
  uint64_t w = image.sp;
  put_word(w, in.argv.size());
  for (uint64_t a : argv_addrs) put_word(w, a);
  put_word(w, 0);
  for (uint64_t a : envp_addrs) put_word(w, a);
  put_word(w, 0);
  for (auto [type, value] : auxv) {
    put_word(w, type);
    put_word(w, value);
  }
  memcpy(at(random_addr), in.random, sizeof(in.random));
  memcpy(at(platform_addr), kPlatform, sizeof(kPlatform));
  // The strings, NULs included (the buffer is zeroed).
  auto copy = [&](uint64_t addr, const std::string& s) {
    memcpy(at(addr), s.data(), s.size());
  };
  for (size_t i = 0; i < in.argv.size(); ++i) copy(argv_addrs[i], in.argv[i]);
  for (size_t i = 0; i < in.envp.size(); ++i) copy(envp_addrs[i], in.envp[i]);
  copy(execfn_addr, in.execfn);
  return image;
}

}  // namespace loader
