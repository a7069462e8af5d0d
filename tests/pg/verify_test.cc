// verify on real restored instances: a faithful restore passes; each kind of damage fails the
// right check with exit 3 and names what is wrong.
#include <algorithm>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "pg_harness.h"

namespace fs = std::filesystem;

namespace lifeboat::testing {
namespace {

class VerifyTest : public PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    for (const char* db : {"startupwebapp_prod", "healthtech_prod"}) {
      Sql(std::string("CREATE DATABASE ") + db);
      Sql("CREATE TABLE user_member (id int PRIMARY KEY, email text)", db);
      Sql("INSERT INTO user_member SELECT g, 'm' || g || '@shop.test' FROM generate_series(1, 300) g", db);
      Sql("CREATE TABLE order_order (id int PRIMARY KEY, created_date_time timestamptz, "
          "order_status_id int)", db);
      Sql("INSERT INTO order_order SELECT g, now() - (400 - g) * interval '1 minute', g % 4 "
          "FROM generate_series(1, 400) g", db);
    }
    WriteConfig(ConfigText() + R"(
[objectives]
rto = "4h"
rpo = "24h"

[verify]
critical_tables = ["startupwebapp_prod.public.order_order", "startupwebapp_prod.public.user_member"]
shrink_limit = 0.10

[[verify.freshness]]
database = "startupwebapp_prod"
table = "order_order"
column = "created_date_time"

[[verify.check]]
name = "orders exist"
database = "startupwebapp_prod"
sql = "select count(*) from order_order"
expect = "> 0"
)");
    RunResult b = Run({"backup", "--json"});
    ASSERT_EQ(b.exit_code, 0) << b.err;
    snapshot_ = nlohmann::json::parse(b.out)["id"];
    SwitchWalAndWaitArchived();
  }

  // Restores the snapshot to `name` and returns its port.
  int Restore(const std::string& name) {
    RunResult r = Run({"restore", "--snapshot", snapshot_, "--instance", name, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out)["port"].get<int>() : 0;
  }

  nlohmann::json Check(const nlohmann::json& report, const std::string& name) {
    for (const auto& c : report["checks"]) {
      if (c["name"] == name) return c;
    }
    ADD_FAILURE() << "no check named '" << name << "' in " << report.dump(1);
    return nlohmann::json::object();
  }

  std::string snapshot_;
};

TEST_F(VerifyTest, AFaithfulRestorePassesEveryCheck) {
  Restore("good");
  RunResult v = Run({"verify", "--instance", "good", "--json"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  nlohmann::json j = nlohmann::json::parse(v.out);
  EXPECT_EQ(j["result"], "pass") << j.dump(1);
  EXPECT_EQ(Check(j, "system identifier")["actual"],
            SqlValue("SELECT system_identifier FROM pg_control_system()"));
  EXPECT_EQ(Check(j, "rows startupwebapp_prod.public.order_order")["actual"], "400");
  EXPECT_EQ(Check(j, "rows startupwebapp_prod.public.order_order")["expected"], "400");
  EXPECT_EQ(Check(j, "orders exist")["actual"], "400");
  EXPECT_EQ(Check(j, "freshness startupwebapp_prod.order_order.created_date_time")["result"], "pass");
  EXPECT_EQ(Check(j, "amcheck startupwebapp_prod")["result"], "pass");
  EXPECT_EQ(Check(j, "page checksums healthtech_prod")["result"], "pass");
  for (const auto& c : j["checks"]) EXPECT_GE(c["seconds"].get<double>(), 0.0);
  // The human form is a table and a verdict.
  RunResult text = Run({"verify", "--instance", "good"});
  EXPECT_EQ(text.out.rfind("CHECK", 0), 0u) << text.out;
  EXPECT_NE(text.out.find("\nresult: pass\n"), std::string::npos) << text.out;
}

TEST_F(VerifyTest, AnEmptiedTableADroppedDatabaseAndARowFromTheFutureFail) {
  int port = Restore("bad");
  std::string host = InstanceHost("bad");
  SqlAt(host, port, "DELETE FROM order_order", "startupwebapp_prod");
  SqlAt(host, port, "DROP DATABASE healthtech_prod");
  RunResult v = Run({"verify", "--instance", "bad", "--json"});
  EXPECT_EQ(v.exit_code, 3);
  nlohmann::json j = nlohmann::json::parse(v.out);
  EXPECT_EQ(j["result"], "fail");
  nlohmann::json rows = Check(j, "rows startupwebapp_prod.public.order_order");
  EXPECT_EQ(rows["result"], "fail");
  EXPECT_EQ(rows["detail"], "table startupwebapp_prod.public.order_order is empty; it had 400 rows");
  nlohmann::json db = Check(j, "database healthtech_prod");
  EXPECT_EQ(db["result"], "fail");
  EXPECT_EQ(db["actual"], "missing");
  EXPECT_NE(db["detail"].get<std::string>().find("database \"healthtech_prod\" does not exist"), std::string::npos);
  EXPECT_EQ(Check(j, "critical table startupwebapp_prod.public.order_order")["result"], "fail");
  EXPECT_EQ(Check(j, "critical table startupwebapp_prod.public.user_member")["result"], "pass");
  EXPECT_EQ(v.err.rfind("error: verification of instance 'bad' failed: ", 0), 0u) << v.err;

  int port2 = Restore("future");
  SqlAt(InstanceHost("future"), port2,
        "INSERT INTO order_order VALUES (9999, now() + interval '1 day', 1)", "startupwebapp_prod");
  RunResult f = Run({"verify", "--instance", "future", "--json"});
  EXPECT_EQ(f.exit_code, 3);
  nlohmann::json fresh = Check(nlohmann::json::parse(f.out), "freshness startupwebapp_prod.order_order.created_date_time");
  EXPECT_EQ(fresh["result"], "fail");
  EXPECT_EQ(fresh["detail"], "a row is newer than the recovery target: the restore went too far");
}

TEST_F(VerifyTest, DamagedIndexAndDataPagesFailIntegrityChecks) {
  int port = Restore("torn");
  std::string host = InstanceHost("torn");
  std::string index = SqlAt(host, port, "SELECT pg_relation_filepath('user_member_pkey')", "startupwebapp_prod")[0];
  std::string table = SqlAt(host, port, "SELECT pg_relation_filepath('order_order')", "startupwebapp_prod")[0];
  ASSERT_EQ(Run({"instance", "stop", "torn"}).exit_code, 0);
  FlipByte(host + "/data/" + index, 8192 + 4000);  // a leaf page of the index
  FlipByte(host + "/data/" + table, 8000);         // inside order_order's first page
  ASSERT_EQ(Run({"instance", "start", "torn"}).exit_code, 0);
  RunResult v = Run({"verify", "--instance", "torn", "--json"});
  EXPECT_EQ(v.exit_code, 3);
  nlohmann::json j = nlohmann::json::parse(v.out);
  nlohmann::json am = Check(j, "amcheck startupwebapp_prod");
  EXPECT_EQ(am["result"], "fail");
  EXPECT_NE(am["detail"].get<std::string>().find("index public.user_member_pkey: "), std::string::npos) << am.dump();
  nlohmann::json pages = Check(j, "page checksums startupwebapp_prod");
  EXPECT_EQ(pages["result"], "fail");
  EXPECT_EQ(pages["detail"].get<std::string>().rfind("relation public.order_order: ", 0), 0u) << pages.dump();
  EXPECT_NE(pages["detail"].get<std::string>().find("invalid page in block 0 of relation base/"),
            std::string::npos)
      << pages.dump();
  EXPECT_EQ(Check(j, "page checksums healthtech_prod")["result"], "pass");
}

TEST_F(VerifyTest, BadInputAndAStoppedInstance) {
  RunResult unknown = Run({"verify", "--instance", "ghost"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err, "error: instance 'ghost' does not exist\n"
                         "hint: list instances with 'lifeboat instances'\n");
  // A user check with invalid SQL fails with PostgreSQL's message; the others still run.
  WriteConfig(ReadWholeFile(Path("lifeboat.toml")) + R"(
[[verify.check]]
name = "broken sql"
database = "startupwebapp_prod"
sql = "selec count(*) from order_order"
expect = "> 0"
)");
  Restore("sql");
  RunResult v = Run({"verify", "--instance", "sql", "--json"});
  EXPECT_EQ(v.exit_code, 3);
  nlohmann::json j = nlohmann::json::parse(v.out);
  EXPECT_EQ(Check(j, "broken sql")["result"], "fail");
  EXPECT_NE(Check(j, "broken sql")["detail"].get<std::string>().find("syntax error at or near \"selec\""),
            std::string::npos);
  EXPECT_EQ(Check(j, "orders exist")["result"], "pass");
  // 3 connectivity + 3 databases + 4 tables + 2 critical + 1 freshness + 6 integrity + 2 user.
  EXPECT_EQ(j["checks"].size(), 21u) << j.dump(1);
  // The instance is down: the checks fail with the reason.
  ASSERT_EQ(Run({"instance", "stop", "sql"}).exit_code, 0);
  RunResult down = Run({"verify", "--instance", "sql", "--json"});
  EXPECT_EQ(down.exit_code, 3);
  nlohmann::json d = nlohmann::json::parse(down.out);
  EXPECT_EQ(Check(d, "accepts connections")["result"], "fail");
  EXPECT_NE(Check(d, "accepts connections")["detail"].get<std::string>().find("cannot connect to PostgreSQL at " + InstanceHost("sql")),
            std::string::npos);
}

// The budget: a history that says pages are read at 1 MiB/s (as if the last verify had
// measured a slow disk) makes the 15 MB ledger an estimated 15 s, which an 8 s budget cannot
// fit, while its 1.3 MB index and every other unit fit. The test knows the units from its own
// side: every B-tree index and every relation of the three databases.
TEST_F(VerifyTest, ABudgetSkipsWhatWouldNotFitAndReportsExactlyWhatItCheckedAndSkipped) {
  Sql("CREATE TABLE ledger (id int PRIMARY KEY, memo text)", "startupwebapp_prod");
  Sql("INSERT INTO ledger SELECT g, repeat('x', 200) FROM generate_series(1, 60000) g", "startupwebapp_prod");
  RunResult b = Run({"backup", "--json"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  snapshot_ = nlohmann::json::parse(b.out)["id"];
  int port = Restore("budget");
  std::string host = InstanceHost("budget");
  int64_t ledger_bytes = std::stoll(SqlAt(host, port, "SELECT pg_relation_size('ledger')", "startupwebapp_prod")[0]);
  ASSERT_GT(ledger_bytes, 12 << 20);
  std::map<std::string, int> indexes, relations;
  int units = 0;
  for (const char* db : {"postgres", "startupwebapp_prod", "healthtech_prod"}) {
    indexes[db] = std::stoi(SqlAt(host, port,
                                  "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                                  "JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree' AND "
                                  "c.relpersistence = 'p' AND i.indisvalid",
                                  db)[0]);
    relations[db] = std::stoi(
        SqlAt(host, port, "SELECT count(*) FROM pg_class WHERE relkind IN ('r', 'm', 't') AND relpersistence = 'p'", db)[0]);
    units += indexes[db] + relations[db];
  }
  const std::string slow_disk =
      R"({"last_checked": {}, "index_bytes_per_second": 1048576, "relation_bytes_per_second": 1048576})";
  WriteFile(Path(".lifeboat/verify-coverage.json"), slow_disk);

  RunResult v = Run({"verify", "--instance", "budget", "--budget", "8s", "--json"});
  ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
  nlohmann::json j = nlohmann::json::parse(v.out);
  nlohmann::json cov = j["coverage"];
  EXPECT_EQ(cov["budget_seconds"], 8.0);
  EXPECT_EQ(cov["skipped"], (nlohmann::json::array({{{"database", "startupwebapp_prod"}, {"kind", "relation"},
                                                      {"name", "public.ledger"}, {"bytes", ledger_bytes}}})));
  EXPECT_EQ(cov["skipped_bytes"], ledger_bytes);
  EXPECT_EQ(cov["checked"].size(), static_cast<size_t>(units - 1));
  EXPECT_NE(std::find(cov["checked"].begin(), cov["checked"].end(),
                      nlohmann::json{{"database", "startupwebapp_prod"}, {"kind", "index"}, {"name", "public.ledger_pkey"},
                                     {"bytes", std::stoll(SqlAt(host, port, "SELECT pg_relation_size('ledger_pkey')",
                                                                "startupwebapp_prod")[0])}}),
            cov["checked"].end())
      << cov.dump(1);
  EXPECT_EQ(Check(j, "amcheck startupwebapp_prod")["actual"],
            std::to_string(indexes["startupwebapp_prod"]) + " indexes intact");
  EXPECT_EQ(Check(j, "page checksums startupwebapp_prod")["actual"],
            std::to_string(relations["startupwebapp_prod"] - 1) + " relations read (1 skipped for the budget)");
  EXPECT_EQ(Check(j, "page checksums healthtech_prod")["actual"],
            std::to_string(relations["healthtech_prod"]) + " relations read");
  // The history records what was checked: the ledger is not among it, its index is.
  nlohmann::json history = nlohmann::json::parse(ReadWholeFile(Path(".lifeboat/verify-coverage.json")));
  EXPECT_FALSE(history["last_checked"].contains("startupwebapp_prod/relation/public.ledger")) << history.dump(1);
  EXPECT_TRUE(history["last_checked"].contains("startupwebapp_prod/index/public.ledger_pkey")) << history.dump(1);
  EXPECT_EQ(history["last_checked"].size(), static_cast<size_t>(units - 1));

  // The human form says the same in two lines. (The run above measured the real rate, at
  // which the ledger would fit: the slow disk again.)
  WriteFile(Path(".lifeboat/verify-coverage.json"), slow_disk);
  RunResult text = Run({"verify", "--instance", "budget", "--budget", "8s"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("\nintegrity: checked " + std::to_string(units - 1) + " of " + std::to_string(units) +
                          " indexes and relations ("),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find(") within a 8.00s budget\nskipped for the budget: startupwebapp_prod.public.ledger\n"),
            std::string::npos)
      << text.out;

  // Without a budget, everything; the ledger joins the history.
  RunResult all = Run({"verify", "--instance", "budget", "--json"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  nlohmann::json whole = nlohmann::json::parse(all.out)["coverage"];
  EXPECT_TRUE(whole["budget_seconds"].is_null());
  EXPECT_EQ(whole["checked"].size(), static_cast<size_t>(units));
  EXPECT_TRUE(whole["skipped"].empty());
  history = nlohmann::json::parse(ReadWholeFile(Path(".lifeboat/verify-coverage.json")));
  EXPECT_TRUE(history["last_checked"].contains("startupwebapp_prod/relation/public.ledger"));

  RunResult bad = Run({"verify", "--instance", "budget", "--budget", "soon"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err, "error: --budget: invalid duration 'soon'\nhint: use a number with a unit: 30s, 15m, 4h, 7d, 1h30m\n");
}

TEST_F(VerifyTest, VerifySnapshotRecordsTheOutcomeAndLeavesNothingBehind) {
  RunResult v = Run({"verify", "--snapshot", "latest", "--json"});
  ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
  nlohmann::json j = nlohmann::json::parse(v.out);
  EXPECT_EQ(j["result"], "pass");
  EXPECT_EQ(j["snapshot"], snapshot_);
  nlohmann::json snaps = nlohmann::json::parse(Run({"snapshots", "--json"}).out);
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_EQ(snaps[0]["last_verification"]["result"], "pass");
  EXPECT_EQ(snaps[0]["last_verification"]["verified_at"], j["verified_at"]);
  // No instance, directory or process is left.
  EXPECT_EQ(Run({"instances", "--json"}).out, "[]\n");
  EXPECT_TRUE(!fs::exists(Path(".lifeboat/instances")) || fs::is_empty(Path(".lifeboat/instances")));
}

}  // namespace
}  // namespace lifeboat::testing
