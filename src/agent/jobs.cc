#include "agent/jobs.h"

#include <dirent.h>

#include <algorithm>
#include <climits>

#include "base/fs.h"
#include "base/json_fields.h"
#include "schedule/schedule.h"

namespace lifeboat::agent {

namespace {

constexpr JobState kStates[] = {JobState::kRunning, JobState::kSucceeded, JobState::kFailed, JobState::kInterrupted,
                                JobState::kMissed};

nlohmann::json TimeOrNull(const std::optional<UnixNanos>& t) {
  return t ? nlohmann::json(FormatIso8601(*t, true)) : nlohmann::json();
}

Status WriteJson(const std::string& file, const nlohmann::json& j) {
  std::string text = j.dump(1);
  return WriteFileDurable(file, ByteSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size()), 0600);
}

Result<nlohmann::json> ReadJson(const std::string& file) {
  LB_ASSIGN_OR_RETURN(Bytes b, ReadFile(file));
  auto j = nlohmann::json::parse(b.begin(), b.end(), nullptr, false);
  if (j.is_discarded()) return Status::IO("'" + file + "' is not JSON (truncated or damaged)");
  return j;
}

}  // namespace

const char* JobKindName(JobKind k) {
  switch (k) {
    case JobKind::kFull: return "full";
    case JobKind::kIncremental: return "incremental";
    case JobKind::kExpire: return "expire";
    case JobKind::kCopy: return "copy";
    case JobKind::kVerify: return "verify";
    case JobKind::kDrill: return "drill";
  }
  return "full";
}

const char* JobStateName(JobState s) {
  switch (s) {
    case JobState::kRunning: return "running";
    case JobState::kSucceeded: return "succeeded";
    case JobState::kFailed: return "failed";
    case JobState::kInterrupted: return "interrupted";
    case JobState::kMissed: return "missed";
  }
  return "failed";
}

const std::string& ScheduleText(const Config& cfg, JobKind k) {
  const ScheduleConfigSection& s = cfg.schedule;
  switch (k) {
    case JobKind::kFull: return s.full;
    case JobKind::kIncremental: return s.incremental;
    case JobKind::kExpire: return s.expire;
    case JobKind::kCopy: return s.copy;
    case JobKind::kVerify: return s.verify;
    case JobKind::kDrill: return s.drill;
  }
  return s.full;
}

std::vector<std::string> JobCommand(JobKind k, const std::string& self, const Config& cfg) {
  std::vector<std::string> argv = {self, "-c", cfg.file, "--json"};
  // A copy with times of its own: the backups leave the offsite repository to it.
  bool own_copy = !cfg.schedule.copy.empty() && cfg.schedule.copy != "after backup";
  switch (k) {
    case JobKind::kFull:
    case JobKind::kIncremental:
      argv.insert(argv.end(), {"backup", "--type", k == JobKind::kFull ? "full" : "incremental"});
      if (own_copy) argv.push_back("--no-copy");
      break;
    case JobKind::kExpire: argv.push_back("expire"); break;
    case JobKind::kCopy: argv.insert(argv.end(), {"repo", "copy", "--to", "offsite"}); break;
    case JobKind::kVerify: argv.insert(argv.end(), {"verify", "--snapshot", "latest"}); break;
    case JobKind::kDrill:
      argv.push_back("drill");
      if (cfg.schedule.drill_point != "latest") argv.insert(argv.end(), {"--point", cfg.schedule.drill_point});
      break;
  }
  return argv;
}

std::string JobId(JobKind k, UnixNanos due_at) {
  std::string compact;
  for (char c : FormatIso8601(due_at)) {  // 2026-12-02T03:00:00Z: due times are whole seconds
    if (c != '-' && c != ':') compact += c;
  }
  return std::string(JobKindName(k)) + "-" + compact;
}

nlohmann::json JobRecord::ToJson() const {
  return {{"id", id},
          {"job", JobKindName(job)},
          {"state", JobStateName(state)},
          {"due_at", FormatIso8601(due_at, true)},
          {"started_at", TimeOrNull(started_at)},
          {"finished_at", TimeOrNull(finished_at)},
          {"seconds", started_at && finished_at ? nlohmann::json(static_cast<double>(*finished_at - *started_at) / 1e9)
                                                : nlohmann::json()},
          {"pid", pid},
          {"exit_code", exit_code},
          {"detail", detail},
          {"figures", figures}};
}

Result<JobRecord> JobRecord::FromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f(j, where, &Status::IO);
  LB_RETURN_IF_ERROR(f.IsObject());
  JobRecord r;
  LB_RETURN_IF_ERROR(f.String("id", &r.id));
  LB_RETURN_IF_ERROR(f.Enum("job", kAllJobs, &JobKindName, "a job (full, incremental, expire, copy, verify, drill)", &r.job));
  LB_RETURN_IF_ERROR(
      f.Enum("state", kStates, &JobStateName, "a job state (running, succeeded, failed, interrupted, missed)", &r.state));
  LB_RETURN_IF_ERROR(f.Time("due_at", &r.due_at));
  if (f.Has("started_at") && !j["started_at"].is_null()) LB_RETURN_IF_ERROR(f.OptionalTime("started_at", &r.started_at));
  if (f.Has("finished_at") && !j["finished_at"].is_null()) {
    LB_RETURN_IF_ERROR(f.OptionalTime("finished_at", &r.finished_at));
  }
  int pid = 0;
  LB_RETURN_IF_ERROR(f.Int("pid", &pid));
  r.pid = pid;
  LB_RETURN_IF_ERROR(f.Int("exit_code", &r.exit_code));
  LB_RETURN_IF_ERROR(f.String("detail", &r.detail));
  if (f.Has("figures")) r.figures = j["figures"];
  return r;
}

JobJournal::JobJournal(std::string state_dir) : dir_(JoinPath(state_dir, "jobs")) {}

Status JobJournal::Save(const JobRecord& r) const {
  LB_RETURN_IF_ERROR(MakeDirs(dir_, 0700));
  return WriteJson(JoinPath(dir_, r.id + ".json"), r.ToJson());
}

std::string JobJournal::FreshId(JobKind k, UnixNanos due_at) const {
  std::string id = JobId(k, due_at);
  for (int n = 2; PathExists(JoinPath(dir_, id + ".json")); ++n) id = JobId(k, due_at) + "-" + std::to_string(n);
  return id;
}

std::string JobJournal::OutFile(const std::string& id) const { return JoinPath(dir_, id + ".out"); }
std::string JobJournal::ErrFile(const std::string& id) const { return JoinPath(dir_, id + ".err"); }

Result<std::vector<JobRecord>> JobJournal::List(size_t limit) const {
  std::vector<JobRecord> out;
  DIR* d = opendir(dir_.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return out;
    return ErrnoStatus("cannot list '" + dir_ + "'", errno);
  }
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".json") == 0) names.push_back(n);
  }
  closedir(d);
  for (const std::string& n : names) {
    std::string file = JoinPath(dir_, n);
    LB_ASSIGN_OR_RETURN(nlohmann::json j, ReadJson(file));
    LB_ASSIGN_OR_RETURN(JobRecord r, JobRecord::FromJson(j, "job record '" + file + "'"));
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const JobRecord& a, const JobRecord& b) {
    return a.due_at != b.due_at ? a.due_at > b.due_at : a.id > b.id;
  });
  if (limit > 0 && out.size() > limit) out.resize(limit);
  return out;
}

nlohmann::json AgentState::ToJson() const {
  nlohmann::json handled = nlohmann::json::object();
  for (const auto& [job, at] : last_handled) handled[job] = FormatIso8601(at, true);
  return {{"last_handled", handled}};
}

Result<AgentState> AgentState::FromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f(j, where, &Status::IO);
  LB_RETURN_IF_ERROR(f.IsObject());
  nlohmann::json handled;
  LB_RETURN_IF_ERROR(f.Object("last_handled", &handled));
  JsonFields h(handled, where + ", last_handled", &Status::IO);
  AgentState s;
  for (const auto& [job, value] : handled.items()) {
    UnixNanos at = 0;
    LB_RETURN_IF_ERROR(h.Time(job.c_str(), &at));
    s.last_handled[job] = at;
  }
  return s;
}

Result<AgentState> AgentState::Load(const std::string& state_dir) {
  std::string file = JoinPath(state_dir, "agent/state.json");
  Result<nlohmann::json> j = ReadJson(file);
  if (!j.ok()) {
    if (j.status().code() == Code::kNotFound) return AgentState{};
    return j.status();
  }
  return FromJson(*j, "agent state '" + file + "'");
}

Status AgentState::Save(const std::string& state_dir) const {
  std::string dir = JoinPath(state_dir, "agent");
  LB_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  return WriteJson(JoinPath(dir, "state.json"), ToJson());
}

nlohmann::json NextJobs(const Config& cfg, UnixNanos now) {
  nlohmann::json out = nlohmann::json::array();
  Result<schedule::Zone> zone = schedule::Zone::Named(cfg.schedule.timezone);
  if (!zone.ok()) return out;
  std::vector<std::pair<UnixNanos, nlohmann::json>> rows;
  for (JobKind k : kAllJobs) {
    const std::string& text = ScheduleText(cfg, k);
    Result<schedule::Schedule> s = schedule::Schedule::Parse(text);
    if (text.empty() || !s.ok()) continue;
    nlohmann::json row = {{"job", JobKindName(k)}, {"schedule", text}, {"next", nullptr}, {"next_local", nullptr}};
    // Spelled out: GCC 12 at -O2 sees the optional of a conditional as maybe uninitialized.
    UnixNanos at = INT64_MAX;
    if (!s->after_backup()) {
      if (std::optional<UnixNanos> next = s->NextAfter(now, *zone); next.has_value()) {
        at = next.value();
        row["next"] = FormatIso8601(at, true);
        row["next_local"] = zone->Format(at);
      }
    }
    rows.push_back({at, std::move(row)});
  }
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [at, row] : rows) out.push_back(std::move(row));
  return out;
}

}  // namespace lifeboat::agent
