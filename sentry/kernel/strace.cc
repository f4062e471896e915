#include "sentry/kernel/strace.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/log.h"
#include "sentry/kernel/task.h"

namespace kernel {
namespace {

constexpr size_t kMaxShown = 64;  // bytes of a buffer or string shown

struct FlagName {
  uint64_t bit;
  const char* name;
};

std::string Escape(std::string_view s, bool truncated) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c >= 0x20 && c < 0x7f)
          out.push_back(static_cast<char>(c));
        else
          absl::StrAppendFormat(&out, "\\x%02x", c);
    }
  }
  out += truncated ? "\"..." : "\"";
  return out;
}

std::string Buffer(Task& task, uint64_t addr, uint64_t len) {
  size_t n = len < kMaxShown ? len : kMaxShown;
  std::string data(n, '\0');
  if (!task.mm().CopyIn(addr, data.data(), n)) return absl::StrFormat("%#x", addr);
  return Escape(data, n < len);
}

std::string Flags(uint64_t v, std::initializer_list<FlagName> names,
                  std::string first) {
  std::string out = std::move(first);
  for (const auto& f : names) {
    if (f.bit && (v & f.bit) == f.bit) {
      if (!out.empty()) out += "|";
      out += f.name;
      v &= ~f.bit;
    }
  }
  if (v || out.empty()) {
    if (!out.empty()) out += "|";
    absl::StrAppendFormat(&out, "%#x", v);
  }
  return out;
}

std::string OpenFlags(uint64_t v) {
  static const char* kModes[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};
  return Flags(v & ~uint64_t{O_ACCMODE},
               {{O_CREAT, "O_CREAT"}, {O_EXCL, "O_EXCL"}, {O_NOCTTY, "O_NOCTTY"},
                {O_TRUNC, "O_TRUNC"}, {O_APPEND, "O_APPEND"},
                {O_NONBLOCK, "O_NONBLOCK"}, {O_DSYNC, "O_DSYNC"},
                {O_DIRECT, "O_DIRECT"}, {O_LARGEFILE, "O_LARGEFILE"},
                {O_DIRECTORY, "O_DIRECTORY"}, {O_NOFOLLOW, "O_NOFOLLOW"},
                {O_NOATIME, "O_NOATIME"}, {O_CLOEXEC, "O_CLOEXEC"},
                {O_PATH, "O_PATH"}, {__O_TMPFILE, "O_TMPFILE"}},
               kModes[v & O_ACCMODE]);
}

std::string MmapProt(uint64_t v) {
  if (v == 0) return "PROT_NONE";
  return Flags(v, {{PROT_READ, "PROT_READ"}, {PROT_WRITE, "PROT_WRITE"},
                   {PROT_EXEC, "PROT_EXEC"}},
               "");
}

std::string MmapFlags(uint64_t v) {
  return Flags(v,
               {{MAP_SHARED, "MAP_SHARED"}, {MAP_PRIVATE, "MAP_PRIVATE"},
                {MAP_FIXED, "MAP_FIXED"}, {MAP_ANONYMOUS, "MAP_ANONYMOUS"},
                {MAP_GROWSDOWN, "MAP_GROWSDOWN"}, {MAP_DENYWRITE, "MAP_DENYWRITE"},
                {MAP_NORESERVE, "MAP_NORESERVE"}, {MAP_POPULATE, "MAP_POPULATE"},
                {MAP_STACK, "MAP_STACK"},
                {MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE"}},
               "");
}

std::string Arg(Task& task, ArgKind kind, uint64_t v, uint64_t next) {
  switch (kind) {
    case ArgKind::kNone:
    case ArgKind::kHex:
      return absl::StrFormat("%#x", v);
    case ArgKind::kInt:
      return absl::StrCat(static_cast<int64_t>(v));
    case ArgKind::kUint:
      return absl::StrCat(v);
    case ArgKind::kFd:
      if (static_cast<int>(v) == AT_FDCWD) return "AT_FDCWD";
      return absl::StrCat(static_cast<int>(v));
    case ArgKind::kPath: {
      if (v == 0) return "NULL";
      auto s = task.mm().CopyInString(v, 4096);
      return s ? Escape(*s, false) : absl::StrFormat("%#x", v);
    }
    case ArgKind::kInBuf:
      return Buffer(task, v, next);
    case ArgKind::kOutBuf:
      return absl::StrFormat("%#x", v);  // contents shown at exit
    case ArgKind::kOpenFlags:
      return OpenFlags(v);
    case ArgKind::kMmapProt:
      return MmapProt(v);
    case ArgKind::kMmapFlags:
      return MmapFlags(v);
    case ArgKind::kOctal:
      return absl::StrFormat("%#o", v);
  }
  return "?";
}

}  // namespace

std::string StraceCall::Line(const std::string& tail) const {
  std::string line = absl::StrFormat("[%4d] %s(", tid, name);
  for (size_t i = 0; i < args.size(); ++i)
    absl::StrAppend(&line, i ? ", " : "", args[i]);
  return line + tail;
}

StraceCall StraceEnter(Task& task, uint64_t nr, const SyscallEntry* entry,
                       const SyscallArgs& args) {
  StraceCall call{.tid = task.tid()};
  if (!entry || !entry->name) {
    call.name = absl::StrCat("syscall_", nr);
    for (int i = 0; i < 6; ++i)
      call.args.push_back(absl::StrFormat("%#x", args.a[i]));
    return call;
  }
  call.name = entry->name;
  for (int i = 0; i < entry->nargs; ++i)
    call.args.push_back(
        Arg(task, entry->args[i], args.a[i], i < 5 ? args.a[i + 1] : 0));
  // Calls that never return must be shown now.
  if (call.name == "exit" || call.name == "exit_group") {
    base::WriteLogLine(call.Line(") = ?"));
    call.shown = true;
  }
  return call;
}

void StraceExit(Task& task, StraceCall call, const SyscallEntry* entry,
                const SyscallArgs& args, const base::Result<uint64_t>& result) {
  if (call.shown) return;
  // Output buffers are worth seeing once they hold the data.
  for (int i = 0; entry && i < entry->nargs; ++i) {
    if (entry->args[i] == ArgKind::kOutBuf && result)
      call.args[i] = Buffer(task, args.a[i], *result);
  }
  std::string tail;
  if (result) {
    int64_t v = static_cast<int64_t>(*result);
    tail = (v >= 0 && v < 4096) ? absl::StrCat(") = ", v)
                                : absl::StrFormat(") = %#x", *result);
  } else {
    tail = absl::StrCat(") = -1 ", std::string(base::ErrnoName(result.error().value)));
  }
  base::WriteLogLine(call.Line(tail));
}

}  // namespace kernel
