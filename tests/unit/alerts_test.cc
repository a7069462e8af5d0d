// The agent's alerts (agent/alerts.h) against a fake clock: a check fires once, repeats after
// the interval while it lasts, and resolves once; the checks read only what was observed.
#include "agent/alerts.h"

#include <gtest/gtest.h>

namespace lifeboat::agent {
namespace {

constexpr UnixNanos kSecond = 1'000'000'000;

TEST(AlertsTest, AnAlertFiresOnceRepeatsWhileItLastsAndResolvesOnce) {
  AlertTracker t(3600);
  std::vector<AlertCheck> down = {{"repository_down", true, "the primary repository does not answer"}};
  std::vector<AlertCheck> up = {{"repository_down", false, ""}};
  std::vector<Notification> n = t.Update(down, 100 * kSecond);
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].state, "firing");
  EXPECT_EQ(n[0].summary, "the primary repository does not answer");
  EXPECT_TRUE(t.Update(down, 200 * kSecond).empty());
  n = t.Update(down, 3700 * kSecond);
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].since, 100 * kSecond);
  EXPECT_EQ(t.Firing(), std::vector<std::string>{"repository_down"});
  n = t.Update(up, 3800 * kSecond);
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].state, "resolved");
  EXPECT_EQ(n[0].ToJson()["since"], FormatIso8601(100 * kSecond, true));
  EXPECT_TRUE(t.Update(up, 3900 * kSecond).empty());
  EXPECT_TRUE(t.Firing().empty());
}

TEST(AlertsTest, ChecksFireOnlyOnWhatWasObserved) {
  Observations o;
  for (const AlertCheck& c : EvaluateChecks(o)) EXPECT_FALSE(c.firing) << c.name;
  o.probed = true;
  o.repository_error = "error: cannot open repository '/r': permission denied";
  o.stream_wanted = true;
  o.status = nlohmann::json::parse(R"({"protection": {"wal_lag_seconds": 90}})");
  o.rpo_objective_seconds = 60;
  JobRecord failed;
  failed.id = "full-20261202T030000Z";
  failed.job = JobKind::kFull;
  failed.state = JobState::kFailed;
  failed.due_at = 10 * kSecond;
  failed.detail = "error: disk full";
  JobRecord later = failed;
  later.job = JobKind::kIncremental;
  later.id = "incremental-20261202T040000Z";
  later.state = JobState::kMissed;
  later.detail = "not started before the next one was due";
  o.jobs = {failed, later};
  std::map<std::string, std::string> fired;
  for (const AlertCheck& c : EvaluateChecks(o)) {
    if (c.firing) fired[c.name] = c.summary;
  }
  EXPECT_EQ(fired["repository_down"],
            "the primary repository does not answer: error: cannot open repository '/r': permission denied");
  EXPECT_EQ(fired["wal_stream_down"], "the agent's wal stream is not running");
  EXPECT_EQ(fired["wal_lag_above_objective"], "WAL lag 1m30s is above the RPO objective of 1m");
  EXPECT_EQ(fired["job_failed"], "job full-20261202T030000Z failed: error: disk full");
  EXPECT_EQ(fired["job_missed"], "job incremental-20261202T040000Z missed: not started before the next one was due");
  // A later success of the full job clears its failure.
  JobRecord ok = failed;
  ok.id = "full-20261203T030000Z";
  ok.state = JobState::kSucceeded;
  ok.due_at = 20 * kSecond;
  o.jobs.push_back(ok);
  for (const AlertCheck& c : EvaluateChecks(o)) {
    if (c.name == "job_failed") {
      EXPECT_FALSE(c.firing) << c.summary;
    }
  }
}

}  // namespace
}  // namespace lifeboat::agent
