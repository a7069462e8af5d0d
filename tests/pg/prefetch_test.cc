// Recovery through the restore's WAL prefetch server (pg/wal_prefetch.h), with real
// PostgreSQL: a point in the middle of the prefetched range restores exactly what the test
// committed before it and leaves no spool or socket; a restore killed with -9 during replay
// leaves an instance whose recovery finishes without the server (restore_command fetches for
// itself) and no fetch process, and the restore started again works.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "../cli/platform_harness.h"
#include "base/time.h"
#include "pg_harness.h"

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

namespace lifeboat::testing {
namespace {

class PgPrefetchTest : public PgTest {
 protected:
  // Four segments ahead of replay: the WAL below spans more, so the spool is refilled as
  // replay goes, and a target in the middle leaves segments fetched ahead for nothing.
  std::string ConfigText(const std::string& instances_dir) const override {
    return PgTest::ConfigText(instances_dir) + "\n[recovery]\nwal_prefetch_mib = 64\n";
  }
  // Block b: ten ledger rows in one transaction, then a segment switch, so each block lies
  // in its own segment. Returns when the block was committed.
  Clock::time_point Block(int b) {
    Sql("INSERT INTO ledger(id) SELECT g FROM generate_series(" + std::to_string(b * 10 + 1) + ", " +
        std::to_string(b * 10 + 10) + ") g");
    Clock::time_point at = Clock::now();
    SwitchWalAndWaitArchived();
    return at;
  }
  static std::vector<std::string> Ids(int blocks) {
    std::vector<std::string> v;
    for (int i = 1; i <= blocks * 10; ++i) v.push_back(std::to_string(i + 10));
    return v;
  }
  // True once the instance answers and has left recovery.
  bool Promoted(const std::string& name) {
    std::string out;
    int rc = RunAsPostgres({std::string(kPgBin) + "/psql", "-qAtX", "-h", InstanceHost(name), "-p",
                            std::to_string(instance_port_), "-U", "postgres", "-c", "SELECT pg_is_in_recovery()"},
                           &out);
    return rc == 0 && out.rfind("f", 0) == 0;
  }
};

TEST_F(PgPrefetchTest, APointInTheMiddleOfThePrefetchedRangeRestoresExactlyAndLeavesNoSpool) {
  Sql("CREATE TABLE ledger (id int PRIMARY KEY)");
  ASSERT_EQ(Run({"backup"}).exit_code, 0);
  std::vector<Clock::time_point> committed;
  for (int b = 1; b <= 12; ++b) committed.push_back(Block(b));
  // Between block 6 and block 7.
  Clock::time_point target = committed[5] + (committed[6] - committed[5]) / 2;
  RunResult r = Run({"restore", "--time", Iso(target), "--instance", "mid", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SqlAt(InstanceHost("mid"), instance_port_, "SELECT id FROM ledger ORDER BY id"), Ids(6));
  EXPECT_FALSE(fs::exists(InstanceHost("mid") + "/wal-spool"));
  EXPECT_FALSE(fs::exists(InstanceHost("mid") + "/wal.sock"));
  std::string conf = ReadWholeFile(InstanceHost("mid") + "/data/postgresql.auto.conf");
  // The small client first, `wal get` for what it cannot answer.
  EXPECT_NE(conf.find("/lifeboat-wal-fetch\" \"" + InstanceHost("mid") + "/wal.sock\" %f \"%p\" || \""),
            std::string::npos)
      << conf;
  nlohmann::json p = nlohmann::json::parse(r.out)["wal_prefetch"];
  ASSERT_TRUE(p.is_object()) << r.out;
  // Replay asked for the backup's segments and the six blocks' at least; all but the first
  // came from the spool, and segments fetched past the target went unused.
  EXPECT_GE(p["from_spool"].get<int>(), 6) << p;
  EXPECT_GE(p["on_demand"].get<int>(), 1) << p;
  EXPECT_GE(p["discarded"].get<int>(), 1) << p;

  // Restore to the end: all twelve blocks, with the spool refilled along the way.
  RunResult all = Run({"restore", "--latest", "--instance", "all", "--json"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(SqlAt(InstanceHost("all"), instance_port_ + 1, "SELECT id FROM ledger ORDER BY id"), Ids(12));
  EXPECT_FALSE(fs::exists(InstanceHost("all") + "/wal-spool"));
}

TEST_F(PgPrefetchTest, ARestoreKilledDuringReplayLeavesARecoveryThatFinishesAndNoFetchProcess) {
  Sql("CREATE TABLE ledger (id int PRIMARY KEY)");
  ASSERT_EQ(Run({"backup"}).exit_code, 0);
  // Enough WAL that replay takes a while: pgbench's tables, then the ledger's blocks.
  std::string out;
  ASSERT_EQ(RunAsPostgres({std::string(kPgBin) + "/pgbench", "-i", "-q", "-s", "10", "-h", dir_, "-p",
                           std::to_string(port_), "-U", "postgres", "postgres"},
                          &out),
            0)
      << out;
  for (int b = 1; b <= 4; ++b) Block(b);
  pid_t restore = Start({"restore", "--latest", "--instance", "killed"});
  std::string data = InstanceHost("killed") + "/data";
  bool replaying = false;
  for (int i = 0; i < 3000 && !replaying; ++i) {
    replaying = fs::exists(InstanceHost("killed") + "/wal.sock") && fs::exists(data + "/postmaster.pid");
    if (!replaying) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(replaying) << "the restore never started replay";
  kill(restore, SIGKILL);
  ASSERT_EQ(waitpid(restore, nullptr, 0), restore);
  Forget(restore);
  // PostgreSQL goes on; restore_command finds no server and fetches for itself.
  bool promoted = false;
  for (int i = 0; i < 1200 && !promoted; ++i) {
    promoted = Promoted("killed");
    if (!promoted) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(promoted) << ReadWholeFile(InstanceHost("killed") + "/postgresql.log");
  EXPECT_EQ(SqlAt(InstanceHost("killed"), instance_port_, "SELECT id FROM ledger ORDER BY id"), Ids(4));
  EXPECT_FALSE(AnyCommandLineContains(InstanceHost("killed") + "/wal.sock")) << "a fetch process is left";

  // Started again: the instance the killed run left is dropped, and the restore completes.
  ASSERT_EQ(Run({"instance", "drop", "killed"}).exit_code, 0);
  RunResult again = Run({"restore", "--latest", "--instance", "killed", "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(SqlAt(InstanceHost("killed"), instance_port_, "SELECT id FROM ledger ORDER BY id"), Ids(4));
  EXPECT_GE(nlohmann::json::parse(again.out)["wal_prefetch"]["from_spool"].get<int>(), 4) << again.out;
  EXPECT_FALSE(fs::exists(InstanceHost("killed") + "/wal-spool"));
}

// Block 4's segment is lost from the repository: PostgreSQL's recovery runs out of WAL there
// and ends with blocks 1 to 3, as it would with its own archive; the restore says where and
// what lies beyond, and the segments the server fetched past the gap are discarded.
TEST_F(PgPrefetchTest, AMissingSegmentInTheMiddleEndsRecoveryThereAndTheGapIsReported) {
  Sql("CREATE TABLE ledger (id int PRIMARY KEY)");
  ASSERT_EQ(Run({"backup"}).exit_code, 0);
  std::vector<std::string> segments;
  Clock::time_point last;
  for (int b = 1; b <= 6; ++b) {
    // The segment block b goes into. After a switch the position is the next segment's first
    // byte, which pg_walfile_name names as the segment before it: hence the one byte further.
    segments.push_back(SqlValue("SELECT pg_walfile_name(pg_current_wal_lsn() + 1)"));
    last = Block(b);
  }
  ASSERT_TRUE(fs::remove(repo() + "/named/wal/" + segments[3]));
  RunResult r = Run({"restore", "--latest", "--instance", "gap", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SqlAt(InstanceHost("gap"), instance_port_, "SELECT id FROM ledger ORDER BY id"), Ids(3));
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["wal_gap"]["first_missing"], segments[3]) << j.dump(1);
  EXPECT_EQ(j["wal_gap"]["last_missing"], segments[3]);
  // Beyond the gap: block 6's commit, the newest the archive holds.
  Result<UnixNanos> beyond = ParseTimestamp(j["wal_gap"]["newest_commit_beyond"].get<std::string>());
  ASSERT_TRUE(beyond.ok()) << j.dump(1);
  UnixNanos committed = std::chrono::duration_cast<std::chrono::nanoseconds>(last.time_since_epoch()).count();
  EXPECT_LE(std::llabs(*beyond - committed), 1'000'000'000) << j.dump(1);
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')),
            "warning: replay stopped where WAL is missing (" + segments[3] + "): commits up to " +
                j["wal_gap"]["newest_commit_beyond"].get<std::string>() +
                " are beyond the gap and were not recovered");
  nlohmann::json p = j["wal_prefetch"];
  EXPECT_GE(p["missing"].get<int>(), 1) << p;
  EXPECT_GE(p["discarded"].get<int>(), 1) << p;  // blocks 5 and 6, fetched ahead for nothing
  EXPECT_FALSE(fs::exists(InstanceHost("gap") + "/wal-spool"));
  EXPECT_FALSE(fs::exists(InstanceHost("gap") + "/wal.sock"));
}

}  // namespace
}  // namespace lifeboat::testing
