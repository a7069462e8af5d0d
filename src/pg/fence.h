// Fencing a retired cluster after a cutover, so that no write of the application silently
// lands on it: the runbook keeps the old database for 24-48 hours, readable, and lifeboat
// makes it read-only for that time instead of trusting every client to have moved.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"
#include "base/time.h"
#include "pg/cluster.h"

namespace lifeboat::pg {

struct FenceResult {
  bool present = true;     // false: its data directory is gone (nothing to fence)
  bool reachable = false;  // false: fenced through its configuration file, for its next start
  int terminated = 0;      // client sessions ended (their transactions in progress roll back)
  // Its newest commit once fenced (when reachable and track_commit_timestamp is on): the last
  // write it took, so everything it committed after a recovery's point is known.
  std::optional<UnixNanos> last_commit;
};

// Makes `cluster` refuse writes: default_transaction_read_only = on (ALTER SYSTEM and a
// reload; a session that sets it off itself is not stopped, which the application never
// does), then every other client session is terminated, waiting up to 5 s for each to exit, so
// that no transaction begun before the reload commits. A cluster that is not running is fenced by appending the setting to its
// postgresql.auto.conf, so it comes back fenced. Idempotent. REQUIRES: running as the data
// directory's owner.
Result<FenceResult> FenceCluster(const ClusterConfig& cluster);

// Undoes FenceCluster (a reverted cutover): the setting reset and reloaded.
Status UnfenceCluster(const ClusterConfig& cluster);

}  // namespace lifeboat::pg
