// Drills under shop-load: production's data, secret, replicas and load balancer are exactly as
// before, nothing of the drill is left, and the record holds measured RTO and RPO; a drill whose
// verification fails is recorded as failed and also leaves nothing behind.
#include <filesystem>

#include <nlohmann/json.hpp>

#include "shop_harness.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace lifeboat::testing {
namespace {

class DrillTest : public ShopTest {
 protected:
  void Prepare() {
    RunResult up = Run({"up"});
    ASSERT_EQ(up.exit_code, 0) << up.err;
    RunResult backup = Run({"backup"});
    ASSERT_EQ(backup.exit_code, 0) << backup.err;
    SwitchWalAndWaitArchived();
  }
  // Production as a drill must leave it: secret versions, replicas, the load balancer's
  // configuration, every recorded process, the member table's content, managed instances.
  std::string Production() {
    std::string s = Run({"secret", "history", "shop-db", "--json"}).out;
    json st = Status();
    for (const auto& r : st["replicas"]) {
      s += r["id"].dump() + " " + r["port"].dump() + " " + r["pid"].dump() + " " +
           r["supervisor"]["child_pid"].dump() + "\n";
    }
    s += ReadWholeFile(Path(".lifeboat/lb/haproxy.cfg"));
    for (pid_t pid : RecordedPids(Path(".lifeboat"))) s += std::to_string(pid) + "\n";
    s += SqlValue("SELECT md5(string_agg(m::text, ',' ORDER BY id)) FROM user_member m", "startupwebapp_prod");
    s += Run({"instances", "--json"}).out;
    return s;
  }
};

TEST_F(DrillTest, ADrillUnderLoadLeavesProductionAsItWas) {
  Prepare();
  StartLoad(20, 300);
  std::string before = Production();
  RunResult drill = Run({"drill", "--json"});
  ASSERT_EQ(drill.exit_code, 0) << drill.err << drill.out;
  json record = json::parse(drill.out);
  EXPECT_EQ(record["passed"], true);
  EXPECT_GT(record["rto_seconds"].get<double>(), 0);
  EXPECT_LT(record["rto_seconds"].get<double>(), 120);
  EXPECT_GE(record["rpo_seconds"].get<double>(), 0);
  EXPECT_EQ(record["objectives"]["rto_seconds"], 4 * 3600);
  std::set<std::string> names;
  for (const auto& c : record["checks"]) {
    names.insert(c["name"]);
    EXPECT_EQ(c["passed"], true) << c.dump();
  }
  for (const char* n : {"restore", "verify", "scratch-app", "rto within objective", "rpo within objective"}) {
    EXPECT_TRUE(names.count(n)) << n;
  }
  StopLoad();
  EXPECT_EQ(Production(), before);
  LoadLog log = ReadLoadLog(Path("load.log"));
  for (const auto& f : log.failures) ADD_FAILURE() << f;
  EXPECT_GT(log.orders.size(), 20u);

  json drills = json::parse(Run({"drills", "--json"}).out);
  ASSERT_EQ(drills.size(), 1u);
  EXPECT_EQ(drills[0]["id"], record["id"]);
  EXPECT_EQ(drills[0]["rto_seconds"], record["rto_seconds"]);
  for (const auto& e : fs::directory_iterator(Path(".lifeboat/services"))) {
    EXPECT_EQ(e.path().filename(), "shop");  // no scratch service state left
  }
}

TEST_F(DrillTest, AFailedDrillIsRecordedAndLeavesNothing) {
  WriteConfig(ReadWholeFile(Path("lifeboat.toml")) +
              "\n[[verify.check]]\nname = \"impossible\"\ndatabase = \"startupwebapp_prod\"\n"
              "sql = \"SELECT count(*) FROM order_product\"\nexpect = \"= 12345\"\n");
  Prepare();
  std::string before = Production();
  RunResult drill = Run({"drill"});
  EXPECT_EQ(drill.exit_code, 3);
  EXPECT_EQ(drill.err.rfind("error: drill drill-", 0), 0u) << drill.err;
  EXPECT_NE(drill.err.find(" failed: verification failed: impossible\n"), std::string::npos) << drill.err;
  json drills = json::parse(Run({"drills", "--json"}).out);
  ASSERT_EQ(drills.size(), 1u);
  EXPECT_EQ(drills[0]["passed"], false);
  EXPECT_EQ(drills[0]["reason"], "verification failed: impossible");
  EXPECT_TRUE(drills[0]["rto_seconds"].is_null());
  EXPECT_EQ(Production(), before);
  EXPECT_EQ(Run({"instances", "--json"}).out, "[]\n");
}

}  // namespace
}  // namespace lifeboat::testing
