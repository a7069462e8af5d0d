#include "base/fs.h"

#include <dirent.h>
#include <limits.h>
#include <pwd.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <random>

namespace lifeboat {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

Result<FileLock> FileLock::Take(const std::string& path, const std::string& what) {
  LB_RETURN_IF_ERROR(MakeDirs(Dirname(path), 0700));
  LB_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  while (flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return ErrnoStatus("cannot lock " + what, errno);
  }
  return FileLock(std::move(fd));
}

namespace {

std::atomic<FsObserver*> g_observer{nullptr};

// Reports to the observer, if any; false means: fail as a disk that lost power would.
template <typename F>
bool Observe(F&& report) {
  FsObserver* o = g_observer.load(std::memory_order_acquire);
  return o == nullptr || report(o);
}

Status PowerCut(const std::string& what, const std::string& path) {
  return ErrnoStatus(what + " '" + path + "'", EIO);
}

}  // namespace

void SetFsObserver(FsObserver* observer) { g_observer.store(observer, std::memory_order_release); }

Result<UniqueFd> OpenFile(const std::string& path, int flags, mode_t mode) {
  if ((flags & O_CREAT) != 0 && ::access(path.c_str(), F_OK) != 0 &&
      !Observe([&](FsObserver* o) { return o->OnCreate(path); })) {
    return PowerCut("cannot open", path);
  }
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus("cannot open '" + path + "'", errno);
  return UniqueFd(fd);
}

Result<Bytes> ReadFile(const std::string& path) {
  LB_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDONLY));
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return ErrnoStatus("cannot stat '" + path + "'", errno);
  // Reads to end of file, not to st_size: files under /proc report a size of 0.
  Bytes out(static_cast<size_t>(st.st_size) + 1);
  size_t got = 0;
  while (true) {
    if (got == out.size()) out.resize(out.size() * 2);
    ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot read '" + path + "'", errno);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

Status PreadExact(int fd, void* buf, size_t length, uint64_t offset, const std::string& path) {
  auto* p = static_cast<uint8_t*>(buf);
  size_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd, p + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot read '" + path + "'", errno);
    }
    if (n == 0) {
      return Status::IO("cannot read '" + path + "': file ends at " +
                        std::to_string(offset + done) + ", expected " +
                        std::to_string(offset + length) + " bytes");
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status WriteAll(int fd, const void* buf, size_t length, const std::string& path) {
  if (!Observe([&](FsObserver* o) { return o->OnWrite(path); })) return PowerCut("cannot write", path);
  const auto* p = static_cast<const uint8_t*>(buf);
  size_t done = 0;
  while (done < length) {
    ssize_t n = ::write(fd, p + done, length - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot write '" + path + "'", errno);
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status PwriteAll(int fd, const void* buf, size_t length, uint64_t offset, const std::string& path) {
  if (!Observe([&](FsObserver* o) { return o->OnWrite(path); })) return PowerCut("cannot write", path);
  const auto* p = static_cast<const uint8_t*>(buf);
  size_t done = 0;
  while (done < length) {
    ssize_t n = ::pwrite(fd, p + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot write '" + path + "'", errno);
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status FsyncFd(int fd, const std::string& path) {
  if (!Observe([&](FsObserver* o) { return o->OnSync(path); })) return PowerCut("cannot fsync", path);
  if (::fsync(fd) != 0) return ErrnoStatus("cannot fsync '" + path + "'", errno);
  return Status::Ok();
}

Status FsyncDir(const std::string& dir) {
  LB_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(dir, O_RDONLY | O_DIRECTORY));
  return FsyncFd(fd.get(), dir);
}

static std::string RandomSuffix() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(12, '0');
  uint64_t v = rng();
  for (char& c : s) {
    c = kDigits[v & 0xf];
    v >>= 4;
  }
  return s;
}

Status WriteFileDurable(const std::string& path, ByteSpan data, mode_t mode) {
  std::string tmp = path + ".tmp-" + RandomSuffix();
  {
    LB_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(tmp, O_WRONLY | O_CREAT | O_EXCL, mode));
    Status s = WriteAll(fd.get(), data.data(), data.size(), tmp);
    if (s.ok()) s = FsyncFd(fd.get(), tmp);
    if (!s.ok()) {
      ::unlink(tmp.c_str());
      return s;
    }
  }
  if (!Observe([&](FsObserver* o) { return o->OnRename(tmp, path); })) {
    return PowerCut("cannot rename", tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus("cannot rename '" + tmp + "' to '" + path + "'", err);
  }
  return FsyncDir(Dirname(path));
}

Status RemoveFile(const std::string& path) {
  if (!Observe([&](FsObserver* o) { return o->OnRemove(path); })) return PowerCut("cannot remove", path);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus("cannot remove '" + path + "'", errno);
  }
  return Status::Ok();
}

bool PathExists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

Status MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) return Status::Ok();
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    return Status::IO("cannot create directory '" + path + "': a file of that name exists");
  }
  std::string parent = Dirname(path);
  if (parent != path) LB_RETURN_IF_ERROR(MakeDirs(parent, mode));
  if (!Observe([&](FsObserver* o) { return o->OnCreate(path); })) {
    return PowerCut("cannot create directory", path);
  }
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    return ErrnoStatus("cannot create directory '" + path + "'", errno);
  }
  return Status::Ok();
}

Result<bool> IsMissingOrEmptyDir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return true;
    return ErrnoStatus("cannot open directory '" + path + "'", errno);
  }
  bool empty = true;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  return empty;
}

Result<FsSpace> FreeSpace(const std::string& path) {
  std::string p = path.empty() ? "." : path;
  struct statvfs v;
  while (::statvfs(p.c_str(), &v) != 0) {
    if (errno != ENOENT || p == "/" || p == ".") return ErrnoStatus("cannot read the free space of '" + path + "'", errno);
    p = Dirname(p);
  }
  return FsSpace{static_cast<uint64_t>(v.f_bavail) * v.f_frsize, static_cast<uint64_t>(v.f_blocks) * v.f_frsize};
}

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) != nullptr ? std::string(buf) : path;
}

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

std::string Username() {
  struct passwd* pw = getpwuid(geteuid());
  return pw != nullptr ? pw->pw_name : std::to_string(geteuid());
}

std::string Dirname(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string Basename(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

bool IsSafeRelativePath(std::string_view path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

}  // namespace lifeboat

namespace lifeboat {

std::optional<pid_t> LockHolder(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  // The holder keeps an exclusive flock for its life: a shared one fails while it runs.
  bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  ::close(fd);
  if (!held) return std::nullopt;
  return static_cast<pid_t>(n > 0 ? std::atoll(buf) : 0);
}

}  // namespace lifeboat

namespace lifeboat {

std::string AbsolutePath(const std::string& path) {
  if (!path.empty() && path.front() == '/') return path;
  char buf[4096];
  if (getcwd(buf, sizeof(buf)) == nullptr) return path;
  return JoinPath(buf, path);
}

}  // namespace lifeboat
