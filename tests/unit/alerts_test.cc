// The agent's alerts (agent/alerts.h) against a fake clock: a check fires once, repeats after
// the interval while it lasts, and resolves once; the checks read only what was observed.
#include "agent/alerts.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "agent/jobs.h"

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
  std::vector<FiringAlert> firing = t.Firing();
  ASSERT_EQ(firing.size(), 1u);
  EXPECT_EQ(firing[0].alert, "repository_down");
  EXPECT_EQ(firing[0].summary, "the primary repository does not answer");
  EXPECT_EQ(firing[0].since, 100 * kSecond);
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
  o.stream_wanted = true;
  // A status check is an alert once it fired in two probes in a row.
  o.previous_status = nlohmann::json::parse(R"({"checks": [
      {"name": "repository", "state": "firing", "summary": "the primary repository does not answer: gone"},
      {"name": "wal_lag", "state": "warning", "summary": "WAL lag 40s against the RPO objective of 1m"},
      {"name": "services", "state": "firing", "summary": "web has 1 of 2 replicas healthy"}]})");
  o.status = nlohmann::json::parse(R"({"checks": [
      {"name": "repository", "state": "firing", "summary": "the primary repository does not answer: still gone"},
      {"name": "wal_lag", "state": "firing", "summary": "WAL lag 1m30s against the RPO objective of 1m"},
      {"name": "services", "state": "ok", "summary": "every service has all its replicas healthy"}]})");
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
  EXPECT_EQ(fired.size(), 4u);
  EXPECT_EQ(fired["repository"], "the primary repository does not answer: still gone");
  EXPECT_EQ(fired["wal_stream_down"], "the agent's wal stream is not running");
  // One that a restart cannot fix says why.
  Observations given_up = o;
  given_up.stream_error = "exit 1, error: cannot open repository '/r': wrong passphrase (not restarted: fix it, "
                          "then send the agent SIGHUP)";
  EXPECT_EQ(EvaluateChecks(given_up)[0].summary,
            "the agent's wal stream is not running: exit 1, error: cannot open repository '/r': wrong passphrase (not "
            "restarted: fix it, then send the agent SIGHUP)");
  EXPECT_EQ(fired.count("wal_lag"), 0u);   // only once so far
  EXPECT_EQ(fired.count("services"), 0u);  // ok now
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

// What reaches a webhook or a command, and what `status` reads back of the firing alerts.
TEST(AlertsTest, NotificationsCarryTheContactsAndTheFiringAlertsRoundTrip) {
  Notification n{"wal_lag", "firing", "WAL lag 2m against the RPO objective of 1m", 200 * kSecond, 100 * kSecond,
                 {{"Ops Lead", "ops@example.com", "primary on-call"}}};
  EXPECT_EQ(n.ToJson().dump(),
            R"({"alert":"wal_lag","at":"1970-01-01T00:03:20Z","contacts":[{"email":"ops@example.com","name":"Ops Lead",)"
            R"("role":"primary on-call"}],"since":"1970-01-01T00:01:40Z","state":"firing",)"
            R"("summary":"WAL lag 2m against the RPO objective of 1m"})");
  FiringAlerts f{300 * kSecond, {{"repository", "gone", 100 * kSecond}}};
  Result<FiringAlerts> back = FiringAlerts::FromJson(f.ToJson(), "alerts.json");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->updated_at, 300 * kSecond);
  ASSERT_EQ(back->alerts.size(), 1u);
  EXPECT_EQ(back->alerts[0].alert, "repository");
  EXPECT_EQ(back->alerts[0].summary, "gone");
  EXPECT_EQ(back->alerts[0].since, 100 * kSecond);
  nlohmann::json broken = f.ToJson();
  broken["alerts"][0].erase("since");
  EXPECT_EQ(FiringAlerts::FromJson(broken, "alerts.json").status().message(),
            "alerts.json: missing or malformed 'alerts[].since'");
}

// An interrupted job's due time handled again (missed, or run) gets a record of its own: the
// interrupted one stays in the journal for `jobs` and the job_failed alert.
TEST(AlertsTest, ADueTimeHandledAgainKeepsTheEarlierRecord) {
  char tmpl[] = "/tmp/lifeboat-journal-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  JobJournal journal(tmpl);
  UnixNanos due = 1'796'000'400 * kSecond;
  EXPECT_EQ(journal.FreshId(JobKind::kIncremental, due), JobId(JobKind::kIncremental, due));
  JobRecord r;
  r.job = JobKind::kIncremental;
  r.due_at = due;
  r.id = journal.FreshId(r.job, due);
  r.state = JobState::kInterrupted;
  ASSERT_TRUE(journal.Save(r).ok());
  EXPECT_EQ(journal.FreshId(JobKind::kIncremental, due), r.id + "-2");
  EXPECT_EQ(journal.FreshId(JobKind::kFull, due), JobId(JobKind::kFull, due));
  JobRecord missed = r;
  missed.id = journal.FreshId(r.job, due);
  missed.state = JobState::kMissed;
  ASSERT_TRUE(journal.Save(missed).ok());
  EXPECT_EQ(journal.FreshId(JobKind::kIncremental, due), r.id + "-3");
  Result<std::vector<JobRecord>> all = journal.List();
  ASSERT_TRUE(all.ok()) << all.status().message();
  ASSERT_EQ(all->size(), 2u);
  int interrupted = 0;
  for (const JobRecord& x : *all) interrupted += x.state == JobState::kInterrupted ? 1 : 0;
  EXPECT_EQ(interrupted, 1);
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace lifeboat::agent
