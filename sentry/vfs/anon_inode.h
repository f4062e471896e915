// What fstat(2) shows for the files of this directory: Linux's
// anon_inodefs, one inode shared by every eventfd, timerfd, signalfd and
// epoll instance.
#ifndef SENTRY_VFS_ANON_INODE_H_
#define SENTRY_VFS_ANON_INODE_H_

#include <sys/stat.h>
#include <sys/sysmacros.h>

namespace vfs {

inline struct stat AnonInodeStat() {
  struct stat st {};
  st.st_dev = makedev(0, 14);
  st.st_ino = 1;
  st.st_mode = S_IRUSR | S_IWUSR;
  st.st_nlink = 1;
  st.st_blksize = 4096;
  return st;
}

}  // namespace vfs

#endif  // SENTRY_VFS_ANON_INODE_H_
