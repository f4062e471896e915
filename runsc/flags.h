// Command-line flags in the forms runc's callers use: --x, -x, --x=v,
// --x v. Flags stop at "--" or at the first non-flag word.
#ifndef RUNSC_FLAGS_H_
#define RUNSC_FLAGS_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace runsc {

struct ParsedFlags {
  std::map<std::string, std::string> values;  // name -> value ("" for bools)
  std::vector<std::string> rest;              // the words after the flags

  bool Has(const std::string& name) const { return values.count(name); }
  std::string Get(const std::string& name, const std::string& def = "") const;
  // A boolean flag: present without a value, or "true"/"false".
  bool Bool(const std::string& name) const;
};

// `with_value` names the flags that take a value; `bools` those that do
// not. Anything else is an error, so typos do not pass silently.
absl::StatusOr<ParsedFlags> ParseFlags(const std::vector<std::string>& args,
                                       const std::set<std::string>& with_value,
                                       const std::set<std::string>& bools);

}  // namespace runsc

#endif  // RUNSC_FLAGS_H_
