// The agent's /metrics, in Prometheus' text exposition format (0.0.4), from what it observed:
// the --json outputs of its probes (`snapshots`, `window`, `drills`, `status`, run as child
// processes like its jobs), its job journal, the config's objectives and its streamer.
// RenderMetrics is pure, so the unit tests hold it to exact lines and promtool to the format.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/jobs.h"
#include "base/time.h"

namespace lifeboat::agent {

struct Observations {
  UnixNanos now = 0;
  // A probe's --json output; null when it has not run or did not answer with JSON.
  nlohmann::json snapshots, window, drills, status;
  nlohmann::json previous_status;  // the status probe's output before `status`
  bool probed = false;         // the repository probe has run at least once
  bool repository_up = false;  // `snapshots` opened the primary repository (exit 0)
  std::string repository_error;  // its last error line when it did not
  std::vector<JobRecord> jobs;  // the journal
  int64_t rto_objective_seconds = 0, rpo_objective_seconds = 0;
  bool stream_wanted = false, stream_up = false;
  std::string stream_error;  // why the streamer was given up on ("" while it is restarted)
  std::map<std::string, bool> alerts;  // each alert check: firing or not (alerts.h)
};

std::string RenderMetrics(const Observations& o);

}  // namespace lifeboat::agent
