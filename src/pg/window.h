// The point-in-time window: which instants the repository can restore, like RDS's
// EarliestRestorableTime / LatestRestorableTime, and the gaps that break it.
//
// Each PostgreSQL snapshot opens a range at its stop time (its consistency point). The range
// runs as far as the WAL archived contiguously from the snapshot's start segment, up to the
// newest commit found in that WAL (read with WalReader). A target inside [earliest, latest]
// that no range covers falls in a gap.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "pg/cluster.h"
#include "pg/snapshot_meta.h"
#include "pg/wal.h"
#include "repository/repository.h"

namespace lifeboat::pg {

// A PostgreSQL snapshot: its manifest and its metadata, decoded (pg/snapshot_meta.h).
struct PgSnapshot : PgSnapshotMeta {
  Id id;
  Snapshot snapshot;
};

// Every PostgreSQL snapshot, oldest stop time first.
Result<std::vector<PgSnapshot>> LoadPgSnapshots(Repository& repo);

struct WindowRange {
  Id snapshot;
  UnixNanos from = 0;  // the snapshot's stop time
  UnixNanos to = 0;    // the newest commit in the WAL that follows it without a gap
  std::string last_segment;
};

struct WalGap {
  std::string first_missing;  // segment names
  std::string last_missing;
};

struct Window {
  uint32_t timeline = 1;            // the timeline the window follows
  std::vector<WindowRange> ranges;  // one per restorable snapshot, oldest first
  std::vector<WalGap> gaps;
  // The newest commit in any archived WAL, also beyond a gap: the window's end, like RDS's
  // LatestRestorableTime. Instants between a range's end and it are unreachable (gaps).
  UnixNanos newest_commit = 0;
  bool empty() const { return ranges.empty(); }
  UnixNanos earliest() const;
  UnixNanos latest() const;
  // The newest snapshot whose range covers `t`; nullopt when `t` falls outside or in a gap.
  std::optional<WindowRange> Covering(UnixNanos t) const;
};

// One timeline's part of a history: WAL of `tli` from `begin` up to `end` (the switch point
// to the next timeline; UINT64_MAX for the last).
struct TimelineStep {
  uint32_t tli = 1;
  Lsn begin = 0;
  Lsn end = 0;
};

// The ancestry of `timeline`, oldest first, from its history file in the repository.
Result<std::vector<TimelineStep>> TimelinePath(Repository& repo, uint32_t timeline);
// True when `snapshot` lies on `path`: taken on one of its timelines before the path left it.
bool OnPath(const std::vector<TimelineStep>& path, const PgSnapshot& snapshot);
// The timeline production follows now: the newest marked production, else the newest
// snapshot's (Lineage::ProductionTimeline with the snapshots as fallback).
Result<uint32_t> ProductionTimelineOf(Repository& repo, const std::vector<PgSnapshot>& snapshots);

// What restore_command serves while PostgreSQL recovers along `timeline` (`wal get
// --timeline`): as WalArchive::Fetch, but never a timeline's WAL past the point where the
// path left it. A segment of a timeline that is not on the path, or that begins at or after
// the point where its timeline forked, is Code::kNotFound (PostgreSQL falls back to an older
// timeline's segment of the same number when the newer one is missing, and that WAL holds
// what happened on the retired cluster after the fork). The segment in which the fork lies
// comes with the bytes from the fork point on zeroed, which recovery reads as the end of the
// WAL. History files and other names are served as they are; `timeline` 0 serves every name.
Result<Bytes> FetchAlongTimeline(Repository& repo, const std::string& name, uint32_t timeline);
// The same with the path already read (TimelinePath of its last step's timeline), for a
// process that serves many segments; an empty path serves every name.
Result<Bytes> FetchAlongPath(Repository& repo, const std::string& name, const std::vector<TimelineStep>& path);
// The segment that recovery along `path` reads after `segment`: the next number, from the
// newest timeline of the path that has begun by then (the segment holding a switch point
// comes from the new timeline, as PostgreSQL reads it). "" when `segment` is not on the path
// (another timeline, or its timeline's WAL after the path left it).
std::string NextSegmentOnPath(const std::vector<TimelineStep>& path, const std::string& segment);

// The window along `timeline`'s history (0: production's timeline, from the lineage records;
// see pg/lineage.h).
// `snapshots`: LoadPgSnapshots(repo) when the caller already has it (null: loaded here).
Result<Window> ComputeWindow(Repository& repo, uint32_t timeline = 0,
                             const std::vector<PgSnapshot>* snapshots = nullptr);

// The newest commit time recorded in one archived segment (nullopt: no commit in it), read
// in memory: the records that start and end in it, as pg_waldump reads one file.
Result<std::optional<UnixNanos>> NewestCommitIn(Repository& repo, const std::string& segment,
                                                uint64_t segment_size);

}  // namespace lifeboat::pg
