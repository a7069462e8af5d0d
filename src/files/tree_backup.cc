#include "files/tree_backup.h"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>

#include "base/fs.h"
#include "base/parallel.h"

namespace lifeboat {

namespace {

// Chunks per task: big files are split so that all workers share one large file.
constexpr uint64_t kChunksPerTask = 16;
// Timestamps come from a coarse clock: a file written in the same tick as the parent's backup
// began may have changed without a new mtime. Such files are read again ("racy" files).
constexpr UnixNanos kRacyWindow = 2'000'000'000;

struct ReadTask {
  size_t entry;
  uint64_t first_chunk;
  uint64_t chunk_count;
};



}  // namespace

TreeBackup::TreeBackup(Repository* repo, TreeBackupOptions options)
    : repo_(repo), options_(std::move(options)), writer_(repo) {
  snap_.kind = options_.kind;
  snap_.name = options_.name;
  snap_.hostname = Hostname();
  snap_.username = Username();
  snap_.started_at = NowNanos();
}

Status TreeBackup::LoadParent() {
  if (parent_loaded_ || !options_.use_parent) return Status::Ok();
  parent_loaded_ = true;
  LB_ASSIGN_OR_RETURN(auto all, repo_->LoadAllSnapshots());
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (it->second.kind == options_.kind && it->second.name == options_.name &&
        it->second.hostname == snap_.hostname) {
      parent_ = std::move(*it);
      break;
    }
  }
  if (parent_) {
    snap_.parent = parent_->first;
    for (const FileEntry& e : parent_->second.entries) {
      if (e.type == EntryType::kFile) parent_files_.emplace(e.path, &e);
    }
  }
  return Status::Ok();
}

Result<const Snapshot*> TreeBackup::Parent() {
  LB_RETURN_IF_ERROR(LoadParent());
  return parent_ ? &parent_->second : nullptr;
}

Status TreeBackup::AddRoot(const std::string& prefix, const std::string& path,
                           const WalkFilter& filter) {
  // Directory entries for the prefix's components that no earlier root created.
  if (!prefix.empty()) {
    size_t pos = 0;
    while ((pos = prefix.find('/', pos + 1)) != std::string::npos) {
      std::string dir = prefix.substr(0, pos);
      bool exists = false;
      for (const FileEntry& e : snap_.entries) exists = exists || e.path == dir;
      if (!exists) {
        FileEntry d;
        d.path = dir;
        d.type = EntryType::kDirectory;
        d.mode = 0700;
        d.mtime = snap_.started_at;
        d.uid = static_cast<uint32_t>(geteuid());
        d.gid = static_cast<uint32_t>(getegid());
        snap_.entries.push_back(d);
        entry_root_.push_back(roots_.size());
      }
    }
  }
  LB_ASSIGN_OR_RETURN(std::vector<FileEntry> entries, WalkTree(path, prefix, filter));
  size_t root = roots_.size();
  roots_.push_back({prefix, path});
  for (FileEntry& e : entries) {
    snap_.entries.push_back(std::move(e));
    entry_root_.push_back(root);
  }
  return Status::Ok();
}

Status TreeBackup::Read(Progress* progress) {
  LB_RETURN_IF_ERROR(LoadParent());
  const uint64_t chunk_size = repo_->config().chunk_size;
  UnixNanos racy_after = parent_ ? parent_->second.started_at - kRacyWindow : 0;
  std::vector<ReadTask> tasks;
  std::vector<std::vector<uint32_t>> lengths(snap_.entries.size());
  uint64_t to_read = 0;
  for (size_t i = 0; i < snap_.entries.size(); ++i) {
    FileEntry& e = snap_.entries[i];
    if (e.type != EntryType::kFile || !e.chunks.empty()) continue;
    ++files_;
    snap_.logical_bytes += e.size;
    uint64_t chunks = (e.size + chunk_size - 1) / chunk_size;
    std::vector<bool> read(chunks, true);
    auto p = parent_files_.find(e.path);
    if (p != parent_files_.end()) {
      const FileEntry& before = *p->second;
      bool unchanged = e.size == before.size && e.mtime == before.mtime &&
                       e.ctime == before.ctime && e.inode == before.inode &&
                       before.mtime < racy_after;
      for (const Id& c : before.chunks) unchanged = unchanged && repo_->index().Contains(c);
      if (unchanged) {
        e.chunks = before.chunks;
        continue;
      }
      std::optional<std::vector<bool>> changed;
      if (options_.changed_chunks) changed = options_.changed_chunks(e.path, chunks);
      if (changed && changed->size() == chunks) {
        // A chunk is taken from the parent only when it is whole in both versions.
        uint64_t whole = std::min(e.size, before.size) / chunk_size;
        for (uint64_t c = 0; c < whole; ++c) {
          read[c] = (*changed)[c] || !repo_->index().Contains(before.chunks[c]);
        }
      }
    }
    ++files_read_;
    e.chunks.resize(chunks);
    lengths[i].resize(chunks);
    for (uint64_t c = 0; c < chunks;) {
      if (!read[c]) {
        e.chunks[c] = p->second->chunks[c];
        lengths[i][c] = static_cast<uint32_t>(chunk_size);
        bytes_reused_ += chunk_size;
        ++c;
        continue;
      }
      uint64_t n = 0;
      while (c + n < chunks && read[c + n] && n < kChunksPerTask) ++n;
      tasks.push_back({i, c, n});
      to_read += std::min(e.size, (c + n) * chunk_size) - c * chunk_size;
      c += n;
    }
  }
  if (progress) {
    progress->SetTotal(to_read);
    progress->Start();
  }
  // One worker more than cores: while one waits for the disk, the others keep the CPUs busy.
  unsigned workers = options_.workers != 0 ? options_.workers : DefaultWorkers() + 1;
  Status s = RunParallel(tasks.size(), workers, [&](size_t t) -> Status {
    const ReadTask& task = tasks[t];
    FileEntry& e = snap_.entries[task.entry];
    // The entry's path is "<prefix>/<path below the root>", or just the latter at the top.
    const Root& root = roots_[entry_root_[task.entry]];
    std::string path =
        JoinPath(root.path, root.prefix.empty() ? e.path : e.path.substr(root.prefix.size() + 1));
    Result<UniqueFd> fd = OpenFile(path, O_RDONLY | O_NOFOLLOW);
    if (!fd.ok()) {
      if (fd.status().code() == Code::kNotFound) return Status::Ok();  // vanished: empty
      return fd.status();
    }
    // Sequential reads: let the kernel read ahead generously.
    (void)posix_fadvise(fd->get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    thread_local Bytes buf;
    buf.resize(chunk_size);
    for (uint64_t c = task.first_chunk; c < task.first_chunk + task.chunk_count; ++c) {
      uint64_t want = std::min<uint64_t>(chunk_size, e.size - c * chunk_size);
      size_t got = 0;
      // A file that shrinks while it is read is stored as far as it reached.
      while (got < want) {
        ssize_t n = ::pread(fd->get(), buf.data() + got, want - got,
                            static_cast<off_t>(c * chunk_size + got));
        if (n < 0) {
          if (errno == EINTR) continue;
          return ErrnoStatus("cannot read '" + path + "'", errno);
        }
        if (n == 0) break;
        got += static_cast<size_t>(n);
      }
      if (got == 0) break;
      if (options_.inspect) options_.inspect(e.path, c * chunk_size, ByteSpan(buf.data(), got));
      LB_ASSIGN_OR_RETURN(e.chunks[c], writer_.Add(ByteSpan(buf.data(), got)));
      lengths[task.entry][c] = static_cast<uint32_t>(got);
      if (progress) progress->Add(got);
    }
    return Status::Ok();
  });
  if (progress) progress->Finish();
  LB_RETURN_IF_ERROR(s);

  // Files that shrank while being read: trim to what was stored.
  for (size_t i = 0; i < snap_.entries.size(); ++i) {
    if (lengths[i].empty()) continue;
    FileEntry& e = snap_.entries[i];
    uint64_t size = 0;
    size_t n = 0;
    while (n < lengths[i].size() && lengths[i][n] != 0) size += lengths[i][n++];
    if (size != e.size) {
      snap_.logical_bytes -= e.size - size;
      e.size = size;
      e.chunks.resize(n);
    }
  }
  bytes_read_ += to_read;
  return Status::Ok();
}

Status TreeBackup::AddFile(const std::string& path, ByteSpan content, uint32_t mode) {
  FileEntry e;
  e.path = path;
  e.type = EntryType::kFile;
  e.mode = mode;
  e.mtime = NowNanos();
  e.size = content.size();
  e.uid = static_cast<uint32_t>(geteuid());
  e.gid = static_cast<uint32_t>(getegid());
  const uint64_t chunk_size = repo_->config().chunk_size;
  for (uint64_t off = 0; off < content.size(); off += chunk_size) {
    LB_ASSIGN_OR_RETURN(Id id, writer_.Add(content.subspan(off, std::min<uint64_t>(chunk_size, content.size() - off))));
    e.chunks.push_back(id);
  }
  ++files_;
  snap_.logical_bytes += e.size;
  snap_.entries.push_back(std::move(e));
  entry_root_.push_back(roots_.size());
  return Status::Ok();
}

Result<TreeBackupResult> TreeBackup::Commit(const nlohmann::json& metadata) {
  LB_RETURN_IF_ERROR(writer_.Flush());
  snap_.metadata = metadata;
  snap_.stored_bytes = writer_.stored_bytes();
  snap_.new_blobs = writer_.new_blobs();
  snap_.finished_at = NowNanos();
  TreeBackupResult result;
  LB_ASSIGN_OR_RETURN(result.id, repo_->SaveSnapshot(snap_));
  result.snapshot = snap_;
  result.files = files_;
  result.files_read = files_read_;
  result.bytes_read = bytes_read_;
  result.bytes_reused = bytes_reused_;
  return result;
}

Result<TreeBackupResult> BackupTree(Repository& repo, const std::string& root,
                                    const TreeBackupOptions& options, Progress* progress) {
  TreeBackup backup(&repo, options);
  LB_RETURN_IF_ERROR(backup.AddRoot("", root));
  LB_RETURN_IF_ERROR(backup.Read(progress));
  return backup.Commit(nlohmann::json::object());
}

}  // namespace lifeboat
