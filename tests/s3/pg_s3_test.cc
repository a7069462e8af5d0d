// PostgreSQL with its repository on a real RGW: backup, archive_command (`wal push`),
// `wal stream`, `window` and point-in-time restore, checked against what the test committed
// and when; a backup killed mid-upload leaves nothing visible; prune and expire.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "../pg/pg_harness.h"
#include "rgw.h"

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

}  // namespace
}  // namespace lifeboat::testing
