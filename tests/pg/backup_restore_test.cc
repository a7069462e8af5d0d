// Backups of a live cluster and point-in-time restores to new instances, checked against what
// the test itself committed and when.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/time.h"
#include "pg/connection.h"
#include "pg_harness.h"

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

namespace lifeboat::testing {
namespace {

struct Commit {
  int id;
  Clock::time_point sent;
  Clock::time_point acked;
};

class PgBackupTest : public PgTest {
 protected:
  // Inserts one ledger row in its own transaction; records when it was sent and acknowledged.
  Commit InsertLedgerRow(int id) {
    Commit c{id, Clock::now(), {}};
    Sql("INSERT INTO ledger(id) VALUES (" + std::to_string(id) + ")");
    c.acked = Clock::now();
    return c;
  }

  pid_t StartPgbench(int seconds) {
    pid_t pid = fork();
    if (pid == 0) {
      std::string bin = std::string(kPgBin) + "/pgbench";
      std::string dur = std::to_string(seconds);
      std::string port = std::to_string(port_);
      execl(bin.c_str(), bin.c_str(), "-n", "-c", "2", "-T", dur.c_str(), "-h", dir_.c_str(),
            "-p", port.c_str(), "-U", "postgres", "postgres", static_cast<char*>(nullptr));
      _exit(127);
    }
    return pid;
  }
};

TEST_F(PgBackupTest, PointInTimeRestoreUnderLoadHasExactlyTheRowsCommittedBeforeTheTarget) {
  std::string out;
  ASSERT_EQ(RunAsPostgres({std::string(kPgBin) + "/pgbench", "-i", "-q", "-s", "2", "-h", dir_,
                           "-p", std::to_string(port_), "-U", "postgres", "postgres"},
                          &out),
            0)
      << out;
  Sql("CREATE TABLE ledger (id int PRIMARY KEY, committed_at timestamptz DEFAULT clock_timestamp())");
  pid_t load = StartPgbench(60);

  std::vector<Commit> commits;
  int next = 1;
  for (; next <= 10; ++next) commits.push_back(InsertLedgerRow(next));
  // The backup runs while pgbench and the ledger keep writing.
  pid_t backup = Start({"backup"});
  int status = 0;
  while (waitpid(backup, &status, WNOHANG) == 0) {
    commits.push_back(InsertLedgerRow(next++));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  started_.clear();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "backup failed";
  Clock::time_point backup_done = Clock::now();
  size_t first_after = commits.size();
  for (int i = 0; i < 30; ++i) {
    commits.push_back(InsertLedgerRow(next++));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(load, SIGINT);
  waitpid(load, nullptr, 0);
  SwitchWalAndWaitArchived();

  // A target between two commits, after the backup finished.
  size_t k = first_after + 12;
  ASSERT_GT(commits[k].sent, backup_done);
  Clock::time_point target = commits[k].acked + (commits[k + 1].sent - commits[k].acked) / 2;
  RunResult r = Run({"restore", "--time", Iso(target), "--instance", "pitr", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["name"], "pitr");
  EXPECT_EQ(j["port"].get<int>(), instance_port_);
  EXPECT_EQ(j["data_dir"], InstanceHost("pitr") + "/data");
  std::vector<std::string> restored =
      SqlAt(InstanceHost("pitr"), instance_port_, "SELECT id FROM ledger ORDER BY id");
  std::vector<std::string> expected;
  for (size_t i = 0; i <= k; ++i) expected.push_back(std::to_string(commits[i].id));
  EXPECT_EQ(restored, expected);
  // recovered_to is the last transaction replayed: at or before the target.
  ASSERT_TRUE(j["recovered_to"].is_string()) << r.out;
  EXPECT_LE(j["recovered_to"].get<std::string>(), Iso(target));

  // Restore to latest equals the source, pgbench's tables included.
  RunResult latest = Run({"restore", "--latest", "--instance", "latest"});
  ASSERT_EQ(latest.exit_code, 0) << latest.err;
  const char* digest =
      "SELECT (SELECT md5(string_agg(id::text || committed_at::text, ',' ORDER BY id)) FROM ledger) "
      "|| (SELECT md5(string_agg(aid::text || ':' || abalance, ',' ORDER BY aid)) FROM pgbench_accounts) "
      "|| (SELECT count(*) FROM pgbench_history)";
  std::string source = SqlValue(digest);
  EXPECT_FALSE(source.empty());
  EXPECT_EQ(SqlAt(InstanceHost("latest"), instance_port_ + 1, digest)[0], source);

  RunResult list = Run({"instances", "--json"});
  nlohmann::json inst = nlohmann::json::parse(list.out);
  ASSERT_EQ(inst.size(), 2u);
  EXPECT_EQ(inst[0]["name"], "pitr");
  EXPECT_EQ(inst[0]["status"], "running");
  EXPECT_EQ(inst[1]["target"], "latest");
  RunResult drop = Run({"instance", "drop", "pitr"});
  EXPECT_EQ(drop.exit_code, 0) << drop.err;
  EXPECT_FALSE(fs::exists(InstanceHost("pitr")));
}

TEST_F(PgBackupTest, TenantDatabasesAndATablespaceRoundTrip) {
  fs::create_directories(Path("tblspc"));
  GiveToPostgres(Path("tblspc"));
  Sql("CREATE TABLESPACE archive LOCATION '" + Path("tblspc") + "'");
  const std::vector<std::pair<std::string, int>> tenants = {
      {"startupwebapp_prod", 120}, {"healthtech_prod", 45}, {"fintech_prod", 7}};
  for (const auto& [db, rows] : tenants) {
    Sql("CREATE DATABASE " + db);
    Sql("CREATE TABLE order_order (id int PRIMARY KEY, total numeric)", db);
    Sql("INSERT INTO order_order SELECT g, g * 1.5 FROM generate_series(1, " + std::to_string(rows) + ") g", db);
  }
  Sql("CREATE TABLE cold (id int) TABLESPACE archive", "fintech_prod");
  Sql("INSERT INTO cold SELECT generate_series(1, 1000)", "fintech_prod");

  RunResult b = Run({"backup", "--json"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  std::string id = nlohmann::json::parse(b.out)["id"];
  SwitchWalAndWaitArchived();

  // The snapshot records every tenant database with exact row counts.
  nlohmann::json snaps = nlohmann::json::parse(Run({"snapshots", "--json"}).out);
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_EQ(snaps[0]["kind"], "postgresql");
  EXPECT_EQ(snaps[0]["type"], "full");
  EXPECT_EQ(snaps[0]["status"], "available");
  EXPECT_EQ(snaps[0]["system_identifier"], SqlValue("SELECT system_identifier FROM pg_control_system()"));
  std::map<std::string, int64_t> counted;
  for (const auto& db : snaps[0]["databases"]) {
    for (const auto& t : db["tables"]) {
      if (t["name"] != "order_order") continue;
      counted[db["name"]] = t["rows"].get<int64_t>();
      EXPECT_TRUE(t["exact"].get<bool>());
    }
  }
  for (const auto& [db, rows] : tenants) EXPECT_EQ(counted[db], rows) << db;

  RunResult r = Run({"restore", "--snapshot", id.substr(0, 12), "--instance", "copy"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string host = InstanceHost("copy");
  for (const auto& [db, rows] : tenants) {
    EXPECT_EQ(SqlAt(host, instance_port_, "SELECT count(*), sum(total) FROM order_order", db),
              Sql("SELECT count(*), sum(total) FROM order_order", db))
        << db;
  }
  EXPECT_EQ(SqlAt(host, instance_port_, "SELECT count(*) FROM cold", "fintech_prod")[0], "1000");
  // The restored tablespace lives in the instance, never at the production location.
  std::string oid = SqlValue("SELECT oid FROM pg_tablespace WHERE spcname = 'archive'");
  EXPECT_EQ(fs::read_symlink(host + "/data/pg_tblspc/" + oid).string(), host + "/tablespaces/" + oid);
  EXPECT_EQ(SqlAt(host, instance_port_, "SELECT pg_tablespace_location(" + oid + ")")[0],
            host + "/tablespaces/" + oid);
}

// Production's newest commit is what drills and cutovers measure RPO against. PostgreSQL's
// default, track_commit_timestamp off, makes pg_last_committed_xact() an error: the time is
// then unknown (the RPO falls back to the repository's newest commit), not a failed cutover.
TEST_F(PgBackupTest, WithoutCommitTimestampsTheNewestCommitIsUnknownNotAnError) {
  Sql("CREATE TABLE t (id int)");
  UnixNanos before = NowNanos();
  Sql("INSERT INTO t VALUES (1)");
  pg::ConnInfo info;
  info.host = dir_;
  info.port = port_;
  info.user = "postgres";
  Result<std::unique_ptr<pg::Connection>> on = pg::Connection::Open(info);
  ASSERT_TRUE(on.ok()) << on.status().ToString();
  Result<std::optional<UnixNanos>> tracked = pg::LastCommitTime(**on);
  ASSERT_TRUE(tracked.ok()) << tracked.status().ToString();
  ASSERT_TRUE(tracked->has_value());
  EXPECT_GE(**tracked, before - 1'000'000'000);
  EXPECT_LE(**tracked, NowNanos());
  on->reset();

  Sql("ALTER SYSTEM SET track_commit_timestamp = off");
  std::string out;
  ASSERT_EQ(RunAsPostgres({std::string(kPgBin) + "/pg_ctl", "restart", "-D", Path("main"), "-w", "-s", "-l",
                           Path("main.log")},
                          &out),
            0)
      << out;
  Result<std::unique_ptr<pg::Connection>> off = pg::Connection::Open(info);
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  Result<std::optional<UnixNanos>> untracked = pg::LastCommitTime(**off);
  ASSERT_TRUE(untracked.ok()) << untracked.status().ToString();
  EXPECT_FALSE(untracked->has_value());
}

TEST_F(PgBackupTest, RefusalsChangeNothing) {
  Sql("CREATE TABLE t (id int)");
  Sql("INSERT INTO t VALUES (1)");
  RunResult b = Run({"backup", "--json"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  std::string id = nlohmann::json::parse(b.out)["id"];
  SwitchWalAndWaitArchived();

  // A time outside the window: exit 1, and the window is printed.
  RunResult early = Run({"restore", "--time", "2001-01-01T00:00:00Z", "--instance", "x"});
  EXPECT_EQ(early.exit_code, 1);
  EXPECT_NE(early.err.find("error: cannot restore instance 'x': 2001-01-01T00:00:00Z is outside "
                           "the restorable window 20"),
            std::string::npos)
      << early.err;
  EXPECT_NE(early.err.find("hint: choose a time inside the window ('lifeboat window')"), std::string::npos);
  RunResult bad_time = Run({"restore", "--time", "yesterday", "--instance", "x"});
  EXPECT_EQ(bad_time.exit_code, 1);
  EXPECT_EQ(bad_time.err.substr(0, bad_time.err.find('\n')),
            "error: invalid time 'yesterday': expected YYYY-MM-DDTHH:MM:SS");

  // The name is taken.
  ASSERT_EQ(Run({"restore", "--snapshot", id, "--instance", "one", "--no-start"}).exit_code, 0);
  RunResult taken = Run({"restore", "--snapshot", id, "--instance", "one", "--no-start"});
  EXPECT_EQ(taken.exit_code, 1);
  EXPECT_EQ(taken.err, "error: cannot restore instance 'one': an instance of that name exists\n"
                       "hint: choose another --instance name, or 'lifeboat instance drop one'\n");
  // The directory is not empty.
  WriteFile(InstanceHost("busy") + "/keep", "x");
  RunResult busy = Run({"restore", "--snapshot", id, "--instance", "busy", "--no-start"});
  EXPECT_EQ(busy.exit_code, 1);
  EXPECT_EQ(busy.err.substr(0, busy.err.find('\n')),
            "error: cannot restore instance 'busy': the directory '" + InstanceHost("busy") + "' is not empty");
  EXPECT_EQ(ReadWholeFile(InstanceHost("busy") + "/keep"), "x");
  // Into the production data directory.
  WriteConfig(ConfigText(Path("main")));
  RunResult prod = Run({"restore", "--snapshot", id, "--instance", "base", "--no-start"});
  EXPECT_EQ(prod.exit_code, 1);
  EXPECT_NE(prod.err.find("would write into the production data directory '" + Path("main") + "'"),
            std::string::npos)
      << prod.err;
  EXPECT_FALSE(fs::exists(Path("main/base/PG_VERSION")));
  WriteConfig(ConfigText());
  RunResult no_instance = Run({"instance", "drop", "nope"});
  EXPECT_EQ(no_instance.exit_code, 1);
  EXPECT_EQ(no_instance.err, "error: instance 'nope' does not exist\n"
                             "hint: list instances with 'lifeboat instances'\n");

  // WAL from another cluster is refused.
  std::string out;
  ASSERT_EQ(RunAsPostgres({std::string(kPgBin) + "/initdb", "-D", Path("other"), "-N", "-U", "postgres"}, &out), 0) << out;
  RunResult foreign = Run({"wal", "push", Path("other/pg_wal/000000010000000000000001")});
  EXPECT_EQ(foreign.exit_code, 1);
  EXPECT_NE(foreign.err.find("error: cannot archive '000000010000000000000001': this repository "
                             "belongs to the cluster with system identifier " +
                             SqlValue("SELECT system_identifier FROM pg_control_system()") + ", not "),
            std::string::npos)
      << foreign.err;
  // The same segment pushed twice with identical content is fine; a missing one is not found.
  RunResult missing = Run({"wal", "get", "0000000100000000000000FF", Path("x")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "error: WAL file '0000000100000000000000FF' is not in the repository\n");

  // The cluster is down: exit 2 naming host and port.
  StopCluster();
  RunResult down = Run({"backup"});
  EXPECT_EQ(down.exit_code, 2);
  EXPECT_EQ(down.err.rfind("error: backup failed: cannot connect to PostgreSQL at " + dir_ + ":" +
                               std::to_string(port_) + " as postgres: ",
                           0),
            0u)
      << down.err;
}

// lifeboat waits for the backup's WAL itself (PostgreSQL's wait re-checks once a second); when
// archiving fails it gives up after archive_timeout, naming the file, and records nothing.
TEST_F(PgBackupTest, ABackupWhoseWalNeverArrivesFailsNamingTheFileAndRecordsNothing) {
  Sql("CREATE TABLE t (id int)");
  SwitchWalAndWaitArchived();
  std::string archived = SqlValue("SELECT last_archived_wal FROM pg_stat_archiver");
  std::string command = SqlValue("SHOW archive_command");
  Sql("ALTER SYSTEM SET archive_command = 'false'");
  Sql("SELECT pg_reload_conf()");
  std::string text = ConfigText();
  text.insert(text.find("[instances]"), "archive_timeout = \"2s\"\n\n");
  WriteConfig(text);

  RunResult b = Run({"backup"});
  EXPECT_EQ(b.exit_code, 2) << b.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      b.err, m,
      std::regex("error: backup failed: WAL file ([0-9A-F]{24}) did not reach the repository "
                 "within 2 s \\(the archiver last failed on \\1 at [^)]+\\)\n"
                 "hint: check that archive_command runs 'lifeboat wal push %p' and succeeds \\(the "
                 "server log shows its errors\\), or that 'lifeboat wal stream' runs; \\[database\\] "
                 "archive_timeout sets how long to wait\n")))
      << b.err;
  EXPECT_GT(m[1].str(), archived);
  EXPECT_EQ(Run({"wal", "get", m[1].str(), Path("x")}).exit_code, 1);
  RunResult list = Run({"snapshots", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(nlohmann::json::parse(list.out).size(), 0u);

  // Archiving works again: the same backup succeeds and restores.
  Sql("ALTER SYSTEM SET archive_command = '" + command + "'");
  Sql("SELECT pg_reload_conf()");
  RunResult again = Run({"backup", "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Run({"wal", "get", m[1].str(), Path("x")}).exit_code, 0);
}

TEST_F(PgBackupTest, AMissingWalSegmentIsAGapAndRestoresPastItCreateNothing) {
  Sql("CREATE TABLE t (id int)");
  ASSERT_EQ(Run({"backup"}).exit_code, 0);
  std::vector<std::string> files;
  for (int i = 0; i < 3; ++i) {
    Sql("INSERT INTO t VALUES (" + std::to_string(i) + ")");
    files.push_back(SqlValue("SELECT pg_walfile_name(pg_current_wal_lsn())"));
    SwitchWalAndWaitArchived();
  }
  // Lose the middle segment.
  ASSERT_TRUE(fs::remove(repo() + "/named/wal/" + files[1]));
  nlohmann::json w = nlohmann::json::parse(Run({"window", "--json"}).out);
  ASSERT_EQ(w["gaps"].size(), 1u);
  EXPECT_EQ(w["gaps"][0]["first_missing"], files[1]);
  EXPECT_EQ(w["gaps"][0]["last_missing"], files[1]);
  // A time past the gap, inside the window: exit 3 before anything is created.
  std::string latest = w["latest"];
  EXPECT_GT(latest, w["ranges"][0]["to"].get<std::string>());
  RunResult r = Run({"restore", "--time", latest, "--instance", "gap"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')),
            "error: cannot restore instance 'gap': WAL is missing between a snapshot and " + latest);
  EXPECT_FALSE(fs::exists(InstanceHost("gap")));
  EXPECT_EQ(nlohmann::json::parse(Run({"instances", "--json"}).out).size(), 0u);
  // A time before the gap still restores.
  std::string before_gap = w["ranges"][0]["to"];
  RunResult ok = Run({"restore", "--time", before_gap, "--instance", "before", "--json"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(SqlAt(InstanceHost("before"), instance_port_, "SELECT count(*) FROM t")[0], "1");
}

TEST_F(PgBackupTest, KillDuringBackupLeavesNoSnapshotAndTheNextBackupWorks) {
  Sql("CREATE TABLE big AS SELECT g AS id, md5(g::text) || md5((g + 1)::text) AS pad "
      "FROM generate_series(1, 1500000) g");
  pid_t pid = Start({"backup"});
  bool mid = false;
  for (int i = 0; i < 30000 && !mid; ++i) {
    if (fs::exists(repo() + "/data")) {
      for (const auto& f : ListFiles(repo() + "/data")) mid = mid || f.find(".tmp-") == std::string::npos;
    }
    if (waitpid(pid, nullptr, WNOHANG) == pid) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  started_.clear();
  ASSERT_TRUE(mid) << "the backup finished before it could be interrupted";
  EXPECT_EQ(Run({"snapshots", "--json"}).out, "[]\n");
  RunResult check = Run({"repo", "check"});
  EXPECT_EQ(check.exit_code, 0) << check.out;
  // PostgreSQL aborted the backup with the session: the next one starts and completes.
  RunResult again = Run({"backup", "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(Run({"snapshots", "--json"}).out).size(), 1u);
  EXPECT_EQ(Run({"prune"}).exit_code, 0);
  EXPECT_EQ(Run({"repo", "check", "--read-data"}).exit_code, 0);
}

TEST_F(PgBackupTest, ADamagedPageIsReportedWithFileAndBlock) {
  Sql("CREATE TABLE victim AS SELECT g AS id, repeat('x', 40) AS pad FROM generate_series(1, 2000) g");
  Sql("CHECKPOINT");
  std::string file = SqlValue("SELECT pg_relation_filepath('victim')");
  StopCluster();
  FlipByte(Path("main/" + file), 8192 + 8000);  // block 1, inside its tuples
  std::string out;
  ASSERT_EQ(RunAsPostgres({std::string(kPgBin) + "/pg_ctl", "start", "-D", Path("main"), "-l",
                           Path("main.log"), "-w", "-s"}, &out), 0) << out;
  RunResult b = Run({"backup", "--json"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(b.err.find("warning: page checksum mismatch in '" + file + "' block 1 (stored "),
            std::string::npos)
      << b.err;
  nlohmann::json snaps = nlohmann::json::parse(Run({"snapshots", "--json"}).out);
  ASSERT_EQ(snaps[0]["checksum_failures"].size(), 1u) << snaps[0].dump();
  EXPECT_EQ(snaps[0]["checksum_failures"][0]["file"], file);
  EXPECT_EQ(snaps[0]["checksum_failures"][0]["block"], 1);
  EXPECT_GT(snaps[0]["pages_checked"].get<int>(), 100);
  // The table could not be counted; it keeps its estimate and says why.
  for (const auto& db : snaps[0]["databases"]) {
    for (const auto& t : db["tables"]) {
      if (t["name"] != "victim") continue;
      EXPECT_FALSE(t["exact"].get<bool>());
      EXPECT_NE(t["count_error"].get<std::string>().find("invalid page in block 1"), std::string::npos)
          << t.dump();
    }
  }
}

}  // namespace
}  // namespace lifeboat::testing

namespace lifeboat::testing {
namespace {

TEST_F(PgBackupTest, AnIncrementalChainOfFiveEachRestoresEqualToTheSource) {
  std::string out;
  ASSERT_EQ(RunAsPostgres({std::string(kPgBin) + "/pgbench", "-i", "-q", "-s", "1", "-h", dir_,
                           "-p", std::to_string(port_), "-U", "postgres", "postgres"},
                          &out),
            0)
      << out;
  const char* digest =
      "SELECT md5(string_agg(aid::text || ':' || abalance, ',' ORDER BY aid)) || "
      "(SELECT count(*) FROM pgbench_history) || "
      "coalesce((SELECT md5(string_agg(v, ',' ORDER BY v)) FROM fresh), '') FROM pgbench_accounts";
  Sql("CREATE TABLE fresh (v text)");
  const int64_t accounts_bytes = std::stoll(SqlValue("SELECT pg_relation_size('pgbench_accounts')"));
  std::vector<std::pair<std::string, std::string>> chain;  // snapshot id, digest at its end
  // Files written within two seconds before a backup began are always re-read (their mtime
  // may hide a later write in the same clock tick); let initdb's files age past that.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  for (int i = 0; i < 5; ++i) {
    switch (i) {
      case 1:  // a few neighbouring rows: a block-level incremental reads a few chunks
        Sql("UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid BETWEEN 40000 AND 40040");
        break;
      case 2:  // rows spread over the whole table
        Sql("UPDATE pgbench_accounts SET abalance = abalance + 2 WHERE aid % 97 = 2");
        break;
      case 3:  // relations truncated and created: their files are read whole
        Sql("TRUNCATE pgbench_history");
        Sql("INSERT INTO pgbench_history (tid, bid, aid, delta) SELECT 1, 1, g, g FROM generate_series(1, 500) g");
        Sql("INSERT INTO fresh SELECT md5(g::text) FROM generate_series(1, 2000) g");
        Sql("CREATE INDEX ON fresh (v)");
        Sql("UPDATE pgbench_accounts SET abalance = abalance + 3 WHERE aid = 99999");
        break;
      case 4:  // CREATE DATABASE changes files without naming blocks: file-level
        Sql("CREATE DATABASE extra");
        Sql("UPDATE pgbench_accounts SET abalance = abalance + 4 WHERE aid < 30");
        break;
      default:
        break;
    }
    Sql("CHECKPOINT");
    std::string expected = SqlValue(digest);
    RunResult b = Run({"backup", "--type", i == 0 ? "full" : "incremental", "--json"});
    ASSERT_EQ(b.exit_code, 0) << b.err;
    chain.emplace_back(nlohmann::json::parse(b.out)["id"], expected);
  }
  SwitchWalAndWaitArchived();
  nlohmann::json snaps = nlohmann::json::parse(Run({"snapshots", "--json"}).out);
  ASSERT_EQ(snaps.size(), 5u);
  EXPECT_EQ(snaps[0]["type"], "full");
  EXPECT_FALSE(snaps[0].contains("incremental"));
  for (int i = 1; i < 5; ++i) {
    const nlohmann::json& inc = snaps[static_cast<size_t>(i)]["incremental"];
    EXPECT_EQ(snaps[static_cast<size_t>(i)]["type"], "incremental");
    EXPECT_EQ(inc["method"], i < 4 ? "blocks" : "files") << inc.dump();
  }
  // A few rows: less than half of pgbench_accounts read, where reading changed files whole
  // reads all of it and more.
  EXPECT_LT(snaps[1]["incremental"]["bytes_read"].get<int64_t>(), accounts_bytes / 2)
      << snaps[1]["incremental"].dump();
  EXPECT_GE(snaps[1]["incremental"]["bytes_reused"].get<int64_t>(), accounts_bytes / 2);
  EXPECT_GE(snaps[4]["incremental"]["bytes_read"].get<int64_t>(), accounts_bytes)
      << snaps[4]["incremental"].dump();
  EXPECT_NE(snaps[4]["incremental"]["reason"].get<std::string>().find(
                "the WAL holds a Database record (CREATE_WAL_LOG"),
            std::string::npos)
      << snaps[4]["incremental"].dump();
  // pg_checksums rewrites every page offline, without WAL: the next incremental reads changed
  // files whole.
  std::string out2;
  ASSERT_EQ(RunAsPostgres({std::string(kPgBin) + "/pg_ctl", "stop", "-D", Path("main"), "-w", "-s"}, &out2), 0) << out2;
  ASSERT_EQ(RunAsPostgres({std::string(kPgBin) + "/pg_checksums", "--disable", "-D", Path("main")}, &out2), 0) << out2;
  ASSERT_EQ(RunAsPostgres({std::string(kPgBin) + "/pg_ctl", "start", "-D", Path("main"), "-l", Path("main.log"), "-w", "-s"}, &out2), 0) << out2;
  RunResult after_checksums = Run({"backup", "--type", "incremental"});
  ASSERT_EQ(after_checksums.exit_code, 0) << after_checksums.err;
  EXPECT_NE(after_checksums.err.find("incremental: file-level (changed files read whole): data checksums were "
                                     "turned off since the parent snapshot\n"),
            std::string::npos)
      << after_checksums.err;
  for (size_t i = 0; i < chain.size(); ++i) {
    std::string name = "inc" + std::to_string(i);
    RunResult r = Run({"restore", "--snapshot", chain[i].first, "--instance", name, "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    int port = nlohmann::json::parse(r.out)["port"];
    EXPECT_EQ(SqlAt(InstanceHost(name), port, digest)[0], chain[i].second) << "snapshot " << i;
    ASSERT_EQ(Run({"instance", "drop", name}).exit_code, 0);
  }
}

}  // namespace
}  // namespace lifeboat::testing
