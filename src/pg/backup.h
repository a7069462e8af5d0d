// A consistent full backup of a running cluster through the non-exclusive backup API:
// pg_backup_start, the data directory and tablespaces read in parallel, pg_backup_stop (which
// waits until the last WAL segment the backup needs is archived), then the snapshot, with
// backup_label and tablespace_map, and what verification needs later in its metadata.
//
// Snapshot layout: "data/..." is the data directory, "tablespaces/<oid>/..." each tablespace.
#pragma once

#include "base/progress.h"
#include "files/tree_backup.h"
#include "pg/cluster.h"
#include "pg/snapshot_meta.h"
#include "repository/repository.h"

namespace lifeboat::pg {

inline constexpr const char* kSnapshotKind = "postgresql";

// Decides what of a data directory a backup copies (PostgreSQL's documented exclusions).
WalkDecision DataDirFilter(const std::string& rel, EntryType type);

// REQUIRES: the caller holds a shared lock on `repo`. `progress` may be null.
Result<TreeBackupResult> BackupCluster(Repository& repo, const ClusterConfig& cluster,
                                       BackupType type, Progress* progress);

}  // namespace lifeboat::pg
