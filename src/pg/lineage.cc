#include "pg/lineage.h"

#include <algorithm>
#include <cstdio>

#include "base/json_fields.h"
#include "base/time.h"
#include "pg/window.h"

namespace lifeboat::pg {

namespace {

std::string RecordName(uint32_t timeline) {
  char name[16];
  std::snprintf(name, sizeof(name), "%08X", timeline);
  return name;
}

Result<TimelineRecord> Decode(const Bytes& b, const std::string& name) {
  auto j = nlohmann::json::parse(b.begin(), b.end(), nullptr, false);
  return TimelineRecord::FromJson(j, "timeline record '" + name + "'");
}

// Fills `r`'s parent and fork point from its timeline's history file (archived before
// anything else of a new timeline); a history file not archived yet leaves them 0.
Status ReadFork(Repository* repo, TimelineRecord* r) {
  if (r->timeline <= 1 || r->parent != 0) return Status::Ok();
  Result<std::vector<TimelineStep>> path = TimelinePath(*repo, r->timeline);
  if (!path.ok()) return path.status().code() == Code::kNotFound ? Status::Ok() : path.status();
  if (path->size() >= 2) {
    r->parent = (*path)[path->size() - 2].tli;
    r->fork_lsn = (*path)[path->size() - 2].end;
  }
  return Status::Ok();
}

// A new record for `timeline`, made by `origin`.
Result<TimelineRecord> NewRecord(Repository* repo, uint32_t timeline, TimelineOrigin origin) {
  TimelineRecord r;
  r.timeline = timeline;
  r.origin = origin;
  r.recorded_at = FormatIso8601(NowNanos(), true);
  LB_RETURN_IF_ERROR(ReadFork(repo, &r));
  return r;
}

}  // namespace

const char* TimelineOriginName(TimelineOrigin o) {
  switch (o) {
    case TimelineOrigin::kProduction: return "production";
    case TimelineOrigin::kRecovery: return "recovery";
    case TimelineOrigin::kRestore: return "restore";
  }
  return "production";
}

Result<TimelineOrigin> ParseTimelineOrigin(const std::string& s) {
  for (TimelineOrigin o : {TimelineOrigin::kProduction, TimelineOrigin::kRecovery, TimelineOrigin::kRestore}) {
    if (s == TimelineOriginName(o)) return o;
  }
  return Status::Corruption("unknown timeline origin '" + s + "'");
}

nlohmann::json TimelineRecord::ToJson() const {
  nlohmann::json j = {{"timeline", timeline},
                      {"parent", parent},
                      {"fork_lsn", FormatLsn(fork_lsn)},
                      {"origin", TimelineOriginName(origin)},
                      {"production", production},
                      {"instance", instance},
                      {"run", run},
                      {"recorded_at", recorded_at},
                      {"production_since", production_since}};
  return j;
}

Result<TimelineRecord> TimelineRecord::FromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f(j, where);
  LB_RETURN_IF_ERROR(f.IsObject());
  TimelineRecord r;
  LB_RETURN_IF_ERROR(f.Uint32("timeline", &r.timeline));
  LB_RETURN_IF_ERROR(f.Uint32("parent", &r.parent));
  std::string fork, origin;
  LB_RETURN_IF_ERROR(f.String("fork_lsn", &fork));
  Result<Lsn> lsn = ParseLsn(fork);
  if (!lsn.ok()) return f.Bad("fork_lsn", "an LSN");
  r.fork_lsn = *lsn;
  LB_RETURN_IF_ERROR(f.String("origin", &origin));
  Result<TimelineOrigin> o = ParseTimelineOrigin(origin);
  if (!o.ok()) return o.status().Context(where);
  r.origin = *o;
  LB_RETURN_IF_ERROR(f.Bool("production", &r.production));
  LB_RETURN_IF_ERROR(f.String("instance", &r.instance));
  LB_RETURN_IF_ERROR(f.String("run", &r.run));
  LB_RETURN_IF_ERROR(f.String("recorded_at", &r.recorded_at));
  LB_RETURN_IF_ERROR(f.String("production_since", &r.production_since));
  return r;
}

Result<std::vector<TimelineRecord>> Lineage::List() {
  LB_ASSIGN_OR_RETURN(std::vector<std::string> names, repo_->ListNamed(kTimelineStream));
  std::vector<TimelineRecord> out;
  for (const std::string& n : names) {
    LB_ASSIGN_OR_RETURN(Bytes b, repo_->GetNamed(kTimelineStream, n));
    LB_ASSIGN_OR_RETURN(TimelineRecord r, Decode(b, n));
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.timeline < b.timeline; });
  return out;
}

Result<std::optional<TimelineRecord>> Lineage::Find(uint32_t timeline) {
  std::string name = RecordName(timeline);
  Result<Bytes> b = repo_->GetNamed(kTimelineStream, name);
  if (!b.ok()) {
    if (b.status().code() == Code::kNotFound) return std::optional<TimelineRecord>();
    return b.status();
  }
  LB_ASSIGN_OR_RETURN(TimelineRecord r, Decode(*b, name));
  return std::optional<TimelineRecord>(std::move(r));
}

Status Lineage::Put(const TimelineRecord& record) {
  std::string text = record.ToJson().dump(2) + "\n";
  return repo_->PutNamed(kTimelineStream, RecordName(record.timeline), AsBytes(text));
}

Status Lineage::MarkProduction(uint32_t timeline, TimelineOrigin origin, const std::string& instance,
                               const std::string& run) {
  std::string what = "cannot record timeline " + std::to_string(timeline) + " as production";
  Result<std::optional<TimelineRecord>> found = Find(timeline);
  if (!found.ok()) return found.status().Context(what);
  if (*found && (*found)->production) return Status::Ok();
  TimelineRecord r;
  if (*found) {
    r = **found;
    // Recorded before its history file was archived (a backup right after a promotion).
    if (Status s = ReadFork(repo_, &r); !s.ok()) return s.Context(what);
  } else {
    Result<TimelineRecord> fresh = NewRecord(repo_, timeline, origin);
    if (!fresh.ok()) return fresh.status().Context(what);
    r = *fresh;
  }
  r.production = true;
  if (origin == TimelineOrigin::kRecovery) r.origin = origin;
  if (!instance.empty()) r.instance = instance;
  if (!run.empty()) r.run = run;
  r.production_since = FormatIso8601(NowNanos(), true);
  return Put(r).Context(what);
}

Status Lineage::MarkNotProduction(uint32_t timeline, TimelineOrigin origin, const std::string& instance) {
  LB_ASSIGN_OR_RETURN(std::optional<TimelineRecord> found, Find(timeline));
  if (found) return Status::Ok();
  LB_ASSIGN_OR_RETURN(TimelineRecord r, NewRecord(repo_, timeline, origin));
  r.instance = instance;
  return Put(r);
}

Status Lineage::Unmark(uint32_t timeline) {
  LB_ASSIGN_OR_RETURN(std::optional<TimelineRecord> found, Find(timeline));
  if (!found || !found->production) return Status::Ok();
  found->production = false;
  found->production_since.clear();
  return Put(*found);
}

Result<uint32_t> Lineage::ProductionTimeline(uint32_t fallback) {
  LB_ASSIGN_OR_RETURN(std::vector<TimelineRecord> all, List());
  uint32_t newest = 0;
  for (const TimelineRecord& r : all) {
    if (r.production) newest = std::max(newest, r.timeline);
  }
  // Snapshots are taken of production only, so their newest timeline is production's too (a
  // repository from before lineage records has only them to go by).
  return std::max<uint32_t>({newest, fallback, 1});
}

}  // namespace lifeboat::pg
