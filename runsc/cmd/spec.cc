// runsc spec [--bundle B]: writes a default config.json (runc's, running
// sh) into the bundle; an existing one is kept.
#include "runsc/oci/spec.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/fd_io.h"
#include "runsc/cmd/commands.h"

namespace runsc {

int Spec(const std::string& bundle) {
  const std::string path = bundle + "/config.json";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    PrintError(errno == EEXIST ? "File " + path + " exists. Remove it first."
                               : path + ": " + strerror(errno));
    return 1;
  }
  const std::string json = oci::DefaultSpecJson();
  bool ok = base::WriteFull(fd, json.data(), json.size());
  close(fd);
  if (!ok) {
    PrintError("cannot write " + path);
    unlink(path.c_str());
    return 1;
  }
  return 0;
}

}  // namespace runsc
