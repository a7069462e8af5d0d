// A restored and promoted cluster archiving into the same repository by hand (`restore
// --archive`) adds a timeline that is not production: window and restore keep following
// production's lineage by default, and the other timeline on request. A restore along a
// timeline never replays its parent's WAL past the fork, also when PostgreSQL, missing the
// newer timeline's segment, asks for the parent's.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "pg_harness.h"

namespace lifeboat::testing {
namespace {

class TimelineTest : public PgTest {
 protected:
  // A backup, 10 rows 'one' archived on timeline 1, then `restore --archive` by hand of the
  // latest point as instance "prod2", which archives on timeline 2. Returns its port.
  int ForkTimelineTwo() {
    Sql("CREATE TABLE t (id int, tl text)");
    EXPECT_EQ(Run({"backup"}).exit_code, 0);
    Sql("INSERT INTO t SELECT g, 'one' FROM generate_series(1, 10) g");
    SwitchWalAndWaitArchived();
    RunResult r = Run({"restore", "--latest", "--instance", "prod2", "--archive", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out)["port"].get<int>() : 0;
  }
  // pg_switch_wal() on the cluster at host:port, then waits until it archived that file.
  // Returns the file's name.
  std::string SwitchWalAt(const std::string& host, int port) {
    std::string file = SqlAt(host, port, "SELECT pg_walfile_name(pg_switch_wal())")[0];
    for (int i = 0; i < 600; ++i) {
      std::string last = SqlAt(host, port, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")[0];
      if (last >= file && last.size() == 24) return file;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "WAL file " << file << " was not archived within 30 s";
    return file;
  }
};

namespace fs = std::filesystem;

// The LSN at which WAL segment `name` (16 MiB segments) begins, as PostgreSQL prints it.
std::string SegmentStart(const std::string& name) {
  unsigned long log = std::stoul(name.substr(8, 8), nullptr, 16);
  unsigned long seg = std::stoul(name.substr(16, 8), nullptr, 16);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%lX/%lX", log, seg << 24);
  return buf;
}

TEST_F(TimelineTest, ATimelineArchivedByHandIsNotProductionsUnlessAskedFor) {
  int port = ForkTimelineTwo();
  ASSERT_NE(port, 0);
  std::string host = InstanceHost("prod2");
  EXPECT_EQ(SqlAt(host, port, "SELECT timeline_id FROM pg_control_checkpoint()")[0], "2");
  SqlAt(host, port, "INSERT INTO t SELECT g, 'two' FROM generate_series(11, 15) g");
  EXPECT_EQ(SwitchWalAt(host, port).substr(0, 8), "00000002");

  // Production (this test's cluster) goes on writing on timeline 1.
  Sql("INSERT INTO t SELECT g, 'prod' FROM generate_series(16, 18) g");
  SwitchWalAndWaitArchived();

  // The repository records timeline 2 as a restore's, not production's.
  nlohmann::json w = nlohmann::json::parse(Run({"window", "--json"}).out);
  EXPECT_EQ(w["timeline"], 1);
  nlohmann::json w2 = nlohmann::json::parse(Run({"window", "--timeline", "2", "--json"}).out);
  EXPECT_EQ(w2["timeline"], 2);

  // Latest follows production's timeline 1: what production wrote, none of prod2's rows.
  RunResult latest = Run({"restore", "--latest", "--instance", "after"});
  ASSERT_EQ(latest.exit_code, 0) << latest.err;
  EXPECT_EQ(SqlAt(InstanceHost("after"), instance_port_ + 1,
                  "SELECT count(*), count(*) FILTER (WHERE tl = 'two'), count(*) FILTER (WHERE tl = 'prod') FROM t")[0],
            "13|0|3");
  // Timeline 2 on request: what prod2 wrote after it forked, not production's later rows.
  // Replay went through the prefetch server along timeline 2: past the fork, the spool held
  // timeline 2's segments, not production's of the same numbers.
  RunResult two = Run({"restore", "--latest", "--timeline", "2", "--instance", "two", "--json"});
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_EQ(SqlAt(InstanceHost("two"), instance_port_ + 2,
                  "SELECT count(*), count(*) FILTER (WHERE tl = 'two'), count(*) FILTER (WHERE tl = 'prod') FROM t")[0],
            "15|5|0");
  nlohmann::json p = nlohmann::json::parse(two.out)["wal_prefetch"];
  EXPECT_GE(p["from_spool"].get<int>(), 2) << p;
  EXPECT_EQ(p["from_spool"].get<int>() + p["on_demand"].get<int>() + p["missing"].get<int>(),
            p["requests"].get<int>())
      << p;
  EXPECT_FALSE(fs::exists(InstanceHost("two") + "/wal-spool"));
  RunResult bad = Run({"window", "--timeline", "7"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err.substr(0, bad.err.find('\n')), "error: timeline 7 has no history file in the repository");
}

// PostgreSQL, recovering along timeline 2, asks for timeline 2's segment of a number and,
// when it is missing, for timeline 1's of the same number. After the fork, timeline 1's
// segment holds what the retired cluster wrote (here the rows 'retired'); `wal get
// --timeline 2` refuses it, so recovery ends at the fork point.
TEST_F(TimelineTest, AMissingSegmentOfTheNewTimelineNeverFallsThroughToTheParentsWalAfterTheFork) {
  int port = ForkTimelineTwo();
  ASSERT_NE(port, 0);
  std::string host = InstanceHost("prod2");
  // The fork lies at the start of the segment after the switched one: both timelines write
  // that segment number, timeline 2 what prod2 does, timeline 1 what the retired cluster does.
  std::string fork_segment = SqlAt(host, port, "SELECT pg_walfile_name(pg_current_wal_insert_lsn())")[0];
  ASSERT_EQ(fork_segment.substr(0, 8), "00000002");
  SqlAt(host, port, "INSERT INTO t SELECT g, 'two' FROM generate_series(11, 15) g");
  SqlAt(host, port, "SELECT pg_switch_wal()");
  Sql("INSERT INTO t SELECT g, 'retired' FROM generate_series(100, 120) g");
  std::string parent_segment = "00000001" + fork_segment.substr(8);
  EXPECT_EQ(SqlValue("SELECT pg_walfile_name(pg_current_wal_insert_lsn())"), parent_segment);
  SwitchWalAndWaitArchived();
  for (int i = 0; i < 600 && !fs::exists(repo() + "/named/wal/" + fork_segment); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(fs::exists(repo() + "/named/wal/" + parent_segment));
  // Timeline 2's segment is lost: only the parent's of the same number is in the repository.
  ASSERT_TRUE(fs::remove(repo() + "/named/wal/" + fork_segment));

  nlohmann::json w = nlohmann::json::parse(Run({"window", "--timeline", "2", "--json"}).out);
  ASSERT_EQ(w["gaps"].size(), 1u) << w.dump();
  EXPECT_EQ(w["gaps"][0]["first_missing"], fork_segment);

  RunResult get = Run({"wal", "get", "--timeline", "2", parent_segment, Path("fetched")});
  EXPECT_EQ(get.exit_code, 1);
  EXPECT_EQ(get.err, "error: WAL file '" + parent_segment + "' lies after timeline 1 forked at " +
                         SegmentStart(fork_segment) + ": recovery along timeline 2 never replays it\n");
  EXPECT_FALSE(fs::exists(Path("fetched")));

  RunResult along = Run({"restore", "--latest", "--timeline", "2", "--instance", "along"});
  ASSERT_EQ(along.exit_code, 0) << along.err;
  // PostgreSQL's own recovery stopped at the fork: timeline 1's rows before it, none after.
  EXPECT_EQ(SqlAt(InstanceHost("along"), instance_port_ + 1,
                  "SELECT count(*), count(*) FILTER (WHERE tl = 'retired') FROM t")[0],
            "10|0");
}

// expire takes its base on production's lineage. Here timeline 2 becomes production (a
// backup of it, as after a cutover) and the retired timeline 1 gets a newer snapshot after the
// fork (as cleanup's final one): that snapshot is no base for production's window, so it goes
// with the older one, and what --latest restores afterwards is production's.
TEST_F(TimelineTest, ExpireTakesItsBaseOnProductionsLineage) {
  int port = ForkTimelineTwo();
  ASSERT_NE(port, 0);
  std::string host = InstanceHost("prod2");
  std::string override_text = nlohmann::json{{"data_dir", Path(".lifeboat/instances/prod2/data")},
                                             {"host", host}, {"port", port}}.dump();
  WriteFile(Path(".lifeboat/production.json"), override_text);
  RunResult on_two = Run({"backup", "--json"});
  ASSERT_EQ(on_two.exit_code, 0) << on_two.err;
  SqlAt(host, port, "INSERT INTO t SELECT g, 'two' FROM generate_series(11, 15) g");
  SwitchWalAt(host, port);
  fs::remove(Path(".lifeboat/production.json"));
  Sql("INSERT INTO t SELECT g, 'retired' FROM generate_series(16, 18) g");
  RunResult retired = Run({"backup", "--json"});
  ASSERT_EQ(retired.exit_code, 0) << retired.err;
  SwitchWalAndWaitArchived();
  WriteFile(Path(".lifeboat/production.json"), override_text);

  nlohmann::json snaps = nlohmann::json::parse(Run({"snapshots", "--json"}).out);
  ASSERT_EQ(snaps.size(), 3u);
  std::string first = snaps[0]["id"], two = nlohmann::json::parse(on_two.out)["id"],
              one_after_fork = nlohmann::json::parse(retired.out)["id"];
  EXPECT_EQ(snaps[2]["id"], one_after_fork);
  // "Now" seven days after all three finished: the window's base is the newest snapshot on
  // production's lineage, timeline 2's, though timeline 1's finished later.
  RunResult dry = Run({"expire", "--dry-run", "--now", "2099-01-01T00:00:00Z", "--json"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  nlohmann::json plan = nlohmann::json::parse(dry.out);
  EXPECT_EQ(plan["kept"], nlohmann::json::array({two})) << plan.dump(1);
  ASSERT_EQ(plan["snapshots"].size(), 2u) << plan.dump(1);
  EXPECT_EQ(plan["snapshots"][0]["id"], first);
  EXPECT_EQ(plan["snapshots"][1]["id"], one_after_fork);
  EXPECT_NE(plan["snapshots"][1]["reason"].get<std::string>().find(
                ", on timeline 1 off production's lineage"), std::string::npos) << plan.dump(1);
  RunResult done = Run({"expire", "--now", "2099-01-01T00:00:00Z"});
  ASSERT_EQ(done.exit_code, 0) << done.err;
  RunResult latest = Run({"restore", "--latest", "--instance", "after", "--json"});
  ASSERT_EQ(latest.exit_code, 0) << latest.err;
  int after = nlohmann::json::parse(latest.out)["port"];
  EXPECT_EQ(SqlAt(InstanceHost("after"), after, "SELECT string_agg(DISTINCT tl, ',' ORDER BY tl) FROM t")[0],
            "one,two");
}

}  // namespace
}  // namespace lifeboat::testing
