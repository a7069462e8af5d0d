#include "storage/local/local_backend.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <vector>

#include "base/fs.h"

namespace lifeboat {

LocalBackend::LocalBackend(std::string root, mode_t file_mode)
    : root_(std::move(root)), file_mode_(file_mode) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

const Capabilities& LocalBackend::capabilities() const {
  static const Capabilities kCaps{.durable_put = true, .range_reads = true, .consistent_list = true};
  return kCaps;
}

Status LocalBackend::Put(const std::string& key, ByteSpan data) {
  LB_RETURN_IF_ERROR(ValidateKey(key));
  std::string path = PathOf(key);
  std::string dir = Dirname(path);
  if (::access(dir.c_str(), F_OK) != 0) {
    // The root is never created here: a repository directory that was moved, removed or
    // unmounted must fail the write, not get a stranger in its place that swallows the data.
    if (::access(root_.c_str(), F_OK) != 0) {
      return Status::IO("cannot store '" + key + "': the repository directory '" + root_ + "' is gone",
                        "it was moved, removed or unmounted; put it back (or 'lifeboat repo init' a new one)");
    }
    // Every directory this creates ("data" and "data/ab" in a new repository) is an entry in
    // its parent, which must be durable before the object counts as stored: fsync each parent.
    std::vector<std::string> created;
    for (std::string d = dir; d.size() > root_.size() && ::access(d.c_str(), F_OK) != 0; d = Dirname(d)) {
      created.push_back(d);
    }
    LB_RETURN_IF_ERROR(MakeDirs(dir, 0700));
    for (const std::string& d : created) LB_RETURN_IF_ERROR(FsyncDir(Dirname(d)));
  }
  return WriteFileDurable(path, data, file_mode_);
}

Result<Bytes> LocalBackend::Get(const std::string& key) {
  LB_RETURN_IF_ERROR(ValidateKey(key));
  return ReadFile(PathOf(key));
}

Result<Bytes> LocalBackend::GetRange(const std::string& key, uint64_t offset, size_t length) {
  LB_RETURN_IF_ERROR(ValidateKey(key));
  std::string path = PathOf(key);
  LB_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDONLY));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("cannot stat '" + path + "'", errno);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (offset > size || size - offset < length) {
    return Status::IO("cannot read '" + key + "': range beyond the end of the object");
  }
  Bytes out(length);
  LB_RETURN_IF_ERROR(PreadExact(fd.get(), out.data(), length, offset, path));
  return out;
}

namespace {

// Appends every regular file below `dir` (relative key `rel`) whose key starts with `prefix`.
Status Walk(const std::string& dir, const std::string& rel, const std::string& prefix,
            std::vector<ObjectInfo>* out) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return Status::Ok();
    return ErrnoStatus("cannot list '" + dir + "'", errno);
  }
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || name.find(".tmp-") != std::string::npos) continue;
    names.push_back(std::move(name));
  }
  ::closedir(d);
  for (const std::string& name : names) {
    std::string key = rel.empty() ? name : rel + "/" + name;
    // Prune directories that cannot contain a matching key.
    size_t n = std::min(key.size(), prefix.size());
    if (key.compare(0, n, prefix, 0, n) != 0) continue;
    std::string path = dir + "/" + name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;  // deleted while listing
      return ErrnoStatus("cannot stat '" + path + "'", errno);
    }
    if (S_ISDIR(st.st_mode)) {
      LB_RETURN_IF_ERROR(Walk(path, key, prefix, out));
    } else if (S_ISREG(st.st_mode) && key.size() >= prefix.size()) {
      out->push_back({key, static_cast<uint64_t>(st.st_size)});
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<ObjectInfo>> LocalBackend::List(const std::string& prefix) {
  std::vector<ObjectInfo> out;
  LB_RETURN_IF_ERROR(Walk(root_, "", prefix, &out));
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Result<ObjectInfo> LocalBackend::Stat(const std::string& key) {
  LB_RETURN_IF_ERROR(ValidateKey(key));
  std::string path = PathOf(key);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("cannot stat '" + path + "'", errno);
  return ObjectInfo{key, static_cast<uint64_t>(st.st_size)};
}

namespace {

Status RemoveTemporaries(const std::string& dir, time_t cutoff, uint64_t* removed) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return errno == ENOENT ? Status::Ok() : ErrnoStatus("cannot list '" + dir + "'", errno);
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(d);
  for (const std::string& name : names) {
    std::string path = dir + "/" + name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      LB_RETURN_IF_ERROR(RemoveTemporaries(path, cutoff, removed));
    } else if (name.find(".tmp-") != std::string::npos && st.st_mtime <= cutoff) {
      if (RemoveFile(path).ok()) ++*removed;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<uint64_t> LocalBackend::RemoveIncomplete(int64_t min_age_seconds) {
  uint64_t removed = 0;
  LB_RETURN_IF_ERROR(RemoveTemporaries(root_, ::time(nullptr) - min_age_seconds, &removed));
  return removed;
}

Status LocalBackend::Delete(const std::string& key) {
  LB_RETURN_IF_ERROR(ValidateKey(key));
  return RemoveFile(PathOf(key));
}

}  // namespace lifeboat
