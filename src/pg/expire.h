// Retention: remove PostgreSQL snapshots and WAL older than the point-in-time window while
// keeping every instant inside it restorable. Kept: every snapshot that finished inside the
// window, plus the newest one on production's lineage that finished before it (the base for
// the window's earliest instants), and all WAL, of any timeline, from the oldest kept
// snapshot's start on. Then `prune` frees the data.
#pragma once

#include <string>
#include <vector>

#include "pg/window.h"

namespace lifeboat::pg {

struct ExpirePlan {
  UnixNanos window_start = 0;
  std::vector<std::pair<Id, std::string>> snapshots;   // to delete, with the reason
  std::vector<std::string> wal_files;                  // to delete
  uint64_t wal_bytes = 0;                              // their stored size
  std::vector<Id> kept;                                // PostgreSQL snapshots kept
};

// What would go for `now` and `retention_days`. Changes nothing.
Result<ExpirePlan> PlanExpire(Repository& repo, UnixNanos now, int retention_days);

// Deletes what the plan names: manifests first (a snapshot stops being listed before its WAL
// goes), then the WAL files. REQUIRES: an exclusive lock.
Status ApplyExpire(Repository& repo, const ExpirePlan& plan);

}  // namespace lifeboat::pg
