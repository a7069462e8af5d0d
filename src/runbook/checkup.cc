#include "runbook/checkup.h"

#include <algorithm>
#include <cstdio>


#include "pg/restore.h"
#include "pg/snapshot_meta.h"
#include "runbook/drill.h"
#include "schedule/schedule.h"

namespace lifeboat::runbook {

namespace {

constexpr double kWarnFactor = 1.1;
constexpr double kFireFactor = 1.5;

Check Ok(const std::string& name, std::string summary = "") { return {name, "ok", std::move(summary)}; }

std::optional<UnixNanos> TimeOf(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return std::nullopt;
  Result<UnixNanos> t = ParseTimestamp(j[key].get<std::string>());
  return t.ok() ? std::optional<UnixNanos>(*t) : std::nullopt;
}

double SecondsSince(UnixNanos then, UnixNanos now) { return static_cast<double>(now - then) / 1e9; }

// The age of what `newest` describes against a schedule's interval.
Check AgeCheck(const std::string& name, const std::string& what, const nlohmann::json& newest,
               const std::string& schedule_text, const Config& cfg, UnixNanos now) {
  int64_t interval = IntervalSeconds(schedule_text, cfg.schedule.timezone, now);
  std::optional<UnixNanos> at = TimeOf(newest, "finished_at");
  if (!at) {
    if (interval == 0) return Ok(name, "no " + what + " yet; none scheduled");
    return {name, "firing", "no " + what + " yet; [schedule] says '" + schedule_text + "'"};
  }
  double age = SecondsSince(*at, now);
  std::string figures = "the newest " + what + " (" + newest.value("id", "") + ") finished " + FormatDuration(age) +
                        " ago";
  if (interval == 0) return Ok(name, figures + "; none scheduled");
  std::string against = "; [schedule] '" + schedule_text + "' runs every " +
                        FormatDuration(static_cast<double>(interval));
  auto limit = static_cast<double>(interval);
  if (age > kFireFactor * limit) return {name, "firing", figures + against};
  if (age > kWarnFactor * limit) return {name, "warning", figures + against};
  return Ok(name, figures + against);
}

std::string Join(const nlohmann::json& strings) {
  std::string out;
  for (const auto& s : strings) out += (out.empty() ? "" : "; ") + s.get<std::string>();
  return out;
}

}  // namespace

nlohmann::json CheckToJson(const Check& c) { return {{"name", c.name}, {"state", c.state}, {"summary", c.summary}}; }

int64_t IntervalSeconds(const std::string& schedule_text, const std::string& timezone, UnixNanos now) {
  if (schedule_text.empty()) return 0;
  Result<schedule::Schedule> s = schedule::Schedule::Parse(schedule_text);
  Result<schedule::Zone> zone = schedule::Zone::Named(timezone);
  if (!s.ok() || !zone.ok() || s->after_backup()) return 0;
  std::optional<UnixNanos> first = s->NextAfter(now, *zone);
  std::optional<UnixNanos> second = first ? s->NextAfter(*first, *zone) : std::nullopt;
  return second ? (*second - *first) / 1'000'000'000 : 0;
}

void GatherRepositoryFacts(const Config& cfg, Repository* repo, const std::string& served_by,
                           const std::string& repository_error, nlohmann::json* status) {
  nlohmann::json& out = *status;
  // The one asked for: the offsite one only when it was asked for and answered (an error with
  // the offsite serving is the primary's).
  const RepositoryConfigSection& rc =
      served_by == "offsite" && cfg.offsite && repository_error.empty() ? *cfg.offsite : cfg.repository;
  out["repository"] = {{"name", rc.name}, {"location", rc.location()}, {"up", repo != nullptr && repository_error.empty()},
                       {"error", repository_error}, {"served_by", repo != nullptr ? served_by : ""}};
  out["backups"] = {{"full", nullptr}, {"incremental", nullptr}};
  out["drill"] = nullptr;
  if (repo == nullptr) return;
  auto fail = [&](const Status& s) {
    out["repository"]["up"] = false;
    out["repository"]["error"] = s.message();
    out["repository"]["served_by"] = "";  // what was gathered is not the whole truth
  };
  Result<std::vector<std::pair<Id, Snapshot>>> all = repo->LoadAllSnapshots();
  if (!all.ok()) return fail(all.status());
  for (const auto& [id, s] : *all) {  // oldest first: the last of each type wins
    if (s.kind != "postgresql") continue;
    Result<pg::PgSnapshotMeta> m = pg::PgSnapshotMeta::FromJson(s.metadata, "snapshot " + id.Short());
    if (!m.ok()) continue;
    std::string type = m->ToJson().value("type", "full");
    out["backups"][type] = {{"id", id.Short()},
                            {"started_at", FormatIso8601(s.started_at, true)},
                            {"finished_at", FormatIso8601(s.finished_at, true)}};
  }
  if (cfg.database.present) {
    Result<pg::Window> w = pg::ComputeWindow(*repo, 0);
    if (!w.ok()) return fail(w.status());
    out["window"] = w->empty() ? nlohmann::json{{"earliest", nullptr}, {"latest", nullptr}, {"gaps", 0}}
                               : nlohmann::json{{"earliest", FormatIso8601(w->earliest(), true)},
                                                {"latest", FormatIso8601(w->latest(), true)},
                                                {"gaps", w->gaps.size()}};
  }
  Result<std::vector<DrillRecord>> drills = ListDrills(*repo);
  if (!drills.ok()) return fail(drills.status());
  for (const DrillRecord& d : *drills) {  // newest first
    if (d.kind != DrillKind::kRestore) continue;
    out["drill"] = {{"id", d.id},
                    {"finished_at", d.finished_at},
                    {"passed", d.passed},
                    {"reason", d.reason},
                    {"rto_seconds", d.rto_seconds ? nlohmann::json(*d.rto_seconds) : nlohmann::json()},
                    {"rpo_seconds", d.rpo_seconds ? nlohmann::json(*d.rpo_seconds) : nlohmann::json()}};
    break;
  }
}

std::vector<Check> StatusChecks(const nlohmann::json& s, const Config& cfg, UnixNanos now) {
  std::vector<Check> out;
  if (s.contains("database")) {
    std::string st = s["database"].value("status", "");
    out.push_back(st == "running" ? Ok("database", "production " + s["database"].value("name", "") + " is running")
                                  : Check{"database", "firing", "production " + s["database"].value("name", "") + " is " + st});
  }
  if (s.contains("protection")) {
    const nlohmann::json& p = s["protection"];
    const nlohmann::json& problems = p.contains("problems") ? p["problems"] : nlohmann::json::array();
    out.push_back(problems.empty() ? Ok("wal_protection", "production archives and the repository stores its WAL")
                                   : Check{"wal_protection", "firing", Join(problems)});
    double rpo = static_cast<double>(cfg.objectives.rpo_seconds);
    if (!p.contains("wal_lag_seconds")) {
      out.push_back(Ok("wal_lag", "no streamer: WAL reaches the repository by archive_command"));
    } else if (!p["wal_lag_seconds"].is_number()) {
      out.push_back({"wal_lag", "warning", "the WAL lag is unknown: the streamer has not stored anything yet"});
    } else {
      double lag = p["wal_lag_seconds"].get<double>();
      std::string figures = "WAL lag " + FormatDuration(lag) + " against the RPO objective of " + FormatDuration(rpo);
      out.push_back(lag > rpo ? Check{"wal_lag", "firing", figures}
                    : lag > rpo / 2 ? Check{"wal_lag", "warning", figures}
                                    : Ok("wal_lag", figures));
    }
  }
  if (s.contains("repository")) {
    const nlohmann::json& r = s["repository"];
    out.push_back(r.value("up", false) ? Ok("repository", "the " + r.value("name", "") + " repository answers")
                                       : Check{"repository", "firing",
                                               "the " + r.value("name", "") + " repository does not answer: " +
                                                   r.value("error", "")});
  }
  bool readable = s.contains("repository") && !s["repository"].value("served_by", "").empty();
  auto unknown = [&](const std::string& name) {
    return Check{name, "warning", "unknown: the repository could not be read"};
  };
  if (s.contains("backups") && !readable) {
    out.push_back(unknown("full_backup_age"));
    out.push_back(unknown("incremental_backup_age"));
    out.push_back(unknown("drill_age"));
    out.push_back(unknown("drill_result"));
  } else if (s.contains("backups")) {
    out.push_back(AgeCheck("full_backup_age", "full backup", s["backups"]["full"], cfg.schedule.full, cfg, now));
    out.push_back(AgeCheck("incremental_backup_age", "incremental backup", s["backups"]["incremental"],
                           cfg.schedule.incremental, cfg, now));
  }
  if (s.contains("drill") && readable) {
    const nlohmann::json& d = s["drill"];
    if (d.is_null()) {
      out.push_back(cfg.schedule.drill.empty()
                        ? Check{"drill_age", "warning", "no restore drill yet: the runbook's restore test has not been performed"}
                        : Check{"drill_age", "firing", "no restore drill yet; [schedule] says drill = '" + cfg.schedule.drill + "'"});
      out.push_back(Ok("drill_result", "no restore drill yet"));
    } else {
      Check age = AgeCheck("drill_age", "restore drill", d, cfg.schedule.drill, cfg, now);
      if (cfg.schedule.drill.empty() && age.firing()) age.state = "warning";
      out.push_back(age);
      std::string id = d.value("id", "");
      if (!d.value("passed", false)) {
        out.push_back({"drill_result", "firing", "drill " + id + " failed: " + d.value("reason", "")});
      } else {
        std::string above;
        auto over = [&](const char* key, const char* what, int64_t objective) {
          if (d[key].is_number() && d[key].get<double>() > static_cast<double>(objective)) {
            above += (above.empty() ? "" : ", ") + std::string(what) + " " + FormatDuration(d[key].get<double>()) +
                     " above the objective of " + FormatDuration(static_cast<double>(objective));
          }
        };
        over("rto_seconds", "RTO", cfg.objectives.rto_seconds);
        over("rpo_seconds", "RPO", cfg.objectives.rpo_seconds);
        out.push_back(above.empty() ? Ok("drill_result", "drill " + id + " passed within the objectives")
                                    : Check{"drill_result", "firing", "drill " + id + " measured " + above});
      }
    }
  }
  if (s.contains("space")) {
    std::string low, unmeasured;
    for (const auto& sp : s["space"]) {
      if (sp.contains("error")) {
        unmeasured += (unmeasured.empty() ? "" : "; ") + sp["error"].get<std::string>();
        continue;
      }
      if (!sp.value("low", false)) continue;
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.1f%%", sp["free_percent"].get<double>());
      low += (low.empty() ? "" : "; ") + sp["what"].get<std::string>() + " at '" + sp["path"].get<std::string>() + "' has " +
             buf + " free";
    }
    if (!low.empty()) {
      out.push_back(Check{"disk_space", "firing",
                          low + " ([alert] min_free_percent = " + std::to_string(cfg.alert.min_free_percent) + ")"});
    } else if (!unmeasured.empty()) {
      out.push_back(Check{"disk_space", "warning", "free space unknown: " + unmeasured});
    } else {
      out.push_back(Ok("disk_space", "every place lifeboat writes has at least " +
                                         std::to_string(cfg.alert.min_free_percent) + "% free"));
    }
  }
  if (s.contains("services") && !s["services"].empty()) {
    std::string bad;
    for (const auto& svc : s["services"]) {
      int healthy = svc.value("healthy", 0), desired = svc.value("desired", 0);
      if (healthy >= desired && !svc.value("crash_loop", false)) continue;
      bad += (bad.empty() ? "" : "; ") + svc["name"].get<std::string>() + " has " + std::to_string(healthy) + " of " +
             std::to_string(desired) + " replicas healthy" + (svc.value("crash_loop", false) ? " (crash loop)" : "");
    }
    out.push_back(bad.empty() ? Ok("services", "every service has all its replicas healthy") : Check{"services", "firing", bad});
  }
  if (s.contains("load_balancer")) {
    out.push_back(s["load_balancer"].value("running", false)
                      ? Ok("load_balancer", "haproxy serves " + s["load_balancer"].value("url", ""))
                      : Check{"load_balancer", "firing", "haproxy is not running"});
  }
  return out;
}

}  // namespace lifeboat::runbook
