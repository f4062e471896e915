#include "sentry/tty/job_control.h"

#include <linux/capability.h>
#include <signal.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace tty {
namespace {

using base::Err;
using base::Result;

void SignalGroup(kernel::Kernel& k, int pgrp, int sig) {
  for (const auto& tg : k.processes().Group(pgrp))
    tg->SendSignal(kernel::MakeSigInfo(sig, SI_KERNEL));
}

int Pid(kernel::Task& t) { return t.thread_group().pid(); }

}  // namespace

std::shared_ptr<Terminal> ControllingTerminal(kernel::Task& t) {
  kernel::Kernel& k = t.kernel();
  const int sid = k.processes().Sid(Pid(t));
  std::shared_ptr<Terminal> term = k.terminals().Get(sid);
  // A terminal given up or hung up since is no one's.
  if (term && term->session() != sid) return nullptr;
  return term;
}

void SendSignals(kernel::Kernel& k, const Signals& s) {
  if (s.pgrp <= 0) return;
  for (int sig : s.sigs) SignalGroup(k, s.pgrp, sig);
}

Result<void> CheckChange(kernel::Task& t, Terminal& term, int sig) {
  if (ControllingTerminal(t).get() != &term) return {};
  kernel::ProcessTree& tree = t.kernel().processes();
  const int pgrp = tree.Pgid(Pid(t));
  const int fg = term.pgrp();
  if (fg == 0 || pgrp == fg) return {};
  const bool blocked = t.signal_mask & kernel::SigBit(sig);
  const bool ignored =
      t.thread_group().signals().GetAction(sig).handler ==
      reinterpret_cast<uint64_t>(SIG_IGN);
  if (blocked || ignored) {
    if (sig == SIGTTIN) return Err(EIO);
    return {};
  }
  if (tree.OrphanedGroupOf(Pid(t))) return Err(EIO);
  SignalGroup(t.kernel(), pgrp, sig);
  return Err(base::kERESTARTSYS);
}

Result<void> SetControlling(kernel::Task& t,
                            const std::shared_ptr<Terminal>& term, bool force,
                            bool readable) {
  kernel::Kernel& k = t.kernel();
  const int pid = Pid(t);
  const int sid = k.processes().Sid(pid);
  std::shared_ptr<Terminal> current = ControllingTerminal(t);
  if (sid == pid && current == term) return {};
  if (sid != pid || current) return Err(EPERM);
  const bool admin = t.creds().HasCap(CAP_SYS_ADMIN);
  if (const int other = term->session(); other != 0) {
    if (!force || !admin) return Err(EPERM);
    k.terminals().Clear(other);
  }
  if (!readable && !admin) return Err(EPERM);
  term->SetSession(sid, k.processes().Pgid(pid));
  k.terminals().Set(sid, term);
  return {};
}

Result<void> GiveUp(kernel::Task& t, Terminal& term) {
  if (ControllingTerminal(t).get() != &term) return Err(ENOTTY);
  kernel::Kernel& k = t.kernel();
  const int pid = Pid(t);
  const int sid = k.processes().Sid(pid);
  // TODO: a process that does not lead its session keeps the terminal
  // (Linux drops it for that process only); see README.md.
  if (sid != pid) return {};
  const int fg = term.pgrp();
  term.SetSession(0, 0);
  k.terminals().Clear(sid);
  if (fg > 0) {
    SignalGroup(k, fg, SIGHUP);
    SignalGroup(k, fg, SIGCONT);
  }
  return {};
}

Result<int> GetPgrp(kernel::Task& t, Terminal& term, bool master) {
  if (!master && ControllingTerminal(t).get() != &term) return Err(ENOTTY);
  return term.pgrp();
}

Result<void> SetPgrp(kernel::Task& t, Terminal& term, int pgrp) {
  TRY(CheckChange(t, term, SIGTTOU));
  kernel::ProcessTree& tree = t.kernel().processes();
  const int sid = tree.Sid(Pid(t));
  if (ControllingTerminal(t).get() != &term || term.session() != sid)
    return Err(ENOTTY);
  if (pgrp < 0) return Err(EINVAL);
  auto members = tree.Group(pgrp);
  if (members.empty()) return Err(ESRCH);
  if (tree.Sid(members.front()->pid()) != sid) return Err(EPERM);
  term.SetPgrp(pgrp);
  return {};
}

Result<int> GetSid(kernel::Task& t, Terminal& term, bool master) {
  if (!master && ControllingTerminal(t).get() != &term) return Err(ENOTTY);
  const int sid = term.session();
  if (sid == 0) return Err(ENOTTY);
  return sid;
}

void SessionLeaderExited(kernel::Kernel& k, int pid) {
  if (k.processes().Sid(pid) != pid) return;
  std::shared_ptr<Terminal> term = k.terminals().Get(pid);
  k.terminals().Clear(pid);
  if (!term || term->session() != pid) return;
  const int fg = term->pgrp();
  term->SetSession(0, 0);
  if (fg > 0) SignalGroup(k, fg, SIGHUP);
}

void Hangup(kernel::Kernel& k, Terminal& term) {
  const int sid = term.session();
  term.SetSession(0, 0);
  if (sid <= 0) return;
  k.terminals().Clear(sid);
  if (auto leader = k.processes().Find(sid)) {
    leader->SendSignal(kernel::MakeSigInfo(SIGHUP, SI_KERNEL));
    leader->SendSignal(kernel::MakeSigInfo(SIGCONT, SI_KERNEL));
  }
}

}  // namespace tty
