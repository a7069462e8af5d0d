// Thin, errno-translating wrappers over POSIX file calls. Every function returns a Status that
// names the path it failed on.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/bytes.h"
#include "base/result.h"

namespace lifeboat {

// An owned file descriptor, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// An exclusive flock(2) on a lock file, held for the object's lifetime: the one-writer rule for
// local state files (registries, service state). Blocks while another process holds it.
class FileLock {
 public:
  static Result<FileLock> Take(const std::string& path, const std::string& what);

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

Result<UniqueFd> OpenFile(const std::string& path, int flags, mode_t mode = 0644);
Result<Bytes> ReadFile(const std::string& path);
// Reads exactly `length` bytes at `offset`; a short file is an error.
Status PreadExact(int fd, void* buf, size_t length, uint64_t offset, const std::string& path);
Status WriteAll(int fd, const void* buf, size_t length, const std::string& path);
Status PwriteAll(int fd, const void* buf, size_t length, uint64_t offset, const std::string& path);
Status FsyncFd(int fd, const std::string& path);
Status FsyncDir(const std::string& dir);

// The durable-write protocol: write `path`.tmp-<random>, fsync, rename over `path`, fsync the
// directory. Readers see either nothing or the whole file.
Status WriteFileDurable(const std::string& path, ByteSpan data, mode_t mode = 0644);

// unlink(2); a missing file is fine.
Status RemoveFile(const std::string& path);

// mkdir -p; existing directories are fine.
Status MakeDirs(const std::string& path, mode_t mode = 0755);
// True when `path` does not exist or is an empty directory.
Result<bool> IsMissingOrEmptyDir(const std::string& path);
// True when `path` names a file or directory (a symlink counts by its target).
bool PathExists(const std::string& path);
// The pid written at the start of the lock file `path` while some process holds an exclusive
// flock on it (0 when the file holds no number); nullopt when nobody holds it or it is missing.
std::optional<pid_t> LockHolder(const std::string& path);
// True when `path` is relative and each of its '/'-separated parts is a name: none empty (no
// leading, trailing or doubled '/'), none "." or "..". Object keys and the paths a snapshot
// restores must be such paths, so that they cannot reach outside their root.
bool IsSafeRelativePath(std::string_view path);
// The canonical absolute path, or `path` itself when it cannot be resolved (it does not exist).
std::string RealPath(const std::string& path);
// `path` made absolute against the working directory (not resolved; as is when it fails).
std::string AbsolutePath(const std::string& path);
// The filesystem that holds `path`, or its nearest existing parent: bytes free for an
// unprivileged writer and in all.
struct FsSpace {
  uint64_t free_bytes = 0, total_bytes = 0;
};
Result<FsSpace> FreeSpace(const std::string& path);
// This machine's name and the effective user's name, for locks and snapshot records.
std::string Hostname();
std::string Username();
std::string Dirname(const std::string& path);
std::string Basename(const std::string& path);
std::string JoinPath(const std::string& a, const std::string& b);

// A seam for crash simulation (tests/unit/power_cut_test.cc): while one is installed, every
// operation of this module that changes the filesystem reports to it just before it acts, and
// fails with EIO when the observer returns false (after a simulated power cut, nothing more
// reaches the disk). Only for tests: installing is not synchronised with running operations.
class FsObserver {
 public:
  virtual ~FsObserver() = default;
  virtual bool OnCreate(const std::string& path) = 0;  // a new file or directory
  virtual bool OnWrite(const std::string& path) = 0;
  virtual bool OnSync(const std::string& path) = 0;    // a file's data or a directory's entries
  virtual bool OnRename(const std::string& from, const std::string& to) = 0;
  virtual bool OnRemove(const std::string& path) = 0;
};
void SetFsObserver(FsObserver* observer);  // nullptr: none

}  // namespace lifeboat
