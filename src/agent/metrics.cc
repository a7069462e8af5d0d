#include "agent/metrics.h"

#include <cstdio>
#include <map>

namespace lifeboat::agent {

namespace {

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

double Seconds(UnixNanos t) { return static_cast<double>(t) / 1e9; }

std::optional<UnixNanos> TimeOf(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return std::nullopt;
  Result<UnixNanos> t = ParseTimestamp(j[key].get<std::string>());
  return t.ok() ? std::optional<UnixNanos>(*t) : std::nullopt;
}

// Writes families: HELP and TYPE once, then the samples.
class Exposition {
 public:
  void Family(const std::string& name, const std::string& type, const std::string& help) {
    out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  void Sample(const std::string& name, double v, const std::string& labels = "") {
    out_ += name + (labels.empty() ? "" : "{" + labels + "}") + " " + Number(v) + "\n";
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string Label(const std::string& k, const std::string& v) {
  std::string escaped;
  for (char c : v) {
    if (c == '\\' || c == '"') escaped += '\\';
    if (c == '\n') {
      escaped += "\\n";
      continue;
    }
    escaped += c;
  }
  return k + "=\"" + escaped + "\"";
}

}  // namespace

std::string RenderMetrics(const Observations& o) {
  Exposition e;
  e.Family("lifeboat_agent_up", "gauge", "1 while the agent runs.");
  e.Sample("lifeboat_agent_up", 1);

  // The newest PostgreSQL snapshot of each type.
  struct Newest {
    UnixNanos started = 0, finished = 0;
  };
  std::map<std::string, Newest> newest;
  double stored = 0;
  if (o.snapshots.is_array()) {
    for (const auto& s : o.snapshots) {
      if (s.contains("stored_bytes") && s["stored_bytes"].is_number()) stored += s["stored_bytes"].get<double>();
      if (s.value("kind", "") != "postgresql" || !s.contains("type") || !s["type"].is_string()) continue;
      std::optional<UnixNanos> started = TimeOf(s, "started_at"), finished = TimeOf(s, "finished_at");
      if (!started || !finished) continue;
      Newest& n = newest[s["type"].get<std::string>()];
      if (*finished > n.finished) n = {*started, *finished};
    }
  }
  e.Family("lifeboat_backup_last_success_timestamp_seconds", "gauge",
           "When the newest PostgreSQL backup of each kind finished (Unix time).");
  for (const auto& [kind, n] : newest) e.Sample("lifeboat_backup_last_success_timestamp_seconds", Seconds(n.finished), Label("kind", kind));
  e.Family("lifeboat_backup_age_seconds", "gauge", "Seconds since the newest PostgreSQL backup of each kind finished.");
  for (const auto& [kind, n] : newest) e.Sample("lifeboat_backup_age_seconds", Seconds(o.now - n.finished), Label("kind", kind));
  e.Family("lifeboat_backup_duration_seconds", "gauge", "How long the newest PostgreSQL backup of each kind took.");
  for (const auto& [kind, n] : newest) e.Sample("lifeboat_backup_duration_seconds", Seconds(n.finished - n.started), Label("kind", kind));

  const nlohmann::json* protection =
      o.status.is_object() && o.status.contains("protection") ? &o.status["protection"] : nullptr;
  e.Family("lifeboat_wal_lag_seconds", "gauge",
           "Seconds between production's newest commit and the newest commit the repository holds.");
  if (protection && protection->contains("wal_lag_seconds") && (*protection)["wal_lag_seconds"].is_number()) {
    e.Sample("lifeboat_wal_lag_seconds", (*protection)["wal_lag_seconds"].get<double>());
  }
  e.Family("lifeboat_wal_stream_up", "gauge", "1 while the agent's wal stream runs (absent when it runs none).");
  if (o.stream_wanted) e.Sample("lifeboat_wal_stream_up", o.stream_up ? 1 : 0);

  e.Family("lifeboat_recovery_window_start_timestamp_seconds", "gauge", "The earliest restorable instant (Unix time).");
  e.Family("lifeboat_recovery_window_end_timestamp_seconds", "gauge", "The latest restorable instant (Unix time).");
  if (std::optional<UnixNanos> t = TimeOf(o.window, "earliest")) {
    e.Sample("lifeboat_recovery_window_start_timestamp_seconds", Seconds(*t));
  }
  if (std::optional<UnixNanos> t = TimeOf(o.window, "latest")) {
    e.Sample("lifeboat_recovery_window_end_timestamp_seconds", Seconds(*t));
  }
  e.Family("lifeboat_recovery_window_gaps", "gauge", "Ranges of missing WAL inside the window.");
  if (o.window.is_object() && o.window.contains("gaps") && o.window["gaps"].is_array()) {
    e.Sample("lifeboat_recovery_window_gaps", static_cast<double>(o.window["gaps"].size()));
  }

  e.Family("lifeboat_repository_up", "gauge", "1 when the agent's last probe opened the repository.");
  e.Sample("lifeboat_repository_up", o.repository_up ? 1 : 0, Label("repository", "primary"));
  e.Family("lifeboat_repository_stored_bytes", "gauge", "Bytes the repository's snapshots stored.");
  if (o.snapshots.is_array()) e.Sample("lifeboat_repository_stored_bytes", stored, Label("repository", "primary"));

  // The newest restore drill that passed.
  const nlohmann::json* drill = nullptr;
  std::optional<UnixNanos> drill_at;
  if (o.drills.is_array()) {
    for (const auto& d : o.drills) {
      if (d.value("kind", "") != "restore" || !d.value("passed", false)) continue;
      std::optional<UnixNanos> at = TimeOf(d, "finished_at");
      if (at && (!drill_at || *at > *drill_at)) {
        drill = &d;
        drill_at = at;
      }
    }
  }
  e.Family("lifeboat_drill_last_success_timestamp_seconds", "gauge", "When the newest passed restore drill finished.");
  e.Family("lifeboat_drill_last_rto_seconds", "gauge", "The RTO the newest passed restore drill measured.");
  e.Family("lifeboat_drill_last_rpo_seconds", "gauge", "The RPO the newest passed restore drill measured.");
  if (drill) {
    e.Sample("lifeboat_drill_last_success_timestamp_seconds", Seconds(*drill_at));
    if ((*drill)["rto_seconds"].is_number()) e.Sample("lifeboat_drill_last_rto_seconds", (*drill)["rto_seconds"].get<double>());
    if ((*drill)["rpo_seconds"].is_number()) e.Sample("lifeboat_drill_last_rpo_seconds", (*drill)["rpo_seconds"].get<double>());
  }
  e.Family("lifeboat_objective_rto_seconds", "gauge", "The recovery time objective ([objectives] rto).");
  e.Sample("lifeboat_objective_rto_seconds", static_cast<double>(o.rto_objective_seconds));
  e.Family("lifeboat_objective_rpo_seconds", "gauge", "The recovery point objective ([objectives] rpo).");
  e.Sample("lifeboat_objective_rpo_seconds", static_cast<double>(o.rpo_objective_seconds));

  // From the journal, which keeps every job: counters over the agent's whole history.
  std::map<std::pair<std::string, std::string>, int> runs;
  std::map<std::string, int> missed;
  for (JobKind k : kAllJobs) missed[JobKindName(k)] = 0;
  for (const JobRecord& r : o.jobs) {
    if (r.state == JobState::kMissed) {
      ++missed[JobKindName(r.job)];
    } else if (r.state != JobState::kRunning) {
      ++runs[{JobKindName(r.job), JobStateName(r.state)}];
    }
  }
  e.Family("lifeboat_job_runs_total", "counter", "Jobs the agent ran, by job and result.");
  for (const auto& [key, n] : runs) {
    e.Sample("lifeboat_job_runs_total", n, Label("job", key.first) + "," + Label("result", key.second));
  }
  e.Family("lifeboat_job_missed_total", "counter", "Due runs that could not start in their span.");
  for (const auto& [job, n] : missed) e.Sample("lifeboat_job_missed_total", n, Label("job", job));
  e.Family("lifeboat_alerts_firing", "gauge", "1 for each of the agent's alerts that fires now.");
  for (const auto& [alert, firing] : o.alerts) e.Sample("lifeboat_alerts_firing", firing ? 1 : 0, Label("alert", alert));
  return e.Take();
}

}  // namespace lifeboat::agent
