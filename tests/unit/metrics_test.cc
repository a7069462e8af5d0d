// The agent's /metrics (agent/metrics.h) from fixed observations: exact samples for what the
// probes and the journal said, nothing for what they did not, and an exposition that
// Prometheus' own promtool accepts.
#include "agent/metrics.h"

#include <stdio.h>

#include <gtest/gtest.h>

namespace lifeboat::agent {
namespace {

UnixNanos At(const std::string& iso) { return ParseTimestamp(iso).value(); }

bool HasLine(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

Observations Sample() {
  Observations o;
  o.now = At("2026-12-02T06:00:00Z");
  o.snapshots = nlohmann::json::parse(R"([
    {"kind": "postgresql", "type": "full", "started_at": "2026-12-01T03:00:00Z",
     "finished_at": "2026-12-01T03:00:30Z", "stored_bytes": 1000},
    {"kind": "postgresql", "type": "full", "started_at": "2026-12-02T03:00:00Z",
     "finished_at": "2026-12-02T03:00:20Z", "stored_bytes": 200},
    {"kind": "postgresql", "type": "incremental", "started_at": "2026-12-02T05:00:00Z",
     "finished_at": "2026-12-02T05:00:02.5Z", "stored_bytes": 30},
    {"kind": "files", "name": "media", "started_at": "2026-12-02T05:30:00Z",
     "finished_at": "2026-12-02T05:31:00Z", "stored_bytes": 5}])");
  o.repository_up = true;
  o.window = nlohmann::json::parse(
      R"({"earliest": "2026-12-01T03:00:30Z", "latest": "2026-12-02T05:59:59Z", "gaps": []})");
  o.drills = nlohmann::json::parse(R"([
    {"kind": "restore", "passed": true, "finished_at": "2026-11-30T10:00:00Z", "rto_seconds": 9.5, "rpo_seconds": 0.4},
    {"kind": "restore", "passed": false, "finished_at": "2026-12-01T10:00:00Z", "rto_seconds": null, "rpo_seconds": null},
    {"kind": "rollback", "passed": true, "finished_at": "2026-12-01T11:00:00Z"}])");
  o.status = nlohmann::json::parse(R"({"protection": {"wal_lag_seconds": 0.75}})");
  JobRecord ok;
  ok.job = JobKind::kFull;
  ok.state = JobState::kSucceeded;
  JobRecord failed = ok;
  failed.state = JobState::kFailed;
  JobRecord missed = ok;
  missed.job = JobKind::kVerify;
  missed.state = JobState::kMissed;
  o.jobs = {ok, ok, failed, missed};
  o.rto_objective_seconds = 14400;
  o.rpo_objective_seconds = 1;
  o.stream_wanted = true;
  o.stream_up = true;
  return o;
}

TEST(MetricsTest, EverySampleComesFromWhatWasObserved) {
  std::string m = RenderMetrics(Sample());
  for (const char* line : {
           "lifeboat_agent_up 1",
           "lifeboat_backup_last_success_timestamp_seconds{kind=\"full\"} 1796180420",
           "lifeboat_backup_last_success_timestamp_seconds{kind=\"incremental\"} 1796187602.5",
           "lifeboat_backup_age_seconds{kind=\"full\"} 10780",
           "lifeboat_backup_age_seconds{kind=\"incremental\"} 3597.5",
           "lifeboat_backup_duration_seconds{kind=\"full\"} 20",
           "lifeboat_backup_duration_seconds{kind=\"incremental\"} 2.5",
           "lifeboat_wal_lag_seconds 0.75",
           "lifeboat_wal_stream_up 1",
           "lifeboat_recovery_window_start_timestamp_seconds 1796094030",
           "lifeboat_recovery_window_end_timestamp_seconds 1796191199",
           "lifeboat_recovery_window_gaps 0",
           "lifeboat_repository_up{repository=\"primary\"} 1",
           "lifeboat_repository_stored_bytes{repository=\"primary\"} 1235",
           "lifeboat_drill_last_success_timestamp_seconds 1796032800",
           "lifeboat_drill_last_rto_seconds 9.5",
           "lifeboat_drill_last_rpo_seconds 0.40000000000000002",
           "lifeboat_objective_rto_seconds 14400",
           "lifeboat_objective_rpo_seconds 1",
           "lifeboat_job_runs_total{job=\"full\",result=\"failed\"} 1",
           "lifeboat_job_runs_total{job=\"full\",result=\"succeeded\"} 2",
           "lifeboat_job_missed_total{job=\"verify\"} 1",
           "lifeboat_job_missed_total{job=\"full\"} 0",
           "# TYPE lifeboat_job_runs_total counter",
           "# TYPE lifeboat_backup_age_seconds gauge",
       }) {
    EXPECT_TRUE(HasLine(m, line)) << line << "\n" << m;
  }
}

TEST(MetricsTest, WhatWasNotObservedHasNoSampleAndAFailedProbeSaysDown) {
  Observations o;
  o.now = At("2026-12-02T06:00:00Z");
  std::string m = RenderMetrics(o);
  EXPECT_TRUE(HasLine(m, "lifeboat_repository_up{repository=\"primary\"} 0")) << m;
  for (const char* name : {"lifeboat_backup_age_seconds{", "lifeboat_wal_lag_seconds ", "lifeboat_wal_stream_up ",
                           "lifeboat_recovery_window_end_timestamp_seconds ", "lifeboat_drill_last_rto_seconds ",
                           "lifeboat_repository_stored_bytes{"}) {
    EXPECT_EQ(("\n" + m).find(std::string("\n") + name), std::string::npos) << name << "\n" << m;
  }
}

// promtool (Debian's prometheus package) checks the exposition's syntax and conventions.
TEST(MetricsTest, PromtoolAcceptsTheExposition) {
  std::string m = RenderMetrics(Sample());
  FILE* p = popen("promtool check metrics > /tmp/lifeboat-promtool.out 2>&1", "w");
  ASSERT_NE(p, nullptr);
  fwrite(m.data(), 1, m.size(), p);
  int rc = pclose(p);
  FILE* f = fopen("/tmp/lifeboat-promtool.out", "r");
  std::string out;
  char buf[512];
  while (f && fgets(buf, sizeof(buf), f)) out += buf;
  if (f) fclose(f);
  remove("/tmp/lifeboat-promtool.out");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "") << out;
}

}  // namespace
}  // namespace lifeboat::agent
