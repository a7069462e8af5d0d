// Scenario 2 on the shop under load: releases, deploys with migrations and restore points, a
// rollback that runs down scripts, the circuit breaker rolling back a crashing release, a
// rollback refused for a migration without a down script, and recover --restore-point.
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "shop_harness.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace lifeboat::testing {
namespace {

class DeployTest : public ShopTest {
 protected:
  void SetUp() override {
    ShopTest::SetUp();
    if (HasFatalFailure()) return;
    std::string cfg = ReadWholeFile(Path("lifeboat.toml"));
    size_t at = cfg.find("command = \"");
    size_t end = cfg.find('\n', at);
    cfg.replace(at, end - at, "command = \"{release}/bin/shop-server --port {port}\"\n"
                              "databases = [\"startupwebapp_prod\", \"healthtech_prod\", \"fintech_prod\"]\n"
                              "bake = \"2s\"");
    WriteConfig(cfg);
  }
  // A release directory: the shop's server (or a crashing stand-in) and migrations.
  std::string MakeRelease(const std::string& name, bool crashing,
                          const std::vector<std::tuple<std::string, std::string, std::string>>& migrations) {
    std::string dir = Path("releases/" + name);
    fs::create_directories(dir + "/bin");
    fs::create_directories(dir + "/migrations");
    if (crashing) {
      WriteFile(dir + "/bin/shop-server", "#!/bin/sh\necho 'shop-server: cannot start: bad build' >&2\nexit 1\n");
      fs::permissions(dir + "/bin/shop-server", fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    } else {
      fs::copy_file(std::string(SHOP_BIN_DIR) + "/shop-server", dir + "/bin/shop-server");
    }
    for (const auto& [file, up, down] : migrations) {
      WriteFile(dir + "/migrations/" + file + ".up.sql", up);
      if (!down.empty()) WriteFile(dir + "/migrations/" + file + ".down.sql", down);
    }
    WriteFile(dir + "/metadata.json", "{\"name\": \"" + name + "\"}\n");
    GiveToPostgres(Path("releases"));
    return dir;
  }
  json Revisions() { return json::parse(Run({"revisions", "shop", "--json"}).out); }
  std::string Column(const std::string& db) {
    return SqlValue("SELECT count(*) FROM information_schema.columns WHERE table_name = 'order_order' "
                    "AND column_name = 'note'", db);
  }
};

const std::tuple<std::string, std::string, std::string> kNote = {
    "0001_order_note", "ALTER TABLE order_order ADD COLUMN note text;", "ALTER TABLE order_order DROP COLUMN note;"};
const std::tuple<std::string, std::string, std::string> kIndex = {
    "0002_note_index", "CREATE INDEX order_order_note ON order_order (note);", "DROP INDEX order_order_note;"};
const std::tuple<std::string, std::string, std::string> kNoDown = {
    "0003_audit_trail", "CREATE TABLE audit_trail (id bigint);", ""};

TEST_F(DeployTest, DeployRollbackCircuitBreakerAndRestorePoint) {
  std::string r1 = MakeRelease("r1", false, {kNote});
  std::string r2 = MakeRelease("r2", false, {kNote, kIndex});
  std::string bad = MakeRelease("bad", true, {kNote, kIndex});
  std::string r4 = MakeRelease("r4", false, {kNote, kNoDown});
  for (const auto& [tag, dir] : std::vector<std::pair<std::string, std::string>>{
           {"1.0", r1}, {"2.0", r2}, {"3.0", bad}, {"4.0", r4}}) {
    RunResult add = Run({"release", "add", "shop", tag, dir});
    ASSERT_EQ(add.exit_code, 0) << add.err;
  }
  RunResult again = Run({"release", "add", "shop", "1.0", r2});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.err.rfind("error: release shop:1.0 exists (snapshot ", 0), 0u) << again.err;
  EXPECT_NE(again.err.find("); a tag is never reused\nhint: give the new build a new tag\n"), std::string::npos);

  // The first deploy: migration 0001 in every tenant database, with a restore point before it.
  RunResult d1 = Run({"deploy", "shop", "1.0", "--yes", "--json"});
  ASSERT_EQ(d1.exit_code, 0) << d1.err << d1.out;
  EXPECT_TRUE(json::parse(d1.out)["vars"]["restore_point"].is_object());
  for (const char* db : {"startupwebapp_prod", "healthtech_prod", "fintech_prod"}) {
    EXPECT_EQ(Column(db), "1") << db;
    EXPECT_EQ(SqlValue("SELECT string_agg(name || ':' || release, ',') FROM lifeboat_migrations", db), "0001_order_note:1.0");
  }
  ASSERT_EQ(Run({"up"}).exit_code, 0);
  ASSERT_EQ(Run({"backup"}).exit_code, 0);

  // 2.0 under load, then back to 1.0 with 0002's down script: no request fails.
  StartLoad(20, 300);
  RunResult d2 = Run({"deploy", "shop", "2.0", "--yes"});
  ASSERT_EQ(d2.exit_code, 0) << d2.err << d2.out;
  EXPECT_EQ(SqlValue("SELECT count(*) FROM pg_indexes WHERE indexname = 'order_order_note'", "fintech_prod"), "1");
  RunResult back = Run({"rollback", "shop", "--yes"});
  ASSERT_EQ(back.exit_code, 0) << back.err << back.out;
  EXPECT_EQ(SqlValue("SELECT count(*) FROM pg_indexes WHERE indexname = 'order_order_note'", "fintech_prod"), "0");
  EXPECT_EQ(Column("fintech_prod"), "1");  // 1.0 keeps its own migration

  // A release that crashes: the circuit breaker restores revision 3 (1.0).
  RunResult crash = Run({"deploy", "shop", "3.0", "--yes"});
  EXPECT_EQ(crash.exit_code, 3);
  EXPECT_EQ(crash.err.rfind("error: circuit breaker: rolling restart stopped; the previous replicas still serve: "
                            "service 'shop': replica ", 0), 0u) << crash.err;
  EXPECT_NE(crash.err.find("shop-server: cannot start: bad build"), std::string::npos) << crash.err;
  json revs = Revisions();
  ASSERT_EQ(revs.size(), 4u);
  EXPECT_EQ(revs[0]["tag"], "3.0");
  EXPECT_EQ(revs[0]["state"], "failed");
  EXPECT_EQ(revs[1]["tag"], "1.0");
  EXPECT_EQ(revs[1]["state"], "active");
  EXPECT_EQ(revs[2]["tag"], "2.0");
  EXPECT_EQ(revs[3]["state"], "replaced");
  json st = Status();
  ASSERT_EQ(st["replicas"].size(), 2u);
  for (const auto& r : st["replicas"]) EXPECT_EQ(r["release"], "1.0");
  StopLoad();
  LoadLog log = ReadLoadLog(Path("load.log"));
  for (const auto& f : log.failures) ADD_FAILURE() << "failed request: " << f;
  EXPECT_GT(log.orders.size(), 100u);

  // 4.0 brings a migration without a down script: rolling back is refused, with its restore point.
  RunResult d4 = Run({"deploy", "shop", "4.0", "--yes", "--json"});
  ASSERT_EQ(d4.exit_code, 0) << d4.err << d4.out;
  std::string point = json::parse(d4.out)["vars"]["restore_point"]["name"];
  EXPECT_EQ(SqlValue("SELECT count(*) FROM audit_trail", "healthtech_prod"), "0");
  RunResult refused = Run({"rollback", "shop", "--to", "1.0", "--yes"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.err, "error: rollback of shop to 1.0 refused: migration 0003_audit_trail (in fintech_prod) has "
                         "no down script, so the database cannot follow\nhint: 'lifeboat recover --restore-point " +
                             point + "' restores the database to just before it as a new instance and cuts over\n");
  json migrations = json::parse(Run({"migrations", "shop", "--json"}).out);
  // 0001, 0002 (applied again by the failed 3.0: the circuit breaker rolls back code, and
  // migrations that committed stay) and 0003.
  EXPECT_EQ(migrations["applied"]["healthtech_prod"].size(), 3u);
  EXPECT_EQ(migrations["restore_points"].size(), 4u);  // the deploys of 1.0, 2.0, 3.0 and 4.0

  // The restore point brings the database back to just before 4.0's migration.
  SwitchWalAndWaitArchived();
  RunResult rec = Run({"recover", "--restore-point", point, "--yes", "--json"});
  ASSERT_EQ(rec.exit_code, 0) << rec.err << rec.out;
  json run = json::parse(rec.out);
  // The RPO of that choice: what production committed after the restore point is given up.
  EXPECT_EQ(run["result"]["rpo_basis"], "production_newest_commit");
  EXPECT_GT(run["result"]["rpo_seconds"].get<double>(), 0);
  int port = run["vars"]["port"];
  std::string host = InstanceHost(run["params"]["instance"]);
  EXPECT_EQ(SqlAt(host, port, "SELECT count(*) FROM pg_tables WHERE tablename = 'audit_trail'", "healthtech_prod")[0], "0");
  EXPECT_EQ(SqlAt(host, port, "SELECT string_agg(name, ',' ORDER BY name) FROM lifeboat_migrations", "healthtech_prod")[0],
            "0001_order_note,0002_note_index");  // as just before 4.0 ran 0003
}

}  // namespace
}  // namespace lifeboat::testing

namespace lifeboat::testing {
namespace {

// The shop's own releases (examples/shop/releases): v1 good, v2 a reversible migration, v3 a
// broken health check, v4 a migration that fails half-way.
TEST_F(DeployTest, TheShopsReleasesUnderLoad) {
  std::string rel = std::string(SHOP_BIN_DIR) + "/releases/";
  for (const char* v : {"v1", "v2", "v3", "v4"}) {
    RunResult add = Run({"release", "add", "shop", v, rel + v});
    ASSERT_EQ(add.exit_code, 0) << add.err;
  }
  fs::create_directories(Path("empty-release/migrations"));
  GiveToPostgres(Path("empty-release"));
  RunResult noexe = Run({"release", "add", "shop", "v5", Path("empty-release")});
  EXPECT_EQ(noexe.exit_code, 1);
  EXPECT_EQ(noexe.err, "error: release directory '" + Path("empty-release") + "' holds no executable file\n"
                       "hint: a release is the service's program (e.g. bin/server), its assets and migrations/\n");
  RunResult unknown = Run({"deploy", "shop", "v9", "--yes"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err, "error: release shop:v9 does not exist\nhint: closest tags: v1, v2, v3\n");

  ASSERT_EQ(Run({"deploy", "shop", "v1", "--yes"}).exit_code, 0);
  ASSERT_EQ(Run({"up"}).exit_code, 0);
  StartLoad(20, 300);
  RunResult v2 = Run({"deploy", "shop", "v2", "--yes"});
  ASSERT_EQ(v2.exit_code, 0) << v2.err << v2.out;
  for (const char* db : {"startupwebapp_prod", "healthtech_prod", "fintech_prod"}) {
    EXPECT_EQ(SqlValue("SELECT count(*) FROM information_schema.columns WHERE column_name = 'delivery_note'", db), "1");
  }

  // v3 never gets healthy: rolled back automatically.
  RunResult v3 = Run({"deploy", "shop", "v3", "--yes"});
  EXPECT_EQ(v3.exit_code, 3);
  EXPECT_NE(v3.err.find("failed to start: it was not healthy after 10s (health check answered 503)"), std::string::npos)
      << v3.err;
  // v4's second migration fails half-way: nothing of it anywhere, replicas stay on v2.
  RunResult v4 = Run({"deploy", "shop", "v4", "--yes"});
  EXPECT_EQ(v4.exit_code, 3);
  EXPECT_EQ(v4.err.rfind("error: migration 0002_gift_wrap failed in fintech_prod and was rolled back: ", 0), 0u) << v4.err;
  EXPECT_NE(v4.err.find("relation \"order_gift\" does not exist"), std::string::npos) << v4.err;
  for (const char* db : {"startupwebapp_prod", "healthtech_prod", "fintech_prod"}) {
    EXPECT_EQ(SqlValue("SELECT count(*) FROM information_schema.columns WHERE column_name = 'gift_wrap'", db), "0");
    EXPECT_EQ(SqlValue("SELECT string_agg(name || ':' || release, ',') FROM lifeboat_migrations", db),
              "0001_delivery_note:v2");
  }
  json st = Status();
  for (const auto& r : st["replicas"]) EXPECT_EQ(r["release"], "v2");

  // Back to v1 (0001's down script runs), forward to v2, then two revisions back.
  RunResult back = Run({"rollback", "shop", "--yes"});
  ASSERT_EQ(back.exit_code, 0) << back.err << back.out;
  EXPECT_EQ(SqlValue("SELECT count(*) FROM information_schema.columns WHERE column_name = 'delivery_note'",
                     "healthtech_prod"), "0");
  ASSERT_EQ(Run({"deploy", "shop", "v2", "--yes"}).exit_code, 0);
  RunResult two = Run({"rollback", "shop", "--steps", "2", "--yes", "--json"});
  ASSERT_EQ(two.exit_code, 0) << two.err << two.out;
  EXPECT_EQ(json::parse(two.out)["params"]["tag"], "v1");
  json revs = Revisions();
  EXPECT_EQ(revs[0]["tag"], "v1");
  EXPECT_EQ(revs[0]["state"], "active");
  StopLoad();
  LoadLog log = ReadLoadLog(Path("load.log"));
  for (const auto& f : log.failures) ADD_FAILURE() << "failed request: " << f;

  // A deploy while another runs: refused, naming it.
  pid_t first = Start({"deploy", "shop", "v2", "--yes"});
  bool running = false;
  for (int i = 0; i < 200 && !running; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    RunResult runs = Run({"runs", "--json"});
    json all = json::parse(runs.out, nullptr, false);
    running = all.is_array() && !all.empty() && all[0]["kind"] == "deploy" && all[0]["state"] == "running";
  }
  ASSERT_TRUE(running);
  RunResult second = Run({"deploy", "shop", "v2", "--yes"});
  EXPECT_EQ(second.exit_code, 2);
  EXPECT_EQ(second.err.rfind("error: run deploy-", 0), 0u) << second.err;
  EXPECT_NE(second.err.find("(pid " + std::to_string(first) + ") is in progress in this state directory"),
            std::string::npos) << second.err;
  int status = 0;
  waitpid(first, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0);

  // The deployment drill, on a scratch copy: production's replicas are not touched.
  json before = Status();
  RunResult drill = Run({"drill", "rollback", "--json"});
  ASSERT_EQ(drill.exit_code, 0) << drill.err << drill.out;
  json record = json::parse(drill.out);
  EXPECT_EQ(record["passed"], true);
  EXPECT_GT(record["detect_seconds"].get<double>(), 0);
  EXPECT_GE(record["rollback_seconds"].get<double>(), 0);
  EXPECT_EQ(record["failed_requests"], 0);
  EXPECT_GT(record["requests"].get<int>(), 10);
  EXPECT_EQ(Status()["replicas"], before["replicas"]);
  json drills = json::parse(Run({"drills", "--json"}).out);
  ASSERT_EQ(drills.size(), 1u);
  EXPECT_EQ(drills[0]["kind"], "rollback");
}

TEST_F(DeployTest, KilledMidDeployResumesAndFinishes) {
  std::string rel = std::string(SHOP_BIN_DIR) + "/releases/";
  for (const char* v : {"v1", "v2"}) ASSERT_EQ(Run({"release", "add", "shop", v, rel + v}).exit_code, 0);
  ASSERT_EQ(Run({"deploy", "shop", "v1", "--yes"}).exit_code, 0);
  ASSERT_EQ(Run({"up"}).exit_code, 0);
  StartLoad(20, 300);
  pid_t pid = Start({"deploy", "shop", "v2", "--yes"});
  // kill -9 once the rollout has begun replacing replicas.
  ASSERT_TRUE(KillDuringStep(pid, "deploy", "rollout", 1500));
  json runs = json::parse(Run({"runs", "--json"}).out);
  ASSERT_FALSE(runs.empty());
  EXPECT_EQ(runs[0]["kind"], "deploy");
  EXPECT_EQ(runs[0]["state"], "interrupted");
  RunResult resumed = Run({"resume", runs[0]["id"]});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err << resumed.out;
  StopLoad();
  LoadLog log = ReadLoadLog(Path("load.log"));
  for (const auto& f : log.failures) ADD_FAILURE() << "failed request: " << f;
  json st = Status();
  ASSERT_EQ(st["replicas"].size(), 2u);
  for (const auto& r : st["replicas"]) EXPECT_EQ(r["release"], "v2");
  EXPECT_EQ(CountCommandLines("_supervise --status " + Path(".lifeboat/services/shop/")), 2);
  json revs = Revisions();
  EXPECT_EQ(revs[0]["tag"], "v2");
  EXPECT_EQ(revs[0]["state"], "active");
  EXPECT_EQ(revs.size(), 2u);  // the resumed run recorded its revision once
  EXPECT_EQ(SqlValue("SELECT string_agg(name, ',') FROM lifeboat_migrations", "fintech_prod"), "0001_delivery_note");

  // A rollback killed while it replaces replicas, then resumed: back on v1, v2's migration
  // undone by its down script, still no failed request.
  StartLoad(20, std::getenv("LIFEBOAT_TORTURE") != nullptr ? 900 : 300, "load2.log");
  pid = Start({"rollback", "shop", "--yes"});
  ASSERT_TRUE(KillDuringStep(pid, "rollback", "rollout", 1500));
  runs = json::parse(Run({"runs", "--json"}).out);
  EXPECT_EQ(runs[0]["kind"], "rollback");
  EXPECT_EQ(runs[0]["state"], "interrupted");
  resumed = Run({"resume", runs[0]["id"]});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err << resumed.out;

  // make torture: 19 more deploys and rollbacks, each killed at a random moment (0-4 s after
  // it starts, whichever step that is), then resumed, or rerun when it died before its journal.
  if (std::getenv("LIFEBOAT_TORTURE") != nullptr) {
    std::mt19937 rng(std::random_device{}());
    int kills = 0;
    for (int i = 0; i < 38; ++i) {  // even: it ends on a rollback, back on v1
      bool deploy = i % 2 == 0;
      std::vector<std::string> cmd = deploy ? std::vector<std::string>{"deploy", "shop", "v2", "--yes"}
                                            : std::vector<std::string>{"rollback", "shop", "--yes"};
      KillAtRandomThenFinish(cmd, 4000, &rng);
      if (HasFatalFailure()) return;
      ++kills;
      json now = Status();
      ASSERT_EQ(now["replicas"].size(), 2u);
      for (const auto& r : now["replicas"]) EXPECT_EQ(r["release"], deploy ? "v2" : "v1");
      EXPECT_EQ(CountCommandLines("_supervise --status " + Path(".lifeboat/services/shop/")), 2);
      EXPECT_EQ(SqlValue("SELECT count(*) FROM lifeboat_migrations", "fintech_prod"), deploy ? "1" : "0");
    }
    std::cout << "deploy and rollback: " << kills << " more kills, each resumed" << std::endl;
  }
  StopLoad();
  log = ReadLoadLog(Path("load2.log"));
  for (const auto& f : log.failures) ADD_FAILURE() << "failed request: " << f;
  EXPECT_GT(log.orders.size(), 20u);
  st = Status();
  ASSERT_EQ(st["replicas"].size(), 2u);
  for (const auto& r : st["replicas"]) EXPECT_EQ(r["release"], "v1");
  EXPECT_EQ(CountCommandLines("_supervise --status " + Path(".lifeboat/services/shop/")), 2);
  EXPECT_EQ(Revisions()[0]["tag"], "v1");
  EXPECT_EQ(SqlValue("SELECT count(*) FROM lifeboat_migrations", "fintech_prod"), "0");
}

}  // namespace
}  // namespace lifeboat::testing
