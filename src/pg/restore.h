// Point-in-time restore to a NEW instance, never over production (the runbook's "do NOT
// overwrite production"): pick the snapshot for the target, write its files with parallel
// workers, configure recovery (restore_command through lifeboat, the target, promote), start
// PostgreSQL on a free port and wait until it has reached the target and left recovery.
#pragma once

#include <optional>
#include <string>

#include "base/progress.h"
#include "pg/instance.h"
#include "pg/window.h"

namespace lifeboat::pg {

struct RestoreTarget {
  enum class Kind { kTime, kLsn, kSnapshot, kLatest };
  Kind kind = Kind::kLatest;
  UnixNanos time = 0;
  Lsn lsn = 0;
  std::string snapshot;  // id or prefix, for kSnapshot
  uint32_t timeline = 0;  // 0: follow the newest timeline ('latest')
};

struct RestoreRequest {
  RestoreTarget target;
  std::string name;          // the new instance
  std::string instances_dir;
  std::string state_dir;
  int port = 0;              // 0: the first free port of the range
  int port_first = 24000;
  int port_last = 24099;
  bool start = true;
  // The restored cluster archives into this repository on its new timeline: for the instance
  // that will become production. Scratch restores leave it off, so they never move `latest`.
  bool archive = false;
  // restore_command: lifeboat itself with the same configuration.
  std::string lifeboat_binary;
  std::string config_file;
};

struct RestoreResult {
  Instance instance;
  Id snapshot;
  std::optional<UnixNanos> recovered_to;  // newest transaction replayed (when started)
};

// Refusals (Code::kUsage / kAlreadyExists, nothing changed): NAME exists, its directory is not
// empty, it would write into the production data directory, a target outside the window.
// A target inside the window but in a gap of missing WAL: Code::kCorruption, nothing created.
Result<RestoreResult> RestoreInstance(Repository& repo, const ClusterConfig& cluster,
                                      const RestoreRequest& request, Progress* progress);

// "earliest .. latest" for messages.
std::string DescribeWindow(const Window& w);

}  // namespace lifeboat::pg
