// The WAL queues of a config with two repositories (platform/wal_queue.h): what is queued is
// stored oldest first and removed only once stored; the feeder retries a repository that fails,
// logging each change once; `status` alerts on a segment that waited too long.
#include "platform/wal_queue.h"

#include <sys/time.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "base/fs.h"
#include "pg/wal.h"
#include "storage/memory/memory_backend.h"

namespace lifeboat::platform {
namespace {

namespace fs = std::filesystem;

class WalQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lifeboat-walq-XXXXXX";
    dir_ = mkdtemp(tmpl);
    cfg_.state.dir = dir_ + "/state";
    cfg_.repository.path = dir_ + "/repo";
    RepositoryConfigSection offsite;
    offsite.url = "s3://dr/lifeboat";
    cfg_.offsite = offsite;
    backend_ = std::make_shared<MemoryBackend>();
    ASSERT_TRUE(Repository::Init(*backend_, "pw", {.n = 1024, .r = 8, .p = 1}).ok());
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::unique_ptr<Repository> Open() { return std::move(Repository::Open(backend_, "pw").value()); }
  // History files: WAL files whose content the archive does not parse.
  static Bytes History(int tli) {
    std::string text = std::to_string(tli - 1) + "\t0/3000060\tno recovery target\n";
    return Bytes(text.begin(), text.end());
  }
  static std::string HistoryName(int tli) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%08X.history", tli);
    return buf;
  }
  std::string Stored(Repository& repo, int tli) {
    Result<Bytes> b = repo.GetNamed(pg::kWalStream, HistoryName(tli));
    return b.ok() ? std::string(b->begin(), b->end()) : "(" + b.status().message() + ")";
  }

  std::string dir_;
  Config cfg_;
  std::shared_ptr<MemoryBackend> backend_;
};

TEST_F(WalQueueTest, QueuedFilesAreStoredOldestFirstAndRemovedOnceStored) {
  EXPECT_TRUE(QueuedWal(cfg_, "offsite").empty());  // no queue directory yet
  for (int tli : {3, 2}) ASSERT_TRUE(EnqueueWal(cfg_, "offsite", HistoryName(tli), History(tli)).ok());
  // What a queueing that crashed left behind is not a segment.
  ASSERT_TRUE(WriteFileDurable(WalQueueDir(cfg_, "offsite") + "/00000004.history.tmp-1a2b", AsBytes("torn"), 0600).ok());
  EXPECT_EQ(WalQueueDir(cfg_, "offsite"), dir_ + "/state/wal-queue/offsite");
  EXPECT_EQ(QueuedWal(cfg_, "offsite"),
            (std::vector<std::string>{WalQueueDir(cfg_, "offsite") + "/00000002.history",
                                      WalQueueDir(cfg_, "offsite") + "/00000003.history"}));
  EXPECT_TRUE(QueuedWal(cfg_, "primary").empty());
  std::unique_ptr<Repository> repo = Open();
  Result<size_t> n = DrainWalQueue(cfg_, "offsite", repo.get());
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(Stored(*repo, 2), "1\t0/3000060\tno recovery target\n");
  EXPECT_EQ(Stored(*repo, 3), "2\t0/3000060\tno recovery target\n");
  EXPECT_TRUE(QueuedWal(cfg_, "offsite").empty());
  EXPECT_EQ(*DrainWalQueue(cfg_, "offsite", repo.get()), 0u);
}

TEST_F(WalQueueTest, AFileTheRepositoryRefusesStaysQueuedWithTheRestBehindIt) {
  std::unique_ptr<Repository> repo = Open();
  ASSERT_TRUE(repo->PutNamed(pg::kWalStream, HistoryName(2), AsBytes("another cluster's history\n")).ok());
  for (int tli : {2, 3}) ASSERT_TRUE(EnqueueWal(cfg_, "offsite", HistoryName(tli), History(tli)).ok());
  Result<size_t> n = DrainWalQueue(cfg_, "offsite", repo.get());
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(),
            "queued WAL '00000002.history': cannot archive '00000002.history': a different file of that name is "
            "already archived");
  EXPECT_EQ(QueuedWal(cfg_, "offsite").size(), 2u);
  EXPECT_EQ(repo->GetNamed(pg::kWalStream, HistoryName(3)).status().code(), Code::kNotFound);
}

TEST_F(WalQueueTest, TheFeederRetriesAFailingRepositoryAndLogsEachChangeOnce) {
  std::atomic<int> opens{0};
  std::atomic<bool> reachable{false};
  std::mutex mu;
  std::vector<std::string> lines;
  ASSERT_TRUE(EnqueueWal(cfg_, "offsite", HistoryName(2), History(2)).ok());
  WalFeeder feeder(
      cfg_, "offsite",
      [&]() -> Result<std::unique_ptr<Repository>> {
        ++opens;
        if (!reachable.load()) return Status::IO("cannot reach the endpoint 'http://127.0.0.1:9'");
        return Open();
      },
      [&](const std::string& line) {
        std::lock_guard<std::mutex> lock(mu);
        lines.push_back(line);
      },
      /*poll_seconds=*/0.02);
  auto wait_for = [&](const std::function<bool()>& done) {
    for (int i = 0; i < 500 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return done();
  };
  ASSERT_TRUE(wait_for([&] { return opens.load() >= 5; }));
  EXPECT_EQ(QueuedWal(cfg_, "offsite").size(), 1u);  // nothing lost while it fails
  reachable = true;
  ASSERT_TRUE(wait_for([&] { return feeder.stored() == 1; }));
  ASSERT_TRUE(EnqueueWal(cfg_, "offsite", HistoryName(3), History(3)).ok());
  feeder.Notify();
  ASSERT_TRUE(wait_for([&] { return feeder.stored() == 2; }));
  feeder.Stop();
  feeder.Stop();  // idempotent
  EXPECT_TRUE(QueuedWal(cfg_, "offsite").empty());
  std::unique_ptr<Repository> repo = Open();
  EXPECT_EQ(Stored(*repo, 3), "2\t0/3000060\tno recovery target\n");
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "the offsite repository did not store queued WAL: cannot reach the endpoint "
                       "'http://127.0.0.1:9'; retrying every 0.02s",
                       "the offsite repository stores WAL again"}));
}

TEST_F(WalQueueTest, StatusAlertsOnlyOnASegmentThatWaitedTooLong) {
  std::vector<std::string> problems;
  EXPECT_EQ(WalQueueSummary(cfg_, &problems), nlohmann::json::object());
  ASSERT_TRUE(EnqueueWal(cfg_, "offsite", HistoryName(2), History(2)).ok());
  ASSERT_TRUE(EnqueueWal(cfg_, "offsite", HistoryName(3), History(3)).ok());
  nlohmann::json fresh = WalQueueSummary(cfg_, &problems);
  EXPECT_EQ(fresh["offsite"]["segments"], 2);
  EXPECT_EQ(fresh["offsite"]["oldest"], "00000002.history");
  EXPECT_LT(fresh["offsite"]["waiting_seconds"].get<double>(), 60);
  EXPECT_TRUE(problems.empty());
  // The oldest was queued ten minutes ago.
  std::string oldest = WalQueueDir(cfg_, "offsite") + "/00000002.history";
  struct timeval then[2];
  gettimeofday(&then[0], nullptr);
  then[0].tv_sec -= 600;
  then[1] = then[0];
  ASSERT_EQ(utimes(oldest.c_str(), then), 0);
  nlohmann::json old = WalQueueSummary(cfg_, &problems);
  EXPECT_GE(old["offsite"]["waiting_seconds"].get<double>(), 600);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].substr(0, problems[0].find(" for ")),
            "the offsite repository 's3://dr/lifeboat' has not stored 2 WAL segment(s) (the oldest, 00000002.history,");
}

}  // namespace
}  // namespace lifeboat::platform
