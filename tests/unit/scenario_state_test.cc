// Scenario 1's run state (runbook/scenario_state.h): params and vars written as the journal has
// always had them decode to the same values, journals of older versions (no retired cluster,
// no newest-commit source) still decode, and a bad key is an exit-2 error naming the run.
#include <gtest/gtest.h>

#include "runbook/audit.h"
#include "runbook/deploy.h"
#include "runbook/drill.h"
#include "runbook/scenario_state.h"

namespace lifeboat::runbook {
namespace {

RecoverParams Sample() {
  RecoverParams p;
  p.cutover.instance = "restore-20261201-101500";
  p.cutover.retired = RetiredRef{"", "/srv/pg/main", "/run/postgresql", 5432};
  p.cutover.secret = "shop-db";
  p.cutover.secret_version = 1;
  p.cutover.new_secret_version = 2;
  p.cutover.services = {"shop"};
  p.cutover.gate_timeout_seconds = 120;
  p.cutover.load_balancer = "http://127.0.0.1:8080";
  p.target = RecoverTarget::kLsn;
  p.target_lsn = "0/3000060";
  p.restore_point = "deploy-shop-4.0";
  p.target_time = 1'795'921'800'123'456'000;
  p.window_earliest = 1'795'900'000'000'000'000;
  p.window_latest = 1'795'921'900'000'001'000;
  p.window_timeline = 2;
  p.production_newest_commit = 1'795'921'900'000'001'000;
  p.newest_commit_source = "production's last commit";
  p.snapshot = std::string(64, 'a');
  p.port = 24010;
  p.rto_objective_seconds = 60;
  p.rpo_objective_seconds = 1;
  p.repository = "offsite";
  return p;
}

TEST(ScenarioStateTest, ParamsAndVarsRoundTripWithTheJournalsKeys) {
  nlohmann::json j = Sample().ToJson();
  EXPECT_EQ(j["target"], "lsn");
  EXPECT_EQ(j["window"]["timeline"], 2);
  EXPECT_EQ(j["objectives"]["rpo_seconds"], 1);
  EXPECT_EQ(j["retired"]["port"], 5432);
  EXPECT_EQ(j["target_time"], "2026-11-29T03:10:00.123456Z");
  EXPECT_EQ(j["repository"], "offsite");
  Result<RecoverParams> back = RecoverParams::FromJson(j, "run recover-1");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToJson(), j);

  ScenarioVars v;
  v.recovered_to = 1'795'921'799'000'000'000;
  v.port = 24010;
  v.verification = {{"result", "passed"}};
  v.previous_secret_version = 1;
  v.secret_changed = true;
  v.cutover_secret_version = 2;
  v.protecting = true;
  v.timeline = 3;
  v.fenced = true;
  v.retired_last_commit = 1'795'921'801'000'000'000;
  v.gate_passed_at = 1'795'921'802'000'000'000;
  nlohmann::json vj = v.ToJson();
  EXPECT_EQ(vj.size(), 11u);
  Result<ScenarioVars> vb = ScenarioVars::FromJson(vj, "run recover-1");
  ASSERT_TRUE(vb.ok()) << vb.status().ToString();
  EXPECT_EQ(vb->ToJson(), vj);
  EXPECT_EQ(ScenarioVars().ToJson(), nlohmann::json::object());  // nothing recorded yet

  RecoverResult res;
  res.rto_seconds = 8.007;
  res.rpo_seconds = 0;
  res.rto_objective_seconds = 120;
  res.rpo_objective_seconds = 1;
  res.rto_met = res.rpo_met = true;
  res.rpo_basis = "repository_newest_commit";
  res.instance = "restore-20261201-174311";
  res.recovered_to = 1'795'921'799'000'000'000;
  res.repository = "offsite";
  EXPECT_EQ(RecoverResult::FromJson(res.ToJson(), "run recover-1")->ToJson(), res.ToJson());
  EXPECT_EQ(res.ToJson().size(), 10u);
  nlohmann::json older = res.ToJson();
  older.erase("repository");
  EXPECT_EQ(RecoverResult::FromJson(older, "run recover-1")->repository, "primary");

  CleanupVars none;
  none.final_snapshot_done = true;
  EXPECT_EQ(none.ToJson(), nlohmann::json({{"final_snapshot", nullptr}}));
  EXPECT_TRUE(CleanupVars::FromJson(none.ToJson(), "run cleanup-1")->final_snapshot_done);
  EXPECT_FALSE(CleanupVars::FromJson(nlohmann::json::object(), "run cleanup-1")->final_snapshot_done);
}

TEST(ScenarioStateTest, JournalsOfOlderVersionsStillDecode) {
  nlohmann::json j = Sample().ToJson();
  j.erase("retired");
  j.erase("newest_commit_source");
  j.erase("load_balancer");
  j.erase("repository");
  Result<RecoverParams> p = RecoverParams::FromJson(j, "run recover-1");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->repository, "primary");
  EXPECT_FALSE(p->cutover.retired.has_value());
  EXPECT_EQ(p->cutover.load_balancer, "");
}

TEST(ScenarioStateTest, ABadKeyIsAnErrorNamingTheRunAndTheKey) {
  auto error = [](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json j = Sample().ToJson();
    edit(j);
    Result<RecoverParams> p = RecoverParams::FromJson(j, "run recover-1");
    EXPECT_EQ(ExitCodeFor(p.status()), 2);
    return p.status().message();
  };
  EXPECT_EQ(error([](nlohmann::json& j) { j["services"] = "shop"; }),
            "run recover-1: key 'services' is missing or not a list of strings");
  EXPECT_EQ(error([](nlohmann::json& j) { j["target"] = "earliest"; }),
            "run recover-1: key 'target' is missing or not latest, time or lsn");
  EXPECT_EQ(error([](nlohmann::json& j) { j["window"].erase("latest"); }),
            "run recover-1, window: key 'latest' is missing or not a time");
  EXPECT_EQ(error([](nlohmann::json& j) { j["retired"]["port"] = "5432"; }),
            "run recover-1, retired: key 'port' is missing or not a number");
  EXPECT_EQ(error([](nlohmann::json& j) { j.erase("target_lsn"); }),
            "run recover-1: key 'target_lsn' is missing or not a string");
  Result<ScenarioVars> v = ScenarioVars::FromJson({{"gate_passed_at", 12}}, "run recover-1");
  EXPECT_EQ(v.status().message(), "run recover-1: key 'gate_passed_at' is missing or not a time");
}

// The deploy and drill plans' state the same way: written as journals have them, read back
// unchanged; a bad key names the run.
TEST(ScenarioStateTest, DeployAndDrillStateRoundTrip) {
  DeployParams d;
  d.service = "shop";
  d.tag = "2.0";
  d.revision = 3;
  d.previous_revision = 2;
  d.previous_tag = "1.0";
  d.pending_migrations = {{"fintech_prod", {"0001_note", "0002_index"}}, {"healthtech_prod", {}}};
  d.undo_migrations = {{"fintech_prod", {{"0003_audit", "/r/migrations/0003_audit.down.sql"}}}};
  d.restore_point = "deploy-shop-3";
  d.bake_seconds = 5;
  d.error_threshold = 0.1;
  d.rollback = true;
  nlohmann::json j = d.ToJson();
  EXPECT_EQ(j["pending_migrations"]["healthtech_prod"], nlohmann::json::array());
  EXPECT_EQ(j["undo_migrations"]["fintech_prod"][0]["down_file"], "/r/migrations/0003_audit.down.sql");
  Result<DeployParams> back = DeployParams::FromJson(j, "run deploy-1");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToJson(), j);
  j["pending_migrations"]["fintech_prod"] = {"0001_note", 2};
  EXPECT_EQ(DeployParams::FromJson(j, "run deploy-1").status().message(),
            "run deploy-1, pending_migrations: key 'fintech_prod' is missing or not a list of strings");

  DeployVars v;
  v.restore_point = platform::RestorePoint{"deploy-shop-3", "0/3000060", "2026-12-01T10:15:00.000000Z"};
  v.migrated = true;
  EXPECT_EQ(DeployVars::FromJson(v.ToJson(), "run deploy-1")->ToJson(), v.ToJson());

  DrillParams p;
  p.instance = "drill-20261201-101500";
  p.production_newest_commit = 1'795'921'800'123'456'000;
  p.rpo_basis = "production's last commit";
  p.services = {"shop"};
  p.rto_objective_seconds = 60;
  p.rpo_objective_seconds = 1;
  p.repository = "offsite";
  EXPECT_EQ(DrillParams::FromJson(p.ToJson(), "run drill-1")->ToJson(), p.ToJson());
  EXPECT_EQ(p.ToJson()["repository"], "offsite");
  DrillVars dv;
  dv.recovered_to = 1'795'921'800'000'000'000;
  dv.app_healthy_at = 1'795'921'805'000'000'000;
  EXPECT_EQ(DrillVars::FromJson(dv.ToJson(), "run drill-1")->ToJson(), dv.ToJson());
  EXPECT_EQ(DrillVars::FromJson({{"recovered_to", "soon"}}, "run drill-1").status().message(),
            "run drill-1: key 'recovered_to' is missing or not a time");
}

// Drill records are read back by `lifeboat drills` from the repository, so one written by an
// earlier drill (these are the keys drills have always stored) must decode to the same JSON,
// plus the repository that served it (the primary, before there could be another).
TEST(ScenarioStateTest, DrillRecordsKeepTheirKeysAndABadOneIsNamed) {
  nlohmann::json restore = nlohmann::json::parse(R"({
    "id": "drill-20261201-101500", "kind": "restore",
    "started_at": "2026-12-01T10:15:00.000000Z", "finished_at": "2026-12-01T10:15:09.500000Z",
    "rto_seconds": 8.25, "rpo_seconds": 0.4, "rpo_basis": "production's last commit", "passed": true,
    "objectives": {"rto_seconds": 60, "rpo_seconds": 1},
    "checks": [{"name": "restore", "passed": true, "detail": "restored to 0/3000060"}], "reason": ""})");
  Result<DrillRecord> r = DrillRecord::FromJson(restore, "drill record 'drill-1'");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, DrillKind::kRestore);
  EXPECT_EQ(*r->rto_seconds, 8.25);
  EXPECT_EQ(r->objectives->rpo_seconds, 1);
  ASSERT_EQ(r->checks.size(), 1u);
  EXPECT_EQ(r->checks[0].detail, "restored to 0/3000060");
  EXPECT_EQ(r->repository, "primary");
  restore["repository"] = "primary";
  restore["coverage"] = nullptr;  // older drills recorded none
  restore["point"] = "latest";     // nor a point: they all restored the latest
  restore["target"] = nullptr;
  restore["recovered_to"] = nullptr;
  restore["config_fingerprint"] = nullptr;  // nor the configuration they ran under
  EXPECT_EQ(r->config_fingerprint, "");
  EXPECT_EQ(r->ToJson(), restore);
  restore["config_fingerprint"] = "c725b167c3fafdd1";
  r = DrillRecord::FromJson(restore, "drill record 'drill-1'");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config_fingerprint, "c725b167c3fafdd1");
  EXPECT_EQ(r->ToJson(), restore);
  restore["config_fingerprint"] = 5;
  EXPECT_EQ(DrillRecord::FromJson(restore, "drill record 'z'").status().message(),
            "drill record 'z': key 'config_fingerprint' is missing or not a string");
  restore["config_fingerprint"] = "c725b167c3fafdd1";

  // A drill that failed before it measured anything has nulls, and keeps them.
  restore["rto_seconds"] = nullptr;
  restore["rpo_seconds"] = nullptr;
  restore["objectives"] = nullptr;
  r = DrillRecord::FromJson(restore, "drill record 'drill-1'");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->rto_seconds.has_value());
  EXPECT_FALSE(r->objectives.has_value());
  EXPECT_EQ(r->ToJson(), restore);

  // What a verify with a budget covered.
  restore["coverage"] = {{"checked", 12}, {"skipped", 28}, {"checked_bytes", 1 << 30}, {"skipped_bytes", 3 << 20}};
  r = DrillRecord::FromJson(restore, "drill record 'drill-1'");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->coverage->skipped, 28);
  EXPECT_EQ(r->coverage->checked_bytes, 1 << 30);
  EXPECT_EQ(r->ToJson(), restore);
  // A point-in-time drill: its point and the newest transaction it restored.
  restore["point"] = "random";
  restore["target"] = "2026-12-01T09:00:00.250000Z";
  restore["recovered_to"] = "2026-12-01T09:00:00.125000Z";
  r = DrillRecord::FromJson(restore, "drill record 'drill-1'");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->point, "random");
  EXPECT_EQ(r->target, "2026-12-01T09:00:00.250000Z");
  EXPECT_EQ(r->ToJson(), restore);
  restore["target"] = 7;
  EXPECT_EQ(DrillRecord::FromJson(restore, "drill record 'z'").status().message(),
            "drill record 'z': key 'target' is missing or not a string");
  restore["target"] = "2026-12-01T09:00:00.250000Z";
  restore["coverage"]["skipped"] = "many";
  EXPECT_EQ(DrillRecord::FromJson(restore, "drill record 'z'").status().message(),
            "drill record 'z', coverage: key 'skipped' is missing or not a number");
  restore["coverage"] = nullptr;

  nlohmann::json rollback = nlohmann::json::parse(R"({
    "id": "drill-rollback-1", "kind": "rollback", "service": "shop",
    "started_at": "2026-12-01T10:15:00.000000Z", "finished_at": "2026-12-01T10:15:20.000000Z",
    "detect_seconds": 3.1, "rollback_seconds": null, "failed_requests": 0, "requests": 212, "passed": false,
    "checks": [], "reason": "back: replica 1 did not become healthy"})");
  r = DrillRecord::FromJson(rollback, "drill record 'drill-rollback-1'");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->requests, 212);
  EXPECT_FALSE(r->rollback_seconds.has_value());
  rollback["config_fingerprint"] = nullptr;
  EXPECT_EQ(r->ToJson(), rollback);

  rollback["kind"] = "fire";
  EXPECT_EQ(DrillRecord::FromJson(rollback, "drill record 'x'").status().message(),
            "drill record 'x': key 'kind' is missing or not 'restore' or 'rollback'");
  EXPECT_EQ(DrillRecord::FromJson(rollback, "drill record 'x'").status().code(), Code::kCorruption);
  restore["checks"][0]["passed"] = "yes";
  EXPECT_EQ(DrillRecord::FromJson(restore, "drill record 'y'").status().message(),
            "drill record 'y', check 1: key 'passed' is missing or not a boolean");
}

TEST(ScenarioStateTest, AuditLinesDecodeAndATornOneIsNamed) {
  AuditEntry e{"2026-12-01T10:15:00Z", "root@shop", "lifeboat recover --latest", "ok"};
  Result<AuditEntry> back = AuditFromJson(AuditToJson(e), "audit line");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->what, "lifeboat recover --latest");
  EXPECT_EQ(AuditFromJson(nlohmann::json::parse(R"({"when":"x","who":"y","what":"z)", nullptr, false), "audit line")
                .status()
                .message(),
            "audit line: not a JSON object");
}

}  // namespace
}  // namespace lifeboat::runbook
