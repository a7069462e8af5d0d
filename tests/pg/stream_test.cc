// wal stream: after a kill -9 of the primary, a restore to latest loses at most about the last
// second of commits (asynchronous) or none (synchronous), against the test's own commit log.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include <nlohmann/json.hpp>

#include "pg_harness.h"

using Clock = std::chrono::steady_clock;

namespace lifeboat::testing {
namespace {

class StreamTest : public PgTest {
 protected:
  struct Commit {
    int id;
    Clock::time_point acked;
  };

  // Commits rows one by one for `seconds`, then kills the primary with SIGKILL.
  std::vector<Commit> LoadThenKillPrimary(double seconds, Clock::time_point* killed_at) {
    std::vector<Commit> log;
    auto end = Clock::now() + std::chrono::duration<double>(seconds);
    for (int id = 1; Clock::now() < end; ++id) {
      Sql("INSERT INTO ledger VALUES (" + std::to_string(id) + ")");
      log.push_back({id, Clock::now()});
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_t postmaster = static_cast<pid_t>(std::atol(ReadWholeFile(Path("main/postmaster.pid")).c_str()));
    *killed_at = Clock::now();
    kill(postmaster, SIGKILL);
    for (int i = 0; i < 200 && kill(postmaster, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return log;
  }

  void StopStreamer(pid_t pid) {
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    started_.clear();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wal stream exit status " << status;
  }

  std::vector<int> RestoreLatestIds() {
    RunResult r = Run({"restore", "--latest", "--instance", "after"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<int> ids;
    for (const std::string& s : SqlAt(InstanceHost("after"), instance_port_, "SELECT id FROM ledger ORDER BY id")) {
      ids.push_back(std::stoi(s));
    }
    return ids;
  }
};

TEST_F(StreamTest, KillingThePrimaryLosesAtMostTheLastSecond) {
  Sql("CREATE TABLE ledger (id int PRIMARY KEY)");
  ASSERT_EQ(Run({"backup"}).exit_code, 0);
  pid_t streamer = Start({"wal", "stream"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  Clock::time_point killed;
  std::vector<Commit> log = LoadThenKillPrimary(3.0, &killed);
  StopStreamer(streamer);
  std::vector<int> restored = RestoreLatestIds();
  ASSERT_FALSE(restored.empty());
  // What was restored is exactly a prefix of what was committed: nothing invented, no holes.
  for (size_t i = 0; i < restored.size(); ++i) {
    ASSERT_EQ(restored[i], log[i].id);
  }
  // Everything acknowledged more than a second (plus upload time) before the kill is there.
  int newest = restored.back();
  for (const Commit& c : log) {
    if (killed - c.acked > std::chrono::milliseconds(1500)) {
      EXPECT_LE(c.id, newest) << "lost an old commit";
    }
  }
  double lost_window = std::chrono::duration<double>(log.back().acked - log[static_cast<size_t>(newest - 1)].acked).count();
  RecordProperty("commits", static_cast<int>(log.size()));
  RecordProperty("lost_commits", static_cast<int>(log.size() - restored.size()));
  RecordProperty("lost_ms", static_cast<int>(lost_window * 1000));
  EXPECT_LE(lost_window, 1.5);
}

TEST_F(StreamTest, SynchronousModeLosesNothing) {
  Sql("CREATE TABLE ledger (id int PRIMARY KEY)");
  ASSERT_EQ(Run({"backup"}).exit_code, 0);
  pid_t streamer = Start({"wal", "stream", "--synchronous"});
  Sql("ALTER SYSTEM SET synchronous_standby_names = 'lifeboat'");
  Sql("SELECT pg_reload_conf()");
  // Wait until the primary sees lifeboat as its synchronous standby.
  for (int i = 0; i < 200 && SqlValue("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'") != "1"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(SqlValue("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'"), "1");
  Clock::time_point killed;
  std::vector<Commit> log = LoadThenKillPrimary(2.0, &killed);
  // The streamer dies too, with no chance to store anything more: every acknowledged commit
  // must already be in the repository (as the partial segment and its deltas).
  kill(streamer, SIGKILL);
  waitpid(streamer, nullptr, 0);
  started_.clear();
  std::vector<int> restored = RestoreLatestIds();
  std::vector<int> committed;
  for (const Commit& c : log) committed.push_back(c.id);
  EXPECT_EQ(restored, committed);
}

TEST_F(StreamTest, AStreamerKilledAgainAndAgainResumesFromItsSlotWithoutAGap) {
  Sql("CREATE TABLE ledger (id int PRIMARY KEY)");
  ASSERT_EQ(Run({"backup"}).exit_code, 0);
  int id = 0;
  auto commit = [&](int n) {
    for (int i = 0; i < n; ++i) {
      Sql("INSERT INTO ledger VALUES (" + std::to_string(++id) + ")");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  // Three kills in make test, 20 in make torture.
  const int rounds = std::getenv("LIFEBOAT_TORTURE") != nullptr ? 20 : 3;
  for (int round = 0; round < rounds; ++round) {
    pid_t streamer = Start({"wal", "stream"});
    commit(100);
    if (round == 1) Sql("SELECT pg_switch_wal()");  // a segment completes while it streams
    commit(100);
    kill(streamer, SIGKILL);
    waitpid(streamer, nullptr, 0);
    started_.clear();
    commit(50);  // while nothing streams: the slot keeps this WAL on the primary
  }
  pid_t streamer = Start({"wal", "stream"});
  commit(50);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // the partial segment is stored every second
  StopStreamer(streamer);
  EXPECT_EQ(SqlValue("SELECT count(*) FROM pg_replication_slots"), "1");  // one slot, reused
  std::vector<int> restored = RestoreLatestIds();
  std::vector<int> committed;
  for (int i = 1; i <= id; ++i) committed.push_back(i);
  EXPECT_EQ(restored, committed);
  nlohmann::json window = nlohmann::json::parse(Run({"window", "--json"}).out);
  ASSERT_TRUE(window.contains("gaps")) << window.dump();
  EXPECT_EQ(window["gaps"].size(), 0u) << window.dump();
  RunResult check = Run({"repo", "check", "--read-data"});
  EXPECT_EQ(check.exit_code, 0) << check.err << check.out;
}

// `status` shows the streamer's state and lag, and exits 2 with the reason when protection is
// broken: a streamer stopped, or one that cannot open the repository (a wrong key).
TEST_F(StreamTest, StatusShowsTheStreamersLagAndSaysWhenItCannotStore) {
  Sql("CREATE TABLE ledger (id int PRIMARY KEY)");
  ASSERT_EQ(Run({"backup"}).exit_code, 0);
  pid_t streamer = Start({"wal", "stream"});
  Sql("INSERT INTO ledger VALUES (1)");
  nlohmann::json st;
  for (int i = 0; i < 100; ++i) {
    RunResult r = Run({"status", "--json"});
    st = nlohmann::json::parse(r.out, nullptr, false);
    if (r.exit_code == 0 && st["protection"]["wal_lag_seconds"] == 0.0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(st.is_object());
  const auto& p = st["protection"];
  EXPECT_EQ(p["streamer"]["state"], "running") << st.dump();
  EXPECT_EQ(p["streamer"]["pid"], streamer);
  EXPECT_EQ(p["streamer"]["timeline"], 1);
  EXPECT_EQ(p["wal_lag_seconds"], 0.0);
  EXPECT_EQ(st["wal_lag_seconds"], 0.0);
  EXPECT_EQ(p["streamer"]["last_segment"], SqlValue("SELECT pg_walfile_name(pg_current_wal_lsn())"));
  EXPECT_EQ(p["archiver"]["failed_count"], 0);
  EXPECT_EQ(p["problems"], nlohmann::json::array());

  StopStreamer(streamer);
  RunResult stopped = Run({"status"});
  EXPECT_EQ(stopped.exit_code, 2);
  EXPECT_EQ(stopped.err, "error: the stack is not healthy: the WAL streamer (pid " + std::to_string(streamer) +
                             ") was stopped\nhint: restart 'lifeboat wal stream' once the reason is fixed; "
                             "'lifeboat up' starts what is missing\n");

  // A streamer with the wrong key cannot store: it exits, and status says why.
  RunResult wrong = Run({"wal", "stream"}, {{"LIFEBOAT_PASSPHRASE", "not the passphrase"}});
  EXPECT_EQ(wrong.exit_code, 1);
  RunResult broken = Run({"status", "--json"});
  EXPECT_EQ(broken.exit_code, 2);
  nlohmann::json b = nlohmann::json::parse(broken.out);
  EXPECT_EQ(b["protection"]["streamer"]["state"], "failed");
  ASSERT_EQ(b["protection"]["problems"].size(), 1u);
  EXPECT_EQ(b["protection"]["problems"][0].get<std::string>().rfind("the WAL streamer (pid ", 0), 0u);
  EXPECT_NE(b["protection"]["problems"][0].get<std::string>().find(") failed: cannot open repository '"),
            std::string::npos) << b.dump();
  EXPECT_NE(broken.err.find(": wrong passphrase"), std::string::npos) << broken.err;
}

}  // namespace
}  // namespace lifeboat::testing
