// Scenario 1 end to end on the shop under load: recover --time to just before a disaster, with
// ground truth from shop-load's log; the dry run changes nothing; a failing gate reverts; a
// recover killed with -9 during cutover resumes and completes.
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "shop_harness.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace lifeboat::testing {
namespace {

// Every file under `dir` with its size and modification time, and the state of every
// recorded process: what a dry run must leave unchanged.
std::string Fingerprint(const std::string& dir) {
  std::string out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::string p = e.path().string();
    if (p.find("/.out") != std::string::npos || p.find("/.err") != std::string::npos ||
        p.find("/main/") != std::string::npos || p.find("haproxy.log") != std::string::npos ||
        p.find("main.log") != std::string::npos || p.find("/replica-") != std::string::npos ||
        p.find("audit.log") != std::string::npos) {
      continue;  // PostgreSQL's and the services' own files, and the harness's output capture
    }
    out += p + " " + std::to_string(e.file_size()) + " " +
           std::to_string(e.last_write_time().time_since_epoch().count()) + "\n";
  }
  for (pid_t pid : RecordedPids(dir + "/.lifeboat")) out += "pid " + std::to_string(pid) + "\n";
  return out;
}

// Every file under `dir` (data directories, logs, journals, the repository, the harness's
// captures of lifeboat's output) that holds `needle`.
std::vector<std::string> FilesContaining(const std::string& dir, const std::string& needle) {
  std::vector<std::string> found;
  for (const auto& e : fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied)) {
    if (!e.is_regular_file()) continue;
    if (ReadWholeFile(e.path().string()).find(needle) != std::string::npos) found.push_back(e.path().string());
  }
  return found;
}

class RecoverTest : public ShopTest {
 protected:
  // Under shop-load, `recover --latest` killed with -9 `delay_ms` after `step` starts, then
  // `resume`: the same run must succeed with no failed request. Returns the run as it was killed.
  json KillDuringStepThenResume(const std::string& step, int delay_ms) {
    Prepare();
    SwitchWalAndWaitArchived();
    StartLoad(20, 300);
    pid_t pid = Start({"recover", "--latest", "--yes"});
    EXPECT_TRUE(KillDuringStep(pid, "recover", step, delay_ms));
    json run = LastRun();
    EXPECT_EQ(run["state"], "interrupted");
    RunResult resumed = Run({"resume", run["id"]});
    EXPECT_EQ(resumed.exit_code, 0) << resumed.err << resumed.out;
    json after = LastRun();
    EXPECT_EQ(after["id"], run["id"]);
    EXPECT_EQ(after["state"], "succeeded");
    StopLoad();
    LoadLog log = ReadLoadLog(Path("load.log"));
    for (const auto& f : log.failures) ADD_FAILURE() << "failed request: " << f;
    return run;
  }
  // Up, a full backup, then orders for a while.
  void Prepare() {
    RunResult up = Run({"up"});
    ASSERT_EQ(up.exit_code, 0) << up.err;
    RunResult backup = Run({"backup"});
    ASSERT_EQ(backup.exit_code, 0) << backup.err;
  }
};

TEST_F(RecoverTest, RecoverToBeforeTheDisasterUnderLoad) {
  Prepare();
  Start({"wal", "stream"});  // as the README runs it: a plain daemon, never restarted by hand
  StartLoad(20, 300);
  std::this_thread::sleep_for(std::chrono::seconds(4));
  double target = NowSeconds();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  // The runbook's disaster, then the WAL that holds it is archived.
  Sql("DELETE FROM order_order", "startupwebapp_prod");
  SwitchWalAndWaitArchived();
  double launched = NowSeconds();

  RunResult dry = Run({"recover", "--time", IsoAt(target), "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("plan: recover (dry run: nothing is changed)"), std::string::npos) << dry.out;

  RunResult rec = Run({"recover", "--time", IsoAt(target), "--yes", "--json"});
  ASSERT_EQ(rec.exit_code, 0) << rec.err << rec.out;
  json run = json::parse(rec.out);
  EXPECT_EQ(run["state"], "succeeded");
  std::string instance = run["params"]["instance"];
  int port = run["vars"]["port"];
  for (const auto& step : run["steps"]) EXPECT_EQ(step["state"], "done") << step.dump();
  EXPECT_LT(run["result"]["rto_seconds"].get<double>(), 120);
  EXPECT_LE(run["result"]["rpo_seconds"].get<double>(), 1.0);
  std::string host = InstanceHost(instance);

  // Protection followed production at once: the restored instance archives on timeline 2,
  // recorded as production, and has the streamer's slot; orders it commits reach the
  // repository within seconds (the streamer moved to it: archiving alone waits for a whole
  // 16 MiB segment, minutes at this rate).
  double cut = NowSeconds();
  json w;
  for (int i = 0; i < 100; ++i) {
    w = json::parse(Run({"window", "--json"}).out);
    if (w["latest"].is_string() && w["latest"].get<std::string>() > IsoAt(cut)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(w["timeline"], 2);
  EXPECT_GT(w["latest"].get<std::string>(), IsoAt(cut)) << "the window did not reach past the cutover within 10 s";
  ASSERT_EQ(w["timelines"].size(), 2u) << w.dump();
  EXPECT_EQ(w["timelines"][0]["origin"], "production");
  EXPECT_EQ(w["timelines"][1]["origin"], "recovery");
  EXPECT_EQ(w["timelines"][1]["production"], true);
  EXPECT_EQ(w["timelines"][1]["instance"], instance);
  EXPECT_EQ(w["timelines"][1]["parent"], 1);
  EXPECT_EQ(SqlAt(host, port, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'lifeboat' AND active")[0],
            "1");
  EXPECT_EQ(SqlAt(host, port, "SELECT timeline_id FROM pg_control_checkpoint()")[0], "2");
  // The retired cluster is fenced: readable, and it refuses writes.
  EXPECT_EQ(SqlValue("SHOW default_transaction_read_only"), "on");
  EXPECT_EQ(SqlValue("SELECT count(*) FROM order_product", "startupwebapp_prod"),
            SqlAt(host, port, "SELECT count(*) FROM order_product", "startupwebapp_prod")[0]);
  std::string refused;
  EXPECT_NE(RunAsPostgres({std::string(kPgBin) + "/psql", "-X", "-h", dir_, "-p", std::to_string(port_), "-d",
                           "startupwebapp_prod", "-c", "CREATE TABLE fence_probe (x int)"},
                          &refused),
            0);
  EXPECT_NE(refused.find("ERROR:  cannot execute CREATE TABLE in a read-only transaction"), std::string::npos)
      << refused;
  StopLoad();

  // Ground truth from shop-load's log: every order committed before the target is in the
  // restored instance, and none sent after it and committed before recover began.
  LoadLog log = ReadLoadLog(Path("load.log"));
  for (const auto& f : log.failures) ADD_FAILURE() << "failed request: " << f;
  std::set<std::string> restored;
  for (const auto& row : SqlAt(host, port, "SELECT identifier FROM order_order", "startupwebapp_prod")) {
    restored.insert(row);
  }
  int before = 0, between = 0, after = 0;
  for (const auto& o : log.orders) {
    if (o.committed < target) {
      ++before;
      EXPECT_TRUE(restored.count(o.identifier)) << "order " << o.id << " committed before the target is missing";
    } else if (o.sent > target && o.committed < launched) {
      ++between;
      EXPECT_FALSE(restored.count(o.identifier)) << "order " << o.id << " sent after the target is present";
    } else if (o.sent > launched) {
      ++after;
    }
  }
  EXPECT_GT(before, 40);
  EXPECT_GT(between, 20);
  EXPECT_GT(after, 0);  // orders kept flowing during and after the cutover
  // Once the cutover was made no order reached the retired cluster: every order sent after
  // recover returned is in the restored instance and none is on the retired one.
  std::set<std::string> on_retired;
  for (const auto& row : Sql("SELECT identifier FROM order_order", "startupwebapp_prod")) on_retired.insert(row);
  int after_cut = 0, retired_during = 0;
  for (const auto& o : log.orders) {
    if (o.sent > cut) {
      ++after_cut;
      EXPECT_TRUE(restored.count(o.identifier)) << "order " << o.id << " sent after the cutover is missing";
      EXPECT_FALSE(on_retired.count(o.identifier)) << "order " << o.id << " sent after the cutover is on the retired cluster";
    } else if (o.committed > launched && on_retired.count(o.identifier)) {
      ++retired_during;  // while the restore ran: what a recovery to an earlier time gives up
    }
  }
  EXPECT_GT(after_cut, 0);
  std::cout << "orders on the retired cluster while recover ran: " << retired_during
            << "; sent after it returned: " << after_cut << ", all on the new production" << std::endl;
  // Orders placed after the cutover went to the restored instance.
  EXPECT_TRUE(restored.count(log.orders.back().identifier) ||
              std::stoi(SqlAt(host, port, "SELECT count(*) FROM order_order WHERE identifier = '" +
                                              log.orders.back().identifier + "'",
                              "startupwebapp_prod")[0]) == 1);

  // The inventory and the secret follow.
  json inv = json::parse(Run({"inventory", "--json"}).out);
  std::map<std::string, std::string> roles;
  for (const auto& i : inv) {
    if (i["type"] == "instance") roles[i["name"]] = i["role"];
  }
  EXPECT_EQ(roles["main"], "retired");
  EXPECT_EQ(roles[instance], "production");
  json secret = json::parse(Run({"secret", "get", "shop-db", "--show", "--json"}).out);
  EXPECT_EQ(secret["values"]["PGPORT"], std::to_string(port));
  EXPECT_EQ(secret["labels"], json::array({"current"}));

  // Cleanup: refused inside the grace period; with --now a final snapshot of the retired
  // cluster, which is then dropped, and the restored instance becomes "main".
  RunResult early = Run({"cleanup", "--yes"});
  EXPECT_EQ(early.exit_code, 1);
  EXPECT_EQ(early.err.rfind("error: cleanup refused: the retired cluster is kept until ", 0), 0u) << early.err;
  EXPECT_NE(early.err.find("[recovery] cleanup_after is 1d)\nhint: pass --now to clean up earlier\n"),
            std::string::npos) << early.err;
  int snapshots_before = static_cast<int>(json::parse(Run({"snapshots", "--json"}).out).size());
  RunResult clean = Run({"cleanup", "--yes", "--now", "--json"});
  ASSERT_EQ(clean.exit_code, 0) << clean.err;
  json cleanup = json::parse(clean.out);
  EXPECT_EQ(cleanup["state"], "succeeded");
  EXPECT_TRUE(cleanup["vars"]["final_snapshot"].is_string());
  EXPECT_EQ(static_cast<int>(json::parse(Run({"snapshots", "--json"}).out).size()), snapshots_before + 1);
  EXPECT_FALSE(fs::exists(Path("main")));
  json inv2 = json::parse(Run({"inventory", "--json"}).out);
  int instances = 0;
  for (const auto& i : inv2) {
    if (i["type"] != "instance") continue;
    ++instances;
    EXPECT_EQ(i["name"], "main");
    EXPECT_EQ(i["role"], "production");
    EXPECT_EQ(i["port"], port);
  }
  EXPECT_EQ(instances, 1);
  // The streamer follows production through the cleanup: a commit after it reaches the window.
  double cleaned = NowSeconds();
  SqlAt(host, port, "CREATE TABLE after_cleanup (x int)", "startupwebapp_prod");
  json wc;
  for (int i = 0; i < 100; ++i) {
    wc = json::parse(Run({"window", "--json"}).out);
    if (wc["latest"].is_string() && wc["latest"].get<std::string>() > IsoAt(cleaned)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_GT(wc["latest"].get<std::string>(), IsoAt(cleaned)) << "no WAL reached the repository after the cleanup";
  RunResult next_backup = Run({"backup"});  // backups follow the new production
  EXPECT_EQ(next_backup.exit_code, 0) << next_backup.err;
  std::string body;
  EXPECT_EQ(HttpGet(ports_, "/health", &body), 200);

  json audit = json::parse(Run({"audit", "--json"}).out);
  ASSERT_FALSE(audit.empty());
  bool logged = false;
  for (const auto& e : audit) logged = logged || (e["what"].get<std::string>().find("recover --time") != std::string::npos && e["result"] == "ok");
  EXPECT_TRUE(logged);

  // After secrets were set and rotated, services restarted, a recovery and a cleanup: neither
  // the application's password nor the repository's passphrase is in any file but the one the
  // password or passphrase was read from (logs, journals, audit, status files, the repository, lifeboat's
  // captured output, PostgreSQL's files).
  std::vector<std::string> leaks = FilesContaining(dir_, kShopPassword);
  EXPECT_EQ(leaks, std::vector<std::string>{Path("shop-password")});
  EXPECT_EQ(FilesContaining(dir_, "test passphrase"), std::vector<std::string>{Path("pass")});
}

TEST_F(RecoverTest, DryRunChangesNothingAndATimeOutsideTheWindowIsRefused) {
  Prepare();
  SwitchWalAndWaitArchived();
  std::string before = Fingerprint(dir_);
  std::string audit_before = ReadWholeFile(Path(".lifeboat/audit.log"));
  RunResult dry = Run({"recover", "--latest", "--dry-run", "--json"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  json plan = json::parse(dry.out);
  EXPECT_EQ(plan["kind"], "recover");
  EXPECT_EQ(plan["params"]["secret"], "shop-db");
  EXPECT_EQ(plan["params"]["secret_version"], 1);
  EXPECT_EQ(plan["params"]["new_secret_version"], 2);
  EXPECT_EQ(plan["params"]["services"], json::array({"shop"}));
  EXPECT_EQ(plan["params"]["instance"].get<std::string>().rfind("restore-", 0), 0u);
  EXPECT_EQ(plan["steps"].size(), 5u);
  EXPECT_EQ(Fingerprint(dir_), before);
  EXPECT_EQ(ReadWholeFile(Path(".lifeboat/audit.log")), audit_before);  // a dry run is no action
  EXPECT_EQ(Run({"runs", "--json"}).out, "[]\n");

  RunResult outside = Run({"recover", "--time", "2001-01-01T00:00:00Z", "--yes"});
  EXPECT_EQ(outside.exit_code, 1);
  EXPECT_EQ(outside.err.rfind("error: recovery target 2001-01-01T00:00:00Z is outside the restorable window ", 0), 0u)
      << outside.err;
  EXPECT_NE(outside.err.find("hint: choose a time inside the window, or --latest"), std::string::npos);
  RunResult unconfirmed = Run({"recover", "--latest"});
  EXPECT_EQ(unconfirmed.exit_code, 1);
  EXPECT_EQ(unconfirmed.err.rfind("error: this recovery switches the application to a restored instance", 0), 0u)
      << unconfirmed.err;
  EXPECT_EQ(Fingerprint(dir_), before);  // the refusals changed nothing either (they are audited)
  EXPECT_NE(ReadWholeFile(Path(".lifeboat/audit.log")).find("exit 1: recovery target 2001"), std::string::npos);
}

TEST_F(RecoverTest, AFailingGateRevertsWithoutFailedRequests) {
  Prepare();
  SwitchWalAndWaitArchived();
  RunResult restored = Run({"restore", "--latest", "--instance", "broken", "--json"});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  int port = json::parse(restored.out)["port"];
  // The application's role cannot log in on the restored instance: new replicas never get healthy.
  SqlAt(InstanceHost("broken"), port, "ALTER ROLE shop NOLOGIN");
  StartLoad(20, 12);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  RunResult cut = Run({"cutover", "--instance", "broken", "--yes"});
  EXPECT_EQ(cut.exit_code, 3) << cut.out;
  EXPECT_EQ(cut.err.rfind("error: health gate failed: switch stopped; the previous replicas still "
                          "serve: service 'shop': replica ", 0), 0u) << cut.err;
  EXPECT_NE(cut.err.find("failed to start: it was not healthy after 10s (health check answered 503)"),
            std::string::npos) << cut.err;
  WaitLoad();
  LoadLog log = ReadLoadLog(Path("load.log"));
  for (const auto& f : log.failures) ADD_FAILURE() << "failed request: " << f;
  EXPECT_GT(log.orders.size(), 150u);

  json run = LastRun();
  EXPECT_EQ(run["state"], "reverted");
  EXPECT_EQ(run["kind"], "cutover");
  json secret = json::parse(Run({"secret", "history", "shop-db", "--json"}).out);
  ASSERT_EQ(secret.size(), 2u);
  EXPECT_EQ(secret[0]["labels"], json::array({"previous"}));  // the cutover's version 2
  EXPECT_EQ(secret[1]["labels"], json::array({"current"}));   // version 1 again
  json st = Status();
  ASSERT_EQ(st["replicas"].size(), 2u);
  for (const auto& r : st["replicas"]) EXPECT_EQ(r["secret_version"], 1);
}

TEST_F(RecoverTest, KilledDuringCutoverResumesAndCompletes) {
  json run = KillDuringStepThenResume("cutover", 1500);
  // Every replica runs on the cutover's secret version; none is left over from the killed run.
  json st = Status();
  EXPECT_EQ(st["replicas"].size(), 2u);
  for (const auto& r : st["replicas"]) EXPECT_EQ(r["secret_version"], 2);
  // A replica the killed run started but had not recorded yet is stopped by the next change.
  EXPECT_EQ(CountCommandLines("_supervise --status " + Path(".lifeboat/services/shop/")), 2);
  EXPECT_EQ(Run({"resume", run["id"]}).exit_code, 1);  // finished: nothing to resume

  // Cleanup with the retired cluster down: no final snapshot possible, so it asks for --force.
  StopCluster();
  RunResult refused = Run({"cleanup", "--yes", "--now"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_EQ(refused.err, "error: the retired cluster 'main' is not running, so cleanup cannot take its final "
                         "snapshot\nhint: start it ('lifeboat up' starts the database) or pass --force to drop "
                         "it without a final snapshot\n");
  RunResult forced = Run({"cleanup", "--yes", "--now", "--force", "--json"});
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_TRUE(json::parse(forced.out)["vars"]["final_snapshot"].is_null());
}

TEST_F(RecoverTest, KilledDuringRestoreResumesAndCompletes) {
  KillDuringStepThenResume("restore", 0);
  json instances = json::parse(Run({"instances", "--json"}).out);
  ASSERT_EQ(instances.size(), 1u);  // the incomplete one was dropped and restored again
  EXPECT_EQ(instances[0]["role"], "production");

  // Cleanup killed while it takes the retired cluster's final snapshot, then resumed.
  size_t snapshots_before = json::parse(Run({"snapshots", "--json"}).out).size();
  pid_t pid = Start({"cleanup", "--yes", "--now"});
  ASSERT_TRUE(KillDuringStep(pid, "cleanup", "final-snapshot", 200));
  json killed = LastRun();
  EXPECT_EQ(killed["kind"], "cleanup");
  EXPECT_EQ(killed["state"], "interrupted");
  RunResult resumed = Run({"resume", killed["id"], "--json"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  json done = json::parse(resumed.out);
  EXPECT_EQ(done["state"], "succeeded");
  ASSERT_TRUE(done["vars"]["final_snapshot"].is_string());
  json snaps = json::parse(Run({"snapshots", "--json"}).out);
  ASSERT_EQ(snaps.size(), snapshots_before + 1);
  EXPECT_EQ(snaps.back()["id"], done["vars"]["final_snapshot"]);
  EXPECT_FALSE(fs::exists(Path("main")));  // the retired data directory is gone
  RunResult check = Run({"repo", "check", "--read-data"});
  EXPECT_EQ(check.exit_code, 0) << check.err << check.out;
  // Production, under its own name now, still takes backups.
  RunResult backup = Run({"backup"});
  EXPECT_EQ(backup.exit_code, 0) << backup.err;

  // make torture: 19 more rounds of recover --latest and cleanup under load, each killed at a
  // random moment, then resumed (or rerun when it died before its journal existed).
  if (std::getenv("LIFEBOAT_TORTURE") == nullptr) return;
  std::mt19937 rng(std::random_device{}());
  StartLoad(20, 1800, "load-torture.log");
  int kills = 0;
  // The orders since the last backup reach the repository: a WAL switch on production (the
  // test's own cluster, which SwitchWalAndWaitArchived talks to, was retired by the cleanup).
  auto switch_production_wal = [&] {
    json prod = json::parse(ReadWholeFile(Path(".lifeboat/production.json")));
    std::string host = prod["host"];
    int port = prod["port"];
    std::string file = SqlAt(host, port, "SELECT pg_walfile_name(pg_switch_wal())")[0];
    for (int i = 0; i < 600; ++i) {
      std::string last = SqlAt(host, port, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")[0];
      if (last >= file && last.size() == 24) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "WAL file " << file << " of production was not archived within 30 s";
  };
  for (int round = 0; round < 19; ++round) {
    std::this_thread::sleep_for(std::chrono::seconds(1));  // orders after the round's backup
    switch_production_wal();
    KillAtRandomThenFinish({"recover", "--latest", "--yes"}, 15000, &rng);
    if (HasFatalFailure()) return;
    KillAtRandomThenFinish({"cleanup", "--yes", "--now"}, 3000, &rng);
    if (HasFatalFailure()) return;
    kills += 2;
    json instances = json::parse(Run({"instances", "--json"}).out);
    EXPECT_EQ(instances.size(), 0u) << instances.dump();  // production is no instance any more
    RunResult b = Run({"backup"});
    ASSERT_EQ(b.exit_code, 0) << b.err;
    std::string body;
    EXPECT_EQ(HttpGet(ports_, "/health", &body), 200);
  }
  StopLoad();
  LoadLog torture_log = ReadLoadLog(Path("load-torture.log"));
  for (const auto& f : torture_log.failures) ADD_FAILURE() << "failed request: " << f;
  EXPECT_EQ(CountCommandLines("_supervise --status " + Path(".lifeboat/services/shop/")), 2);
  RunResult final_check = Run({"repo", "check", "--read-data"});
  EXPECT_EQ(final_check.exit_code, 0) << final_check.err << final_check.out;
  std::cout << "recover and cleanup: " << kills << " more kills, each resumed; "
            << torture_log.orders.size() << " orders, " << torture_log.failures.size()
            << " failed requests" << std::endl;
}

}  // namespace
}  // namespace lifeboat::testing
