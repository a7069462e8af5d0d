#include "agent/alerts.h"

#include <cstdio>

namespace lifeboat::agent {

namespace {

std::string Figure(double seconds) { return FormatDuration(seconds); }

}  // namespace

std::vector<AlertCheck> EvaluateChecks(const Observations& o) {
  std::vector<AlertCheck> out;
  AlertCheck repo{"repository_down", false, ""};
  if (o.probed && !o.repository_up) {
    repo.firing = true;
    repo.summary = "the primary repository does not answer" + (o.repository_error.empty() ? "" : ": " + o.repository_error);
  }
  out.push_back(repo);

  AlertCheck stream{"wal_stream_down", false, ""};
  if (o.stream_wanted && !o.stream_up) {
    stream.firing = true;
    stream.summary = "the agent's wal stream is not running";
  }
  out.push_back(stream);

  AlertCheck lag{"wal_lag_above_objective", false, ""};
  if (o.status.is_object() && o.status.contains("protection") && o.status["protection"].contains("wal_lag_seconds") &&
      o.status["protection"]["wal_lag_seconds"].is_number() && o.rpo_objective_seconds > 0) {
    double l = o.status["protection"]["wal_lag_seconds"].get<double>();
    if (l > static_cast<double>(o.rpo_objective_seconds)) {
      lag.firing = true;
      lag.summary = "WAL lag " + Figure(l) + " is above the RPO objective of " +
                    Figure(static_cast<double>(o.rpo_objective_seconds));
    }
  }
  out.push_back(lag);

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
  return {{"alert", alert},
          {"state", state},
          {"summary", summary},
          {"at", FormatIso8601(at, true)},
          {"since", FormatIso8601(since, true)}};
}

std::vector<Notification> AlertTracker::Update(const std::vector<AlertCheck>& checks, UnixNanos now) {
  std::vector<Notification> out;
  int64_t repeat = repeat_seconds_ * 1'000'000'000;
  for (const AlertCheck& c : checks) {
    auto it = firing_.find(c.name);
    if (c.firing) {
      if (it == firing_.end()) {
        firing_[c.name] = {now, now};
        out.push_back({c.name, "firing", c.summary, now, now});
      } else if (repeat > 0 && now - it->second.last_sent >= repeat) {
        it->second.last_sent = now;
        out.push_back({c.name, "firing", c.summary, now, it->second.since});
      }
    } else if (it != firing_.end()) {
      out.push_back({c.name, "resolved", "", now, it->second.since});
      firing_.erase(it);
    }
  }
  return out;
}

std::vector<std::string> AlertTracker::Firing() const {
  std::vector<std::string> out;
  for (const auto& [name, s] : firing_) out.push_back(name);
  return out;
}

}  // namespace lifeboat::agent
