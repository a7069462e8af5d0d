#include "files/tree_backup.h"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <unordered_map>

#include "base/fs.h"
#include "base/parallel.h"
#include "files/tree_walk.h"
#include "repository/blob_writer.h"

namespace lifeboat {

namespace {

// Chunks per task: big files are split so that both cores share one large file.
constexpr uint64_t kChunksPerTask = 16;

struct ReadTask {
  size_t entry;         // index into the entry list
  uint64_t first_chunk;
  uint64_t chunk_count;
};

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

std::string Username() {
  struct passwd* pw = getpwuid(geteuid());
  return pw != nullptr ? pw->pw_name : std::to_string(geteuid());
}

// The newest snapshot of the same kind and name, whose unchanged files need not be read.
Result<std::optional<std::pair<Id, Snapshot>>> FindParent(Repository& repo,
                                                         const TreeBackupOptions& options) {
  LB_ASSIGN_OR_RETURN(auto all, repo.LoadAllSnapshots());
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (it->second.kind == options.kind && it->second.name == options.name &&
        it->second.hostname == Hostname()) {
      return std::optional<std::pair<Id, Snapshot>>(std::move(*it));
    }
  }
  return std::optional<std::pair<Id, Snapshot>>();
}

bool Unchanged(const FileEntry& now, const FileEntry& before, Repository& repo) {
  if (now.size != before.size || now.mtime != before.mtime || now.ctime != before.ctime ||
      now.inode != before.inode) {
    return false;
  }
  for (const Id& c : before.chunks) {
    if (!repo.index().Contains(c)) return false;
  }
  return true;
}

}  // namespace

Result<TreeBackupResult> BackupTree(Repository& repo, const std::string& root,
                                    const TreeBackupOptions& options, Progress* progress) {
  TreeBackupResult result;
  Snapshot& snap = result.snapshot;
  snap.kind = options.kind;
  snap.name = options.name;
  snap.hostname = Hostname();
  snap.username = Username();
  snap.metadata = options.metadata;
  snap.started_at = NowNanos();

  LB_ASSIGN_OR_RETURN(snap.entries, WalkTree(root));

  std::unordered_map<std::string, const FileEntry*> parent_files;
  std::optional<std::pair<Id, Snapshot>> parent;
  if (options.use_parent) {
    LB_ASSIGN_OR_RETURN(parent, FindParent(repo, options));
    if (parent) {
      snap.parent = parent->first;
      for (const FileEntry& e : parent->second.entries) {
        if (e.type == EntryType::kFile) parent_files.emplace(e.path, &e);
      }
    }
  }

  const uint64_t chunk_size = repo.config().chunk_size;
  std::vector<ReadTask> tasks;
  std::vector<std::vector<uint32_t>> chunk_lengths(snap.entries.size());
  uint64_t to_read = 0;
  for (size_t i = 0; i < snap.entries.size(); ++i) {
    FileEntry& e = snap.entries[i];
    if (e.type != EntryType::kFile) continue;
    ++result.files;
    snap.logical_bytes += e.size;
    auto p = parent_files.find(e.path);
    if (p != parent_files.end() && Unchanged(e, *p->second, repo)) {
      e.chunks = p->second->chunks;
      continue;
    }
    ++result.files_read;
    to_read += e.size;
    uint64_t chunks = (e.size + chunk_size - 1) / chunk_size;
    e.chunks.resize(chunks);
    chunk_lengths[i].resize(chunks);
    for (uint64_t c = 0; c < chunks; c += kChunksPerTask) {
      tasks.push_back({i, c, std::min(kChunksPerTask, chunks - c)});
    }
  }
  if (progress) {
    progress->SetTotal(to_read);
    progress->Start();
  }

  BlobWriter writer(&repo);
  // One worker more than cores: while one waits for the disk, the others keep the CPUs busy.
  unsigned workers = options.workers != 0 ? options.workers : DefaultWorkers() + 1;
  Status s = RunParallel(tasks.size(), workers, [&](size_t t) -> Status {
    const ReadTask& task = tasks[t];
    FileEntry& e = snap.entries[task.entry];
    std::string path = JoinPath(root, e.path);
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
      LB_ASSIGN_OR_RETURN(e.chunks[c], writer.Add(ByteSpan(buf.data(), got)));
      chunk_lengths[task.entry][c] = static_cast<uint32_t>(got);
      if (progress) progress->Add(got);
    }
    return Status::Ok();
  });
  if (s.ok()) s = writer.Flush();
  if (progress) progress->Finish();
  if (!s.ok()) return s;

  // Files that shrank while being read: trim to what was stored.
  for (size_t i = 0; i < snap.entries.size(); ++i) {
    if (chunk_lengths[i].empty()) continue;
    FileEntry& e = snap.entries[i];
    uint64_t size = 0;
    size_t n = 0;
    while (n < chunk_lengths[i].size() && chunk_lengths[i][n] != 0) size += chunk_lengths[i][n++];
    if (size != e.size) {
      snap.logical_bytes -= e.size - size;
      e.size = size;
      e.chunks.resize(n);
    }
  }
  result.bytes_read = to_read;
  snap.stored_bytes = writer.stored_bytes();
  snap.new_blobs = writer.new_blobs();
  snap.finished_at = NowNanos();
  LB_ASSIGN_OR_RETURN(result.id, repo.SaveSnapshot(snap));
  return result;
}

}  // namespace lifeboat
