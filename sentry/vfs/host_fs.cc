#include "sentry/vfs/host_fs.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <sys/statvfs.h>

#include "base/unique_fd.h"
#include "sentry/vfs/host_file.h"
#include "sentry/vfs/xattr.h"

namespace vfs {
namespace {

// One host file, held by an O_PATH | O_NOFOLLOW fd (so a symlink node is
// the link itself, and stat needs no path).
class HostNode : public Node, public std::enable_shared_from_this<HostNode> {
 public:
  // `parent` is set for non-directories only: a regular file is opened
  // for reading by name from its directory (an O_PATH fd cannot be
  // reopened without the host's /proc), while a directory reopens itself
  // through ".", so it need not pin its ancestors' fds.
  HostNode(std::shared_ptr<const HostNode> parent, std::string name,
           base::UniqueFd fd, mode_t type)
      : parent_(std::move(parent)),
        name_(std::move(name)),
        fd_(std::move(fd)),
        type_(type) {}

  mode_t type() const override { return type_; }
  bool read_only() const override { return true; }
  base::Result<struct stat> Stat() const override { return FstatHostFd(fd_.get()); }

  base::Result<std::shared_ptr<Node>> Lookup(std::string_view name) override {
    if (type_ != S_IFDIR) return base::Err(ENOTDIR);
    // The walker never passes these; they are what would let the host
    // kernel leave the tree, so refuse them here too.
    if (name.empty() || name == "." || name == ".." ||
        name.find_first_of(std::string_view("/\0", 2)) != name.npos) {
      return base::Err(ENOENT);
    }
    std::string child_name(name);
    base::UniqueFd fd(::openat(fd_.get(), child_name.c_str(),
                               O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) return base::Err(errno);
    const struct stat st = TRY(FstatHostFd(fd.get()));
    const mode_t type = st.st_mode & S_IFMT;
    std::shared_ptr<const HostNode> parent;
    if (type != S_IFDIR) parent = shared_from_this();
    return std::make_shared<HostNode>(std::move(parent), std::move(child_name),
                                      std::move(fd), type);
  }

  // The host's numbers, marked read-only as the sandbox sees this tree.
  base::Result<struct statfs> Statfs() const override {
    struct statfs s {};
    if (::fstatfs(fd_.get(), &s) != 0) return base::Err(errno);
    s.f_flags |= ST_RDONLY | kStValid;
    return s;
  }

  base::Result<std::string> Readlink() const override {
    if (type_ != S_IFLNK) return base::Err(EINVAL);
    char buf[PATH_MAX];
    // An empty path reads the link the O_PATH fd itself refers to.
    const ssize_t n = ::readlinkat(fd_.get(), "", buf, sizeof buf);
    if (n < 0) return base::Err(errno);
    if (static_cast<size_t>(n) >= sizeof buf) return base::Err(ENAMETOOLONG);
    return std::string(buf, n);
  }

  base::Result<std::shared_ptr<FileDescription>> Open(
      int flags, const std::string& path) override {
    base::UniqueFd fd = TRY(OpenReadable());
    if (type_ == S_IFDIR) {
      return MakeHostDirDescription(flags, std::move(fd), path);
    }
    return MakeHostFileDescription(flags, std::move(fd), path);
  }

  // user.* and trusted.* (which the host shows only to CAP_SYS_ADMIN) of
  // files and directories, read through a readable fd: the f*xattr calls
  // do not work on O_PATH fds, and the by-path ones would follow links.
  base::Result<std::string> GetXattr(const std::string& name) const override {
    if (!Shown(name)) return base::Err(HiddenXattrError(name));
    if (type_ != S_IFREG && type_ != S_IFDIR) return base::Err(ENODATA);
    base::UniqueFd fd = TRY(OpenReadable());
    std::string value(kXattrSizeMax, '\0');
    const ssize_t n =
        ::fgetxattr(fd.get(), name.c_str(), value.data(), value.size());
    if (n < 0) return base::Err(errno);
    value.resize(n);
    return value;
  }

  base::Result<std::vector<std::string>> ListXattr() const override {
    if (type_ != S_IFREG && type_ != S_IFDIR) {
      return std::vector<std::string>{};
    }
    base::UniqueFd fd = TRY(OpenReadable());
    std::string list(kXattrListMax, '\0');
    const ssize_t n = ::flistxattr(fd.get(), list.data(), list.size());
    if (n < 0) return base::Err(errno);
    std::vector<std::string> names;
    for (size_t pos = 0; pos < static_cast<size_t>(n);) {
      std::string name(list.data() + pos);
      pos += name.size() + 1;
      if (Shown(name)) names.push_back(std::move(name));
    }
    return names;
  }

 private:
  static bool Shown(std::string_view name) {
    const XattrNs ns = XattrNamespace(name);
    return ns == XattrNs::kUser || ns == XattrNs::kTrusted;
  }

  // A readable fd of this directory or regular file (EACCES for others).
  base::Result<base::UniqueFd> OpenReadable() const {
    if (type_ == S_IFDIR) {
      base::UniqueFd fd(
          ::openat(fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!fd.valid()) return base::Err(errno);
      return fd;
    }
    if (type_ != S_IFREG || !parent_) return base::Err(EACCES);
    // O_NONBLOCK: should the name have become a fifo since the lookup, the
    // open must not hang; the type check below then refuses it.
    base::UniqueFd fd(
        ::openat(parent_->fd_.get(), name_.c_str(),
                 O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid()) return base::Err(errno);
    const struct stat st = TRY(FstatHostFd(fd.get()));
    if (!S_ISREG(st.st_mode)) return base::Err(EACCES);
    return fd;
  }

  const std::shared_ptr<const HostNode> parent_;
  const std::string name_;
  const base::UniqueFd fd_;
  const mode_t type_;
};

}  // namespace

base::Result<std::unique_ptr<HostFs>> HostFs::Create(
    const std::string& host_root) {
  base::UniqueFd fd(
      ::open(host_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return base::Err(errno);
  auto root = std::make_shared<HostNode>(nullptr, "", std::move(fd), S_IFDIR);
  return std::unique_ptr<HostFs>(new HostFs(std::move(root)));
}

}  // namespace vfs
