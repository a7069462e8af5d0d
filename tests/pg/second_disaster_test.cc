// The second disaster is as recoverable as the first. Under shop-load: a recovery undoes a
// DELETE, then each new production is lost (every process killed with -9, its data directory
// removed) and `recover --latest` brings the shop back, three times in a row; between them a
// drill, a restore by hand and a recovery that fails verification change nothing that
// --latest restores. Ground truth comes from shop-load's log and the test's own clock.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "shop_harness.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace lifeboat::testing {
namespace {

// The parent pid in /proc/<pid>/stat, or 0 when the process is gone or a zombie.
pid_t LiveParent(pid_t pid) {
  std::string stat = ReadWholeFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 4 >= stat.size() || stat[paren + 2] == 'Z') return 0;
  return static_cast<pid_t>(std::atol(stat.c_str() + paren + 4));
}

// The server and the disk of the cluster at `data_dir` are lost: its postmaster and every
// process it started are killed with -9 at once, then the directory is removed.
void LoseCluster(const std::string& data_dir) {
  pid_t postmaster = static_cast<pid_t>(std::atol(ReadWholeFile(data_dir + "/postmaster.pid").c_str()));
  ASSERT_GT(postmaster, 0) << data_dir;
  std::vector<pid_t> victims = {postmaster};
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string n = e.path().filename();
    if (n.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(n));
    if (LiveParent(pid) == postmaster) victims.push_back(pid);
  }
  ASSERT_GT(victims.size(), 3u) << "the postmaster's background processes were not found";
  for (pid_t pid : victims) kill(pid, SIGKILL);
  for (pid_t pid : victims) {
    for (int i = 0; i < 250 && LiveParent(pid) != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_EQ(LiveParent(pid), 0) << "process " << pid << " of " << data_dir << " survived kill -9";
  }
  fs::remove_all(data_dir);
}

class SecondDisasterTest : public ShopTest {
 protected:
  json Window() {
    RunResult w = Run({"window", "--json"});
    EXPECT_EQ(w.exit_code, 0) << w.err;
    return w.exit_code == 0 ? json::parse(w.out) : json::object();
  }
  // What `recover --latest` would restore now: its timeline and its snapshot.
  std::string LatestChoice() {
    RunResult dry = Run({"recover", "--latest", "--dry-run", "--json"});
    EXPECT_EQ(dry.exit_code, 0) << dry.err;
    if (dry.exit_code != 0) return "";
    json p = json::parse(dry.out)["params"];
    return "timeline " + p["window"]["timeline"].dump() + ", snapshot " + p["snapshot"].get<std::string>();
  }
  // The timelines that are or were production, as `window --json` lists them.
  std::string ProductionLineage() {
    std::string out;
    json w = Window();
    for (const auto& t : w["timelines"]) {
      if (t["production"].get<bool>()) out += t["timeline"].dump() + " ";
    }
    return out;
  }
  // The managed instance that is production.
  json Production() {
    for (const auto& i : json::parse(Run({"instances", "--json"}).out)) {
      if (i["role"] == "production") return i;
    }
    ADD_FAILURE() << "no instance is production";
    return json::object();
  }
  // The timeline `instance` writes on: the first part of its current WAL file's name.
  std::string Timeline(const json& instance) {
    return SqlAt(instance["host"], instance["port"],
                 "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int")[0];
  }
  std::set<std::string> Orders(const json& instance) {
    std::set<std::string> out;
    for (const auto& id : SqlAt(instance["host"], instance["port"], "SELECT identifier FROM order_order",
                                "startupwebapp_prod")) {
      out.insert(id);
    }
    return out;
  }
};

TEST_F(SecondDisasterTest, EachLostProductionIsRecoveredAndNothingTheFirstRecoveryUndidComesBack) {
  WriteConfig(ReadWholeFile(Path("lifeboat.toml")) + "\n[objectives]\nrto = \"2m\"\nrpo = \"1s\"\n");
  ASSERT_EQ(Run({"up"}).exit_code, 0);
  ASSERT_EQ(Run({"backup"}).exit_code, 0);
  pid_t streamer = Start({"wal", "stream"});  // a plain daemon: it follows every cutover itself
  StartLoad(20, 900);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  double target = NowSeconds();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  Sql("DELETE FROM order_order", "startupwebapp_prod");  // the disaster the first recovery undoes
  std::this_thread::sleep_for(std::chrono::seconds(1));
  double first_launched = NowSeconds();
  RunResult first = Run({"recover", "--time", IsoAt(target), "--yes", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err << first.out;
  double first_done = NowSeconds();

  // The streamer is killed with -9 right after the cutover; restarted by its supervisor (here
  // the test), it resumes on the new production from the slot the cutover created.
  kill(streamer, SIGKILL);
  waitpid(streamer, nullptr, 0);
  Forget(streamer);
  streamer = Start({"wal", "stream"});

  // Production's lineage as PostgreSQL itself names its timelines.
  std::string lineage = "1 " + Timeline(Production()) + " ";
  struct Loss {
    double at;         // when production was lost
    double recovered;  // when recover --latest returned
    json result;
  };
  std::vector<Loss> losses;
  for (int round = 1; round <= 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::this_thread::sleep_for(std::chrono::seconds(2));
    if (round == 2) {
      ASSERT_EQ(Run({"backup"}).exit_code, 0);  // a snapshot on a recovered timeline
    }
    std::string choice = LatestChoice();
    ASSERT_EQ(ProductionLineage(), lineage);
    if (round == 1) {
      RunResult drill = Run({"drill", "--json"});
      EXPECT_EQ(drill.exit_code, 0) << drill.err << drill.out;
    } else if (round == 2) {
      RunResult by_hand = Run({"restore", "--latest", "--instance", "by-hand", "--archive", "--json"});
      ASSERT_EQ(by_hand.exit_code, 0) << by_hand.err;
      SqlAt(InstanceHost("by-hand"), json::parse(by_hand.out)["port"],
            "INSERT INTO order_order (identifier, order_status_id, sales_tax_amt, order_total) "
            "VALUES ('by-hand', 1, 0, 0)",
            "startupwebapp_prod");
      ASSERT_EQ(Run({"instance", "drop", "by-hand"}).exit_code, 0);
    } else {
      std::string config = ReadWholeFile(Path("lifeboat.toml"));
      WriteConfig(config + "\n[[verify.check]]\nname = \"never\"\ndatabase = \"postgres\"\n"
                           "sql = \"SELECT 1\"\nexpect = \"2\"\n");
      RunResult failed = Run({"recover", "--latest", "--yes"});
      EXPECT_EQ(failed.exit_code, 3) << failed.err << failed.out;
      EXPECT_NE(failed.err.find("' failed: never\nhint: production is untouched; the restored instance is kept"), std::string::npos)
          << failed.err;
      WriteConfig(config);
    }
    EXPECT_EQ(LatestChoice(), choice);
    EXPECT_EQ(ProductionLineage(), lineage);

    // Orders within the RPO objective of an earlier loss may be gone with it.
    auto LostEarlier = [&](double committed) {
      for (const Loss& l : losses) {
        if (committed >= l.at - 1.0 && committed <= l.recovered) return true;
      }
      return false;
    };
    json prod = Production();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    Loss loss;
    loss.at = NowSeconds();
    LoseCluster(prod["data_dir"]);
    if (HasFatalFailure()) return;
    RunResult rec = Run({"recover", "--latest", "--yes", "--json"});
    ASSERT_EQ(rec.exit_code, 0) << rec.err << rec.out;
    loss.recovered = NowSeconds();
    json run = json::parse(rec.out);
    loss.result = run["result"];
    std::string lost_timeline = lineage.substr(lineage.rfind(' ', lineage.size() - 2) + 1);
    EXPECT_EQ(run["params"]["window"]["timeline"].dump() + " ", lost_timeline);
    EXPECT_EQ(run["params"]["newest_commit_source"], "newest archived commit");
    EXPECT_EQ(run["result"]["rpo_basis"], "repository_newest_commit");
    EXPECT_EQ(run["result"]["rpo_met"], true) << run["result"].dump();
    std::string body;
    EXPECT_EQ(HttpGet(ports_, "/health", &body), 200) << body;

    // Every order committed more than the RPO objective (1 s) before the loss is back; none of
    // those the first recovery undid (sent after its target, committed before it began).
    json now = Production();
    EXPECT_NE(now["name"], prod["name"]);
    std::string timeline = Timeline(now);
    EXPECT_EQ(run["vars"]["timeline"].dump(), timeline);
    lineage += timeline + " ";
    EXPECT_EQ(ProductionLineage(), lineage);
    std::set<std::string> have = Orders(now);
    LoadLog log = ReadLoadLog(Path("load.log"));
    int kept = 0;
    double newest_kept = 0;
    for (const auto& o : log.orders) {
      if (have.count(o.identifier) && o.committed < loss.at) newest_kept = std::max(newest_kept, o.committed);
      bool undone = o.sent > target && o.committed < first_launched;
      if (undone) {
        EXPECT_FALSE(have.count(o.identifier)) << "order " << o.id << ", undone by the first recovery, is back";
      } else if (o.committed < loss.at - 1.0 && (o.sent > first_done || o.committed < target) &&
                 !LostEarlier(o.committed)) {
        ++kept;
        EXPECT_TRUE(have.count(o.identifier)) << "order " << o.id << " committed "
                                              << loss.at - o.committed << " s before the loss is missing";
      }
    }
    EXPECT_GT(kept, 60 * round);
    loss.result["orders_lost_seconds"] = loss.at - newest_kept;  // the RPO the shop saw
    EXPECT_FALSE(have.count("by-hand"));  // the restore by hand wrote on a timeline of its own
    losses.push_back(loss);
  }
  StopLoad();

  // The shop failed requests only while production was lost (until each recovery returned).
  LoadLog log = ReadLoadLog(Path("load.log"));
  for (const std::string& f : log.failures) {
    json e = json::parse(f, nullptr, false);
    double at = e.is_object() ? e.value("time", 0.0) : 0.0;
    bool during = false;
    for (const Loss& l : losses) during = during || (at >= l.at - 0.5 && at <= l.recovered);
    EXPECT_TRUE(during) << "failed request outside an outage: " << f;
  }
  // The streamer followed every cutover on its own: still the one started after the first,
  // on the newest timeline, and the repository holds every segment of production's lineage.
  EXPECT_EQ(waitpid(streamer, nullptr, WNOHANG), 0) << "the streamer exited";
  std::string newest = lineage.substr(lineage.rfind(' ', lineage.size() - 2) + 1);
  newest.pop_back();
  // It writes where it stands at most once a second, and the last recovery may have returned
  // just now: give it a few seconds to say it moved.
  json stream;
  for (int i = 0; i < 100; ++i) {
    stream = json::parse(ReadWholeFile(Path(".lifeboat/stream.json")), nullptr, false);
    if (stream.is_object() && stream["timeline"].dump() == newest) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(stream["state"], "running");
  EXPECT_EQ(stream["timeline"].dump(), newest);
  json w = Window();
  EXPECT_EQ(w["timeline"].dump(), newest);
  EXPECT_EQ(w["gaps"], json::array()) << w.dump();
  EXPECT_EQ(ProductionLineage(), lineage);
  for (const Loss& l : losses) std::cout << "lost production, recovered: " << l.result.dump() << std::endl;
}

}  // namespace
}  // namespace lifeboat::testing
