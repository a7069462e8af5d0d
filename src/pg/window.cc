#include "pg/window.h"

#include <algorithm>
#include <map>
#include <set>

#include "base/fs.h"
#include "base/process.h"
#include "pg/backup.h"

namespace lifeboat::pg {

Result<std::vector<PgSnapshot>> LoadPgSnapshots(Repository& repo) {
  LB_ASSIGN_OR_RETURN(auto all, repo.LoadAllSnapshots());
  std::vector<PgSnapshot> out;
  for (auto& [id, s] : all) {
    if (s.kind != kSnapshotKind) continue;
    PgSnapshot p;
    p.id = id;
    try {
      const auto& m = s.metadata;
      p.timeline = m.at("timeline").get<uint32_t>();
      p.segment_size = m.at("wal_segment_size").get<uint64_t>();
      p.system_identifier = std::stoull(m.at("system_identifier").get<std::string>());
      LB_ASSIGN_OR_RETURN(p.start_lsn, ParseLsn(m.at("start_lsn").get<std::string>()));
      LB_ASSIGN_OR_RETURN(p.stop_lsn, ParseLsn(m.at("stop_lsn").get<std::string>()));
      LB_ASSIGN_OR_RETURN(p.start_time, ParseTimestamp(m.at("start_time").get<std::string>()));
      LB_ASSIGN_OR_RETURN(p.stop_time, ParseTimestamp(m.at("stop_time").get<std::string>()));
    } catch (const std::exception& e) {
      return Status::Corruption("snapshot " + id.Short() + " has malformed PostgreSQL metadata: " +
                                e.what());
    }
    p.snapshot = std::move(s);
    out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(),
            [](const PgSnapshot& a, const PgSnapshot& b) { return a.stop_time < b.stop_time; });
  return out;
}

UnixNanos Window::earliest() const {
  UnixNanos t = ranges.empty() ? 0 : ranges.front().from;
  for (const auto& r : ranges) t = std::min(t, r.from);
  return t;
}

UnixNanos Window::latest() const {
  UnixNanos t = newest_commit;
  for (const auto& r : ranges) t = std::max(t, r.to);
  return t;
}

std::optional<WindowRange> Window::Covering(UnixNanos t) const {
  std::optional<WindowRange> best;
  for (const auto& r : ranges) {
    if (r.from <= t && t <= r.to && (!best || r.from > best->from)) best = r;
  }
  return best;
}

Result<std::optional<UnixNanos>> NewestCommitIn(Repository& repo, const ClusterConfig& cluster,
                                                const std::string& segment,
                                                const std::string& scratch) {
  LB_RETURN_IF_ERROR(MakeDirs(scratch, 0700));
  std::string path = JoinPath(scratch, segment);
  WalArchive archive(&repo);
  LB_RETURN_IF_ERROR(archive.Get(segment, path));
  ProcessOptions po;
  po.env["TZ"] = "UTC";
  po.timeout_seconds = 120;
  Result<ProcessResult> r = RunProcess({cluster.Program("pg_waldump"), "-r", "Transaction", path}, po);
  ::unlink(path.c_str());
  if (!r.ok()) return r.status();
  std::optional<UnixNanos> newest;
  size_t pos = 0;
  const std::string& out = r->out;
  while ((pos = out.find("desc: COMMIT", pos)) != std::string::npos) {
    size_t start = out.find(' ', pos + 6) + 1;  // after "desc: COMMIT" or "COMMIT_PREPARED"
    size_t eol = out.find('\n', start);
    std::string rest = out.substr(start, eol == std::string::npos ? std::string::npos : eol - start);
    // "2026-11-29 05:01:02.123456 UTC[; ...]"
    size_t utc = rest.find(" UTC");
    if (utc != std::string::npos) {
      Result<UnixNanos> t = ParseTimestamp(rest.substr(0, utc + 4));
      if (t.ok() && (!newest || *t > *newest)) newest = *t;
    }
    pos = start;
  }
  return newest;
}

Result<Window> ComputeWindow(Repository& repo, const ClusterConfig& cluster,
                             const std::string& scratch) {
  Window w;
  LB_ASSIGN_OR_RETURN(std::vector<PgSnapshot> snaps, LoadPgSnapshots(repo));
  if (snaps.empty()) return w;
  LB_ASSIGN_OR_RETURN(std::vector<std::string> names, repo.ListNamed(kWalStream));
  uint64_t seg_size = snaps.back().segment_size;
  std::map<uint32_t, std::set<uint64_t>> segments;  // timeline -> segment numbers
  for (const std::string& n : names) {
    SegmentName sn;
    // "<segment>.partial" is the segment `wal stream` is still receiving: it counts as held.
    bool partial = n.size() == 32 && n.compare(24, 8, ".partial") == 0;
    if (ParseSegmentName(partial ? n.substr(0, 24) : n, seg_size, &sn)) {
      segments[sn.timeline].insert(sn.segno);
    }
  }
  std::map<std::string, std::optional<UnixNanos>> newest_cache;
  auto newest_in = [&](const std::string& name) -> Result<std::optional<UnixNanos>> {
    auto it = newest_cache.find(name);
    if (it == newest_cache.end()) {
      LB_ASSIGN_OR_RETURN(auto t, NewestCommitIn(repo, cluster, name, scratch));
      it = newest_cache.emplace(name, t).first;
    }
    return it->second;
  };
  for (const PgSnapshot& s : snaps) {
    const std::set<uint64_t>& have = segments[s.timeline];
    uint64_t first = s.start_lsn / s.segment_size;
    uint64_t stop = s.stop_lsn / s.segment_size;
    uint64_t last = first;
    if (!have.count(first)) continue;
    while (have.count(last + 1)) ++last;
    if (last < stop) continue;  // the snapshot's own WAL is incomplete: not restorable
    WindowRange range;
    range.snapshot = s.id;
    range.from = s.stop_time;
    range.to = s.stop_time;
    range.last_segment = FormatSegmentName(s.timeline, last, s.segment_size);
    // The newest commit: scan back from the last contiguous segment to the snapshot's stop.
    for (uint64_t seg = last + 1; seg-- > stop;) {
      LB_ASSIGN_OR_RETURN(std::optional<UnixNanos> t,
                          newest_in(FormatSegmentName(s.timeline, seg, s.segment_size)));
      if (t) {
        range.to = std::max(range.to, *t);
        break;
      }
    }
    w.ranges.push_back(range);
  }
  // The newest commit anywhere, scanning back from the newest segment of the newest timeline.
  if (!w.ranges.empty()) {
    const auto& [tli, have] = *segments.rbegin();
    uint64_t floor = snaps.front().start_lsn / snaps.front().segment_size;
    for (auto it = have.rbegin(); it != have.rend() && *it >= floor; ++it) {
      LB_ASSIGN_OR_RETURN(std::optional<UnixNanos> t,
                          newest_in(FormatSegmentName(tli, *it, seg_size)));
      if (t) {
        w.newest_commit = *t;
        break;
      }
    }
  }
  // Gaps: missing segments between the oldest snapshot's start and the newest segment.
  for (const auto& [tli, have] : segments) {
    if (have.empty()) continue;
    uint64_t lo = UINT64_MAX;
    for (const PgSnapshot& s : snaps) {
      if (s.timeline == tli) lo = std::min(lo, s.start_lsn / s.segment_size);
    }
    if (lo == UINT64_MAX) continue;
    uint64_t hi = *have.rbegin();
    for (uint64_t seg = lo; seg <= hi; ++seg) {
      if (have.count(seg)) continue;
      uint64_t end = seg;
      while (end + 1 <= hi && !have.count(end + 1)) ++end;
      w.gaps.push_back({FormatSegmentName(tli, seg, seg_size), FormatSegmentName(tli, end, seg_size)});
      seg = end;
    }
  }
  return w;
}

}  // namespace lifeboat::pg
