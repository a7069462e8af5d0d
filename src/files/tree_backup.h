// Backs up directory trees into a snapshot: regular files (split into fixed, aligned chunks of
// the repository's chunk size), directories, symlinks, modes, owners and modification times.
//
// Files are read by a pool of workers, each chunk hashed, compressed, sealed and packed on the
// worker that read it. With a parent (the previous snapshot of the same kind and name), a file
// whose size, mtime, ctime and inode are unchanged is not read again: its chunk list is reused.
//
// A backup runs in phases, so that a producer can act between them (PostgreSQL's backup API
// must stop after the files are read and before the snapshot is saved):
//   AddRoot()... -> Read() -> AddFile()... -> Commit()
// Not thread-safe: one thread drives a TreeBackup (Read() uses workers internally).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/progress.h"
#include "files/tree_walk.h"
#include "repository/blob_writer.h"
#include "repository/repository.h"

namespace lifeboat {

struct TreeBackupOptions {
  std::string kind = "files";
  std::string name;
  unsigned workers = 0;     // 0: one per core, plus one
  bool use_parent = true;   // reuse chunk lists of unchanged files
  // Called with every chunk read (snapshot path, offset in the file, bytes), from the worker
  // threads: must be thread-safe. PostgreSQL backups verify page checksums here.
  std::function<void(const std::string& path, uint64_t offset, ByteSpan data)> inspect;
  // For a file that changed since the parent (snapshot path, chunk count of its current size):
  // which chunks may differ from the parent's. Chunks not flagged, complete in both versions
  // and still in the repository are taken from the parent without being read. nullopt, or no
  // function: read the file whole. PostgreSQL backups answer from the WAL's block references.
  std::function<std::optional<std::vector<bool>>(const std::string& path, uint64_t chunks)>
      changed_chunks;
};

struct TreeBackupResult {
  Id id;
  Snapshot snapshot;
  uint64_t files = 0;
  uint64_t files_read = 0;     // files whose content was read (not unchanged)
  uint64_t bytes_read = 0;
  uint64_t bytes_reused = 0;   // of files read, bytes taken from the parent unread
};

class TreeBackup {
 public:
  // REQUIRES: the caller holds a shared lock on `repo`, which outlives this object.
  TreeBackup(Repository* repo, TreeBackupOptions options);

  // Walks `path`; its entries appear under `prefix` ("" for the snapshot root). Roots with a
  // prefix get directory entries for the prefix's components.
  Status AddRoot(const std::string& prefix, const std::string& path,
                 const WalkFilter& filter = nullptr);
  // Reads every file that needs reading and stores its chunks.
  Status Read(Progress* progress);
  // Adds a file whose content is in memory (e.g. backup_label).
  Status AddFile(const std::string& path, ByteSpan content, uint32_t mode);
  // Writes the remaining data and index, then the manifest: the snapshot is listed from here.
  Result<TreeBackupResult> Commit(const nlohmann::json& metadata);

  UnixNanos started_at() const { return snap_.started_at; }
  // After Read(): bytes read from files, and bytes of changed files taken from the parent.
  uint64_t bytes_read() const { return bytes_read_; }
  uint64_t bytes_reused() const { return bytes_reused_; }
  // The parent snapshot (kind, name and host match; the newest), if any and if use_parent.
  Result<const Snapshot*> Parent();

 private:
  Status LoadParent();

  Repository* repo_;
  TreeBackupOptions options_;
  Snapshot snap_;
  BlobWriter writer_;
  struct Root {
    std::string prefix;  // where its entries appear in the snapshot
    std::string path;    // where it is on disk
  };
  std::vector<Root> roots_;
  std::vector<size_t> entry_root_;  // the root each entry came from (roots_.size(): none)
  std::optional<std::pair<Id, Snapshot>> parent_;
  std::unordered_map<std::string, const FileEntry*> parent_files_;
  bool parent_loaded_ = false;
  uint64_t files_ = 0;
  uint64_t files_read_ = 0;
  uint64_t bytes_read_ = 0;
  uint64_t bytes_reused_ = 0;
};

// The single-directory case: `lifeboat files backup`.
Result<TreeBackupResult> BackupTree(Repository& repo, const std::string& root,
                                    const TreeBackupOptions& options, Progress* progress);

}  // namespace lifeboat
