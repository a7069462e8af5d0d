// Production's lineage (pg/lineage.h) and the fork guard of `wal get --timeline`
// (FetchAlongTimeline), on the in-memory backend.
#include <gtest/gtest.h>

#include "pg/lineage.h"
#include "pg/window.h"
#include "repo_fixtures.h"
#include "storage/memory/memory_backend.h"

namespace lifeboat::pg {
namespace {

class LineageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = std::make_shared<MemoryBackend>();
    ASSERT_TRUE(Repository::Init(*backend_, "pw", testing::kFastScrypt).ok());
    repo_ = std::move(Repository::Open(backend_, "pw").value());
  }
  void PutWal(const std::string& name, const std::string& text) {
    ASSERT_TRUE(repo_->PutNamed(kWalStream, name, AsBytes(text)).ok());
  }
  void PutWal(const std::string& name, const Bytes& b) { ASSERT_TRUE(repo_->PutNamed(kWalStream, name, b).ok()); }

  std::shared_ptr<MemoryBackend> backend_;
  std::unique_ptr<Repository> repo_;
};

TEST_F(LineageTest, ARecordRoundTripsAndABadOneNamesTheKey) {
  TimelineRecord r;
  r.timeline = 3;
  r.parent = 2;
  r.fork_lsn = 0x5000060;
  r.origin = TimelineOrigin::kRecovery;
  r.production = true;
  r.instance = "restore-20261201-101500";
  r.run = "recover-20261201-101500";
  r.recorded_at = "2026-12-01T10:15:09.000000Z";
  r.production_since = "2026-12-01T10:15:10.000000Z";
  Result<TimelineRecord> back = TimelineRecord::FromJson(r.ToJson(), "x");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->ToJson(), r.ToJson());
  EXPECT_EQ(r.ToJson()["fork_lsn"], "0/5000060");

  nlohmann::json j = r.ToJson();
  j.erase("production");
  EXPECT_EQ(TimelineRecord::FromJson(j, "timeline record '00000003'").status().message(),
            "timeline record '00000003': key 'production' is missing or not a boolean");
  j = r.ToJson();
  j["timeline"] = "3";
  EXPECT_EQ(TimelineRecord::FromJson(j, "t").status().message(), "t: key 'timeline' is missing or not a number");
  j = r.ToJson();
  j["origin"] = "drill";
  Result<TimelineRecord> bad = TimelineRecord::FromJson(j, "t");
  EXPECT_EQ(bad.status().code(), Code::kCorruption);
  EXPECT_EQ(bad.status().message(), "t: unknown timeline origin 'drill'");
  EXPECT_EQ(TimelineRecord::FromJson(nlohmann::json::array(), "t").status().message(), "t: not a JSON object");
}

TEST_F(LineageTest, ProductionIsTheNewestTimelineRecordedAsProductionNeverARestoreByHand) {
  Lineage lineage(repo_.get());
  EXPECT_EQ(*lineage.ProductionTimeline(1), 1u);  // nothing recorded: the snapshots' timeline
  EXPECT_EQ(*lineage.ProductionTimeline(2), 2u);
  ASSERT_TRUE(lineage.MarkProduction(1, TimelineOrigin::kProduction, "", "").ok());
  PutWal("00000002.history", "1\t0/3000000\tno recovery target specified\n");
  PutWal("00000003.history", "1\t0/3000000\tno recovery target specified\n2\t0/5000060\tat restore point\n");
  // A restore archiving by hand forks timeline 2: recorded, but production stays on 1.
  ASSERT_TRUE(lineage.MarkNotProduction(2, TimelineOrigin::kRestore, "by-hand").ok());
  EXPECT_EQ(*lineage.ProductionTimeline(1), 1u);
  // A cutover makes timeline 3 production, forked from 2 at 0/5000060 (from its history file).
  ASSERT_TRUE(lineage.MarkProduction(3, TimelineOrigin::kRecovery, "restore-x", "recover-x").ok());
  EXPECT_EQ(*lineage.ProductionTimeline(1), 3u);
  std::optional<TimelineRecord> three = *lineage.Find(3);
  ASSERT_TRUE(three);
  EXPECT_EQ(three->parent, 2u);
  EXPECT_EQ(three->fork_lsn, 0x5000060u);
  EXPECT_EQ(three->origin, TimelineOrigin::kRecovery);
  EXPECT_EQ(three->instance, "restore-x");
  EXPECT_FALSE(three->production_since.empty());
  std::optional<TimelineRecord> two = *lineage.Find(2);
  EXPECT_FALSE(two->production);
  EXPECT_EQ(two->origin, TimelineOrigin::kRestore);
  // Marking again changes nothing; a reverted cutover takes timeline 3 out again.
  ASSERT_TRUE(lineage.MarkProduction(3, TimelineOrigin::kProduction, "", "").ok());
  EXPECT_EQ((*lineage.Find(3))->origin, TimelineOrigin::kRecovery);
  ASSERT_TRUE(lineage.Unmark(3).ok());
  EXPECT_EQ(*lineage.ProductionTimeline(1), 1u);
  EXPECT_EQ(lineage.List()->size(), 3u);
}

TEST_F(LineageTest, WalAlongATimelineStopsAtEachForkAndRefusesOtherTimelines) {
  // Timeline 2 left timeline 1 at 0/3000100, inside segment 3.
  PutWal("00000002.history", "1\t0/3000100\tno recovery target specified\n");
  Bytes seg(kDefaultSegmentSize, 0xab);
  PutWal("000000010000000000000002", seg);
  PutWal("000000010000000000000003", seg);
  PutWal("000000010000000000000004", seg);
  PutWal("000000020000000000000003", seg);
  // Before the fork: served as it is.
  EXPECT_EQ(*FetchAlongTimeline(*repo_, "000000010000000000000002", 2), seg);
  // The segment of the fork: timeline 1's WAL up to the fork point, zeros after.
  Bytes forked = *FetchAlongTimeline(*repo_, "000000010000000000000003", 2);
  ASSERT_EQ(forked.size(), seg.size());
  EXPECT_EQ(forked[0xff], 0xab);
  EXPECT_EQ(forked[0x100], 0);
  EXPECT_EQ(forked.back(), 0);
  // After the fork: refused, though it is in the repository.
  Result<Bytes> after = FetchAlongTimeline(*repo_, "000000010000000000000004", 2);
  EXPECT_EQ(after.status().code(), Code::kNotFound);
  EXPECT_EQ(after.status().message(),
            "WAL file '000000010000000000000004' lies after timeline 1 forked at 0/3000100: recovery "
            "along timeline 2 never replays it");
  // Timeline 2's own segments and history files are served; another timeline's are not.
  EXPECT_EQ(*FetchAlongTimeline(*repo_, "000000020000000000000003", 2), seg);
  EXPECT_TRUE(FetchAlongTimeline(*repo_, "00000002.history", 2).ok());
  PutWal("000000030000000000000003", seg);
  EXPECT_EQ(FetchAlongTimeline(*repo_, "000000030000000000000003", 2).status().message(),
            "WAL file '000000030000000000000003' is not on the history of timeline 2: recovery along "
            "timeline 2 never replays it");
  // Along timeline 1 (no fork), and without a timeline, everything is served.
  EXPECT_EQ(*FetchAlongTimeline(*repo_, "000000010000000000000004", 1), seg);
  EXPECT_EQ(*FetchAlongTimeline(*repo_, "000000010000000000000004", 0), seg);
}

}  // namespace
}  // namespace lifeboat::pg
