// `prune`: frees data no snapshot references. Packs that are entirely unused are deleted;
// packs that are mostly unused are repacked (their live blobs copied into new packs); packs
// written by interrupted operations and named by no index are deleted.
//
// Order, so that a crash at any point loses nothing that a snapshot references:
//   1. repacked blobs are written to new packs, indexed;
//   2. one new index file naming every kept pack is written;
//   3. the old index files are deleted;
//   4. unused packs are deleted.
// REQUIRES: the caller holds an exclusive lock.
#pragma once

#include "repository/repository.h"

namespace lifeboat {

struct PruneOptions {
  bool dry_run = false;
  // A partly used pack is repacked when more than this share of its bytes is unused.
  double repack_threshold = 0.10;
  // Temporary files of interrupted writes older than this are removed.
  int64_t incomplete_min_age_seconds = 60;
};

struct PruneReport {
  size_t snapshots = 0;
  size_t packs_kept = 0;
  size_t packs_deleted = 0;       // wholly unused or unindexed
  size_t packs_repacked = 0;      // rewritten, then deleted
  uint64_t bytes_deleted = 0;     // size of the packs removed
  uint64_t bytes_written = 0;     // size of the packs written by repacking
  size_t index_files_replaced = 0;
  uint64_t incomplete_removed = 0;  // temporary files of interrupted writes
};

Result<PruneReport> Prune(Repository& repo, const PruneOptions& options);

}  // namespace lifeboat
