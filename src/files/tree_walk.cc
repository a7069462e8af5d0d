#include "files/tree_walk.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace lifeboat {

namespace {

UnixNanos ToNanos(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Fills `e` from `st`; returns false for types that are not backed up.
bool FromStat(const struct stat& st, FileEntry* e) {
  if (S_ISDIR(st.st_mode)) e->type = EntryType::kDirectory;
  else if (S_ISREG(st.st_mode)) e->type = EntryType::kFile;
  else if (S_ISLNK(st.st_mode)) e->type = EntryType::kSymlink;
  else return false;
  e->mode = st.st_mode & 07777;
  e->mtime = ToNanos(st.st_mtim);
  e->ctime = ToNanos(st.st_ctim);
  e->inode = st.st_ino;
  e->uid = st.st_uid;
  e->gid = st.st_gid;
  e->size = e->type == EntryType::kFile ? static_cast<uint64_t>(st.st_size) : 0;
  return true;
}

Status Walk(const std::string& dir, const std::string& rel, const std::string& prefix,
            const WalkFilter& filter, std::vector<FileEntry>* out) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return Status::Ok();
    return ErrnoStatus("cannot read directory '" + dir + "'", errno);
  }
  std::vector<std::string> names;
  while (struct dirent* ent = ::readdir(d)) {
    std::string n = ent->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    std::string path = dir + "/" + n;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;
      return ErrnoStatus("cannot stat '" + path + "'", errno);
    }
    FileEntry e;
    if (!FromStat(st, &e)) continue;
    std::string child_rel = rel.empty() ? n : rel + "/" + n;
    WalkDecision decision = filter ? filter(child_rel, e.type) : WalkDecision::kInclude;
    if (decision == WalkDecision::kSkip) continue;
    e.path = prefix.empty() ? child_rel : prefix + "/" + child_rel;
    if (e.type == EntryType::kSymlink) {
      std::string target(static_cast<size_t>(st.st_size) + 256, '\0');
      ssize_t len = ::readlink(path.c_str(), target.data(), target.size());
      if (len < 0) {
        if (errno == ENOENT) continue;
        return ErrnoStatus("cannot read link '" + path + "'", errno);
      }
      target.resize(static_cast<size_t>(len));
      e.target = std::move(target);
    }
    bool descend = e.type == EntryType::kDirectory && decision == WalkDecision::kInclude;
    out->push_back(std::move(e));
    if (descend) LB_RETURN_IF_ERROR(Walk(path, child_rel, prefix, filter, out));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<FileEntry>> WalkTree(const std::string& root, const std::string& prefix,
                                        const WalkFilter& filter) {
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0) return ErrnoStatus("cannot back up '" + root + "'", errno);
  if (!S_ISDIR(st.st_mode)) {
    return Status::Usage("cannot back up '" + root + "': not a directory",
                         "give the directory that holds the files");
  }
  std::vector<FileEntry> out;
  FileEntry e;
  FromStat(st, &e);
  e.path = prefix.empty() ? "." : prefix;
  out.push_back(std::move(e));
  LB_RETURN_IF_ERROR(Walk(root, "", prefix, filter, &out));
  return out;
}

}  // namespace lifeboat
