#include "runsc/flags.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace runsc {

std::string ParsedFlags::Get(const std::string& name,
                             const std::string& def) const {
  auto it = values.find(name);
  return it == values.end() ? def : it->second;
}

bool ParsedFlags::Bool(const std::string& name) const {
  auto it = values.find(name);
  return it != values.end() && it->second != "false";
}

absl::StatusOr<ParsedFlags> ParseFlags(const std::vector<std::string>& args,
                                       const std::set<std::string>& with_value,
                                       const std::set<std::string>& bools) {
  ParsedFlags out;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() < 2 || a[0] != '-') break;
    std::string body = a.substr(a[1] == '-' ? 2 : 1);
    std::string name = body, value;
    bool has_value = false;
    if (auto eq = body.find('='); eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    if (with_value.count(name)) {
      if (!has_value) {
        if (i + 1 >= args.size())
          return absl::InvalidArgumentError(
              absl::StrCat("flag --", name, " needs a value"));
        value = args[++i];
      }
    } else if (!bools.count(name)) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag: ", a));
    }
    out.values[name] = value;
  }
  out.rest.assign(args.begin() + i, args.end());
  return out;
}

}  // namespace runsc
