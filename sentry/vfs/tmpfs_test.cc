// tmpfs nodes on a real MemoryFile: file data in pages (allocation, holes,
// truncation, the last reference freeing them, ENOSPC), link counts,
// stable directory offsets, rename rules.
#include "sentry/vfs/tmpfs.h"

#include <dirent.h>
#include <stdio.h>  // RENAME_*
#include <sys/sysmacros.h>

#include <cstring>

#include "gtest/gtest.h"
#include "sentry/mm/memory_file.h"
#include "sentry/vfs/vfs_test_util.h"

namespace vfs {
namespace {

using testing::ListDir;
using testing::ReadSome;
using testing::WriteString;

constexpr uint64_t P = mm::kPageSize;

class TmpfsTest : public ::testing::Test {
 protected:
  void SetUp() override { MakeFs(256 * P); }
  void MakeFs(uint64_t size) {
    fs_.reset();
    mf_ = *mm::MemoryFile::Create(size);
    fs_ = Tmpfs::Create(*mf_, {});
    root_ = fs_->Root({});
  }
  std::shared_ptr<FileDescription> NewFile(const std::string& name,
                                           int flags = O_RDWR) {
    auto f = root_->Create(name, flags, 0644, creds_, "/" + name);
    EXPECT_TRUE(f.has_value());
    return f.value_or(nullptr);
  }
  std::shared_ptr<Node> Get(const std::string& name,
                            std::shared_ptr<Node> dir = nullptr) {
    auto n = (dir ? dir : root_)->Lookup(name);
    EXPECT_TRUE(n.has_value()) << name;
    return n.value_or(nullptr);
  }
  struct stat StatOf(Node& n) {
    return n.Stat().value();
  }
  std::string PRead(FileDescription& f, size_t n, int64_t off) {
    std::string buf(n, '?');
    iovec iov{buf.data(), n};
    buf.resize(f.PRead({&iov, 1}, off).value());
    return buf;
  }
  base::Result<size_t> PWrite(FileDescription& f, const std::string& s,
                              int64_t off) {
    iovec iov{const_cast<char*>(s.data()), s.size()};
    return f.PWrite({&iov, 1}, off);
  }

  std::unique_ptr<mm::MemoryFile> mf_;
  std::unique_ptr<Tmpfs> fs_;
  std::shared_ptr<Node> root_;
  Creds creds_{.uid = 1000, .gid = 1000};
};

TEST_F(TmpfsTest, RootIsAStickyWorldWritableDirectory) {
  struct stat st = StatOf(*root_);
  EXPECT_EQ(st.st_mode, S_IFDIR | 01777u);
  EXPECT_EQ(st.st_nlink, 2u);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(major(st.st_dev), 0u);
  EXPECT_EQ(minor(st.st_dev), kTmpfsFirstMinor);
  auto sfs = root_->Statfs().value();
  EXPECT_EQ(sfs.f_type, kTmpfsMagic);
  EXPECT_EQ(sfs.f_blocks, 256u);
}

TEST_F(TmpfsTest, WriteAllocatesMemoryFilePagesAndReadsBack) {
  auto f = NewFile("f");
  EXPECT_EQ(fs_->pages(), 0u);
  ASSERT_EQ(WriteString(*f, "hello").value(), 5u);
  EXPECT_EQ(fs_->pages(), 1u);
  EXPECT_EQ(mf_->allocated(), P);
  EXPECT_EQ(PRead(*f, 100, 0), "hello");
  EXPECT_EQ(PRead(*f, 100, 5), "");
  struct stat st = f->Stat().value();
  EXPECT_EQ(st.st_size, 5);
  EXPECT_EQ(st.st_blocks, 8);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_mode, S_IFREG | 0644u);
  // Data crossing a page boundary lands in two pages.
  std::string big(P + 10, 'x');
  ASSERT_EQ(PWrite(*f, big, 100).value(), big.size());
  EXPECT_EQ(fs_->pages(), 2u);
  EXPECT_EQ(PRead(*f, big.size(), 100), big);
}

TEST_F(TmpfsTest, HolesReadAsZeroAndCostNothing) {
  auto f = NewFile("sparse");
  ASSERT_TRUE(PWrite(*f, "end", 10 * P).has_value());
  EXPECT_EQ(fs_->pages(), 1u);
  EXPECT_EQ(f->Stat()->st_size, static_cast<off_t>(10 * P + 3));
  EXPECT_EQ(PRead(*f, 4, 5 * P), std::string(4, '\0'));
  EXPECT_EQ(f->Seek(0, SEEK_DATA).value(), static_cast<int64_t>(10 * P));
  EXPECT_EQ(f->Seek(0, SEEK_HOLE).value(), 0);
  EXPECT_EQ(f->Seek(10 * P, SEEK_HOLE).value(),
            static_cast<int64_t>(10 * P + 3));
  EXPECT_ERRNO(f->Seek(10 * P + 3, SEEK_DATA), ENXIO);
}

TEST_F(TmpfsTest, TruncateFreesPagesAndZeroesTheTail) {
  auto f = NewFile("t");
  ASSERT_TRUE(PWrite(*f, std::string(3 * P, 'a'), 0).has_value());
  EXPECT_EQ(fs_->pages(), 3u);
  ASSERT_TRUE(Get("t")->SetAttr({.size = 10}).has_value());
  EXPECT_EQ(fs_->pages(), 1u);
  EXPECT_EQ(mf_->allocated(), P);
  ASSERT_TRUE(Get("t")->SetAttr({.size = 2 * P}).has_value());
  EXPECT_EQ(PRead(*f, 12, 0), std::string(10, 'a') + std::string(2, '\0'));
  EXPECT_EQ(fs_->pages(), 1u);  // growing makes a hole, not pages
}

TEST_F(TmpfsTest, AnOpenFileOutlivesItsLastName) {
  auto f = NewFile("gone");
  ASSERT_TRUE(WriteString(*f, "data").has_value());
  std::shared_ptr<Node> node = Get("gone");
  ASSERT_TRUE(root_->Remove("gone", *node).has_value());
  node.reset();
  EXPECT_ERRNO(root_->Lookup("gone"), ENOENT);
  EXPECT_EQ(f->Stat()->st_nlink, 0u);
  EXPECT_EQ(PRead(*f, 10, 0), "data");
  EXPECT_EQ(fs_->pages(), 1u);
  f.reset();  // the last reference frees the data
  EXPECT_EQ(fs_->pages(), 0u);
  EXPECT_EQ(mf_->allocated(), 0u);
}

TEST_F(TmpfsTest, FullMemoryFileIsEnospcAfterAShortWrite) {
  MakeFs(4 * P);
  auto f = NewFile("big");
  EXPECT_EQ(WriteString(*f, std::string(6 * P, 'z')).value(), 4 * P);
  EXPECT_ERRNO(WriteString(*f, "more"), ENOSPC);
  auto g = NewFile("g");
  // fallocate is all or nothing.
  EXPECT_ERRNO(Get("g")->Allocate(0, P, 0), ENOSPC);
  ASSERT_TRUE(Get("big")->SetAttr({.size = 0}).has_value());
  EXPECT_TRUE(Get("g")->Allocate(0, 3 * P, 0).has_value());
  EXPECT_EQ(g->Stat()->st_size, static_cast<off_t>(3 * P));
  EXPECT_EQ(fs_->pages(), 3u);
}

TEST_F(TmpfsTest, AppendWritesAtTheEnd) {
  auto f = NewFile("log", O_RDWR | O_APPEND);
  ASSERT_TRUE(WriteString(*f, "one").has_value());
  ASSERT_TRUE(PWrite(*f, "two", 0).has_value());  // Linux appends anyway
  EXPECT_EQ(PRead(*f, 10, 0), "onetwo");
  EXPECT_EQ(f->Seek(0, SEEK_CUR).value(), 3);
}

TEST_F(TmpfsTest, HardLinksCountNames) {
  auto f = NewFile("a");
  std::shared_ptr<Node> a = Get("a");
  ASSERT_TRUE(root_->Link("b", *a).has_value());
  EXPECT_EQ(StatOf(*a).st_nlink, 2u);
  EXPECT_EQ(StatOf(*Get("b")).st_ino, StatOf(*a).st_ino);
  EXPECT_ERRNO(root_->Link("b", *a), EEXIST);
  ASSERT_TRUE(root_->Remove("a", *a).has_value());
  EXPECT_EQ(StatOf(*a).st_nlink, 1u);
  ASSERT_TRUE(root_->Remove("b", *a).has_value());
  EXPECT_ERRNO(root_->Link("c", *a), ENOENT);  // no name left to link to
}

TEST_F(TmpfsTest, DirectoriesCountSubdirectoriesAndMustBeEmpty) {
  ASSERT_TRUE(root_->MakeChild("d", S_IFDIR | 0755, creds_, "").has_value());
  std::shared_ptr<Node> d = Get("d");
  EXPECT_EQ(StatOf(*root_).st_nlink, 3u);
  EXPECT_EQ(StatOf(*d).st_nlink, 2u);
  ASSERT_TRUE(d->MakeChild("e", S_IFDIR | 0755, creds_, "").has_value());
  EXPECT_EQ(StatOf(*d).st_nlink, 3u);
  EXPECT_ERRNO(root_->Remove("d", *d), ENOTEMPTY);
  EXPECT_ERRNO(root_->MakeChild("d", S_IFDIR | 0755, creds_, ""), EEXIST);
  ASSERT_TRUE(d->Remove("e", *Get("e", d)).has_value());
  ASSERT_TRUE(root_->Remove("d", *d).has_value());
  EXPECT_EQ(StatOf(*root_).st_nlink, 2u);
  EXPECT_EQ(StatOf(*d).st_nlink, 0u);
  // A removed directory takes no new names.
  EXPECT_ERRNO(d->MakeChild("x", S_IFREG | 0644, creds_, ""), ENOENT);
}

TEST_F(TmpfsTest, SymlinksKeepTheirTarget) {
  ASSERT_TRUE(
      root_->MakeChild("l", S_IFLNK | 0777, creds_, "some/where").has_value());
  std::shared_ptr<Node> l = Get("l");
  EXPECT_EQ(l->type(), S_IFLNK);
  EXPECT_EQ(l->Readlink().value(), "some/where");
  EXPECT_EQ(StatOf(*l).st_size, 10);
  EXPECT_EQ(StatOf(*l).st_mode, S_IFLNK | 0777u);
}

TEST_F(TmpfsTest, SetGroupIdDirectoriesHandDownTheirGroup) {
  ASSERT_TRUE(
      root_->MakeChild("g", S_IFDIR | 02775, Creds{.uid = 0, .gid = 50}, "")
          .has_value());
  std::shared_ptr<Node> g = Get("g");
  ASSERT_TRUE(g->MakeChild("sub", S_IFDIR | 0755, creds_, "").has_value());
  ASSERT_TRUE(g->MakeChild("f", S_IFREG | 0644, creds_, "").has_value());
  EXPECT_EQ(StatOf(*Get("sub", g)).st_gid, 50u);
  EXPECT_EQ(StatOf(*Get("sub", g)).st_mode & S_ISGID, S_ISGID);
  EXPECT_EQ(StatOf(*Get("f", g)).st_gid, 50u);
}

TEST_F(TmpfsTest, DirectoryOffsetsSurviveUnlinks) {
  for (const char* n : {"a", "b", "c", "d"}) NewFile(n);
  ASSERT_OK_AND_ASSIGN(auto dir, root_->Open(O_RDONLY, "/"));
  // Read ".", "..", "a" one record at a time, then drop "b" and "c".
  std::vector<uint8_t> buf(32);
  std::vector<std::string> seen;
  for (int i = 0; i < 3; ++i) {
    ASSERT_GT(dir->Getdents64(buf).value(), 0u);
    seen.push_back(reinterpret_cast<const char*>(&buf[19]));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{".", "..", "a"}));
  ASSERT_TRUE(root_->Remove("b", *Get("b")).has_value());
  ASSERT_TRUE(root_->Remove("c", *Get("c")).has_value());
  EXPECT_EQ(ListDir(*dir), (std::map<std::string, int>{{"d", DT_REG}}));
  // Rewinding lists what is left.
  ASSERT_EQ(dir->Seek(0, SEEK_SET).value(), 0);
  EXPECT_EQ(ListDir(*dir).size(), 4u);  // . .. a d
  EXPECT_ERRNO(dir->Seek(0, SEEK_END), EINVAL);
  std::vector<uint8_t> tiny(8);
  ASSERT_EQ(dir->Seek(0, SEEK_SET).value(), 0);
  EXPECT_ERRNO(dir->Getdents64(tiny), EINVAL);
}

TEST_F(TmpfsTest, RenameReplacesMovesAndRefusesLoops) {
  NewFile("f");
  NewFile("g");
  std::shared_ptr<Node> f = Get("f");
  ASSERT_TRUE(root_->MakeChild("d", S_IFDIR | 0755, creds_, "").has_value());
  ASSERT_TRUE(root_->MakeChild("e", S_IFDIR | 0755, creds_, "").has_value());
  std::shared_ptr<Node> d = Get("d");
  std::shared_ptr<Node> e = Get("e");
  EXPECT_ERRNO(root_->Rename("f", *root_, "g", RENAME_NOREPLACE), EEXIST);
  EXPECT_ERRNO(root_->Rename("f", *root_, "d", 0), EISDIR);
  EXPECT_ERRNO(root_->Rename("d", *root_, "f", 0), ENOTDIR);
  EXPECT_ERRNO(root_->Rename("d", *d, "x", 0), EINVAL);         // into itself
  ASSERT_TRUE(root_->Rename("f", *root_, "g", 0).has_value());  // replaces
  EXPECT_EQ(Get("g"), f);
  EXPECT_ERRNO(root_->Lookup("f"), ENOENT);
  // A directory moves with its link counts.
  ASSERT_TRUE(root_->Rename("e", *d, "e2", 0).has_value());
  EXPECT_EQ(StatOf(*root_).st_nlink, 3u);
  EXPECT_EQ(StatOf(*d).st_nlink, 3u);
  EXPECT_ERRNO(d->Rename("e2", *e, "x", 0), EINVAL);
  // Replacing an empty directory; a full one is ENOTEMPTY.
  ASSERT_TRUE(root_->MakeChild("z", S_IFDIR | 0755, creds_, "").has_value());
  EXPECT_ERRNO(root_->Rename("z", *root_, "d", 0), ENOTEMPTY);
  ASSERT_TRUE(d->Rename("e2", *root_, "z", 0).has_value());
  EXPECT_EQ(Get("z"), e);
  EXPECT_EQ(StatOf(*root_).st_nlink, 4u);  // d, z
  // RENAME_EXCHANGE swaps a file and a directory.
  ASSERT_TRUE(root_->Rename("g", *root_, "z", RENAME_EXCHANGE).has_value());
  EXPECT_EQ(Get("g"), e);
  EXPECT_EQ(Get("z"), f);
  EXPECT_ERRNO(root_->Rename("g", *root_, "nope", RENAME_EXCHANGE), ENOENT);
}

TEST_F(TmpfsTest, TimesMoveWithChanges) {
  auto f = NewFile("t");
  std::shared_ptr<Node> n = Get("t");
  ASSERT_TRUE(n->SetAttr({.atime = timespec{100, 1}, .mtime = timespec{200, 2}})
                  .has_value());
  struct stat st = StatOf(*n);
  EXPECT_EQ(st.st_atim.tv_sec, 100);
  EXPECT_EQ(st.st_mtim.tv_nsec, 2);
  EXPECT_GT(st.st_ctim.tv_sec, 200);
  ASSERT_TRUE(WriteString(*f, "x").has_value());
  EXPECT_GT(StatOf(*n).st_mtim.tv_sec, 200);
  // relatime: a read moves an atime older than mtime.
  EXPECT_EQ(PRead(*f, 1, 0), "x");
  EXPECT_GT(StatOf(*n).st_atim.tv_sec, 100);
  ASSERT_TRUE(n->SetAttr({.atime = timespec{0, UTIME_OMIT},
                          .mtime = timespec{0, UTIME_NOW}})
                  .has_value());
  EXPECT_GT(StatOf(*n).st_atim.tv_sec, 100);
}

TEST_F(TmpfsTest, ForeignNodesAreOtherFilesystems) {
  auto other_mf = *mm::MemoryFile::Create(16 * P);
  auto other = Tmpfs::Create(*other_mf, {.dev_minor = kTmpfsFirstMinor + 1});
  auto other_root = other->Root({});
  NewFile("f");
  EXPECT_ERRNO(other_root->Link("f", *Get("f")), EXDEV);
  EXPECT_ERRNO(root_->Rename("f", *other_root, "f", 0), EXDEV);
  EXPECT_TRUE(IsTmpfsNode(*other_root));
}

}  // namespace
}  // namespace vfs
