// Point-in-time restore to a NEW instance, never over production (the runbook's "do NOT
// overwrite production"): pick the snapshot for the target, write its files with parallel
// workers, configure recovery (restore_command through lifeboat, the target, promote), start
// PostgreSQL on a free port and wait until it has reached the target and left recovery.
#pragma once

#include <optional>
#include <string>

#include "base/progress.h"
#include "pg/instance.h"
#include "pg/wal_prefetch.h"
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
  // Whether the restored cluster archives into this repository on its new timeline.
  //   kOff: never (scratch restores: verification, drills).
  //   kDeferred: archive_mode on with an empty archive_command, so PostgreSQL keeps every WAL
  //     file of the new timeline until a cutover sets the command (ArmArchiving): a recovery's
  //     instance reaches the repository only once it is production, and never when its
  //     verification fails.
  //   kNow: at once (`restore --archive` by hand); its timeline is recorded as not production.
  enum class Archive { kOff, kDeferred, kNow };
  Archive archive = Archive::kOff;
  // restore_command: lifeboat itself with the same configuration.
  std::string lifeboat_binary;
  std::string config_file;
  // The repository restore_command reads WAL from: "" = the primary one, else its name
  // ("offsite", when the restore itself was served by the offsite mirror).
  std::string repository;
  // While this process waits for recovery, it serves restore_command from a prefetch spool
  // of at most this many bytes (pg/wal_prefetch.h); 0: every `wal get` fetches for itself.
  uint64_t wal_prefetch_bytes = 0;
};

struct RestoreResult {
  Instance instance;
  Id snapshot;
  std::optional<UnixNanos> recovered_to;  // newest transaction replayed (when started)
  std::optional<WalPrefetchStats> prefetch;  // when recovery was served by the prefetch server
  // A restore to the latest point whose replay ends at missing WAL, as PostgreSQL's does: the
  // gap, and the newest commit the archive holds beyond it (not recovered).
  struct StoppedAtGap {
    WalGap gap;
    UnixNanos newest_beyond = 0;
  };
  std::optional<StoppedAtGap> stopped_at_gap;
};

// Refusals (Code::kUsage / kAlreadyExists, nothing changed): NAME exists, its directory is not
// empty, it would write into the production data directory, a target outside the window.
// A target inside the window but in a gap of missing WAL: Code::kCorruption, nothing created.
Result<RestoreResult> RestoreInstance(Repository& repo, const ClusterConfig& cluster,
                                      const RestoreRequest& request, Progress* progress);

// The restore_command and archive_command an instance's configuration names: lifeboat itself
// with the same configuration file.
std::string WalPushCommand(const std::string& lifeboat_binary, const std::string& config_file);

// A cutover's protection of the new production: archive_command set and reloaded (for an
// instance restored with Archive::kDeferred, PostgreSQL then archives every WAL file it kept,
// history file first), the replication `slot` created when missing, a segment switch, and a
// wait until the switched segment and the timeline's history file are in the repository
// (Code::kIO after `timeout_seconds`, naming the archiver's last failure). Returns the
// instance's timeline. Idempotent.
Result<uint32_t> ArmArchiving(Repository& repo, const ClusterConfig& cluster, const Instance& inst,
                              const std::string& archive_command, const std::string& slot,
                              double timeout_seconds);

// "earliest .. latest" for messages.
std::string DescribeWindow(const Window& w);

}  // namespace lifeboat::pg
