// Which timeline is production: every timeline that reaches the repository is recorded with
// what made it and whether it is or was production, so that `window`, `restore --latest`,
// `recover --latest` and `expire` follow production's lineage instead of the highest-numbered
// history file (which a `restore --archive` by hand, or a recovery that was reverted, can add).
//
// A record is the named object "timelines/<8 hex digits>", a small JSON document:
//   {"timeline": 2, "parent": 1, "fork_lsn": "0/3000060", "origin": "recovery",
//    "production": true, "instance": "restore-20261201-101500", "run": "recover-...",
//    "recorded_at": "...", "production_since": "..."}
// Records are written by the process that knows: a backup or `wal stream` of production (the
// timeline it reads, origin "production"), a cutover (origin "recovery"), a restore that
// archives by hand (origin "restore", not production). Writers of one timeline's record are
// serialised by the callers' step structure; a record only ever gains `production`, except
// that a reverted cutover clears it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "pg/wal.h"
#include "repository/repository.h"

namespace lifeboat::pg {

enum class TimelineOrigin {
  kProduction,  // the protected cluster's own timeline, as backups and the streamer saw it
  kRecovery,    // a recovery's instance that a cutover made production
  kRestore,     // `restore --archive` by hand: archived, never production on its own
};
const char* TimelineOriginName(TimelineOrigin o);
Result<TimelineOrigin> ParseTimelineOrigin(const std::string& s);

struct TimelineRecord {
  uint32_t timeline = 1;
  uint32_t parent = 0;  // 0 for timeline 1
  Lsn fork_lsn = 0;     // where it left the parent (0 for timeline 1)
  TimelineOrigin origin = TimelineOrigin::kProduction;
  bool production = false;
  std::string instance;          // the instance that runs it, when lifeboat made it
  std::string run;               // the run that made it production
  std::string recorded_at;       // ISO 8601
  std::string production_since;  // ISO 8601, when production

  nlohmann::json ToJson() const;
  // Code::kCorruption naming `where` and the key for a missing or mistyped key.
  static Result<TimelineRecord> FromJson(const nlohmann::json& j, const std::string& where);
};

inline constexpr const char* kTimelineStream = "timelines";

class Lineage {
 public:
  explicit Lineage(Repository* repo) : repo_(repo) {}

  // Every record, by timeline.
  Result<std::vector<TimelineRecord>> List();
  Result<std::optional<TimelineRecord>> Find(uint32_t timeline);
  Status Put(const TimelineRecord& record);

  // Records `timeline` as production (origin `origin`) unless a record already says so.
  // The parent and fork point come from the timeline's history file when it is archived.
  Status MarkProduction(uint32_t timeline, TimelineOrigin origin, const std::string& instance,
                        const std::string& run);
  // Records a timeline that is not production (a restore archiving by hand); an existing
  // record is left as it is.
  Status MarkNotProduction(uint32_t timeline, TimelineOrigin origin, const std::string& instance);
  // A reverted cutover: the timeline is no longer production.
  Status Unmark(uint32_t timeline);

  // The timeline production runs on now: the newest timeline recorded as production, or
  // `fallback` (the newest snapshot's timeline: snapshots are taken of production) when newer.
  Result<uint32_t> ProductionTimeline(uint32_t fallback);

 private:
  Repository* repo_;
};

}  // namespace lifeboat::pg
