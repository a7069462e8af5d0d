// Backs up a directory tree into a snapshot: regular files (split into fixed, aligned chunks of
// the repository's chunk size), directories, symlinks, modes, owners and modification times.
//
// Files are read by a pool of workers, each chunk hashed, compressed, sealed and packed on the
// worker that read it. A file whose size, mtime, ctime and inode match the previous snapshot of
// the same name (the parent) is not read again: its chunk list is reused.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/progress.h"
#include "repository/repository.h"

namespace lifeboat {

struct TreeBackupOptions {
  std::string kind = "files";
  std::string name;
  nlohmann::json metadata = nlohmann::json::object();
  unsigned workers = 0;     // 0: one per core, plus one
  bool use_parent = true;   // reuse chunk lists of unchanged files
};

struct TreeBackupResult {
  Id id;
  Snapshot snapshot;
  uint64_t files = 0;
  uint64_t files_read = 0;     // files whose content was read (not unchanged)
  uint64_t bytes_read = 0;
};

// REQUIRES: the caller holds a shared lock on `repo`. `progress` may be null.
Result<TreeBackupResult> BackupTree(Repository& repo, const std::string& root,
                                    const TreeBackupOptions& options, Progress* progress);

}  // namespace lifeboat
