// A local primary repository with an offsite mirror in an RGW bucket: WAL reaches both (from
// archive_command and from `wal stream`), a backup is copied after it, and when the primary
// repository is lost the offsite one serves window, restore and verify with exactly what the
// test committed; `repo copy --to primary` rebuilds the primary. An offsite that is down does
// not stop archiving under wal_acknowledge "any", and `status` says when WAL waits for it.
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "../pg/pg_harness.h"
#include "rgw.h"

namespace fs = std::filesystem;

namespace lifeboat::testing {
namespace {

class OffsiteTest : public PgTest {
 protected:
  void SetUp() override {
    options_ = NewBucket(&creds_, "offsite");
    PgTest::SetUp();
  }
  std::string ConfigText(const std::string& instances_dir) const override {
    WriteFile(Path("aws-credentials"), "[default]\naws_access_key_id = " + creds_.access_key_id +
                                           "\naws_secret_access_key = " + creds_.secret_access_key + "\n");
    std::string text = PgTest::ConfigText(instances_dir);
    text.replace(text.find("[repository]\n"), 13, "[repository]\nwal_acknowledge = \"" + acknowledge_ + "\"\n");
    return text + "\n[repository.offsite]\nurl = \"s3://" + options_.bucket + "/" + options_.prefix +
           "\"\nendpoint = \"" + endpoint_ + "\"\ncredentials_file = \"aws-credentials\"\nretry_seconds = 1\n";
  }
  std::set<std::string> PrimaryWal() const {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(repo() + "/named/wal")) out.insert(e.path().filename());
    return out;
  }
  std::set<std::string> OffsiteWal() const {
    S3Options o = options_;
    o.endpoint = SharedRgw().endpoint;
    std::set<std::string> out;
    S3Backend store(o, creds_);
    Result<std::vector<ObjectInfo>> listed = store.List("named/wal/");
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    if (listed.ok()) {
      for (const ObjectInfo& i : *listed) out.insert(i.key.substr(10));
    }
    return out;
  }
  void Insert(int from, int to) {
    for (int i = from; i <= to; ++i) Sql("INSERT INTO ledger(id) VALUES (" + std::to_string(i) + ")");
  }
  std::vector<std::string> Ids(int from, int to) {
    std::vector<std::string> v;
    for (int i = from; i <= to; ++i) v.push_back(std::to_string(i));
    return v;
  }

  S3Options options_;
  s3::Credentials creds_;
  std::string acknowledge_ = "all";
  std::string endpoint_ = SharedRgw().endpoint;
};

TEST_F(OffsiteTest, WalGoesToBothABackupIsCopiedAndLosingThePrimaryLosesNothing) {
  Sql("CREATE TABLE ledger (id int PRIMARY KEY)");
  Insert(1, 20);
  RunResult backup = Run({"backup", "--json"});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  nlohmann::json b = nlohmann::json::parse(backup.out);
  EXPECT_GT(b["offsite"]["copied"].get<int>(), 3) << backup.out;  // packs, index, manifest, records
  Insert(21, 40);
  SwitchWalAndWaitArchived();
  std::set<std::string> primary = PrimaryWal();
  EXPECT_GE(primary.size(), 3u);
  EXPECT_EQ(OffsiteWal(), primary);  // archive_command stored every segment in both
  EXPECT_FALSE(fs::exists(Path(".lifeboat/wal-queue/offsite"))) << "nothing waits for the offsite";
  // A second copy moves nothing: everything is there.
  RunResult again = Run({"repo", "copy", "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out)["copied"], 0) << again.out;

  // The primary repository is lost.
  fs::remove_all(repo());
  RunResult window = Run({"window", "--json"});
  ASSERT_EQ(window.exit_code, 0) << window.err;
  EXPECT_NE(window.err.find("reading from the offsite repository 's3://" + options_.bucket + "/offsite'"),
            std::string::npos)
      << window.err;
  RunResult r = Run({"restore", "--latest", "--instance", "from-offsite", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["repository"], "offsite") << r.out;
  EXPECT_EQ(SqlAt(InstanceHost("from-offsite"), instance_port_, "SELECT id FROM ledger ORDER BY id"), Ids(1, 40));
  // The instance's restore_command reads from the offsite repository too.
  std::string conf = ReadWholeFile(InstanceHost("from-offsite") + "/data/postgresql.auto.conf");
  EXPECT_NE(conf.find("--repo offsite wal get"), std::string::npos) << conf;
  // verify --snapshot restores from it as well, and says so.
  RunResult verify = Run({"verify", "--snapshot", "latest", "--json"});
  ASSERT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  nlohmann::json v = nlohmann::json::parse(verify.out);
  EXPECT_EQ(v["repository"], "offsite") << verify.out;
  EXPECT_EQ(v["snapshot"], b["id"]) << verify.out;

  // The primary is rebuilt from the mirror and is whole again.
  RunResult back = Run({"repo", "copy", "--to", "primary"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(PrimaryWal(), primary);
  RunResult check = Run({"repo", "check", "--read-data"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_EQ(nlohmann::json::parse(Run({"snapshots", "--json"}).out).size(), 1u);
}

TEST_F(OffsiteTest, WalStreamFeedsTheOffsiteRepositoryThroughItsQueue) {
  Sql("CREATE TABLE ledger (id int PRIMARY KEY)");
  ASSERT_EQ(Run({"backup", "--json"}).exit_code, 0);
  // From here only the streamer stores WAL: archive_command reports success and stores nothing.
  Sql("ALTER SYSTEM SET archive_command = '/bin/true'");
  Sql("SELECT pg_reload_conf()");
  pid_t streamer = Start({"wal", "stream"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  Insert(1, 30);
  std::string segment = SqlValue("SELECT pg_walfile_name(pg_switch_wal())");
  Insert(31, 32);  // WAL after the switch, so that the streamer completes the segment
  for (int i = 0; i < 200 && !OffsiteWal().count(segment); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(OffsiteWal().count(segment)) << segment << " never reached the offsite repository";
  EXPECT_TRUE(PrimaryWal().count(segment));
  kill(streamer, SIGTERM);
  ASSERT_EQ(waitpid(streamer, nullptr, 0), streamer);
  Forget(streamer);
  EXPECT_EQ(fs::directory_iterator(Path(".lifeboat/wal-queue/offsite")), fs::directory_iterator())
      << "the feeder left WAL queued";

  // Production and the primary repository are lost: the offsite one has every commit of the
  // streamed segment.
  StopCluster();
  fs::remove_all(repo());
  RunResult r = Run({"restore", "--latest", "--instance", "streamed", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["repository"], "offsite");
  std::vector<std::string> ids = SqlAt(InstanceHost("streamed"), instance_port_, "SELECT id FROM ledger ORDER BY id");
  ASSERT_GE(ids.size(), 30u);
  EXPECT_EQ(std::vector<std::string>(ids.begin(), ids.begin() + 30), Ids(1, 30));
}

class OffsiteDownTest : public OffsiteTest {
 protected:
  void SetUp() override {
    acknowledge_ = "any";
    OffsiteTest::SetUp();
  }
};

TEST_F(OffsiteDownTest, AnUnreachableOffsiteQueuesWalAndTheNextPushDeliversIt) {
  Sql("CREATE TABLE ledger (id int PRIMARY KEY)");
  // The offsite goes down: its endpoint now leads nowhere.
  endpoint_ = "http://127.0.0.1:" + std::to_string(FreePortBlock(47100, 1));
  WriteConfig(ConfigText(""));
  GiveToPostgres(dir_);
  Insert(1, 10);
  SwitchWalAndWaitArchived();  // archiving goes on: the primary stored it ("any")
  std::set<std::string> primary = PrimaryWal();
  std::string queue = Path(".lifeboat/wal-queue/offsite");
  ASSERT_TRUE(fs::exists(queue));
  size_t queued = static_cast<size_t>(std::distance(fs::directory_iterator(queue), fs::directory_iterator()));
  EXPECT_GE(queued, 1u);
  std::string log = ReadWholeFile(Path("main.log"));
  EXPECT_NE(log.find("warning: the offsite repository 's3://" + options_.bucket + "/offsite' did not store "),
            std::string::npos);
  // status shows the queue; once its oldest segment has waited ten minutes, it alerts.
  RunResult fresh = Run({"status", "--json"});
  nlohmann::json s = nlohmann::json::parse(fresh.out);
  EXPECT_EQ(s["protection"]["wal_queue"]["offsite"]["segments"], queued) << fresh.out;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(queue)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(s["protection"]["wal_queue"]["offsite"]["oldest"], names.front());
  struct timeval then[2];
  gettimeofday(&then[0], nullptr);
  then[0].tv_sec -= 600;
  then[1] = then[0];
  ASSERT_EQ(utimes((queue + "/" + names.front()).c_str(), then), 0);
  RunResult alert = Run({"status"});
  EXPECT_EQ(alert.exit_code, 2) << alert.out << alert.err;
  std::string expected = "error: the stack is not healthy: the offsite repository 's3://" + options_.bucket +
                         "/offsite' has not stored " + std::to_string(queued) + " WAL segment(s) (the oldest, " +
                         names.front() + ", for 10m";
  EXPECT_EQ(alert.err.substr(0, expected.size()), expected) << alert.err;
  EXPECT_NE(alert.out.find("wal queue"), std::string::npos) << alert.out;
  // It is back: the next segment's push delivers the queue first.
  endpoint_ = SharedRgw().endpoint;
  WriteConfig(ConfigText(""));
  GiveToPostgres(dir_);
  Insert(11, 20);
  SwitchWalAndWaitArchived();
  EXPECT_EQ(fs::directory_iterator(queue), fs::directory_iterator()) << "the queue was not drained";
  std::set<std::string> offsite = OffsiteWal();
  for (const std::string& w : PrimaryWal()) EXPECT_TRUE(offsite.count(w)) << w << " never reached the offsite";
  EXPECT_GT(PrimaryWal().size(), primary.size());
}

}  // namespace
}  // namespace lifeboat::testing
