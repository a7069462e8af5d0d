// The restore's WAL prefetch (pg/wal_prefetch.h) against an in-memory repository, through its
// real Unix socket: recovery's order along a timeline path (also across a switch, never into
// WAL of the timeline it left), segments waiting in the spool before they are asked for, the
// spool's bound, a missing file, and nothing left behind.
#include "pg/wal_prefetch.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "base/fs.h"
#include "pg/wal.h"
#include "storage/memory/memory_backend.h"

namespace lifeboat::pg {
namespace {

namespace fs = std::filesystem;

std::string Seg(uint32_t tli, uint64_t segno) { return FormatSegmentName(tli, segno, kDefaultSegmentSize); }

TEST(NextSegmentOnPathTest, FollowsTheTimelineAndCrossesAtItsSwitchPoint) {
  std::vector<TimelineStep> one = {{1, 0, UINT64_MAX}};
  EXPECT_EQ(NextSegmentOnPath(one, Seg(1, 2)), Seg(1, 3));
  EXPECT_EQ(NextSegmentOnPath(one, Seg(1, 0xFF)), Seg(1, 0x100));
  EXPECT_EQ(NextSegmentOnPath(one, Seg(2, 2)), "");  // not on the path
  EXPECT_EQ(NextSegmentOnPath(one, "00000002.history"), "");
  // Timeline 1 switched to 2 inside segment 3: PostgreSQL reads segment 3 from timeline 2
  // (timeline 1's copy only when 2's is missing, and goes on with 2's).
  std::vector<TimelineStep> inside = {{1, 0, 0x3000060}, {2, 0x3000060, UINT64_MAX}};
  EXPECT_EQ(NextSegmentOnPath(inside, Seg(1, 1)), Seg(1, 2));
  EXPECT_EQ(NextSegmentOnPath(inside, Seg(1, 2)), Seg(2, 3));
  EXPECT_EQ(NextSegmentOnPath(inside, Seg(1, 3)), Seg(2, 4));
  EXPECT_EQ(NextSegmentOnPath(inside, Seg(2, 3)), Seg(2, 4));
  EXPECT_EQ(NextSegmentOnPath(inside, Seg(1, 4)), "");  // the retired cluster's WAL after the fork
  // At a segment boundary: timeline 1 ends with segment 3, timeline 2 starts with 4.
  std::vector<TimelineStep> boundary = {{1, 0, 0x4000000}, {2, 0x4000000, UINT64_MAX}};
  EXPECT_EQ(NextSegmentOnPath(boundary, Seg(1, 3)), Seg(2, 4));
  EXPECT_EQ(NextSegmentOnPath(boundary, Seg(1, 4)), "");
}

class WalPrefetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lifeboat-prefetch-XXXXXX";
    dir_ = mkdtemp(tmpl);
    backend_ = std::make_shared<MemoryBackend>();
    ASSERT_TRUE(Repository::Init(*backend_, "pw", {.n = 1024, .r = 8, .p = 1}).ok());
    repo_ = std::move(Repository::Open(backend_, "pw").value());
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Archive(const std::string& name) {
    ASSERT_TRUE(repo_->PutNamed(kWalStream, name, AsBytes("wal of " + name)).ok());
  }
  std::unique_ptr<WalPrefetchServer> Serve(std::vector<TimelineStep> path, int segments_ahead) {
    WalPrefetchOptions o;
    o.spool_bytes = static_cast<uint64_t>(segments_ahead) * kDefaultSegmentSize;
    o.workers = 2;
    Result<std::unique_ptr<WalPrefetchServer>> s =
        WalPrefetchServer::Start(repo_.get(), std::move(path), socket(), spool(), o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }
  // What restore_command does: asks, and reads what landed at its destination.
  std::string Ask(const std::string& name, PrefetchReply want = PrefetchReply::kStored) {
    std::string dest = dir_ + "/RECOVERYXLOG", why;
    PrefetchReply r = AskPrefetchServer(socket(), name, dest, &why);
    EXPECT_EQ(r, want) << name << ": " << why;
    if (r != PrefetchReply::kStored) return why;
    std::string got = ReadWhole(dest);
    ::unlink(dest.c_str());
    return got;
  }
  static std::string ReadWhole(const std::string& path) {
    Result<Bytes> b = ReadFile(path);
    return b.ok() ? std::string(b->begin(), b->end()) : "";
  }
  // The segments waiting in the spool, once the workers are done (the set stops changing).
  std::set<std::string> Spooled() {
    std::set<std::string> last;
    for (int stable = 0, i = 0; stable < 5 && i < 400; ++i) {
      std::set<std::string> now;
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(spool(), ec)) now.insert(e.path().filename());
      stable = now == last ? stable + 1 : 0;
      last = now;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return last;
  }
  std::string socket() const { return dir_ + "/wal.sock"; }
  std::string spool() const { return dir_ + "/wal-spool"; }

  std::string dir_;
  std::shared_ptr<MemoryBackend> backend_;
  std::unique_ptr<Repository> repo_;
};

TEST_F(WalPrefetchTest, SegmentsWaitInABoundedSpoolAndNothingIsLeftBehind) {
  for (uint64_t n = 1; n <= 10; ++n) Archive(Seg(1, n));
  std::unique_ptr<WalPrefetchServer> server = Serve({{1, 0, UINT64_MAX}}, 3);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(Ask(Seg(1, 1)), "wal of " + Seg(1, 1));
  EXPECT_EQ(Spooled(), (std::set<std::string>{Seg(1, 2), Seg(1, 3), Seg(1, 4)}));
  for (uint64_t n = 2; n <= 5; ++n) EXPECT_EQ(Ask(Seg(1, n)), "wal of " + Seg(1, n));
  EXPECT_EQ(Spooled(), (std::set<std::string>{Seg(1, 6), Seg(1, 7), Seg(1, 8)}));
  for (uint64_t n = 6; n <= 10; ++n) EXPECT_EQ(Ask(Seg(1, n)), "wal of " + Seg(1, n));
  // The end of the WAL: what PostgreSQL takes as the end of recovery.
  EXPECT_EQ(Ask(Seg(1, 11), PrefetchReply::kMissing), "WAL file '" + Seg(1, 11) + "' is not in the repository");
  EXPECT_EQ(Ask("00000002.history", PrefetchReply::kMissing), "WAL file '00000002.history' is not in the repository");
  WalPrefetchStats st = server->stats();
  EXPECT_EQ(st.requests, 12u);
  EXPECT_EQ(st.on_demand, 1u);  // the first
  EXPECT_EQ(st.from_spool, 9u);
  EXPECT_EQ(st.missing, 2u);
  server->Stop();
  server->Stop();
  EXPECT_FALSE(fs::exists(socket()));
  EXPECT_FALSE(fs::exists(spool()));
  // No server: restore_command fetches for itself.
  std::string why;
  EXPECT_EQ(AskPrefetchServer(socket(), Seg(1, 1), dir_ + "/x", &why), PrefetchReply::kNoServer);
}

TEST_F(WalPrefetchTest, ASwitchOfTimelineIsFollowedAndTheRetiredTimelinesWalNeverFetched) {
  // The retired cluster went on writing timeline 1 after the fork in segment 3.
  for (uint64_t n = 1; n <= 6; ++n) Archive(Seg(1, n));
  for (uint64_t n = 3; n <= 6; ++n) Archive(Seg(2, n));
  std::unique_ptr<WalPrefetchServer> server = Serve({{1, 0, 0x3000060}, {2, 0x3000060, UINT64_MAX}}, 3);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(Ask(Seg(1, 2)), "wal of " + Seg(1, 2));
  EXPECT_EQ(Spooled(), (std::set<std::string>{Seg(2, 3), Seg(2, 4), Seg(2, 5)}));
  EXPECT_EQ(Ask(Seg(2, 3)), "wal of " + Seg(2, 3));
  EXPECT_EQ(Spooled(), (std::set<std::string>{Seg(2, 4), Seg(2, 5), Seg(2, 6)}));
  // Timeline 1's copy of the switch segment is served when asked (on demand), its WAL after
  // the switch never: asking for either changes nothing in the spool.
  EXPECT_EQ(Ask(Seg(1, 3)), "wal of " + Seg(1, 3));
  EXPECT_EQ(Ask(Seg(1, 4), PrefetchReply::kMissing),
            "WAL file '" + Seg(1, 4) + "' lies after timeline 1 forked at 0/3000060: recovery along timeline 2 "
            "never replays it");
  EXPECT_EQ(Spooled(), (std::set<std::string>{Seg(2, 4), Seg(2, 5), Seg(2, 6)}));
  // The target is reached here: what was fetched ahead is discarded with the spool.
  server->Stop();
  EXPECT_EQ(server->stats().discarded, 3u);
  EXPECT_FALSE(fs::exists(spool()));
}

TEST_F(WalPrefetchTest, AGarbledRequestIsAnErrorAndAStaleSocketIsReplaced) {
  ASSERT_TRUE(WriteFileDurable(socket(), AsBytes("left by a server that died"), 0600).ok());
  std::unique_ptr<WalPrefetchServer> server = Serve({{1, 0, UINT64_MAX}}, 2);
  ASSERT_NE(server, nullptr);
  std::string why;
  EXPECT_EQ(AskPrefetchServer(socket(), "../../etc/passwd", dir_ + "/x", &why), PrefetchReply::kError);
  EXPECT_EQ(why, "'../../etc/passwd' is not a WAL file name");
  EXPECT_FALSE(fs::exists(dir_ + "/x"));
}

}  // namespace
}  // namespace lifeboat::pg
