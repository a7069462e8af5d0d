#include "pg/expire.h"

#include <algorithm>

#include "base/fs.h"

namespace lifeboat::pg {

Result<ExpirePlan> PlanExpire(Repository& repo, UnixNanos now, int retention_days) {
  ExpirePlan plan;
  plan.window_start = now - static_cast<UnixNanos>(retention_days) * 86400 * 1'000'000'000;
  LB_ASSIGN_OR_RETURN(std::vector<PgSnapshot> snaps, LoadPgSnapshots(repo));  // oldest first
  if (snaps.empty()) return plan;
  // The base: the newest snapshot on production's lineage that finished before the window
  // began. A snapshot of another timeline (a retired cluster's final one, say) cannot be it:
  // recovery along production's timelines never replays from there.
  LB_ASSIGN_OR_RETURN(uint32_t timeline, ProductionTimelineOf(repo, snaps));
  LB_ASSIGN_OR_RETURN(std::vector<TimelineStep> path, TimelinePath(repo, timeline));
  std::optional<size_t> base;
  for (size_t i = 0; i < snaps.size(); ++i) {
    if (snaps[i].stop_time < plan.window_start && OnPath(path, snaps[i])) base = i;
  }
  uint64_t first_segno = UINT64_MAX;  // the oldest segment a kept snapshot starts in
  for (size_t i = 0; i < snaps.size(); ++i) {
    // Without a base on the lineage nothing goes: the window's earliest instants would have
    // no snapshot to restore from.
    if (!base || snaps[i].stop_time >= plan.window_start || i == base) {
      plan.kept.push_back(snaps[i].id);
      first_segno = std::min(first_segno, snaps[i].start_lsn / snaps[i].wal_segment_size);
      continue;
    }
    std::string why = "finished " + FormatIso8601(snaps[i].stop_time) + ", before the window's base " +
                      snaps[*base].id.Short() + " (" + FormatIso8601(snaps[*base].stop_time) + ")";
    if (!OnPath(path, snaps[i])) why += ", on timeline " + std::to_string(snaps[i].timeline) + " off production's lineage";
    plan.snapshots.emplace_back(snaps[i].id, why);
  }
  // WAL before the oldest kept snapshot's start is needed by no kept snapshot, on any
  // timeline: a timeline's segments begin where it forked, so their numbers only grow.
  uint64_t segment_size = snaps.front().wal_segment_size;
  LB_ASSIGN_OR_RETURN(std::vector<ObjectInfo> objects,
                      repo.backend().List(std::string("named/") + kWalStream + "/"));
  for (const ObjectInfo& o : objects) {
    std::string n = Basename(o.key);
    SegmentName sn;
    std::string segment = n.substr(0, 24);
    bool is_segment_file = n.size() >= 24 && ParseSegmentName(segment, segment_size, &sn);
    // History files are tiny and needed to follow timelines: always kept.
    if (!is_segment_file) continue;
    if (sn.segno < first_segno) {
      plan.wal_files.push_back(n);
      plan.wal_bytes += o.size;
    }
  }
  return plan;
}

Status ApplyExpire(Repository& repo, const ExpirePlan& plan) {
  for (const auto& [id, why] : plan.snapshots) {
    LB_RETURN_IF_ERROR(repo.DeleteSnapshot(id));
    LB_RETURN_IF_ERROR(repo.DeleteNamed("verify", id.Hex()));
  }
  for (const std::string& f : plan.wal_files) LB_RETURN_IF_ERROR(repo.DeleteNamed(kWalStream, f));
  return Status::Ok();
}

}  // namespace lifeboat::pg
