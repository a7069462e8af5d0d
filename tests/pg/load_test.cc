// The load run of docs/reliability.md: pgbench at full rate while `wal stream` runs and backups
// (full, then incremental) are taken; afterwards the window has no gap and restores to random
// instants each hold exactly what the test committed before the instant, with pgbench's
// balances consistent. `make test`: 20 s and 3 instants; `make torture` (LIFEBOAT_TORTURE):
// 10 minutes and 20 instants.
#include <signal.h>
#include <sys/wait.h>

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "pg_harness.h"

using Clock = std::chrono::system_clock;

namespace lifeboat::testing {
namespace {

struct Commit {
  int id;
  Clock::time_point sent, acked;
};

class LoadTest : public PgTest {
 protected:
  pid_t StartPgbench(int seconds) {
    pid_t pid = fork();
    if (pid == 0) {
      std::string bin = std::string(kPgBin) + "/pgbench";
      std::string dur = std::to_string(seconds), port = std::to_string(port_);
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      dup2(null, 2);
      execl(bin.c_str(), bin.c_str(), "-n", "-c", "2", "-T", dur.c_str(), "-h", dir_.c_str(), "-p",
            port.c_str(), "-U", "postgres", "postgres", static_cast<char*>(nullptr));
      _exit(127);
    }
    return pid;
  }
};

TEST_F(LoadTest, FullRateLoadWithStreamingAndBackupsRestoresRandomInstantsExactly) {
  const bool torture = std::getenv("LIFEBOAT_TORTURE") != nullptr;
  const int seconds = torture ? 600 : 20;
  const size_t instants = torture ? 20 : 3;
  std::string out;
  ASSERT_EQ(RunAsPostgres({std::string(kPgBin) + "/pgbench", "-i", "-q", "-s", "2", "-h", dir_, "-p",
                           std::to_string(port_), "-U", "postgres", "postgres"},
                          &out),
            0)
      << out;
  Sql("CREATE TABLE ledger (id int PRIMARY KEY)");
  ASSERT_EQ(Run({"backup"}).exit_code, 0);
  pid_t streamer = Start({"wal", "stream"});
  Clock::time_point restorable_from = Clock::now();
  pid_t load = StartPgbench(seconds);

  // The ledger: one row per transaction, sent and acknowledged times recorded here. Backups
  // run alongside, one every quarter of the run, incremental after the first.
  std::vector<Commit> commits;
  auto end = Clock::now() + std::chrono::seconds(seconds);
  auto next_backup = Clock::now() + std::chrono::seconds(seconds / 4);
  pid_t backup = 0;
  int backups = 0, backups_failed = 0;
  for (int id = 1; Clock::now() < end; ++id) {
    Commit c{id, Clock::now(), {}};
    Sql("INSERT INTO ledger VALUES (" + std::to_string(id) + ")");
    c.acked = Clock::now();
    commits.push_back(c);
    if (backup == 0 && Clock::now() >= next_backup) {
      backup = Start({"backup", "--type", "incremental"});
      next_backup += std::chrono::seconds(seconds / 4);
    }
    int status = 0;
    if (backup != 0 && waitpid(backup, &status, WNOHANG) == backup) {
      Forget(backup);
      backup = 0;
      ++backups;
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++backups_failed;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (backup != 0) {
    int status = 0;
    waitpid(backup, &status, 0);
    Forget(backup);
    ++backups;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++backups_failed;
  }
  int load_status = 0;
  waitpid(load, &load_status, 0);
  EXPECT_TRUE(WIFEXITED(load_status) && WEXITSTATUS(load_status) == 0) << "pgbench " << load_status;
  EXPECT_GE(backups, 2);
  EXPECT_EQ(backups_failed, 0);
  SwitchWalAndWaitArchived();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  kill(streamer, SIGTERM);
  int stream_status = 0;
  waitpid(streamer, &stream_status, 0);
  Forget(streamer);
  EXPECT_TRUE(WIFEXITED(stream_status) && WEXITSTATUS(stream_status) == 0);
  const std::string transactions = SqlValue("SELECT count(*) FROM pgbench_history");

  nlohmann::json window = nlohmann::json::parse(Run({"window", "--json"}).out);
  ASSERT_TRUE(window.contains("gaps")) << window.dump();
  EXPECT_EQ(window["gaps"].size(), 0u) << window.dump();

  // Random instants between two ledger commits, after the first snapshot was complete.
  std::mt19937 rng(static_cast<unsigned>(std::random_device{}()));
  std::vector<size_t> candidates;
  for (size_t k = 0; k + 1 < commits.size(); ++k) {
    if (commits[k].sent > restorable_from) candidates.push_back(k);
  }
  ASSERT_GE(candidates.size(), instants);
  std::shuffle(candidates.begin(), candidates.end(), rng);
  candidates.resize(instants);
  std::sort(candidates.begin(), candidates.end());
  int exact = 0;
  for (size_t k : candidates) {
    Clock::time_point target = commits[k].acked + (commits[k + 1].sent - commits[k].acked) / 2;
    std::string where = "instant " + Iso(target) + " (after ledger row " + std::to_string(commits[k].id) + ")";
    RunResult r = Run({"restore", "--time", Iso(target), "--instance", "at"});
    if (r.exit_code != 0) {
      std::string log = ReadWholeFile(InstanceHost("at") + "/postgresql.log");
      FAIL() << where << ": " << r.err << "\n" << log.substr(log.size() > 6000 ? log.size() - 6000 : 0)
             << "\nsnapshots: " << Run({"snapshots", "--json"}).out << "\nwindow: " << Run({"window", "--json"}).out;
    }
    std::string host = InstanceHost("at");
    std::string expected = std::to_string(commits[k].id);
    EXPECT_EQ(SqlAt(host, instance_port_, "SELECT count(*) FROM ledger")[0], expected) << where;
    EXPECT_EQ(SqlAt(host, instance_port_, "SELECT coalesce(max(id), 0) FROM ledger")[0], expected) << where;
    // TPC-B's invariant: every transaction moved the same delta in all four tables.
    std::string sums = SqlAt(host, instance_port_,
                             "SELECT (SELECT sum(abalance) FROM pgbench_accounts) || ',' || "
                             "(SELECT coalesce(sum(delta), 0) FROM pgbench_history) || ',' || "
                             "(SELECT sum(tbalance) FROM pgbench_tellers) || ',' || "
                             "(SELECT sum(bbalance) FROM pgbench_branches)")[0];
    std::string first = sums.substr(0, sums.find(','));
    EXPECT_EQ(sums, first + "," + first + "," + first + "," + first) << where;
    if (SqlAt(host, instance_port_, "SELECT count(*) FROM ledger")[0] == expected) ++exact;
    ASSERT_EQ(Run({"instance", "drop", "at"}).exit_code, 0);
  }
  EXPECT_EQ(exact, static_cast<int>(instants));
  std::cout << "load run: " << seconds << " s, " << transactions << " pgbench transactions, "
            << commits.size() << " ledger commits, " << backups + 1 << " backups, " << exact << " of "
            << instants << " instants restored exactly" << std::endl;
}

}  // namespace
}  // namespace lifeboat::testing
