#include "files/tree_restore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <memory>

#include "base/fs.h"
#include "base/parallel.h"

namespace lifeboat {

namespace {

constexpr size_t kChunksPerTask = 16;
constexpr const char* kPartialSuffix = ".lifeboat-partial";

bool SafeRelativePath(const std::string& p) {
  if (p == ".") return true;
  if (p.empty() || p.front() == '/') return false;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    std::string_view part(p.data() + start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

struct timespec ToTimespec(UnixNanos t) {
  struct timespec ts {};
  ts.tv_sec = static_cast<time_t>(t / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(t % 1'000'000'000);
  return ts;
}

Status SetAttributes(const std::string& path, const FileEntry& e, bool is_link) {
  if (geteuid() == 0 && ::lchown(path.c_str(), e.uid, e.gid) != 0) {
    return ErrnoStatus("cannot set owner of '" + path + "'", errno);
  }
  if (!is_link && ::chmod(path.c_str(), e.mode) != 0) {
    return ErrnoStatus("cannot set mode of '" + path + "'", errno);
  }
  struct timespec times[2] = {ToTimespec(e.mtime), ToTimespec(e.mtime)};
  if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoStatus("cannot set times of '" + path + "'", errno);
  }
  return Status::Ok();
}

// One file being written: open under its temporary name until its last chunk lands.
struct OpenFileState {
  UniqueFd fd;
  std::string partial;
  std::string final_path;
  std::atomic<size_t> chunks_left{0};
  bool done = false;
};

struct Task {
  size_t entry;
  size_t first_chunk;
  size_t chunk_count;
};

}  // namespace

Result<TreeRestoreResult> RestoreTree(Repository& repo, const Snapshot& snapshot,
                                      const std::string& target, Progress* progress,
                                      unsigned workers) {
  LB_ASSIGN_OR_RETURN(bool empty, IsMissingOrEmptyDir(target));
  if (!empty) {
    return Status::Usage("cannot restore into '" + target + "': the directory is not empty",
                         "restore into a new or empty directory");
  }
  for (const FileEntry& e : snapshot.entries) {
    if (!SafeRelativePath(e.path)) {
      return Status::Corruption("snapshot holds an unsafe path '" + e.path + "'");
    }
  }
  LB_RETURN_IF_ERROR(MakeDirs(target, 0700));

  TreeRestoreResult result;
  const size_t n = snapshot.entries.size();
  std::vector<std::unique_ptr<OpenFileState>> files(n);
  std::vector<Task> tasks;
  uint64_t total = 0;

  // Directories first (owner-only until their attributes are set at the end), then files
  // under temporary names, then symlinks.
  for (size_t i = 0; i < n; ++i) {
    const FileEntry& e = snapshot.entries[i];
    if (e.type != EntryType::kDirectory || e.path == ".") continue;
    std::string path = JoinPath(target, e.path);
    if (::mkdir(path.c_str(), 0700) != 0) return ErrnoStatus("cannot create '" + path + "'", errno);
    ++result.directories;
  }

  Status s;
  auto cleanup = [&] {
    for (auto& f : files) {
      if (f && !f->done) ::unlink(f->partial.c_str());
    }
  };
  for (size_t i = 0; i < n && s.ok(); ++i) {
    const FileEntry& e = snapshot.entries[i];
    if (e.type != EntryType::kFile) continue;
    auto f = std::make_unique<OpenFileState>();
    f->final_path = JoinPath(target, e.path);
    f->partial = JoinPath(Dirname(f->final_path), "." + Basename(e.path) + kPartialSuffix);
    Result<UniqueFd> fd = OpenFile(f->partial, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (!fd.ok()) {
      s = fd.status();
      break;
    }
    f->fd = std::move(fd).value();
    f->chunks_left = e.chunks.size();
    files[i] = std::move(f);
    total += e.size;
    for (size_t c = 0; c < e.chunks.size(); c += kChunksPerTask) {
      tasks.push_back({i, c, std::min(kChunksPerTask, e.chunks.size() - c)});
    }
  }
  if (!s.ok()) {
    cleanup();
    return s;
  }
  if (progress) {
    progress->SetTotal(total);
    progress->Start();
  }

  // Completes a file whose chunks have all been written and verified. Durability comes at the
  // end, from one syncfs() for the whole tree: far cheaper than an fsync per file, and the
  // restore is not reported done before it.
  auto finish_file = [&](size_t i) -> Status {
    OpenFileState& f = *files[i];
    const FileEntry& e = snapshot.entries[i];
    f.fd = UniqueFd();
    LB_RETURN_IF_ERROR(SetAttributes(f.partial, e, false));
    if (::rename(f.partial.c_str(), f.final_path.c_str()) != 0) {
      return ErrnoStatus("cannot rename '" + f.partial + "'", errno);
    }
    f.done = true;
    return Status::Ok();
  };

  uint64_t chunk_size = repo.config().chunk_size;
  // One worker more than cores: while one waits for the disk, the others decrypt.
  if (workers == 0) workers = DefaultWorkers() + 1;
  s = RunParallel(tasks.size(), workers, [&](size_t t) -> Status {
    const Task& task = tasks[t];
    OpenFileState& f = *files[task.entry];
    const FileEntry& e = snapshot.entries[task.entry];
    uint64_t offset = task.first_chunk * chunk_size;
    // Chunks are fixed-size except the last, so a chunk's offset follows from its position.
    for (size_t c = task.first_chunk; c < task.first_chunk + task.chunk_count; ++c) {
      Result<Bytes> blob = repo.ReadBlob(e.chunks[c]);
      if (!blob.ok()) return blob.status().Context("cannot restore '" + e.path + "'");
      LB_RETURN_IF_ERROR(PwriteAll(f.fd.get(), blob->data(), blob->size(), offset, f.partial));
      offset += blob->size();
      if (progress) progress->Add(blob->size());
    }
    if (f.chunks_left.fetch_sub(task.chunk_count) == task.chunk_count) {
      return finish_file(task.entry);
    }
    return Status::Ok();
  });
  // Files without chunks (empty files) have no task.
  for (size_t i = 0; i < n && s.ok(); ++i) {
    if (files[i] && snapshot.entries[i].chunks.empty()) s = finish_file(i);
  }
  if (progress) progress->Finish();
  if (!s.ok()) {
    cleanup();
    return s;
  }

  for (size_t i = 0; i < n; ++i) {
    const FileEntry& e = snapshot.entries[i];
    if (e.type == EntryType::kFile) {
      ++result.files;
      result.bytes += e.size;
    } else if (e.type == EntryType::kSymlink) {
      std::string path = JoinPath(target, e.path);
      if (::symlink(e.target.c_str(), path.c_str()) != 0) {
        return ErrnoStatus("cannot create symlink '" + path + "'", errno);
      }
      LB_RETURN_IF_ERROR(SetAttributes(path, e, true));
      ++result.symlinks;
    }
  }
  // Directory attributes last, deepest first, so creating their content does not change them.
  for (size_t i = n; i-- > 0;) {
    const FileEntry& e = snapshot.entries[i];
    if (e.type != EntryType::kDirectory) continue;
    std::string path = e.path == "." ? target : JoinPath(target, e.path);
    LB_RETURN_IF_ERROR(SetAttributes(path, e, false));
  }
  // Every file, rename and directory of the restore becomes durable here.
  LB_ASSIGN_OR_RETURN(UniqueFd root, OpenFile(target, O_RDONLY | O_DIRECTORY));
  if (::syncfs(root.get()) != 0) return ErrnoStatus("cannot sync '" + target + "'", errno);
  LB_RETURN_IF_ERROR(FsyncDir(Dirname(target)));
  return result;
}

}  // namespace lifeboat
