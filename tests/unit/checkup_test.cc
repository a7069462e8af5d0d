// `status`'s checks (runbook/checkup.h) over status documents written here, against a fake
// clock: ages against schedules, the WAL lag against the objective, the newest drill, free
// space, services and the load balancer; and a repository that could not be read.
#include "runbook/checkup.h"

#include "agent/jobs.h"

#include <gtest/gtest.h>

#include <map>

namespace lifeboat::runbook {
namespace {

constexpr UnixNanos kSecond = 1'000'000'000;
constexpr UnixNanos kHour = 3600 * kSecond;

UnixNanos At(const char* iso) { return *ParseTimestamp(iso); }

Config Scheduled() {
  Config cfg;
  cfg.schedule.full = "daily 03:00";
  cfg.schedule.incremental = "every 1h";
  cfg.schedule.drill = "monthly";
  cfg.objectives.rpo_seconds = 60;
  cfg.objectives.rto_seconds = 900;
  cfg.alert.min_free_percent = 10;
  return cfg;
}

std::map<std::string, std::pair<std::string, std::string>> ByName(const std::vector<Check>& checks) {
  std::map<std::string, std::pair<std::string, std::string>> out;
  for (const Check& c : checks) out[c.name] = {c.state, c.summary};
  return out;
}

TEST(CheckupTest, EveryCheckAgainstItsScheduleObjectiveOrThreshold) {
  UnixNanos now = At("2026-12-03T19:00:00Z");
  auto s = nlohmann::json::parse(R"({
    "database": {"name": "main", "status": "running", "port": 5432},
    "protection": {"problems": [], "wal_lag_seconds": 90},
    "repository": {"name": "primary", "up": true, "error": "", "served_by": "primary"},
    "backups": {"full": {"id": "aaaa1111", "finished_at": "2026-12-02T03:00:00Z"},
                "incremental": {"id": "bbbb2222", "finished_at": "2026-12-03T17:50:00Z"}},
    "drill": null,
    "space": [{"what": "repository", "path": "/r", "free_percent": 4.31, "low": true},
              {"what": "instances", "path": "/i", "free_percent": 50.0, "low": false}],
    "services": [{"name": "web", "healthy": 1, "desired": 2, "crash_loop": false},
                 {"name": "api", "healthy": 2, "desired": 2, "crash_loop": false}],
    "load_balancer": {"running": false, "url": "http://127.0.0.1:8080"}})");
  auto c = ByName(StatusChecks(s, Scheduled(), now));
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(c["database"], P("ok", "production main is running"));
  EXPECT_EQ(c["wal_protection"], P("ok", "production archives and the repository stores its WAL"));
  EXPECT_EQ(c["wal_lag"], P("firing", "WAL lag 1m30s against the RPO objective of 1m"));
  EXPECT_EQ(c["repository"], P("ok", "the primary repository answers"));
  // 40 h against a day: past 1.5 times.
  EXPECT_EQ(c["full_backup_age"],
            P("firing", "the newest full backup (aaaa1111) finished 1d16h ago; [schedule] 'daily 03:00' runs every 1d"));
  // 70 minutes against an hour: past 1.1 times, not 1.5.
  EXPECT_EQ(c["incremental_backup_age"],
            P("warning", "the newest incremental backup (bbbb2222) finished 1h10m ago; [schedule] 'every 1h' runs every 1h"));
  EXPECT_EQ(c["drill_age"], P("firing", "no restore drill yet; [schedule] says drill = 'monthly'"));
  EXPECT_EQ(c["disk_space"], P("firing", "repository at '/r' has 4.3% free ([alert] min_free_percent = 10)"));
  EXPECT_EQ(c["services"], P("firing", "web has 1 of 2 replicas healthy"));
  EXPECT_EQ(c["load_balancer"], P("firing", "haproxy is not running"));

  // Half the objective is a warning; a streamer's problems fire.
  s["protection"]["wal_lag_seconds"] = 31;
  s["protection"]["problems"] = {"the WAL streamer (pid 7) was stopped"};
  c = ByName(StatusChecks(s, Scheduled(), now));
  EXPECT_EQ(c["wal_lag"], P("warning", "WAL lag 31s against the RPO objective of 1m"));
  EXPECT_EQ(c["wal_protection"], P("firing", "the WAL streamer (pid 7) was stopped"));

  // Without schedules nothing is checked by age, and a missing drill is a warning.
  Config plain;
  c = ByName(StatusChecks(s, plain, now));
  EXPECT_EQ(c["full_backup_age"], P("ok", "the newest full backup (aaaa1111) finished 1d16h ago; none scheduled"));
  EXPECT_EQ(c["drill_age"], P("warning", "no restore drill yet: the runbook's restore test has not been performed"));
}

TEST(CheckupTest, TheNewestDrillAgainstItsScheduleAndTheObjectives) {
  UnixNanos now = At("2026-12-20T00:00:00Z");
  auto s = nlohmann::json::parse(R"({
    "repository": {"name": "primary", "up": true, "error": "", "served_by": "primary"},
    "backups": {"full": null, "incremental": null},
    "drill": {"id": "drill-1", "finished_at": "2026-12-01T00:00:00Z", "passed": true, "reason": "",
              "rto_seconds": 1200.0, "rpo_seconds": 0.5}})");
  auto c = ByName(StatusChecks(s, Scheduled(), now));
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(c["drill_result"], P("firing", "drill drill-1 measured RTO 20m above the objective of 15m"));
  EXPECT_EQ(c["drill_age"].first, "ok") << c["drill_age"].second;
  EXPECT_EQ(c["full_backup_age"], P("firing", "no full backup yet; [schedule] says 'daily 03:00'"));
  s["drill"]["passed"] = false;
  s["drill"]["reason"] = "verify: 2 checks failed";
  c = ByName(StatusChecks(s, Scheduled(), now));
  EXPECT_EQ(c["drill_result"], P("firing", "drill drill-1 failed: verify: 2 checks failed"));
  s["drill"]["passed"] = true;
  s["drill"]["rto_seconds"] = 12.0;
  c = ByName(StatusChecks(s, Scheduled(), now));
  EXPECT_EQ(c["drill_result"], P("ok", "drill drill-1 passed within the objectives"));
  // Monthly, from January: the next two runs are 28 days apart (February), so 35 days old is
  // a warning and 44 days old fires.
  c = ByName(StatusChecks(s, Scheduled(), At("2027-01-05T00:00:00Z")));
  EXPECT_EQ(c["drill_age"].first, "warning") << c["drill_age"].second;
  c = ByName(StatusChecks(s, Scheduled(), At("2027-01-14T00:00:00Z")));
  EXPECT_EQ(c["drill_age"].first, "firing") << c["drill_age"].second;
}

TEST(CheckupTest, ARepositoryThatCouldNotBeReadMakesItsFactsUnknownNotMissing) {
  auto s = nlohmann::json::parse(R"({
    "repository": {"name": "primary", "up": false, "error": "cannot open repository '/r': no such directory",
                   "served_by": ""},
    "backups": {"full": null, "incremental": null}, "drill": null})");
  auto c = ByName(StatusChecks(s, Scheduled(), At("2026-12-03T19:00:00Z")));
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(c["repository"],
            P("firing", "the primary repository does not answer: cannot open repository '/r': no such directory"));
  for (const char* name : {"full_backup_age", "incremental_backup_age", "drill_age", "drill_result"}) {
    EXPECT_EQ(c[name], P("warning", "unknown: the repository could not be read")) << name;
  }
}

TEST(CheckupTest, SpaceThatCannotBeMeasuredIsAWarningAndLowSpaceStillFires) {
  auto s = nlohmann::json::parse(R"({"space": [
    {"what": "repository", "path": "/r", "error": "cannot read the free space of '/r': Permission denied"},
    {"what": "instances", "path": "/i", "free_percent": 50.0, "low": false}]})");
  auto c = ByName(StatusChecks(s, Scheduled(), At("2026-12-03T19:00:00Z")));
  EXPECT_EQ(c["disk_space"], std::make_pair(std::string("warning"),
                                            std::string("free space unknown: cannot read the free space of '/r': "
                                                        "Permission denied")));
  s["space"][1] = nlohmann::json::parse(R"({"what": "instances", "path": "/i", "free_percent": 2.0, "low": true})");
  c = ByName(StatusChecks(s, Scheduled(), At("2026-12-03T19:00:00Z")));
  EXPECT_EQ(c["disk_space"], std::make_pair(std::string("firing"), std::string("instances at '/i' has 2.0% free "
                                                                               "([alert] min_free_percent = 10)")));
}

TEST(CheckupTest, IntervalsFollowTheZoneAndNextJobsAreInOrder) {
  // New York leaves daylight saving on 2026-11-01: from 03:00 on the 31st to 03:00 on the 1st
  // are 25 hours.
  EXPECT_EQ(IntervalSeconds("daily 03:00", "America/New_York", At("2026-10-31T06:00:00Z")), 25 * 3600);
  EXPECT_EQ(IntervalSeconds("daily 03:00", "America/New_York", At("2026-11-05T08:00:00Z")), 24 * 3600);
  EXPECT_EQ(IntervalSeconds("every 6h", "UTC", At("2026-11-05T08:00:00Z")), 6 * 3600);
  EXPECT_EQ(IntervalSeconds("after backup", "UTC", 0), 0);
  EXPECT_EQ(IntervalSeconds("", "UTC", 0), 0);
  Config cfg = Scheduled();
  cfg.schedule.timezone = "America/New_York";
  cfg.schedule.copy = "after backup";
  nlohmann::json next = agent::NextJobs(cfg, At("2026-12-03T07:30:00Z"));  // 02:30 in New York
  ASSERT_EQ(next.size(), 4u) << next.dump();
  EXPECT_EQ(next[0]["job"], "full");
  EXPECT_EQ(next[0]["next"], "2026-12-03T08:00:00Z");
  EXPECT_EQ(next[0]["next_local"], "2026-12-03 03:00:00 EST");
  EXPECT_EQ(next[1]["job"], "incremental");
  EXPECT_EQ(next[1]["next"], "2026-12-03T08:00:00Z");
  EXPECT_EQ(next[2]["job"], "drill");
  EXPECT_EQ(next[2]["next"], "2027-01-01T05:00:00Z");
  EXPECT_EQ(next[3]["job"], "copy");
  EXPECT_TRUE(next[3]["next"].is_null());
}

}  // namespace
}  // namespace lifeboat::runbook
