#include "sentry/boot/control_ops.h"

namespace boot {

void ListProcesses(kernel::Kernel& k, control::Response* resp) {
  for (int pid : k.proc_view().Pids()) {
    auto t = k.proc_view().Task(pid, pid);
    if (!t || t->state == 'Z') continue;
    control::ProcessInfo* p = resp->add_processes();
    p->set_pid(t->pid);
    p->set_ppid(t->ppid);
    p->set_uid(t->ruid);
    p->set_cmd(t->comm);
    p->set_start_ns(t->start_ns);
    p->set_cpu_ns(t->user_ns + t->sys_ns);
    p->set_state(std::string(1, t->state));
    p->set_threads(t->num_threads);
  }
}

void FillStats(kernel::Kernel& k, control::Stats* stats) {
  stats->set_memory_bytes(k.memory_file().allocated());
  uint64_t tasks = 0, cpu = 0;
  for (int pid : k.proc_view().Pids()) {
    tasks += k.proc_view().Tids(pid).size();
    if (auto t = k.proc_view().Task(pid, pid))
      cpu += static_cast<uint64_t>(t->user_ns + t->sys_ns);
  }
  stats->set_pids_current(tasks);
  stats->set_pids_limit(k.pids_limit());
  stats->set_cpu_ns(cpu);
}

}  // namespace boot
