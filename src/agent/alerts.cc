#include "agent/alerts.h"

#include <cstdio>
#include <set>

namespace lifeboat::agent {

std::vector<AlertCheck> EvaluateChecks(const Observations& o) {
  std::vector<AlertCheck> out;
  AlertCheck stream{"wal_stream_down", false, ""};
  if (o.stream_wanted && !o.stream_up) {
    stream.firing = true;
    stream.summary = "the agent's wal stream is not running" +
                     (o.stream_error.empty() ? std::string() : ": " + o.stream_error);
  }
  out.push_back(stream);

  // The checks of `status`; what fired in the probe before too is an alert.
  std::set<std::string> before;
  if (o.previous_status.is_object() && o.previous_status.contains("checks")) {
    for (const auto& c : o.previous_status["checks"]) {
      if (c.value("state", "") == "firing") before.insert(c.value("name", ""));
    }
  }
  if (o.status.is_object() && o.status.contains("checks") && o.status["checks"].is_array()) {
    for (const auto& c : o.status["checks"]) {
      std::string name = c.value("name", "");
      bool firing = c.value("state", "") == "firing" && before.count(name);
      out.push_back({name, firing, firing ? c.value("summary", "") : ""});
    }
  }

  // The newest record of each job: failed, interrupted or missed fires until it runs again.
  std::map<JobKind, const JobRecord*> newest;
  for (const JobRecord& r : o.jobs) {
    if (r.state == JobState::kRunning) continue;
    const JobRecord*& n = newest[r.job];
    if (n == nullptr || r.due_at > n->due_at || (r.due_at == n->due_at && r.id > n->id)) n = &r;
  }
  AlertCheck failed{"job_failed", false, ""};
  AlertCheck missed{"job_missed", false, ""};
  for (const auto& [kind, r] : newest) {
    if (r->state == JobState::kFailed || r->state == JobState::kInterrupted) {
      failed.firing = true;
      failed.summary += (failed.summary.empty() ? "" : "; ") + std::string("job ") + r->id + " " + JobStateName(r->state) +
                        (r->detail.empty() ? "" : ": " + r->detail);
    } else if (r->state == JobState::kMissed) {
      missed.firing = true;
      missed.summary += (missed.summary.empty() ? "" : "; ") + std::string("job ") + r->id + " missed: " + r->detail;
    }
  }
  out.push_back(failed);
  out.push_back(missed);
  return out;
}

nlohmann::json Notification::ToJson() const {
  nlohmann::json people = nlohmann::json::array();
  for (const ContactConfig& c : contacts) people.push_back({{"name", c.name}, {"email", c.email}, {"role", c.role}});
  return {{"alert", alert},
          {"state", state},
          {"summary", summary},
          {"at", FormatIso8601(at, true)},
          {"since", FormatIso8601(since, true)},
          {"contacts", people}};
}

nlohmann::json FiringAlerts::ToJson() const {
  nlohmann::json list = nlohmann::json::array();
  for (const FiringAlert& a : alerts) {
    list.push_back({{"alert", a.alert}, {"summary", a.summary}, {"since", FormatIso8601(a.since, true)}});
  }
  return {{"updated_at", FormatIso8601(updated_at, true)}, {"alerts", list}};
}

Result<FiringAlerts> FiringAlerts::FromJson(const nlohmann::json& j, const std::string& where) {
  auto bad = [&](const std::string& key) { return Status::Corruption(where + ": missing or malformed '" + key + "'"); };
  if (!j.is_object() || !j.contains("updated_at") || !j["updated_at"].is_string()) return bad("updated_at");
  FiringAlerts out;
  LB_ASSIGN_OR_RETURN(out.updated_at, ParseTimestamp(j["updated_at"].get<std::string>()));
  if (!j.contains("alerts") || !j["alerts"].is_array()) return bad("alerts");
  for (const auto& a : j["alerts"]) {
    if (!a.is_object() || !a.contains("alert") || !a["alert"].is_string()) return bad("alerts[].alert");
    if (!a.contains("summary") || !a["summary"].is_string()) return bad("alerts[].summary");
    if (!a.contains("since") || !a["since"].is_string()) return bad("alerts[].since");
    FiringAlert f{a["alert"].get<std::string>(), a["summary"].get<std::string>(), 0};
    LB_ASSIGN_OR_RETURN(f.since, ParseTimestamp(a["since"].get<std::string>()));
    out.alerts.push_back(std::move(f));
  }
  return out;
}

std::vector<Notification> AlertTracker::Update(const std::vector<AlertCheck>& checks, UnixNanos now) {
  std::vector<Notification> out;
  int64_t repeat = repeat_seconds_ * 1'000'000'000;
  for (const AlertCheck& c : checks) {
    auto it = firing_.find(c.name);
    if (c.firing) {
      if (it == firing_.end()) {
        firing_[c.name] = {now, now, c.summary};
        out.push_back({c.name, "firing", c.summary, now, now, {}});
        continue;
      }
      it->second.summary = c.summary;  // its figures move while it lasts
      if (repeat > 0 && now - it->second.last_sent >= repeat) {
        it->second.last_sent = now;
        out.push_back({c.name, "firing", c.summary, now, it->second.since, {}});
      }
    } else if (it != firing_.end()) {
      out.push_back({c.name, "resolved", "", now, it->second.since, {}});
      firing_.erase(it);
    }
  }
  return out;
}

std::vector<FiringAlert> AlertTracker::Firing() const {
  std::vector<FiringAlert> out;
  for (const auto& [name, s] : firing_) out.push_back({name, s.summary, s.since});
  return out;
}

}  // namespace lifeboat::agent
