// The agent's alerts: checks over what it observed (metrics.h's Observations), each ok or
// firing with the figures behind it, and the notifications they cause. An alert notifies once
// when it starts firing, again every `repeat` while it lasts, and once more when it resolves.
//
// The alerts are the agent's own (wal_stream_down: its supervised streamer, with a grace for a
// restart; job_failed and job_missed: its journal) and every check of `lifeboat status`
// (runbook/checkup.h: database, wal_protection, wal_lag, repository, full_backup_age, ...),
// named as the check is. A status check becomes an alert when it fires in two status probes in
// a row, so what one probe catches in passing (a streamer between two restarts) does not page.
// Pure logic: the agent delivers the notifications (webhook, command); the unit tests drive it
// with a fake clock.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/metrics.h"
#include "base/result.h"
#include "base/time.h"
#include "config/config.h"

namespace lifeboat::agent {

struct AlertCheck {
  std::string name;  // "repository_down", "wal_stream_down", "wal_lag_above_objective", ...
  bool firing = false;
  std::string summary;  // what is wrong, with its figures ("" when ok)
};

// The checks, in a fixed order. A check whose figures were not observed (no probe yet) is ok.
std::vector<AlertCheck> EvaluateChecks(const Observations& o);

struct Notification {
  std::string alert;
  std::string state;  // "firing" or "resolved"
  std::string summary;
  UnixNanos at = 0;
  UnixNanos since = 0;  // when it started firing
  std::vector<ContactConfig> contacts;  // [[contacts]], filled in by the notifier
  nlohmann::json ToJson() const;
};

// An alert firing now, as the agent keeps it in <state>/agent/alerts.json for `status`.
struct FiringAlert {
  std::string alert, summary;
  UnixNanos since = 0;
};
struct FiringAlerts {
  UnixNanos updated_at = 0;
  std::vector<FiringAlert> alerts;
  nlohmann::json ToJson() const;
  static Result<FiringAlerts> FromJson(const nlohmann::json& j, const std::string& where);
};

class AlertTracker {
 public:
  explicit AlertTracker(int64_t repeat_seconds) : repeat_seconds_(repeat_seconds) {}
  void set_repeat(int64_t seconds) { repeat_seconds_ = seconds; }
  // The notifications `checks` cause at `now`.
  std::vector<Notification> Update(const std::vector<AlertCheck>& checks, UnixNanos now);
  // The alerts firing now, by name.
  std::vector<FiringAlert> Firing() const;

 private:
  struct State {
    UnixNanos since = 0, last_sent = 0;
    std::string summary;
  };
  int64_t repeat_seconds_;
  std::map<std::string, State> firing_;
};

}  // namespace lifeboat::agent
