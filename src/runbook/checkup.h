// The runbook's quarterly check on one screen ("verify automated backups are running", the
// restore test's age and result, the objectives): what `lifeboat status` prints and what the
// agent's status probe reads its alerts from (agent/alerts.h).
//
// The facts come from platform::Stack::Summary() (database, WAL protection, services, load
// balancer, free space) and from the repository (GatherRepositoryFacts: the newest backups,
// the window, the newest restore drill). StatusChecks turns them into checks, each ok, warning
// or firing with the figures behind it; it is pure, so the unit tests drive it with JSON and a
// fake clock.
//
// Ages against schedules: a backup or drill is a warning once it is older than 1.1 times its
// schedule's interval and fires past 1.5 times (a daily backup fires at 36 h: one run missed
// and half a day gone). A kind with no schedule is not checked by age.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/time.h"
#include "config/config.h"
#include "repository/repository.h"

namespace lifeboat::runbook {

struct Check {
  std::string name;   // "database", "wal_protection", "wal_lag", "full_backup_age", ...
  std::string state;  // "ok", "warning" or "firing"
  std::string summary;
  bool firing() const { return state == "firing"; }
};
nlohmann::json CheckToJson(const Check& c);

// Adds "repository", "backups", "window" (with a [database]) and "drill" to `status`. `repo`
// is the one that served ("primary" or "offsite": `served_by`), or null; `repository_error`
// says why the one asked for did not answer ("" when it did).
void GatherRepositoryFacts(const Config& cfg, Repository* repo, const std::string& served_by,
                           const std::string& repository_error, nlohmann::json* status);

// The checks, in a fixed order, over a status document (Summary() plus the facts).
std::vector<Check> StatusChecks(const nlohmann::json& status, const Config& cfg, UnixNanos now);

// Seconds between two consecutive runs of `schedule_text` after `now`; 0 when it has none
// ("", "after backup", a bad one).
int64_t IntervalSeconds(const std::string& schedule_text, const std::string& timezone, UnixNanos now);

}  // namespace lifeboat::runbook
