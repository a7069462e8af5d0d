#include "pg/window.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

#include "pg/backup.h"
#include "pg/lineage.h"
#include "pg/wal_reader.h"

namespace lifeboat::pg {

Result<std::vector<PgSnapshot>> LoadPgSnapshots(Repository& repo) {
  LB_ASSIGN_OR_RETURN(auto all, repo.LoadAllSnapshots());
  std::vector<PgSnapshot> out;
  for (auto& [id, s] : all) {
    if (s.kind != kSnapshotKind) continue;
    LB_ASSIGN_OR_RETURN(PgSnapshotMeta meta,
                        PgSnapshotMeta::FromJson(s.metadata, "the metadata of snapshot " + id.Short()));
    PgSnapshot p;
    static_cast<PgSnapshotMeta&>(p) = std::move(meta);
    p.id = id;
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

Result<std::optional<UnixNanos>> NewestCommitIn(Repository& repo, const std::string& segment,
                                                uint64_t segment_size) {
  SegmentName name;
  if (!ParseSegmentName(segment, segment_size, &name)) {
    return Status::Usage("'" + segment + "' is not a WAL segment name");
  }
  WalArchive archive(&repo);
  WalReader reader(
      [&](uint64_t segno) -> Result<Bytes> {
        if (segno != name.segno) return Status::NotFound("only one segment is read");
        return archive.Fetch(segment);
      },
      segment_size);
  std::optional<UnixNanos> newest;
  LB_RETURN_IF_ERROR(reader.ReadSegment(name.segno, [&](const WalRecord& r) {
    // access/xact.h: COMMIT and COMMIT_PREPARED records start with xl_xact_commit, whose first
    // field is the commit time in microseconds since 2000-01-01 UTC.
    uint8_t op = r.info & 0x70;
    if (r.rmgr != kRmgrTransaction || (op != 0x00 && op != 0x30) || r.main_data.size() < 8) {
      return Status::Ok();
    }
    int64_t micros = 0;
    std::memcpy(&micros, r.main_data.data(), sizeof(micros));
    UnixNanos t = (micros + kPostgresEpochMicros) * 1000;
    if (!newest || t > *newest) newest = t;
    return Status::Ok();
  }));
  return newest;
}

Result<std::vector<TimelineStep>> TimelinePath(Repository& repo, uint32_t timeline) {
  std::vector<TimelineStep> path;
  if (timeline > 1) {
    char name[32];
    std::snprintf(name, sizeof(name), "%08X.history", timeline);
    Result<Bytes> history = repo.GetNamed(kWalStream, name);
    if (!history.ok()) {
      if (history.status().code() == Code::kNotFound) {
        return Status::NotFound("timeline " + std::to_string(timeline) + " has no history file in the repository",
                                "list timelines with 'lifeboat window --json'");
      }
      return history.status();
    }
    // "<parent timeline>\t<switch point>\t<reason>" per ancestor, oldest first.
    std::string text(history->begin(), history->end());
    Lsn begin = 0;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t eol = text.find('\n', pos);
      std::string line = text.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
      pos = eol == std::string::npos ? text.size() : eol + 1;
      if (line.empty() || line[0] == '#') continue;
      size_t tab = line.find('\t');
      size_t tab2 = line.find('\t', tab + 1);
      if (tab == std::string::npos) return Status::Corruption("history file " + std::string(name) + " is malformed");
      uint32_t parent = static_cast<uint32_t>(std::strtoul(line.c_str(), nullptr, 10));
      LB_ASSIGN_OR_RETURN(Lsn switch_point, ParseLsn(line.substr(tab + 1, tab2 == std::string::npos ? std::string::npos : tab2 - tab - 1)));
      path.push_back({parent, begin, switch_point});
      begin = switch_point;
    }
    path.push_back({timeline, begin, UINT64_MAX});
  } else {
    path.push_back({1, 0, UINT64_MAX});
  }
  return path;
}

Result<Bytes> FetchAlongTimeline(Repository& repo, const std::string& name, uint32_t timeline) {
  SegmentName sn;
  if (timeline == 0 || !ParseSegmentName(name, kDefaultSegmentSize, &sn)) return WalArchive(&repo).Fetch(name);
  LB_ASSIGN_OR_RETURN(std::vector<TimelineStep> path, TimelinePath(repo, timeline));
  return FetchAlongPath(repo, name, path);
}

Result<Bytes> FetchAlongPath(Repository& repo, const std::string& name, const std::vector<TimelineStep>& path) {
  WalArchive archive(&repo);
  SegmentName sn;
  if (path.empty() || !ParseSegmentName(name, kDefaultSegmentSize, &sn)) return archive.Fetch(name);
  uint32_t timeline = path.back().tli;
  const TimelineStep* step = nullptr;
  for (const TimelineStep& s : path) {
    if (s.tli == sn.timeline) step = &s;
  }
  std::string along = "recovery along timeline " + std::to_string(timeline);
  if (step == nullptr) {
    return Status::NotFound("WAL file '" + name + "' is not on the history of timeline " +
                            std::to_string(timeline) + ": " + along + " never replays it");
  }
  uint64_t begin = sn.segno * kDefaultSegmentSize;
  if (step->end != UINT64_MAX && begin >= step->end) {
    return Status::NotFound("WAL file '" + name + "' lies after timeline " + std::to_string(sn.timeline) +
                            " forked at " + FormatLsn(step->end) + ": " + along + " never replays it");
  }
  LB_ASSIGN_OR_RETURN(Bytes data, archive.Fetch(name));
  if (step->end != UINT64_MAX && step->end < begin + data.size()) {
    // The segment in which the timeline forked: its WAL up to the fork point only.
    std::fill(data.begin() + static_cast<std::ptrdiff_t>(step->end - begin), data.end(), uint8_t{0});
  }
  return data;
}

std::string NextSegmentOnPath(const std::vector<TimelineStep>& path, const std::string& segment) {
  SegmentName sn;
  if (!ParseSegmentName(segment, kDefaultSegmentSize, &sn)) return "";
  const TimelineStep* step = nullptr;
  for (const TimelineStep& s : path) {
    if (s.tli == sn.timeline) step = &s;
  }
  if (step == nullptr || (step->end != UINT64_MAX && sn.segno * kDefaultSegmentSize >= step->end)) return "";
  // PostgreSQL reads each segment from the newest timeline of the path that has begun by it
  // (XLogFileReadAnyTLI), so the segment holding a switch point comes from the new timeline.
  uint64_t next = sn.segno + 1;
  for (size_t i = path.size(); i-- > 0;) {
    if (path[i].begin / kDefaultSegmentSize <= next) return FormatSegmentName(path[i].tli, next, kDefaultSegmentSize);
  }
  return "";
}

bool OnPath(const std::vector<TimelineStep>& path, const PgSnapshot& snapshot) {
  for (const TimelineStep& step : path) {
    if (step.tli == snapshot.timeline && snapshot.stop_lsn <= step.end) return true;
  }
  return false;
}

Result<uint32_t> ProductionTimelineOf(Repository& repo, const std::vector<PgSnapshot>& snapshots) {
  uint32_t snapshot_timeline = 1;
  for (const PgSnapshot& s : snapshots) snapshot_timeline = std::max(snapshot_timeline, s.timeline);
  return Lineage(&repo).ProductionTimeline(snapshot_timeline);
}

Result<Window> ComputeWindow(Repository& repo, uint32_t timeline,
                             const std::vector<PgSnapshot>* snapshots) {
  Window w;
  std::vector<PgSnapshot> loaded;
  if (snapshots == nullptr) {
    LB_ASSIGN_OR_RETURN(loaded, LoadPgSnapshots(repo));
    snapshots = &loaded;
  }
  const std::vector<PgSnapshot>& snaps = *snapshots;
  if (snaps.empty()) return w;
  LB_ASSIGN_OR_RETURN(std::vector<std::string> names, repo.ListNamed(kWalStream));
  uint64_t seg_size = snaps.back().wal_segment_size;
  std::map<uint32_t, std::set<uint64_t>> segments;  // timeline -> segment numbers
  for (const std::string& n : names) {
    SegmentName sn;
    // "<segment>.partial" is the segment `wal stream` is still receiving: it counts as held.
    bool partial = n.size() == 32 && n.compare(24, 8, ".partial") == 0;
    if (ParseSegmentName(partial ? n.substr(0, 24) : n, seg_size, &sn)) {
      segments[sn.timeline].insert(sn.segno);
    }
  }
  if (timeline == 0) {
    LB_ASSIGN_OR_RETURN(timeline, ProductionTimelineOf(repo, snaps));
  }
  w.timeline = timeline;
  LB_ASSIGN_OR_RETURN(std::vector<TimelineStep> path, TimelinePath(repo, w.timeline));
  // The timeline that holds segment `segno` on the path: a segment in which the timeline
  // switched is held by the newer timeline (it copies the older one's part).
  auto tli_for = [&](uint64_t segno) {
    uint32_t t = path.front().tli;
    for (const TimelineStep& step : path) {
      if (step.begin / seg_size <= segno) t = step.tli;
    }
    return t;
  };
  auto have = [&](uint64_t segno) { return segments[tli_for(segno)].count(segno) > 0; };
  auto name_of = [&](uint64_t segno) { return FormatSegmentName(tli_for(segno), segno, seg_size); };

  std::map<std::string, std::optional<UnixNanos>> newest_cache;
  auto newest_in = [&](const std::string& name) -> Result<std::optional<UnixNanos>> {
    auto it = newest_cache.find(name);
    if (it == newest_cache.end()) {
      LB_ASSIGN_OR_RETURN(auto t, NewestCommitIn(repo, name, seg_size));
      it = newest_cache.emplace(name, t).first;
    }
    return it->second;
  };
  uint64_t lo = UINT64_MAX;
  for (const PgSnapshot& s : snaps) {
    if (!OnPath(path, s)) continue;
    uint64_t first = s.start_lsn / s.wal_segment_size;
    uint64_t stop = s.stop_lsn / s.wal_segment_size;
    lo = std::min(lo, first);
    uint64_t last = first;
    if (!have(first)) continue;
    while (have(last + 1)) ++last;
    if (last < stop) continue;  // the snapshot's own WAL is incomplete: not restorable
    WindowRange range;
    range.snapshot = s.id;
    range.from = s.stop_time;
    range.to = s.stop_time;
    range.last_segment = name_of(last);
    // The newest commit: scan back from the last contiguous segment to the snapshot's stop.
    for (uint64_t seg = last + 1; seg-- > stop;) {
      LB_ASSIGN_OR_RETURN(std::optional<UnixNanos> t, newest_in(name_of(seg)));
      if (t) {
        range.to = std::max(range.to, *t);
        break;
      }
    }
    w.ranges.push_back(range);
  }
  if (lo == UINT64_MAX) return w;
  // The newest segment on the path, and the newest commit anywhere on it (also beyond a gap).
  uint64_t hi = lo;
  for (const TimelineStep& step : path) {
    for (uint64_t seg : segments[step.tli]) {
      if (seg >= step.begin / seg_size && (step.end == UINT64_MAX || seg <= step.end / seg_size)) hi = std::max(hi, seg);
    }
  }
  if (!w.ranges.empty()) {
    for (uint64_t seg = hi + 1; seg-- > lo;) {
      if (!have(seg)) continue;
      LB_ASSIGN_OR_RETURN(std::optional<UnixNanos> t, newest_in(name_of(seg)));
      if (t) {
        w.newest_commit = *t;
        break;
      }
    }
  }
  // Gaps: missing segments between the oldest snapshot's start and the newest segment.
  for (uint64_t seg = lo; seg <= hi; ++seg) {
    if (have(seg)) continue;
    uint64_t end = seg;
    while (end + 1 <= hi && !have(end + 1)) ++end;
    w.gaps.push_back({name_of(seg), name_of(end)});
    seg = end;
  }
  return w;
}

}  // namespace lifeboat::pg
