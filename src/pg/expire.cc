#include "pg/expire.h"

#include "base/fs.h"

namespace lifeboat::pg {

Result<ExpirePlan> PlanExpire(Repository& repo, UnixNanos now, int retention_days) {
  ExpirePlan plan;
  plan.window_start = now - static_cast<UnixNanos>(retention_days) * 86400 * 1'000'000'000;
  LB_ASSIGN_OR_RETURN(std::vector<PgSnapshot> snaps, LoadPgSnapshots(repo));  // oldest first
  if (snaps.empty()) return plan;
  // The base: the newest snapshot that finished before the window began.
  std::optional<size_t> base;
  for (size_t i = 0; i < snaps.size(); ++i) {
    if (snaps[i].stop_time < plan.window_start) base = i;
  }
  size_t first_kept = base.value_or(0);
  for (size_t i = 0; i < snaps.size(); ++i) {
    if (i < first_kept) {
      plan.snapshots.emplace_back(
          snaps[i].id, "finished " + FormatIso8601(snaps[i].stop_time) + ", before the window's base " +
                           snaps[first_kept].id.Short() + " (" + FormatIso8601(snaps[first_kept].stop_time) + ")");
    } else {
      plan.kept.push_back(snaps[i].id);
    }
  }
  // WAL before the oldest kept snapshot's start is needed by no kept snapshot.
  const PgSnapshot& oldest = snaps[first_kept];
  uint64_t first_segno = oldest.start_lsn / oldest.segment_size;
  LB_ASSIGN_OR_RETURN(std::vector<ObjectInfo> objects,
                      repo.backend().List(std::string("named/") + kWalStream + "/"));
  for (const ObjectInfo& o : objects) {
    std::string n = Basename(o.key);
    SegmentName sn;
    std::string segment = n.substr(0, 24);
    bool is_segment_file = n.size() >= 24 && ParseSegmentName(segment, oldest.segment_size, &sn);
    // History files are tiny and needed to follow timelines: always kept.
    if (!is_segment_file) continue;
    if (sn.segno < first_segno && sn.timeline <= oldest.timeline) {
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
