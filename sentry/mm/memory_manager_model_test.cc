// Random mmap/munmap/mprotect/mremap/madvise (DONTNEED, VMA flags)/writes
// in a small window,
// checked page by page against a simple model of what Linux would do.
#include <sys/mman.h>

#include <map>

#include "sentry/mm/test_fixture.h"

#ifndef MREMAP_FIXED
#define MREMAP_FIXED 2
#endif

namespace mm::testing {
namespace {

using base::Errno;

constexpr uint64_t kBase = 0x10000000;
constexpr uint64_t kPages = 48;

struct Page {
  int prot;
  uint8_t value;  // every byte of the page
  // Has memory-file backing: anonymous PROT_NONE memory gets it only when
  // mprotect first makes it accessible. WriteForce fails without it.
  bool backed;
  // madvise flags (bit 0 DONTFORK, bit 1 DONTDUMP): Linux does not merge
  // VMAs that differ in them, so mremap cannot take such a run.
  int flags = 0;
};

class ModelTest : public MmTest {
 protected:
  uint64_t Rand(uint64_t n) {
    rng_ = rng_ * 6364136223846793005u + 1442695040888963407u;
    return (rng_ >> 33) % n;
  }
  int RandProt() {
    static const int kProts[] = {PROT_NONE, PROT_READ, RW, PROT_EXEC};
    return kProts[Rand(4)];
  }
  uint64_t Addr(uint64_t page) { return kBase + page * P; }
  bool AllMapped(uint64_t first, uint64_t n) {
    for (uint64_t i = first; i < first + n; ++i)
      if (!model_.count(i)) return false;
    return true;
  }

  // The stub mirrors the VMAs, and every page of the window reads back as
  // the model says, with the model's protection.
  void Check(int step) {
    ASSERT_NO_FATAL_FAILURE(ExpectStubMatchesVmas()) << "step " << step;
    ASSERT_FALSE(HasFailure()) << "step " << step;
    std::map<uint64_t, int> prot;
    for (const VmaInfo& v : mm_->Vmas())
      for (uint64_t a = v.start; a < v.end; a += P)
        if (a >= kBase && a < Addr(kPages)) prot[(a - kBase) / P] = v.prot;
    for (uint64_t i = 0; i < kPages; ++i) {
      auto it = model_.find(i);
      ASSERT_EQ(prot.count(i), it != model_.end() ? 1u : 0u)
          << "step " << step << " page " << i;
      uint8_t b[2];
      auto r = mm_->CopyIn(Addr(i) + P - 2, b, 2);
      if (it == model_.end() || it->second.prot == PROT_NONE) {
        ASSERT_FALSE(r.has_value()) << "step " << step << " page " << i;
        continue;
      }
      ASSERT_EQ(prot[i], it->second.prot) << "step " << step << " page " << i;
      ASSERT_TRUE(r.has_value()) << "step " << step << " page " << i;
      ASSERT_EQ(b[0], it->second.value) << "step " << step << " page " << i;
      ASSERT_EQ(b[1], it->second.value) << "step " << step << " page " << i;
    }
  }

  void Step(int step) {
    const uint64_t first = Rand(kPages);
    const uint64_t n = 1 + Rand(std::min<uint64_t>(8, kPages - first));
    switch (Rand(8)) {
      case 0: {  // mmap MAP_FIXED
        int prot = RandProt();
        ASSERT_EQ(*mm_->Mmap(Anon(n * P, prot, Addr(first), true)),
                  Addr(first));
        for (uint64_t i = first; i < first + n; ++i)
          model_[i] = {prot, 0, prot != PROT_NONE};
        break;
      }
      case 1: {  // munmap
        ASSERT_TRUE(mm_->Munmap(Addr(first), n * P).has_value());
        for (uint64_t i = first; i < first + n; ++i) model_.erase(i);
        break;
      }
      case 2: {  // mprotect
        int prot = RandProt();
        auto r = mm_->Mprotect(Addr(first), n * P, prot);
        if (!AllMapped(first, n)) {
          ASSERT_EQ(r.error(), Errno(ENOMEM));
          break;
        }
        ASSERT_TRUE(r.has_value());
        for (uint64_t i = first; i < first + n; ++i) {
          model_[i].prot = prot;
          if (prot != PROT_NONE) model_[i].backed = true;
        }
        break;
      }
      case 3:
      case 4: {  // a write through the sentry (WriteForce ignores prot)
        uint8_t v = static_cast<uint8_t>(1 + Rand(255));
        std::vector<uint8_t> buf(n * P, v);
        auto r = mm_->WriteForce(Addr(first), buf.data(), buf.size());
        // The accessible prefix is written, then EFAULT.
        uint64_t i = first;
        for (; i < first + n; ++i) {
          auto it = model_.find(i);
          if (it == model_.end() || !it->second.backed) break;
          it->second.value = v;
        }
        ASSERT_EQ(r.has_value(), i == first + n) << "step " << step;
        break;
      }
      case 5: {  // madvise(MADV_DONTNEED)
        auto r = mm_->Madvise(Addr(first), n * P, MADV_DONTNEED);
        ASSERT_EQ(r.has_value(), AllMapped(first, n));
        for (uint64_t i = first; i < first + n; ++i)
          if (model_.count(i)) model_[i].value = 0;
        break;
      }
      case 6: {  // mremap(MREMAP_MAYMOVE | MREMAP_FIXED)
        const uint64_t to = Rand(kPages);
        const uint64_t new_n = 1 + Rand(std::min<uint64_t>(8, kPages - to));
        auto r = mm_->Mremap(Addr(first), n * P, new_n * P,
                             MREMAP_MAYMOVE | MREMAP_FIXED, Addr(to));
        if (to < first + n && first < to + new_n) {
          ASSERT_EQ(r.error(), Errno(EINVAL));
          break;
        }
        const uint64_t keep = std::min(n, new_n);
        bool ok = AllMapped(first, keep);
        for (uint64_t i = first; ok && i < first + keep; ++i)
          ok = model_[i].prot == model_[first].prot &&
               model_[i].flags == model_[first].flags;
        if (!ok) {
          ASSERT_EQ(r.error(), Errno(EFAULT)) << "step " << step;
          break;
        }
        ASSERT_EQ(*r, Addr(to)) << "step " << step;
        std::map<uint64_t, Page> moved;
        for (uint64_t i = 0; i < keep; ++i) moved[to + i] = model_[first + i];
        for (uint64_t i = keep; i < new_n; ++i)
          moved[to + i] = {model_[first].prot, 0,
                           model_[first].prot != PROT_NONE,
                           model_[first].flags};
        for (uint64_t i = first; i < first + n; ++i) model_.erase(i);
        for (uint64_t i = to; i < to + new_n; ++i) model_.erase(i);
        model_.insert(moved.begin(), moved.end());
        break;
      }
      case 7: {  // madvise flags: split VMAs, change no page
        static const int kAdvice[] = {MADV_DONTFORK, MADV_DOFORK, MADV_DONTDUMP,
                                      MADV_DODUMP};
        const uint64_t k = Rand(4);
        auto r = mm_->Madvise(Addr(first), n * P, kAdvice[k]);
        ASSERT_EQ(r.has_value(), AllMapped(first, n)) << "step " << step;
        const int bit = k < 2 ? 1 : 2;
        for (uint64_t i = first; i < first + n; ++i) {
          auto it = model_.find(i);
          if (it == model_.end()) continue;
          if (k % 2 == 0)
            it->second.flags |= bit;
          else
            it->second.flags &= ~bit;
        }
        break;
      }
    }
  }

  uint64_t rng_ = 1;
  std::map<uint64_t, Page> model_;
};

TEST_F(ModelTest, RandomOperationsMatchTheModel) {
  for (uint64_t seed : {1, 2, 3, 4}) {
    rng_ = seed;
    for (int step = 0; step < 1500; ++step) {
      ASSERT_NO_FATAL_FAILURE(Step(step));
      ASSERT_NO_FATAL_FAILURE(Check(step)) << "seed " << seed;
    }
    ASSERT_TRUE(mm_->Munmap(kBase, kPages * P).has_value());
    model_.clear();
  }
}

}  // namespace
}  // namespace mm::testing
