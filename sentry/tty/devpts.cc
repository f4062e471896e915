#include "sentry/tty/devpts.h"

#include <dirent.h>
#include <sys/sysmacros.h>

#include <charconv>
#include <vector>

#include "sentry/kernel/task.h"
#include "sentry/tty/pty.h"
#include "sentry/vfs/synthetic.h"

namespace tty {

using base::Err;
using base::Result;

struct DevPtsFs::State {
  absl::Mutex mu;
  // Terminals whose master is open, by index.
  std::map<uint32_t, std::weak_ptr<Terminal>> terminals ABSL_GUARDED_BY(mu);
  std::weak_ptr<Terminal> console ABSL_GUARDED_BY(mu);

  std::shared_ptr<Terminal> Find(uint32_t index) {
    absl::MutexLock lock(&mu);
    auto it = terminals.find(index);
    return it == terminals.end() ? nullptr : it->second.lock();
  }
};

namespace {

constexpr uint64_t kRootIno = 1;
constexpr uint64_t kPtmxIno = 2;
constexpr uint64_t InoOf(uint32_t index) { return index + 3; }

kernel::Kernel* KernelOf(const vfs::ProcessView* process) {
  kernel::Task* t = process ? process->task() : nullptr;
  return t ? &t->kernel() : nullptr;
}

uint32_t FsuidOf(const vfs::ProcessView* process) {
  kernel::Task* t = process ? process->task() : nullptr;
  return t ? t->creds().fsuid : 0;
}

// Makes a terminal with the lowest free index and its master.
Result<std::pair<std::shared_ptr<Terminal>,
                 std::shared_ptr<vfs::FileDescription>>>
NewTerminal(const std::shared_ptr<DevPtsFs::State>& state,
            kernel::Kernel* kernel, uint32_t uid, int flags, struct stat st,
            std::string path) {
  std::shared_ptr<Terminal> term;
  {
    absl::MutexLock lock(&state->mu);
    uint32_t index = 0;
    for (const auto& [i, t] : state->terminals) {
      if (i != index) break;
      ++index;
    }
    if (index >= DevPtsFs::kMaxPtys) return Err(ENOSPC);
    term = std::make_shared<Terminal>(index, uid, DevPtsFs::kTtyGid);
    state->terminals[index] = term;
  }
  std::weak_ptr<DevPtsFs::State> weak = state;
  const uint32_t index = term->index();
  auto master = NewMaster(term, kernel, flags, st, std::move(path), [weak,
                                                                     index] {
    if (auto s = weak.lock()) {
      absl::MutexLock lock(&s->mu);
      s->terminals.erase(index);
    }
  });
  return std::make_pair(std::move(term), std::move(master));
}

class PtmxNode : public vfs::Node {
 public:
  PtmxNode(std::shared_ptr<DevPtsFs::State> state,
           const vfs::ProcessView* process)
      : state_(std::move(state)), process_(process) {}
  mode_t type() const override { return S_IFCHR; }
  Result<struct stat> Stat() const override {
    return vfs::SyntheticStat(kDevptsMinor, kPtmxIno, S_IFCHR, 0,
                              makedev(5, 2));
  }
  Result<std::shared_ptr<vfs::FileDescription>> Open(
      int flags, const std::string& path) override {
    auto made = TRY(NewTerminal(state_, KernelOf(process_), FsuidOf(process_),
                                flags, TRY(Stat()), path));
    return made.second;
  }

 private:
  const std::shared_ptr<DevPtsFs::State> state_;
  const vfs::ProcessView* const process_;  // valid during the walk only
};

class ReplicaNode : public vfs::Node {
 public:
  ReplicaNode(std::shared_ptr<Terminal> term, const vfs::ProcessView* process)
      : term_(std::move(term)), process_(process) {}
  mode_t type() const override { return S_IFCHR; }
  Result<struct stat> Stat() const override {
    return term_->ReplicaStat(kDevptsMinor, InoOf(term_->index()));
  }
  Result<std::shared_ptr<vfs::FileDescription>> Open(
      int flags, const std::string& path) override {
    return NewReplica(term_, KernelOf(process_), flags, TRY(Stat()), path);
  }

 private:
  const std::shared_ptr<Terminal> term_;
  const vfs::ProcessView* const process_;
};

class RootNode : public vfs::Node, public std::enable_shared_from_this<RootNode> {
 public:
  RootNode(std::shared_ptr<DevPtsFs::State> state,
           const vfs::ProcessView* process)
      : state_(std::move(state)), process_(process) {}
  mode_t type() const override { return S_IFDIR; }
  Result<struct stat> Stat() const override {
    return vfs::SyntheticStat(kDevptsMinor, kRootIno, S_IFDIR | 0755);
  }
  Result<std::shared_ptr<vfs::Node>> Lookup(std::string_view name) override {
    if (name == "ptmx") return std::make_shared<PtmxNode>(state_, process_);
    uint32_t index;
    auto [end, ec] =
        std::from_chars(name.data(), name.data() + name.size(), index);
    // Only the canonical spelling ("01" is not terminal 1).
    if (ec != std::errc() || end != name.data() + name.size() ||
        (name.size() > 1 && name[0] == '0')) {
      return Err(ENOENT);
    }
    std::shared_ptr<Terminal> term = state_->Find(index);
    if (!term) return Err(ENOENT);
    return std::make_shared<ReplicaNode>(std::move(term), process_);
  }
  Result<std::shared_ptr<vfs::FileDescription>> Open(
      int flags, const std::string& path) override {
    std::vector<vfs::DirEntry> entries = {{kRootIno, DT_DIR, "."},
                                          {kRootIno, DT_DIR, ".."},
                                          {kPtmxIno, DT_CHR, "ptmx"}};
    {
      absl::MutexLock lock(&state_->mu);
      for (const auto& [index, weak] : state_->terminals) {
        if (weak.expired()) continue;
        entries.push_back({InoOf(index), DT_CHR, std::to_string(index)});
      }
    }
    return std::make_shared<vfs::SyntheticDirDescription>(
        flags, shared_from_this(), path, std::move(entries));
  }

 private:
  const std::shared_ptr<DevPtsFs::State> state_;
  const vfs::ProcessView* const process_;
};

}  // namespace

DevPtsFs::DevPtsFs() : state_(std::make_shared<State>()) {}

std::shared_ptr<vfs::Node> DevPtsFs::Root(const vfs::PathContext& ctx) {
  return std::make_shared<RootNode>(state_, ctx.process);
}

Result<std::shared_ptr<vfs::FileDescription>> DevPtsFs::OpenMaster(
    kernel::Kernel* kernel, uint32_t uid, int flags, struct stat st,
    std::string path) {
  auto made = TRY(NewTerminal(state_, kernel, uid, flags, st, std::move(path)));
  return made.second;
}

Result<DevPtsFs::Console> DevPtsFs::NewConsole(kernel::Kernel* kernel,
                                               uint32_t uid) {
  const struct stat ptmx =
      vfs::SyntheticStat(vfs::kDevfsMinor, 0, S_IFCHR | 0666, 0, makedev(5, 2));
  auto [term, master] = TRY(
      NewTerminal(state_, kernel, uid, O_RDWR, ptmx, "/dev/ptmx"));
  term->SetLocked(false);
  const std::string path = "/dev/pts/" + std::to_string(term->index());
  auto replica =
      TRY(NewReplica(term, kernel, O_RDWR,
                     term->ReplicaStat(kDevptsMinor, InoOf(term->index())),
                     path));
  {
    absl::MutexLock lock(&state_->mu);
    state_->console = term;
  }
  return Console{term, master, replica};
}

std::shared_ptr<Terminal> DevPtsFs::console() {
  absl::MutexLock lock(&state_->mu);
  return state_->console.lock();
}

}  // namespace tty
