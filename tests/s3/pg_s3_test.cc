// PostgreSQL with its repository on a real RGW: backup, archive_command (`wal push`),
// `wal stream`, `window` and point-in-time restore, checked against what the test committed
// and when; a backup killed mid-upload leaves nothing visible; prune and expire.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "../pg/pg_harness.h"
#include "rgw.h"

namespace fs = std::filesystem;

namespace lifeboat::testing {
namespace {

using Clock = std::chrono::system_clock;

class PgS3Test : public PgTest {
 protected:
  void SetUp() override {
    options_ = NewBucket(&creds_, "pg");
    PgTest::SetUp();
  }
  // The repository is the bucket; archive_command runs as postgres, so the credentials are a
  // file it can read (written here, before the harness gives the directory to postgres).
  std::string ConfigText(const std::string& instances_dir) const override {
    WriteFile(Path("aws-credentials"), "[default]\naws_access_key_id = " + creds_.access_key_id +
                                           "\naws_secret_access_key = " + creds_.secret_access_key + "\n");
    std::string text = PgTest::ConfigText(instances_dir);
    std::string local = "[repository]\npath = \"repo\"\n";
    text.replace(text.find(local), local.size(),
                 "[repository]\nurl = \"s3://" + options_.bucket + "/" + options_.prefix + "\"\nendpoint = \"" +
                     options_.endpoint + "\"\ncredentials_file = \"aws-credentials\"\nretry_seconds = 10\n");
    return text;
  }
  Clock::time_point Insert(int id) {
    Sql("INSERT INTO ledger(id) VALUES (" + std::to_string(id) + ")");
    return Clock::now();
  }
  std::vector<std::string> Ids(int from, int to) {
    std::vector<std::string> v;
    for (int i = from; i <= to; ++i) v.push_back(std::to_string(i));
    return v;
  }

  S3Options options_;
  s3::Credentials creds_;
};

TEST_F(PgS3Test, BackupWalPushWindowAndPointInTimeRestoreFromS3) {
  Sql("CREATE TABLE ledger (id int PRIMARY KEY)");
  for (int i = 1; i <= 20; ++i) Insert(i);
  RunResult backup = Run({"backup", "--json"});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  for (int i = 21; i <= 40; ++i) Insert(i);
  Clock::time_point acked40 = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Clock::time_point target = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (int i = 41; i <= 60; ++i) Insert(i);
  SwitchWalAndWaitArchived();
  ASSERT_LT(acked40, target);

  S3Backend store(options_, creds_);
  Result<std::vector<ObjectInfo>> wal = store.List("named/wal/");
  ASSERT_TRUE(wal.ok()) << wal.status().ToString();
  EXPECT_FALSE(wal->empty()) << "archive_command stored no WAL in the bucket";

  RunResult window = Run({"window", "--json"});
  ASSERT_EQ(window.exit_code, 0) << window.err;
  nlohmann::json w = nlohmann::json::parse(window.out);
  ASSERT_TRUE(w["latest"].is_string()) << window.out;
  EXPECT_GE(w["latest"].get<std::string>(), Iso(target)) << window.out;

  RunResult pitr = Run({"restore", "--time", Iso(target), "--instance", "pitr"});
  ASSERT_EQ(pitr.exit_code, 0) << pitr.err;
  EXPECT_EQ(SqlAt(InstanceHost("pitr"), instance_port_, "SELECT id FROM ledger ORDER BY id"), Ids(1, 40));
  RunResult latest = Run({"restore", "--latest", "--instance", "latest"});
  ASSERT_EQ(latest.exit_code, 0) << latest.err;
  EXPECT_EQ(SqlAt(InstanceHost("latest"), instance_port_ + 1, "SELECT id FROM ledger ORDER BY id"), Ids(1, 60));
  RunResult verify = Run({"verify", "--snapshot", "latest"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

TEST_F(PgS3Test, WalStreamIntoS3LosesAtMostTheLastSecond) {
  Sql("CREATE TABLE ledger (id int PRIMARY KEY)");
  ASSERT_EQ(Run({"backup"}).exit_code, 0);
  pid_t streamer = Start({"wal", "stream"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  std::vector<Clock::time_point> acked;
  for (int i = 1; i <= 60; ++i) {
    acked.push_back(Insert(i));
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  Clock::time_point killed = Clock::now();
  StopCluster();  // production is gone; what the streamer stored is what is left
  kill(streamer, SIGTERM);
  waitpid(streamer, nullptr, 0);
  Forget(streamer);
  RunResult latest = Run({"restore", "--latest", "--instance", "after"});
  ASSERT_EQ(latest.exit_code, 0) << latest.err;
  std::vector<std::string> ids = SqlAt(InstanceHost("after"), instance_port_, "SELECT id FROM ledger ORDER BY id");
  // Every commit acknowledged more than a second before production went is there, in order.
  size_t needed = 0;
  for (size_t i = 0; i < acked.size(); ++i) {
    if (killed - acked[i] > std::chrono::seconds(1)) needed = i + 1;
  }
  ASSERT_GE(ids.size(), needed);
  EXPECT_EQ(std::vector<std::string>(ids.begin(), ids.begin() + static_cast<long>(needed)),
            Ids(1, static_cast<int>(needed)));
}

TEST_F(PgS3Test, ABackupKilledMidUploadLeavesNothingVisibleAndTheNextOneWorks) {
  Sql("CREATE TABLE big AS SELECT g AS id, md5(g::text) || md5((g + 1)::text) AS pad "
      "FROM generate_series(1, 1500000) g");
  S3Backend store(options_, creds_);
  Result<std::vector<ObjectInfo>> before = store.List("data/");
  ASSERT_TRUE(before.ok());
  pid_t pid = Start({"backup"});
  bool mid = false;
  for (int i = 0; i < 3000 && !mid; ++i) {
    Result<std::vector<ObjectInfo>> now = store.List("data/");
    mid = now.ok() && now->size() > before->size();
    if (waitpid(pid, nullptr, WNOHANG) == pid) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  Forget(pid);
  ASSERT_TRUE(mid) << "the backup finished before it could be interrupted";
  EXPECT_EQ(Run({"snapshots", "--json"}).out, "[]\n");
  RunResult check = Run({"repo", "check"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  RunResult again = Run({"backup", "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(Run({"snapshots", "--json"}).out).size(), 1u);
  // The killed backup's packs are unreferenced: prune removes them and the rest still checks.
  RunResult prune = Run({"prune"});
  EXPECT_EQ(prune.exit_code, 0) << prune.err;
  RunResult read = Run({"repo", "check", "--read-data"});
  EXPECT_EQ(read.exit_code, 0) << read.out << read.err;
  RunResult expire = Run({"expire", "--dry-run"});
  EXPECT_EQ(expire.exit_code, 0) << expire.out << expire.err;
}


// Scenario 3 from a bucket: a database-only stack (its secret names the database) is lost whole
// with its credentials file, and `bootstrap` with the URL, the endpoint, the key and the
// credentials in its environment alone rebuilds it. The new stack keeps the credentials in a
// file of its own, so its archive_command (run by PostgreSQL, without that environment) stores
// the new timeline's WAL in the bucket.
TEST_F(PgS3Test, BootstrapFromTheBucketWithCredentialsFromTheEnvironment) {
  WriteConfig(ReadWholeFile(Path("lifeboat.toml")) + "\n[recovery]\nsecret = \"db\"\n");
  ASSERT_EQ(Run({"secret", "set", "db", "PGHOST=" + dir_, "PGPORT=" + std::to_string(port_)}).exit_code, 0);
  Sql("CREATE TABLE ledger (id int PRIMARY KEY)");
  for (int i = 1; i <= 20; ++i) Insert(i);
  RunResult backup = Run({"backup"});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  for (int i = 21; i <= 30; ++i) Insert(i);
  SwitchWalAndWaitArchived();
  ASSERT_EQ(Run({"stack", "record"}).exit_code, 0);
  WriteFile(Path("key"), ReadWholeFile(Path("pass")));
  StopCluster();
  for (const char* gone : {"lifeboat.toml", ".lifeboat", "main", "aws-credentials", "pass"}) fs::remove_all(Path(gone));

  // The new stack's instances are stopped when the test ends, however it ends.
  struct StopNew {
    std::string dir;
    ~StopNew() {
      if (!fs::exists(dir)) return;
      for (const auto& e : fs::directory_iterator(dir)) StopPostmaster(e.path().string() + "/data");
    }
  } stop_new{Path("new/.lifeboat/instances")};
  std::string url = "s3://" + options_.bucket + "/" + options_.prefix;
  RunResult boot = Run({"bootstrap", "--repository", url, "--endpoint", options_.endpoint, "--key", Path("key"),
                        "--dir", Path("new"), "--yes", "--json"},
                       {{"LIFEBOAT_PASSPHRASE", ""}, {"AWS_ACCESS_KEY_ID", creds_.access_key_id},
                        {"AWS_SECRET_ACCESS_KEY", creds_.secret_access_key}});
  ASSERT_EQ(boot.exit_code, 0) << boot.err << boot.out;
  nlohmann::json run = nlohmann::json::parse(boot.out);
  EXPECT_EQ(run["state"], "succeeded");
  config_ = Path("new/lifeboat.toml");
  std::string host;
  int port = 0;
  for (const auto& i : nlohmann::json::parse(Run({"instances", "--json"}).out)) {
    if (i["role"] == "production") {
      host = i["host"];
      port = i["port"];
    }
  }
  ASSERT_GT(port, 0);
  EXPECT_EQ(SqlAt(host, port, "SELECT count(*) FROM ledger"), std::vector<std::string>{"30"});
  std::string written = ReadWholeFile(Path("new/lifeboat.toml"));
  EXPECT_NE(written.find("credentials_file = 'aws-credentials'"), std::string::npos) << written;
  EXPECT_EQ(ReadWholeFile(Path("new/aws-credentials")),
            "[default]\naws_access_key_id = " + creds_.access_key_id + "\naws_secret_access_key = " +
                creds_.secret_access_key + "\n");
  EXPECT_EQ(fs::status(Path("new/aws-credentials")).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  // The new timeline reaches the bucket through archive_command.
  SqlAt(host, port, "INSERT INTO ledger VALUES (31)");
  std::string segment = SqlAt(host, port, "SELECT pg_walfile_name(pg_switch_wal())")[0];
  std::string archived;
  for (int i = 0; i < 100 && archived < segment; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    archived = SqlAt(host, port, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")[0];
  }
  EXPECT_GE(archived, segment) << ReadWholeFile(host + "/postgresql.log");
}

}  // namespace
}  // namespace lifeboat::testing
