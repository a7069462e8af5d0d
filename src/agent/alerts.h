// The agent's alerts: checks over what it observed (metrics.h's Observations), each ok or
// firing with the figures behind it, and the notifications they cause. An alert notifies once
// when it starts firing, again every `repeat` while it lasts, and once more when it resolves.
// Pure logic: the agent delivers the notifications (webhook, command); the unit tests drive it
// with a fake clock.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/metrics.h"
#include "base/time.h"

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
  nlohmann::json ToJson() const;
};

class AlertTracker {
 public:
  explicit AlertTracker(int64_t repeat_seconds) : repeat_seconds_(repeat_seconds) {}
  void set_repeat(int64_t seconds) { repeat_seconds_ = seconds; }
  // The notifications `checks` cause at `now`.
  std::vector<Notification> Update(const std::vector<AlertCheck>& checks, UnixNanos now);
  // Names of the alerts firing now.
  std::vector<std::string> Firing() const;

 private:
  struct State {
    UnixNanos since = 0, last_sent = 0;
  };
  int64_t repeat_seconds_;
  std::map<std::string, State> firing_;
};

}  // namespace lifeboat::agent
