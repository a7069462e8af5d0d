// kill -9 during restore, verify --snapshot, expire and wal push: afterwards the repository
// checks clean, a documented command removes what was left, and a retry succeeds.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "pg_harness.h"

namespace fs = std::filesystem;

namespace lifeboat::testing {
namespace {

class CrashMatrixTest : public PgTest {
 protected:
  // Starts lifeboat with `args`, kills it with SIGKILL after `ms` milliseconds.
  void KillAfter(const std::vector<std::string>& args, int ms) {
    pid_t pid = Start(args);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    started_.clear();
  }

  // Stops and drops every registered instance, as the docs tell the user to.
  void DropAll() {
    for (const auto& i : nlohmann::json::parse(Run({"instances", "--json"}).out)) {
      RunResult d = Run({"instance", "drop", i["name"]});
      EXPECT_EQ(d.exit_code, 0) << d.err;
    }
  }
};

TEST_F(CrashMatrixTest, RestoreVerifyExpireAndWalPushSurviveKill9) {
  Sql("CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 200000) g");
  RunResult b = Run({"backup", "--json"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  std::string id = nlohmann::json::parse(b.out)["id"];
  SwitchWalAndWaitArchived();
  std::string expected = SqlValue("SELECT count(*), sum(id) FROM t");

  // make test: three fixed moments; make torture: 20 random ones per operation.
  std::vector<int> delays = {50, 300, 900};
  if (std::getenv("LIFEBOAT_TORTURE") != nullptr) {
    std::mt19937 rng(std::random_device{}());
    delays.clear();
    for (int i = 0; i < 20; ++i) delays.push_back(std::uniform_int_distribution<int>(20, 2000)(rng));
  }
  int kills = 0;
  for (int ms : delays) {
    SCOPED_TRACE("kill after " + std::to_string(ms) + " ms");
    // backup: no snapshot appears half made; PostgreSQL ends the backup with the session.
    size_t snapshots = nlohmann::json::parse(Run({"snapshots", "--json"}).out).size();
    KillAfter({"backup"}, ms);
    size_t after = nlohmann::json::parse(Run({"snapshots", "--json"}).out).size();
    EXPECT_TRUE(after == snapshots || after == snapshots + 1);  // killed before, or after its manifest
    kills += 4;
    // restore: the half-made instance is registered; 'instance drop' removes it.
    KillAfter({"restore", "--snapshot", id, "--instance", "r"}, ms);
    DropAll();
    EXPECT_FALSE(fs::exists(InstanceHost("r")));
    // verify --snapshot: its temporary instance, if it got that far, is dropped the same way.
    KillAfter({"verify", "--snapshot", id}, ms);
    DropAll();
    // expire: rerunning it completes.
    KillAfter({"expire"}, ms / 10);
    EXPECT_EQ(Run({"expire"}).exit_code, 0);
    RunResult check = Run({"repo", "check", "--read-data"});
    ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
  }
  std::cout << "crash matrix: " << kills << " kills of backup, restore, verify --snapshot and expire" << std::endl;
  // A backup after all the killed ones completes.
  RunResult again = Run({"backup"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  // wal push killed mid-write: nothing partial is listed and the retry stores it.
  std::string seg = SqlValue("SELECT pg_walfile_name(pg_current_wal_lsn())");
  SwitchWalAndWaitArchived();
  fs::remove(repo() + "/named/wal/" + seg);
  std::string copy = Path("seg-copy");
  RunResult got = Run({"wal", "get", seg, copy});
  EXPECT_EQ(got.exit_code, 1);  // gone, as if the push had never finished
  // Re-archive from the cluster's own pg_wal, killed at one moment (make test) or 20 random
  // ones (make torture), each followed by the retry PostgreSQL would make.
  std::vector<int> push_delays = {20};
  if (std::getenv("LIFEBOAT_TORTURE") != nullptr) {
    std::mt19937 rng(std::random_device{}());
    push_delays.clear();
    for (int i = 0; i < 20; ++i) push_delays.push_back(std::uniform_int_distribution<int>(5, 400)(rng));
  }
  for (int ms : push_delays) {
    SCOPED_TRACE("wal push killed after " + std::to_string(ms) + " ms");
    fs::remove(repo() + "/named/wal/" + seg);
    KillAfter({"wal", "push", Path("main/pg_wal/" + seg)}, ms);
    RunResult push = Run({"wal", "push", Path("main/pg_wal/" + seg)});
    EXPECT_EQ(push.exit_code, 0) << push.err;
    EXPECT_EQ(Run({"wal", "get", seg, copy}).exit_code, 0);
    EXPECT_EQ(ReadWholeFile(copy), ReadWholeFile(Path("main/pg_wal/" + seg)));
  }

  // After it all, the snapshot still restores to exactly what was committed.
  RunResult r = Run({"restore", "--snapshot", id, "--instance", "final", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SqlAt(InstanceHost("final"), nlohmann::json::parse(r.out)["port"], "SELECT count(*), sum(id) FROM t")[0],
            expected);
}

}  // namespace
}  // namespace lifeboat::testing
