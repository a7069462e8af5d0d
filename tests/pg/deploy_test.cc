// Scenario 2 on the shop under load: releases, deploys with migrations and restore points, a
// rollback that runs down scripts, the circuit breaker rolling back a crashing release, a
// rollback refused for a migration without a down script, and recover --restore-point.
#include <filesystem>
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
  int port = run["vars"]["port"];
  std::string host = InstanceHost(run["params"]["instance"]);
  EXPECT_EQ(SqlAt(host, port, "SELECT count(*) FROM pg_tables WHERE tablename = 'audit_trail'", "healthtech_prod")[0], "0");
  EXPECT_EQ(SqlAt(host, port, "SELECT string_agg(name, ',' ORDER BY name) FROM lifeboat_migrations", "healthtech_prod")[0],
            "0001_order_note,0002_note_index");  // as just before 4.0 ran 0003
}

}  // namespace
}  // namespace lifeboat::testing
