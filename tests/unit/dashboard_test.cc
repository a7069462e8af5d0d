// The dashboard's pages (agent/dashboard.h) from observations written here: the verdict, the
// window bar with its snapshots and ranges, the drills with their pass/fail and charts, runs with
// their steps; nothing loaded from elsewhere; and the login page that shows nothing of the stack.
#include "agent/dashboard.h"

#include <gtest/gtest.h>

namespace lifeboat::agent {
namespace {

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

DashboardInput Input() {
  DashboardInput in;
  in.title = "main";
  in.observed.now = *ParseTimestamp("2026-12-03T12:00:00Z");
  in.observed.rto_objective_seconds = 900;
  in.observed.rpo_objective_seconds = 60;
  in.observed.status = nlohmann::json::parse(R"({
    "database": {"name": "main", "status": "running", "port": 5432},
    "protection": {"production": "main", "wal_lag_seconds": 0.8},
    "services": [{"name": "shop", "desired": 2, "healthy": 2, "crash_loop": false,
                  "replicas": [{"release": "v2"}, {"release": "v3"}, {"release": "v3"}]}],
    "frontend": {"dir": "/srv/front", "current": "0123456789abcdef"},
    "load_balancer": {"url": "http://127.0.0.1:8080", "running": true},
    "backups": {"full": {"id": "ab12cd34ef56", "finished_at": "2026-12-03T08:00:00Z"}, "incremental": null},
    "drill": {"id": "drill-2", "passed": true, "rto_seconds": 12.5, "rpo_seconds": 0.4},
    "checks": [{"name": "database", "state": "ok", "summary": "production main is running"}],
    "next_jobs": [{"job": "drill", "schedule": "daily 05:00", "next": "2026-12-04T05:00:00.000000Z",
                   "next_local": "2026-12-04 05:00:00 UTC"}]})");
  in.observed.snapshots = nlohmann::json::parse(R"([
    {"id": "aa00000000000000", "kind": "postgresql", "finished_at": "2026-12-02T08:00:00Z"},
    {"id": "bb00000000000000", "kind": "postgresql", "finished_at": "2026-12-03T08:00:00Z"},
    {"id": "cc00000000000000", "kind": "files", "finished_at": "2026-12-03T09:00:00Z"}])");
  in.observed.window = nlohmann::json::parse(R"({"earliest": "2026-12-02T08:00:00Z", "latest": "2026-12-03T11:59:00Z",
    "gaps": [{"first_missing": "000000010000000000000009", "last_missing": "000000010000000000000009"}],
    "ranges": [{"snapshot": "aa", "from": "2026-12-02T08:00:00Z", "to": "2026-12-02T20:00:00Z"},
               {"snapshot": "bb", "from": "2026-12-03T08:00:00Z", "to": "2026-12-03T11:59:00Z"}]})");
  in.observed.drills = nlohmann::json::parse(R"([
    {"id": "drill-2", "kind": "restore", "started_at": "2026-12-03T10:00:00Z", "passed": true, "reason": "",
     "rto_seconds": 12.5, "rpo_seconds": 0.4, "checks": [{"name": "verify", "passed": true, "detail": ""}]},
    {"id": "drill-1", "kind": "restore", "started_at": "2026-12-02T10:00:00Z", "passed": false,
     "reason": "an objective was missed", "rto_seconds": 1200.0, "rpo_seconds": 0.2,
     "checks": [{"name": "rto within objective", "passed": false, "detail": "1200 s"}]}])");
  return in;
}

TEST(DashboardTest, TheOverviewSaysProtectedAndDrawsTheWindowWithItsSnapshotsAndGaps) {
  std::string page = RenderPage("/", Input());
  EXPECT_NE(page.find("<div class=\"verdict ok\" id=\"verdict\">Protected: every check is ok</div>"), std::string::npos);
  EXPECT_NE(page.find("<span id=\"window-earliest\">2026-12-02T08:00:00Z</span>"), std::string::npos);
  EXPECT_NE(page.find("<span id=\"window-latest\">2026-12-03T11:59:00Z</span>"), std::string::npos);
  EXPECT_NE(page.find("<span id=\"window-gaps\" class=\"bad\">1</span>"), std::string::npos);
  EXPECT_NE(page.find("<span id=\"snapshot-count\">2</span>"), std::string::npos);  // the files snapshot is not one
  EXPECT_EQ(Count(page, "class=\"snap\""), 2u);
  EXPECT_EQ(Count(page, "class=\"range\""), 2u);
  // The first range spans 12 h of the window's 27 h 59 m: 42.9% of the 980-unit bar.
  EXPECT_NE(page.find("<rect class=\"range\" x=\"10.0\" y=\"14\" width=\"420.3\""), std::string::npos) << page;
  EXPECT_NE(page.find("<span class=\"big ok\" id=\"wal-lag\">0.80s</span>"), std::string::npos) << page;
  EXPECT_NE(page.find("2/2 healthy</span></td><td>release <code>v2</code>, <code>v3</code></td>"), std::string::npos)
      << page;  // a deploy's rolling step: both releases serve
  EXPECT_NE(page.find("<td>front end</td><td>/srv/front</td><td>serving</td><td><code>0123456789ab</code></td>"),
            std::string::npos);
  EXPECT_NE(page.find("<p id=\"alerts\">none</p>"), std::string::npos);
  // Inside the binary: no link, font or script from elsewhere.
  EXPECT_EQ(page.find("http://"), page.find("http://127.0.0.1:8080"));
  EXPECT_EQ(page.find("https://"), std::string::npos);
  EXPECT_EQ(page.find("<script src"), std::string::npos);
}

TEST(DashboardTest, WhatFiresMakesTheVerdictNotProtectedWithTheReasons) {
  DashboardInput in = Input();
  in.firing.push_back({"wal_lag", "WAL lag 2m against the RPO objective of 1m", in.observed.now});
  in.observed.status["protection"]["wal_lag_seconds"] = 120.0;
  std::string page = RenderPage("/", in);
  EXPECT_NE(page.find("<div class=\"verdict bad\" id=\"verdict\">Not protected</div>\n<ul><li>wal_lag: WAL lag 2m "
                      "against the RPO objective of 1m</li></ul>"),
            std::string::npos);
  EXPECT_NE(page.find("<span class=\"big bad\" id=\"wal-lag\">2m</span>"), std::string::npos);
  in.observed.status = nullptr;
  EXPECT_NE(RenderPage("/", in).find("Not known yet: the first status probe has not answered"), std::string::npos);
}

TEST(DashboardTest, DrillsArePointsAgainstTheObjectiveAndRowsWithTheirChecks) {
  std::string page = RenderPage("/drills", Input());
  EXPECT_NE(page.find("<tr id=\"drill-drill-2\" data-passed=\"true\">"), std::string::npos);
  EXPECT_NE(page.find("<tr id=\"drill-drill-1\" data-passed=\"false\">"), std::string::npos);
  EXPECT_EQ(Count(page, "class=\"point passed\""), 2u);  // RTO and RPO charts
  EXPECT_EQ(Count(page, "class=\"point failed\""), 2u);
  EXPECT_EQ(Count(page, "class=\"objective\""), 2u);
  EXPECT_NE(page.find("objective 15m"), std::string::npos);
  EXPECT_NE(page.find("<li class=\"bad\">✗ rto within objective: 1200 s</li>"), std::string::npos);
  EXPECT_EQ(RenderPage("/nope", Input()), "");
}

TEST(DashboardTest, ARunInProgressShowsItsStepsAndProgress) {
  DashboardInput in = Input();
  runbook::RunRecord r;
  r.id = "recover-20261203-115900";
  r.kind = "recover";
  r.pid = getpid();  // running: its process is alive
  r.steps = {{"restore", "", runbook::StepState::kDone, "", "", 4.2, "restored"},
             {"verify", "", runbook::StepState::kRunning, "", "", 1.0, ""},
             {"cutover", "", runbook::StepState::kPending, "", "", 0, ""}};
  in.runs.push_back(r);
  std::string page = RenderPage("/runs", in);
  EXPECT_NE(page.find("running (1 of 3 steps done)"), std::string::npos) << page;
  EXPECT_NE(page.find("<li class=\"ok\">restore — done, 4.2 s: restored</li>"), std::string::npos);
  EXPECT_NE(page.find("<li class=\"muted\">cutover — pending</li>"), std::string::npos);
}

TEST(DashboardTest, TheLoginPageShowsNothingOfTheStack) {
  std::string page = LoginPage(true);
  EXPECT_NE(page.find("<form method=\"post\" action=\"/login\">"), std::string::npos);
  EXPECT_NE(page.find("That token is not the one."), std::string::npos);
  EXPECT_EQ(page.find("main"), std::string::npos);
  EXPECT_EQ(LoginPage(false).find("That token"), std::string::npos);
}

}  // namespace
}  // namespace lifeboat::agent
