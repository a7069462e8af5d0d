// An offsite repository is a mirror of the primary one: the same repository (the same config,
// key files and ids), its objects copied across by `repo copy`, after each `backup`, and, for
// WAL, by `wal push` itself. Because snapshot ids, pack names and the key are the same in
// both, any command can read from either, and a restore from the mirror is a restore.
//
// CopyMissing copies what `to` lacks, object by object, in the order that keeps every listed
// snapshot complete in `to`: key files, config, packs, index files, manifests, then named
// objects (WAL, timeline records, secrets, releases, runs, drills). Each object is checked
// before it leaves (a content-addressed object's bytes must hash to its name) and read back
// after it arrives (the same SHA-256). Locks are never copied. Cheap when little changed: two
// listings per prefix, and only missing or changed objects move.
//
// Thread safety: call from one thread; it runs its own workers.
#pragma once

#include <cstdint>
#include <string>

#include "base/progress.h"
#include "base/result.h"
#include "storage/backend.h"

namespace lifeboat {

struct CopyReport {
  uint64_t objects_copied = 0;
  uint64_t bytes_copied = 0;
  uint64_t objects_present = 0;  // already in `to`, left alone
  double seconds = 0;
};

struct CopyOptions {
  unsigned workers = 8;  // objects in flight at once (a remote store wants several)
  // Only objects under these prefixes ("named/wal/" to catch up WAL); empty = everything.
  std::string only_prefix;
};

// REQUIRES: `from` holds a repository. `to` is empty or a mirror of the same repository; a
// `to` holding another repository's config is refused (Status::AlreadyExists, exit 1).
Result<CopyReport> CopyMissing(Backend& from, Backend& to, const CopyOptions& options = {},
                               Progress* progress = nullptr);

}  // namespace lifeboat
