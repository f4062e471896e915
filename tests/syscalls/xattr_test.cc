// Extended attributes: setxattr/lsetxattr/fsetxattr, getxattr/lgetxattr/
// fgetxattr, listxattr/llistxattr/flistxattr, removexattr/lremovexattr/
// fremovexattr.
//
// Each test runs in a fresh directory under /tmp (the sandbox's tmpfs;
// natively the host's), /dev/shm (a tmpfs natively too) and /var/tmp (the
// sandbox's overlay root; natively the host's root filesystem), and is
// skipped only where the host filesystem has no user xattrs. What differs
// between filesystems on Linux (ext4 keeps all of a file's xattrs in one
// block) is checked on tmpfs only.
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "ipc_util.h"
#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

constexpr long kTmpfsMagic = 0x01021994;

bool IsRoot() { return geteuid() == 0; }

// The names listxattr(2) gives for `path` (`follow`: listxattr, else
// llistxattr), or {"<errno name>"} on failure.
std::vector<std::string> Names(const std::string& path, bool follow = true) {
  char buf[65536];
  const ssize_t n = follow ? listxattr(path.c_str(), buf, sizeof buf)
                           : llistxattr(path.c_str(), buf, sizeof buf);
  if (n < 0) return {ErrnoName(errno)};
  std::vector<std::string> out;
  for (ssize_t pos = 0; pos < n;) {
    out.emplace_back(buf + pos);
    pos += static_cast<ssize_t>(out.back().size()) + 1;
  }
  return out;
}

// The value of `name`, or "<errno name>".
std::string Value(const std::string& path, const char* name) {
  char buf[65536];
  const ssize_t n = getxattr(path.c_str(), name, buf, sizeof buf);
  if (n < 0) return "<" + ErrnoName(errno) + ">";
  return std::string(buf, n);
}

int Set(const std::string& path, const char* name, const std::string& v,
        int flags = 0) {
  return setxattr(path.c_str(), name, v.data(), v.size(), flags);
}

class XattrTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>(GetParam());
    ASSERT_EQ(chmod(dir_->path().c_str(), 0755), 0);
    file_ = *dir_ / "file";
    MakeFile(file_, "data");
    if (Set(file_, "user.probe", "1") != 0) {
      ASSERT_EQ(errno, EOPNOTSUPP) << ErrnoName(errno);
      GTEST_SKIP() << "no user xattrs on " << GetParam();
    }
    ASSERT_EQ(removexattr(file_.c_str(), "user.probe"), 0);
    struct statfs s;
    ASSERT_EQ(statfs(dir_->path().c_str(), &s), 0);
    tmpfs_ = s.f_type == kTmpfsMagic;
  }

  std::unique_ptr<TempDir> dir_;
  std::string file_;
  bool tmpfs_ = false;
};

INSTANTIATE_TEST_SUITE_P(Dirs, XattrTest,
                         ::testing::Values("/tmp", "/dev/shm", "/var/tmp"),
                         [](const auto& info) {
                           return std::string(info.param + 1) == "tmp"
                                      ? std::string("tmp")
                                  : std::string(info.param) == "/dev/shm"
                                      ? std::string("devshm")
                                      : std::string("vartmp");
                         });

TEST_P(XattrTest, SetGetListRemove) {
  EXPECT_THAT(Names(file_), IsEmpty());
  ASSERT_THAT(Set(file_, "user.a", "va"), SyscallSucceeds());
  // Size 0 asks for the length; a short buffer is ERANGE.
  EXPECT_THAT(getxattr(file_.c_str(), "user.a", nullptr, 0),
              SyscallSucceedsWithValue(2));
  char c;
  EXPECT_THAT(getxattr(file_.c_str(), "user.a", &c, 1),
              SyscallFailsWithErrno(ERANGE));
  EXPECT_EQ(Value(file_, "user.a"), "va");
  ASSERT_THAT(Set(file_, "user.a", "longer value"), SyscallSucceeds());
  EXPECT_EQ(Value(file_, "user.a"), "longer value");
  ASSERT_THAT(Set(file_, "user.b", ""), SyscallSucceeds());
  EXPECT_EQ(Value(file_, "user.b"), "");
  EXPECT_THAT(Names(file_), UnorderedElementsAre("user.a", "user.b"));

  ASSERT_THAT(removexattr(file_.c_str(), "user.a"), SyscallSucceeds());
  EXPECT_EQ(Value(file_, "user.a"), "<ENODATA>");
  EXPECT_THAT(removexattr(file_.c_str(), "user.a"),
              SyscallFailsWithErrno(ENODATA));
  EXPECT_THAT(Names(file_), ElementsAre("user.b"));
  // The data is untouched.
  EXPECT_EQ(ReadFileContents(file_.c_str()), "data");
}

TEST_P(XattrTest, CreateAndReplaceFlags) {
  EXPECT_THAT(Set(file_, "user.a", "1", XATTR_REPLACE),
              SyscallFailsWithErrno(ENODATA));
  ASSERT_THAT(Set(file_, "user.a", "1", XATTR_CREATE), SyscallSucceeds());
  EXPECT_THAT(Set(file_, "user.a", "2", XATTR_CREATE),
              SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(Set(file_, "user.a", "2", XATTR_CREATE | XATTR_REPLACE),
              SyscallFailsWithErrno(EEXIST));
  EXPECT_EQ(Value(file_, "user.a"), "1");
  ASSERT_THAT(Set(file_, "user.a", "3", XATTR_REPLACE), SyscallSucceeds());
  EXPECT_EQ(Value(file_, "user.a"), "3");
  EXPECT_THAT(Set(file_, "user.a", "4", 4), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Set(file_, "user.a", "4", -1), SyscallFailsWithErrno(EINVAL));
  EXPECT_EQ(Value(file_, "user.a"), "3");
}

TEST_P(XattrTest, Names) {
  const std::string f = file_;
  // Empty, or longer than 255 bytes: ERANGE, before anything else.
  EXPECT_THAT(Set(f, "", "v"), SyscallFailsWithErrno(ERANGE));
  EXPECT_THAT(getxattr(f.c_str(), "", nullptr, 0),
              SyscallFailsWithErrno(ERANGE));
  EXPECT_THAT(removexattr(f.c_str(), ""), SyscallFailsWithErrno(ERANGE));
  const std::string max = "user." + std::string(250, 'n');
  const std::string over = max + "n";
  EXPECT_THAT(Set(f, over.c_str(), "v"), SyscallFailsWithErrno(ERANGE));
  EXPECT_THAT(getxattr(f.c_str(), over.c_str(), nullptr, 0),
              SyscallFailsWithErrno(ERANGE));
  EXPECT_THAT(removexattr(f.c_str(), over.c_str()),
              SyscallFailsWithErrno(ERANGE));
  ASSERT_THAT(Set(f, max.c_str(), "v"), SyscallSucceeds());
  EXPECT_EQ(Value(f, max.c_str()), "v");
  EXPECT_THAT(Names(f), ElementsAre(max));

  // A namespace alone, and unknown namespaces.
  EXPECT_THAT(Set(f, "user.", "v"), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(getxattr(f.c_str(), "user.", nullptr, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Set(f, "trusted.", "v"), SyscallFailsWithErrno(
                                          IsRoot() ? EINVAL : EPERM));
  for (const char* name : {"user", "foo.a", "os2.a", "USER.a", "a"}) {
    SCOPED_TRACE(name);
    EXPECT_THAT(Set(f, name, "v"), SyscallFailsWithErrno(EOPNOTSUPP));
    EXPECT_THAT(getxattr(f.c_str(), name, nullptr, 0),
                SyscallFailsWithErrno(EOPNOTSUPP));
    EXPECT_THAT(removexattr(f.c_str(), name),
                SyscallFailsWithErrno(EOPNOTSUPP));
  }
  EXPECT_THAT(Names(f), ElementsAre(max));
}

TEST_P(XattrTest, ArgumentsAreCheckedBeforeThePath) {
  const std::string missing = *dir_ / "missing";
  EXPECT_THAT(Set(missing, "", "v"), SyscallFailsWithErrno(ERANGE));
  EXPECT_THAT(Set(missing, "user.a", "v", 8), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Set(missing, "user.a", std::string(65537, 'v')),
              SyscallFailsWithErrno(E2BIG));
  EXPECT_THAT(getxattr(missing.c_str(), "", nullptr, 0),
              SyscallFailsWithErrno(ERANGE));
  EXPECT_THAT(removexattr(missing.c_str(), ""),
              SyscallFailsWithErrno(ERANGE));
  // The namespace is the filesystem's business: the path comes first.
  EXPECT_THAT(Set(missing, "foo.a", "v"), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(getxattr(missing.c_str(), "user.a", nullptr, 0),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(listxattr(missing.c_str(), nullptr, 0),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(removexattr(missing.c_str(), "foo.a"),
              SyscallFailsWithErrno(ENOENT));
  // Bad pointers.
  EXPECT_THAT(setxattr(file_.c_str(), BadAddress<const char>(), "v",
                       1, 0),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(setxattr(file_.c_str(), "user.a", BadAddress<void>(), 1,
                       0),
              SyscallFailsWithErrno(EFAULT));
  ASSERT_THAT(Set(file_, "user.a", "va"), SyscallSucceeds());
  EXPECT_THAT(getxattr(file_.c_str(), "user.a", BadAddress<void>(), 2),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(listxattr(file_.c_str(), BadAddress<char>(), 100),
              SyscallFailsWithErrno(EFAULT));
}

TEST_P(XattrTest, ValueSizes) {
  EXPECT_THAT(Set(file_, "user.big", std::string(65537, 'v')),
              SyscallFailsWithErrno(E2BIG));
  const std::string mid(1000, 'm');
  ASSERT_THAT(Set(file_, "user.mid", mid), SyscallSucceeds());
  EXPECT_EQ(Value(file_, "user.mid"), mid);
  // A buffer larger than the largest value is fine.
  std::vector<char> buf(200000);
  EXPECT_THAT(getxattr(file_.c_str(), "user.mid", buf.data(), buf.size()),
              SyscallSucceedsWithValue(1000));
  if (!tmpfs_) return;  // ext4 keeps a file's xattrs in one block
  const std::string max(65536, 'x');
  ASSERT_THAT(Set(file_, "user.max", max), SyscallSucceeds());
  EXPECT_EQ(Value(file_, "user.max"), max);
  EXPECT_THAT(getxattr(file_.c_str(), "user.max", nullptr, 0),
              SyscallSucceedsWithValue(65536));
  EXPECT_THAT(getxattr(file_.c_str(), "user.max", buf.data(), 65535),
              SyscallFailsWithErrno(ERANGE));
}

TEST_P(XattrTest, ListSizes) {
  ASSERT_THAT(Set(file_, "user.a", "1"), SyscallSucceeds());
  ASSERT_THAT(Set(file_, "user.bb", "2"), SyscallSucceeds());
  EXPECT_THAT(listxattr(file_.c_str(), nullptr, 0),
              SyscallSucceedsWithValue(7 + 8));
  char buf[15];
  EXPECT_THAT(listxattr(file_.c_str(), buf, 14),
              SyscallFailsWithErrno(ERANGE));
  ASSERT_THAT(listxattr(file_.c_str(), buf, 15), SyscallSucceedsWithValue(15));
  std::string list(buf, 15);
  EXPECT_TRUE(list == std::string("user.a\0user.bb\0", 15) ||
              list == std::string("user.bb\0user.a\0", 15))
      << list;
  if (!tmpfs_) return;
  // A list longer than XATTR_LIST_MAX: its length can be asked, but a
  // buffer of the largest size is E2BIG, a smaller one ERANGE.
  size_t total = 15;
  for (int i = 0; total <= 65536; ++i) {
    std::string name = "user." + std::to_string(i) + std::string(240, 'l');
    ASSERT_THAT(Set(file_, name.c_str(), ""), SyscallSucceeds());
    total += name.size() + 1;
  }
  EXPECT_THAT(listxattr(file_.c_str(), nullptr, 0),
              SyscallSucceedsWithValue(total));
  std::vector<char> big(100000);
  EXPECT_THAT(listxattr(file_.c_str(), big.data(), 65536),
              SyscallFailsWithErrno(E2BIG));
  EXPECT_THAT(listxattr(file_.c_str(), big.data(), big.size()),
              SyscallFailsWithErrno(E2BIG));
  EXPECT_THAT(listxattr(file_.c_str(), big.data(), 1000),
              SyscallFailsWithErrno(ERANGE));
}

TEST_P(XattrTest, Directories) {
  const std::string d = *dir_ / "d";
  ASSERT_EQ(mkdir(d.c_str(), 0755), 0);
  ASSERT_THAT(Set(d, "user.d", "dir"), SyscallSucceeds());
  EXPECT_EQ(Value(d, "user.d"), "dir");
  EXPECT_THAT(Names(d), ElementsAre("user.d"));
  // Not inherited by what is made inside.
  MakeFile(d + "/f");
  EXPECT_THAT(Names(d + "/f"), IsEmpty());
  ASSERT_THAT(removexattr(d.c_str(), "user.d"), SyscallSucceeds());
  EXPECT_THAT(Names(d), IsEmpty());
}

TEST_P(XattrTest, SymlinksHaveNoUserXattrs) {
  const std::string link = *dir_ / "link";
  ASSERT_EQ(symlink("file", link.c_str()), 0);
  ASSERT_THAT(Set(file_, "user.t", "target"), SyscallSucceeds());
  // Followed: the target's.
  EXPECT_EQ(Value(link, "user.t"), "target");
  EXPECT_THAT(Names(link), ElementsAre("user.t"));
  // Not followed: the link's own, which user.* cannot have.
  EXPECT_THAT(lgetxattr(link.c_str(), "user.t", nullptr, 0),
              SyscallFailsWithErrno(ENODATA));
  EXPECT_THAT(Names(link, false), IsEmpty());
  EXPECT_THAT(lsetxattr(link.c_str(), "user.l", "v", 1, 0),
              SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(lremovexattr(link.c_str(), "user.t"),
              SyscallFailsWithErrno(EPERM));
  // Through the link, the target changes.
  ASSERT_THAT(Set(link, "user.via", "link"), SyscallSucceeds());
  EXPECT_EQ(Value(file_, "user.via"), "link");
  ASSERT_THAT(removexattr(link.c_str(), "user.via"), SyscallSucceeds());
  EXPECT_EQ(Value(file_, "user.via"), "<ENODATA>");
  // A dangling link.
  const std::string dangling = *dir_ / "dangling";
  ASSERT_EQ(symlink("nowhere", dangling.c_str()), 0);
  EXPECT_THAT(getxattr(dangling.c_str(), "user.t", nullptr, 0),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(lgetxattr(dangling.c_str(), "user.t", nullptr, 0),
              SyscallFailsWithErrno(ENODATA));
}

TEST_P(XattrTest, TrustedOnSymlinksForRoot) {
  if (!IsRoot()) GTEST_SKIP() << "trusted.* needs CAP_SYS_ADMIN";
  const std::string link = *dir_ / "link";
  ASSERT_EQ(symlink("file", link.c_str()), 0);
  ASSERT_THAT(lsetxattr(link.c_str(), "trusted.l", "v", 1, 0),
              SyscallSucceeds());
  EXPECT_THAT(Names(link, false), ElementsAre("trusted.l"));
  EXPECT_THAT(Names(file_), IsEmpty());
  ASSERT_THAT(lremovexattr(link.c_str(), "trusted.l"), SyscallSucceeds());
  EXPECT_THAT(Names(link, false), IsEmpty());
}

TEST_P(XattrTest, ByFileDescriptor) {
  FileDescriptor fd(open(file_.c_str(), O_RDONLY));
  ASSERT_GE(fd.get(), 0);
  // A read-only description may change them: permission is the file's.
  ASSERT_THAT(fsetxattr(fd.get(), "user.f", "fd", 2, 0), SyscallSucceeds());
  EXPECT_EQ(Value(file_, "user.f"), "fd");
  char buf[16];
  EXPECT_THAT(fgetxattr(fd.get(), "user.f", buf, sizeof buf),
              SyscallSucceedsWithValue(2));
  EXPECT_THAT(fgetxattr(fd.get(), "user.f", nullptr, 0),
              SyscallSucceedsWithValue(2));
  EXPECT_THAT(fgetxattr(fd.get(), "user.f", buf, 1),
              SyscallFailsWithErrno(ERANGE));
  EXPECT_THAT(flistxattr(fd.get(), buf, sizeof buf),
              SyscallSucceedsWithValue(7));
  EXPECT_THAT(flistxattr(fd.get(), nullptr, 0), SyscallSucceedsWithValue(7));
  EXPECT_THAT(fsetxattr(fd.get(), "user.f", "x", 1, XATTR_CREATE),
              SyscallFailsWithErrno(EEXIST));

  // Still the file's once its name is gone.
  ASSERT_EQ(unlink(file_.c_str()), 0);
  ASSERT_THAT(fsetxattr(fd.get(), "user.g", "gone", 4, 0), SyscallSucceeds());
  EXPECT_THAT(fgetxattr(fd.get(), "user.g", buf, sizeof buf),
              SyscallSucceedsWithValue(4));
  ASSERT_THAT(fremovexattr(fd.get(), "user.f"), SyscallSucceeds());
  EXPECT_THAT(fremovexattr(fd.get(), "user.f"),
              SyscallFailsWithErrno(ENODATA));
  EXPECT_THAT(flistxattr(fd.get(), buf, sizeof buf),
              SyscallSucceedsWithValue(7));
  EXPECT_EQ(std::string(buf, 7), std::string("user.g\0", 7));
}

TEST_P(XattrTest, FileDescriptorErrors) {
  FileDescriptor path_fd(open(file_.c_str(), O_PATH));
  ASSERT_GE(path_fd.get(), 0);
  char buf[16];
  EXPECT_THAT(fgetxattr(path_fd.get(), "user.a", buf, sizeof buf),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fsetxattr(path_fd.get(), "user.a", "v", 1, 0),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(flistxattr(path_fd.get(), buf, sizeof buf),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fremovexattr(path_fd.get(), "user.a"),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fgetxattr(-1, "user.a", buf, sizeof buf),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(flistxattr(-1, buf, sizeof buf), SyscallFailsWithErrno(EBADF));
  // The arguments are checked before the fd.
  EXPECT_THAT(fgetxattr(-1, "", buf, sizeof buf),
              SyscallFailsWithErrno(ERANGE));
  EXPECT_THAT(fsetxattr(-1, "user.a", "v", 1, 8),
              SyscallFailsWithErrno(EINVAL));
  std::string big(65537, 'b');
  EXPECT_THAT(fsetxattr(-1, "user.a", big.data(), big.size(), 0),
              SyscallFailsWithErrno(E2BIG));
  EXPECT_THAT(fremovexattr(-1, ""), SyscallFailsWithErrno(ERANGE));
}

TEST_P(XattrTest, TrustedIsForCapSysAdmin) {
  if (IsRoot()) {
    ASSERT_THAT(Set(file_, "trusted.t", "tv"), SyscallSucceeds());
    EXPECT_EQ(Value(file_, "trusted.t"), "tv");
  }
  ASSERT_THAT(Set(file_, "user.u", "uv"), SyscallSucceeds());
  if (IsRoot()) {
    EXPECT_THAT(Names(file_), UnorderedElementsAre("trusted.t", "user.u"));
  }
  ASSERT_EQ(chmod(file_.c_str(), 0666), 0);
  const std::string f = file_;
  EXPECT_EXIT_OK(AsNobody([&] {
    // Invisible, unreadable and unwritable to others.
    if (Names(f) != std::vector<std::string>{"user.u"}) return 1;
    if (Value(f, "trusted.t") != "<ENODATA>") return 2;
    if (Value(f, "trusted.none") != "<ENODATA>") return 3;
    if (Set(f, "trusted.t", "x") == 0 || errno != EPERM) return 4;
    if (Set(f, "trusted.n", "x") == 0 || errno != EPERM) return 5;
    if (removexattr(f.c_str(), "trusted.t") == 0 || errno != EPERM) return 6;
    return 0;
  }));
  if (IsRoot()) EXPECT_EQ(Value(file_, "trusted.t"), "tv");
}

TEST_P(XattrTest, Security) {
  // Only CAP_SYS_ADMIN sets or removes them; anyone reads them.
  if (IsRoot()) {
    ASSERT_THAT(Set(file_, "security.s", "sv"), SyscallSucceeds());
    EXPECT_EQ(Value(file_, "security.s"), "sv");
    EXPECT_THAT(Names(file_), ElementsAre("security.s"));
  }
  ASSERT_EQ(chmod(file_.c_str(), 0666), 0);
  const std::string f = file_;
  const bool root = IsRoot();
  EXPECT_EXIT_OK(AsNobody([&] {
    if (root && Value(f, "security.s") != "sv") return 1;
    if (Value(f, "security.none") != "<ENODATA>") return 2;
    if (Set(f, "security.s", "x") == 0 || errno != EPERM) return 3;
    if (Set(f, "security.n", "x") == 0 || errno != EPERM) return 4;
    if (removexattr(f.c_str(), "security.s") == 0 || errno != EPERM) return 5;
    // A malformed file capability is EINVAL, even for those who may not
    // set one.
    if (Set(f, "security.capability", "bogus") == 0 || errno != EINVAL)
      return 6;
    return 0;
  }));
}

TEST_P(XattrTest, FileCapabilities) {
  if (!IsRoot()) GTEST_SKIP() << "needs CAP_SETFCAP";
  // struct vfs_cap_data, revision 2: CAP_NET_BIND_SERVICE permitted and
  // effective.
  const uint32_t v2[5] = {0x02000001, 1u << 10, 0, 0, 0};
  ASSERT_THAT(setxattr(file_.c_str(), "security.capability", v2, sizeof v2, 0),
              SyscallSucceeds());
  uint32_t got[8] = {};
  ASSERT_THAT(getxattr(file_.c_str(), "security.capability", got, sizeof got),
              SyscallSucceedsWithValue(20));
  EXPECT_EQ(std::memcmp(got, v2, sizeof v2), 0);
  // Revision 3 for the initial namespace's root is stored as revision 2.
  const uint32_t v3[6] = {0x03000000, 1u << 10, 0, 0, 0, 0};
  ASSERT_THAT(setxattr(file_.c_str(), "security.capability", v3, sizeof v3, 0),
              SyscallSucceeds());
  ASSERT_THAT(getxattr(file_.c_str(), "security.capability", got, sizeof got),
              SyscallSucceedsWithValue(20));
  EXPECT_EQ(got[0], 0x02000000u);
  EXPECT_EQ(got[1], 1u << 10);
  // The wrong size for the revision.
  EXPECT_THAT(setxattr(file_.c_str(), "security.capability", v3, 20, 0),
              SyscallFailsWithErrno(EINVAL));
  ASSERT_THAT(removexattr(file_.c_str(), "security.capability"),
              SyscallSucceeds());
}

TEST_P(XattrTest, SystemNamespace) {
  // No ACLs here: a file without any reads as such.
  EXPECT_THAT(getxattr(file_.c_str(), "system.posix_acl_access", nullptr, 0),
              SyscallFailsWithErrno(ENODATA));
  EXPECT_THAT(getxattr(dir_->path().c_str(), "system.posix_acl_default",
                       nullptr, 0),
              SyscallFailsWithErrno(ENODATA));
  for (const char* name : {"system.foo", "system."}) {
    SCOPED_TRACE(name);
    EXPECT_THAT(getxattr(file_.c_str(), name, nullptr, 0),
                SyscallFailsWithErrno(EOPNOTSUPP));
    EXPECT_THAT(Set(file_, name, "v"), SyscallFailsWithErrno(EOPNOTSUPP));
    EXPECT_THAT(removexattr(file_.c_str(), name),
                SyscallFailsWithErrno(EOPNOTSUPP));
  }
  EXPECT_THAT(Names(file_), IsEmpty());
}

// user.*: read permission to read, write permission to change; on a
// sticky directory only its owner changes them.
TEST_P(XattrTest, UserNeedsPermission) {
  ASSERT_THAT(Set(file_, "user.r", "1"), SyscallSucceeds());
  const std::string ro = *dir_ / "ro", none = *dir_ / "none",
                    rw = *dir_ / "rw", sticky = *dir_ / "sticky",
                    open_dir = *dir_ / "open";
  MakeFile(ro, "", 0444);
  MakeFile(none, "", 0000);
  MakeFile(rw, "", 0666);
  ASSERT_EQ(chmod(rw.c_str(), 0666), 0);  // whatever the umask
  ASSERT_EQ(chmod(ro.c_str(), 0444), 0);
  ASSERT_EQ(chmod(none.c_str(), 0000), 0);
  ASSERT_EQ(mkdir(sticky.c_str(), 0777), 0);
  ASSERT_EQ(chmod(sticky.c_str(), 01777), 0);
  ASSERT_EQ(mkdir(open_dir.c_str(), 0777), 0);
  ASSERT_EQ(chmod(open_dir.c_str(), 0777), 0);
  // Root may do all of it.
  if (IsRoot()) {
    EXPECT_THAT(Set(ro, "user.x", "v"), SyscallSucceeds());
    EXPECT_THAT(Set(none, "user.x", "v"), SyscallSucceeds());
    EXPECT_EQ(Value(none, "user.x"), "v");
  }
  const bool owned_by_other = IsRoot();
  EXPECT_EXIT_OK(AsNobody([&] {
    if (Set(ro, "user.n", "v") == 0 || errno != EACCES) return 1;
    if (removexattr(ro.c_str(), "user.x") == 0 || errno != EACCES) return 2;
    char buf[8];
    if (getxattr(none.c_str(), "user.x", buf, sizeof buf) >= 0 ||
        errno != EACCES)
      return 3;
    // Listing needs no permission.
    if (listxattr(none.c_str(), buf, 0) < 0) return 4;
    if (Set(rw, "user.n", "v") != 0) return 5;
    if (Value(rw, "user.n") != "v") return 6;
    if (removexattr(rw.c_str(), "user.n") != 0) return 7;
    if (Set(open_dir, "user.n", "v") != 0) return 8;
    if (owned_by_other) {
      if (Set(sticky, "user.n", "v") == 0 || errno != EPERM) return 9;
      if (removexattr(sticky.c_str(), "user.n") == 0 || errno != EPERM)
        return 10;
      if (Value(sticky, "user.n") != "<ENODATA>") return 11;
    } else if (Set(sticky, "user.n", "v") != 0) {
      return 12;  // its owner may
    }
    return 0;
  }));
  EXPECT_THAT(Names(open_dir), ElementsAre("user.n"));
}

TEST_P(XattrTest, Ctime) {
  // setxattr and removexattr change ctime, not mtime.
  struct timespec old[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, file_.c_str(), old, 0), 0);
  const struct stat before = Lstat(file_);
  ASSERT_THAT(Set(file_, "user.c", "v"), SyscallSucceeds());
  const struct stat after = Lstat(file_);
  EXPECT_EQ(after.st_mtim.tv_sec, 1000);
  EXPECT_TRUE(after.st_ctim.tv_sec > before.st_ctim.tv_sec ||
              (after.st_ctim.tv_sec == before.st_ctim.tv_sec &&
               after.st_ctim.tv_nsec >= before.st_ctim.tv_nsec));
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
}

// Files that are neither regular files nor directories.
TEST(XattrSpecialTest, DevicesPipesAndProc) {
  // user.*: none to read, none may be set (whatever the mode bits say).
  EXPECT_THAT(getxattr("/dev/null", "user.a", nullptr, 0),
              SyscallFailsWithErrno(ENODATA));
  EXPECT_THAT(setxattr("/dev/null", "user.a", "v", 1, 0),
              SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(removexattr("/dev/null", "user.a"),
              SyscallFailsWithErrno(EPERM));
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  FileDescriptor r(p[0]), w(p[1]);
  EXPECT_THAT(fgetxattr(r.get(), "user.a", nullptr, 0),
              SyscallFailsWithErrno(ENODATA));
  EXPECT_THAT(fsetxattr(w.get(), "user.a", "v", 1, 0),
              SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(flistxattr(r.get(), nullptr, 0), SyscallSucceedsWithValue(0));
  // procfs keeps none at all.
  EXPECT_THAT(getxattr("/proc/self/status", "user.a", nullptr, 0),
              SyscallFailsWithErrno(EOPNOTSUPP));
  EXPECT_THAT(getxattr("/proc/self/status", "security.selinux", nullptr, 0),
              SyscallFailsWithErrno(EOPNOTSUPP));
  EXPECT_THAT(listxattr("/proc/self/status", nullptr, 0),
              SyscallSucceedsWithValue(0));
  if (IsRoot()) {  // others may not write the file: EACCES first
    EXPECT_THAT(setxattr("/proc/self/status", "user.a", "v", 1, 0),
                SyscallFailsWithErrno(EOPNOTSUPP));
  }
}

// What `ls -l` asks of every file it lists must not be an error it
// reports: ENODATA or EOPNOTSUPP.
TEST(XattrSpecialTest, WhatLsAsks) {
  for (const char* path : {"/", "/etc", "/etc/os-release", "/bin", "/tmp"}) {
    SCOPED_TRACE(path);
    for (const char* name : {"security.selinux", "system.posix_acl_access",
                             "system.posix_acl_default"}) {
      SCOPED_TRACE(name);
      char buf[256];
      const ssize_t n = lgetxattr(path, name, buf, sizeof buf);
      if (n < 0) {
        EXPECT_TRUE(errno == ENODATA || errno == EOPNOTSUPP)
            << ErrnoName(errno);
      }
    }
    EXPECT_THAT(llistxattr(path, nullptr, 0), SyscallSucceeds());
  }
}

}  // namespace
}  // namespace syscall_test
