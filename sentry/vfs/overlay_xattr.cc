// The overlay's extended attributes, as Linux's overlayfs: read from the
// upper file if there is one, else from the lower; setxattr copies the
// file up and changes the upper; copy-up carries the lower's user.* and
// trusted.* attributes. overlayfs's own marks (trusted.overlay.*) are
// never shown nor set: ours (whiteouts, opaque directories) live in the
// sentry (State), and a lower layer's are not ours to expose.
#include "sentry/vfs/overlay_internal.h"
#include "sentry/vfs/xattr.h"

namespace vfs::overlay {
namespace {

bool IsOverlayMark(std::string_view name) {
  return name.starts_with(kXattrOverlayPrefix);
}

}  // namespace

base::Result<void> CopyXattrs(const Node& lower, Node& upper) {
  auto names = lower.ListXattr();
  // A lower layer without xattrs has nothing to carry.
  if (!names) {
    return names.error() == base::Errno(EOPNOTSUPP)
               ? base::Result<void>{}
               : std::unexpected(names.error());
  }
  for (const std::string& name : *names) {
    const XattrNs ns = XattrNamespace(name);
    if ((ns != XattrNs::kUser && ns != XattrNs::kTrusted) ||
        IsOverlayMark(name)) {
      continue;
    }
    auto value = lower.GetXattr(name);
    if (!value) {
      if (value.error() == base::Errno(ENODATA)) continue;  // gone since
      return std::unexpected(value.error());
    }
    TRY(upper.SetXattr(name, *value, 0));
  }
  return {};
}

base::Result<std::string> ONode::GetXattr(const std::string& name) const {
  if (IsOverlayMark(name)) return base::Err(EOPNOTSUPP);
  if (std::shared_ptr<Node> up = upper()) return up->GetXattr(name);
  return lower_->GetXattr(name);
}

base::Result<std::vector<std::string>> ONode::ListXattr() const {
  std::shared_ptr<Node> up = upper();
  std::vector<std::string> names = TRY(up ? up->ListXattr()
                                          : lower_->ListXattr());
  std::erase_if(names, [](const std::string& n) { return IsOverlayMark(n); });
  return names;
}

base::Result<void> ONode::SetXattr(const std::string& name,
                                   std::string_view value, int flags) {
  if (IsOverlayMark(name)) return base::Err(EOPNOTSUPP);
  absl::MutexLock lock(&st_->mu);
  std::shared_ptr<Node> up = TRY(CopyUpLocked(true));
  return up->SetXattr(name, value, flags);
}

base::Result<void> ONode::RemoveXattr(const std::string& name) {
  if (IsOverlayMark(name)) return base::Err(EOPNOTSUPP);
  absl::MutexLock lock(&st_->mu);
  // Removing what the lower file does not have copies nothing up
  // (ovl_xattr_set asks the lower first).
  if (!upper()) TRY(lower_->GetXattr(name));
  std::shared_ptr<Node> up = TRY(CopyUpLocked(true));
  return up->RemoveXattr(name);
}

}  // namespace vfs::overlay
