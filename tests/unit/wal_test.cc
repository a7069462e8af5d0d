#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "pg/wal.h"
#include "storage/memory/memory_backend.h"

namespace lifeboat::pg {
namespace {

TEST(LsnTest, ParsesAndFormats) {
  EXPECT_EQ(*ParseLsn("16/B374D848"), 0x16B374D848u);
  EXPECT_EQ(*ParseLsn("0/3000028"), 0x3000028u);
  EXPECT_EQ(FormatLsn(0x16B374D848u), "16/B374D848");
  EXPECT_EQ(FormatLsn(0), "0/0");
  for (const char* bad : {"", "/", "16", "16/", "/1", "G/1", "123456789/0", "1/2/3"}) {
    Result<Lsn> r = ParseLsn(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  EXPECT_EQ(ParseLsn("x/1").status().message(), "invalid LSN 'x/1'");
}

TEST(SegmentNameTest, RoundTripsAndRecognisesArchiveFiles) {
  SegmentName sn;
  ASSERT_TRUE(ParseSegmentName("000000020000000A000000FF", kDefaultSegmentSize, &sn));
  EXPECT_EQ(sn.timeline, 2u);
  EXPECT_EQ(sn.segno, 0xAu * 256 + 0xFF);
  EXPECT_EQ(FormatSegmentName(2, sn.segno, kDefaultSegmentSize), "000000020000000A000000FF");
  EXPECT_EQ(FormatSegmentName(1, 0x3000028 / kDefaultSegmentSize, kDefaultSegmentSize),
            "000000010000000000000003");
  EXPECT_FALSE(ParseSegmentName("000000010000000000000100", kDefaultSegmentSize, &sn));
  EXPECT_FALSE(ParseSegmentName("00000002.history", kDefaultSegmentSize, &sn));
  EXPECT_TRUE(IsWalFileName("00000002.history"));
  EXPECT_TRUE(IsWalFileName("000000010000000000000003.partial"));
  EXPECT_TRUE(IsWalFileName("000000010000000000000002.00000028.backup"));
  EXPECT_FALSE(IsWalFileName("000000010000000000000003.tmp"));
  EXPECT_FALSE(IsWalFileName("../../etc/passwd"));
  EXPECT_FALSE(IsWalFileName("00000001000000000000000g"));
}

Bytes FakeSegment(uint64_t sysid, uint8_t fill) {
  Bytes seg(8192, fill);
  seg[0] = 0x10;  // xlp_magic 0xD110 (PostgreSQL 15)
  seg[1] = 0xD1;
  seg[2] = 0x02;  // xlp_info: XLP_LONG_HEADER
  seg[3] = 0x00;
  for (int i = 0; i < 8; ++i) seg[24 + static_cast<size_t>(i)] = static_cast<uint8_t>(sysid >> (8 * i));
  return seg;
}

class WalArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = std::make_shared<MemoryBackend>();
    ASSERT_TRUE(Repository::Init(*backend_, "pw", {.n = 1024, .r = 8, .p = 1}).ok());
    repo_ = std::move(Repository::Open(backend_, "pw").value());
    char tmpl[] = "/tmp/lifeboat-wal-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const Bytes& b) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()),
                                             static_cast<std::streamsize>(b.size()));
    return p;
  }

  std::shared_ptr<MemoryBackend> backend_;
  std::unique_ptr<Repository> repo_;
  std::string dir_;
};

TEST_F(WalArchiveTest, PushThenGetRoundTripsAndBindsTheCluster) {
  WalArchive archive(repo_.get());
  Bytes seg = FakeSegment(7001, 0xab);
  ASSERT_TRUE(archive.Push(Write("000000010000000000000001", seg)).ok());
  EXPECT_EQ(**archive.ClusterIdentity(), 7001u);
  ASSERT_TRUE(archive.Get("000000010000000000000001", dir_ + "/out").ok());
  std::ifstream in(dir_ + "/out", std::ios::binary);
  Bytes back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(back, seg);
  Status missing = archive.Get("000000010000000000000002", dir_ + "/x");
  EXPECT_EQ(missing.code(), Code::kNotFound);
  EXPECT_EQ(missing.message(), "WAL file '000000010000000000000002' is not in the repository");
}

TEST_F(WalArchiveTest, RepeatedPushOfIdenticalContentSucceedsDifferentContentFails) {
  WalArchive archive(repo_.get());
  ASSERT_TRUE(archive.Push(Write("000000010000000000000001", FakeSegment(7001, 1))).ok());
  EXPECT_TRUE(archive.Push(Write("000000010000000000000001", FakeSegment(7001, 1))).ok());
  Status s = archive.Push(Write("000000010000000000000001", FakeSegment(7001, 2)));
  EXPECT_EQ(s.code(), Code::kIO);
  EXPECT_EQ(s.message(), "cannot archive '000000010000000000000001': a different file of that name "
                         "is already archived");
}

TEST_F(WalArchiveTest, AnotherClustersWalIsRefused) {
  WalArchive archive(repo_.get());
  ASSERT_TRUE(archive.Push(Write("000000010000000000000001", FakeSegment(7001, 1))).ok());
  Status s = archive.Push(Write("000000010000000000000002", FakeSegment(9999, 1)));
  EXPECT_EQ(s.message(), "cannot archive '000000010000000000000002': this repository belongs to "
                         "the cluster with system identifier 7001, not 9999");
  EXPECT_EQ(ExitCodeFor(s), 1);
  Status garbage = archive.Push(Write("000000010000000000000003", Bytes(100, 0)));
  EXPECT_EQ(garbage.message(), "cannot archive '000000010000000000000003': not a WAL segment (no long page header)");
  EXPECT_EQ(archive.Push(Write("notwal", Bytes(10, 0))).message(),
            "cannot archive 'notwal': not a WAL file name");
}

TEST_F(WalArchiveTest, APartialSegmentIsExtendedByItsContiguousDeltasAndPadded) {
  const std::string seg = "000000010000000000000009";
  ASSERT_TRUE(repo_->PutNamed("wal", seg + ".partial", AsBytes("AAAA")).ok());
  ASSERT_TRUE(repo_->PutNamed("wal", seg + ".partial.00000004", AsBytes("BBBB")).ok());
  ASSERT_TRUE(repo_->PutNamed("wal", seg + ".partial.00000008", AsBytes("CC")).ok());
  ASSERT_TRUE(repo_->PutNamed("wal", seg + ".partial.00000002", AsBytes("zz")).ok());  // covered
  ASSERT_TRUE(repo_->PutNamed("wal", seg + ".partial.00000020", AsBytes("yy")).ok());  // not contiguous
  WalArchive archive(repo_.get());
  ASSERT_TRUE(archive.Get(seg, dir_ + "/out").ok());
  std::ifstream in(dir_ + "/out", std::ios::binary);
  Bytes got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(got.size(), kDefaultSegmentSize);
  EXPECT_EQ(std::string(got.begin(), got.begin() + 10), "AAAABBBBCC");
  EXPECT_EQ(got[10], 0);
  EXPECT_EQ(got[0x20], 0);
}

TEST_F(WalArchiveTest, ANamedObjectMovedUnderAnotherNameIsDetected) {
  WalArchive archive(repo_.get());
  ASSERT_TRUE(archive.Push(Write("000000010000000000000001", FakeSegment(7001, 1))).ok());
  ASSERT_TRUE(archive.Push(Write("000000010000000000000002", FakeSegment(7001, 2))).ok());
  Bytes one = *backend_->Get("named/wal/000000010000000000000001");
  ASSERT_TRUE(backend_->Put("named/wal/000000010000000000000002", one).ok());
  Status s = archive.Get("000000010000000000000002", dir_ + "/x");
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_EQ(s.message(), "'named/wal/000000010000000000000002' is damaged: it holds another object");
}

}  // namespace
}  // namespace lifeboat::pg

#include "pg/block_changes.h"
#include "pg/page_check.h"

namespace lifeboat::pg {
namespace {

TEST(PageCheckTest, RecognisesRelationFilesTheirForksAndSegments) {
  auto parsed = [](const std::string& path) {
    std::optional<RelationFile> f = ParseRelationFile(path);
    if (!f) return std::string("none");
    return std::to_string(f->database) + "/" + std::to_string(f->relfilenode) + " fork '" +
           f->fork + "' segment " + std::to_string(f->segment);
  };
  EXPECT_EQ(parsed("data/base/5/16384"), "5/16384 fork '' segment 0");
  EXPECT_EQ(parsed("data/base/5/16384.2"), "5/16384 fork '' segment 2");
  EXPECT_EQ(parsed("data/global/1262_fsm"), "0/1262 fork 'fsm' segment 0");
  EXPECT_EQ(parsed("data/base/5/16384_vm.1"), "5/16384 fork 'vm' segment 1");
  EXPECT_EQ(parsed("data/base/5/16384_init"), "5/16384 fork 'init' segment 0");
  EXPECT_EQ(parsed("tablespaces/16390/PG_15_202209061/5/16391"), "5/16391 fork '' segment 0");
  EXPECT_EQ(parsed("data/pg_tblspc/16390/PG_15_202209061/7/16392.3"), "7/16392 fork '' segment 3");
  EXPECT_EQ(parsed("data/base/5/pg_filenode.map"), "none");
  EXPECT_EQ(parsed("data/base/5/PG_VERSION"), "none");
  EXPECT_EQ(parsed("data/pg_xact/0000"), "none");
  EXPECT_EQ(parsed("data/base/5/16384."), "none");
  EXPECT_EQ(parsed("data/base/5/16384_xyz"), "none");
  EXPECT_EQ(parsed("data/base/x/16384"), "none");
  EXPECT_EQ(parsed("data/base/5/99999999999"), "none");
}

TEST(ChangedBlocksTest, MapsBlockReferencesToTheChunksOfEachSegmentFile) {
  // Lines as pg_waldump 15 prints them; 8 KiB blocks, 128 per 1 MiB chunk.
  const char* dump =
      "rmgr: Heap        len (rec/tot):     59/    59, tx:        7, lsn: 0/0155E1B8, prev "
      "0/0155E180, desc: UPDATE off 3 xmax 7 ; new off 4 xmax 0, blkref #0: rel 1663/5/16384 blk "
      "300, blkref #1: rel 1663/5/16384 blk 2\n"
      "rmgr: Heap2       len (rec/tot):     64/  8256, tx:        0, lsn: 0/0155E200, prev "
      "0/0155E1B8, desc: VISIBLE cutoff xid 7 flags 0x01, blkref #0: rel 1663/5/16384 fork vm blk "
      "0 FPW, blkref #1: rel 1663/5/16384 blk 131073 FPW\n"
      "rmgr: Btree       len (rec/tot):     64/    64, tx:        8, lsn: 0/0155F000, prev "
      "0/0155E200, desc: INSERT_LEAF off 121, blkref #0: rel 1663/5/16390 blk 10\n"
      "rmgr: Storage     len (rec/tot):     42/    42, tx:        9, lsn: 0/01560000, prev "
      "0/0155F000, desc: CREATE base/5/16400\n"
      "rmgr: Storage     len (rec/tot):     46/    46, tx:        9, lsn: 0/01560030, prev "
      "0/01560000, desc: TRUNCATE pg_tblspc/16385/PG_15_202209061/7/16401 to 0 blocks flags 7\n"
      "rmgr: Transaction len (rec/tot):     34/    34, tx:        9, lsn: 0/01560060, prev "
      "0/01560030, desc: COMMIT 2026-11-29 10:00:11.652877 UTC\n";
  Result<ChangedBlocks> c = ChangedBlocks::FromWaldumpOutput(dump, 8192, 131072);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->records(), 6u);
  EXPECT_EQ(c->block_refs(), 5u);
  EXPECT_EQ(c->blocks(), 4u);  // 16384: 2, 300, 131073; 16390: 10 (the vm fork is not counted)
  auto chunks = [&](const std::string& path, uint64_t n) {
    std::optional<std::vector<bool>> v = c->ChangedChunks(path, n, 1 << 20);
    if (!v) return std::string("whole");
    std::string out;
    for (bool b : *v) out += b ? '1' : '0';
    return out;
  };
  EXPECT_EQ(chunks("data/base/5/16384", 4), "1010");  // blocks 2 and 300
  EXPECT_EQ(chunks("data/base/5/16384.1", 2), "10");  // block 131073 is block 1 of segment 1
  EXPECT_EQ(chunks("tablespaces/16385/PG_15_202209061/5/16390", 1), "1");
  EXPECT_EQ(chunks("data/base/5/16391", 3), "000");   // not in the WAL: nothing changed
  EXPECT_EQ(chunks("data/base/5/16384_vm", 1), "whole");
  EXPECT_EQ(chunks("data/base/5/16384_fsm", 1), "whole");
  EXPECT_EQ(chunks("data/base/5/16400", 2), "whole");  // created in the range
  EXPECT_EQ(chunks("tablespaces/16385/PG_15_202209061/7/16401", 2), "whole");  // truncated
  EXPECT_EQ(chunks("data/base/5/pg_filenode.map", 1), "whole");
}

TEST(ChangedBlocksTest, RecordsThatChangeFilesWithoutNamingBlocksAreRefused) {
  Result<ChangedBlocks> c = ChangedBlocks::FromWaldumpOutput(
      "rmgr: Database    len (rec/tot):     42/    42, tx:      740, lsn: 0/09000060, prev "
      "0/09000028, desc: CREATE_WAL_LOG create dir 1663/16413\n",
      8192, 131072);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "the WAL holds a Database record (CREATE_WAL_LOG create dir 1663/16413), which changes "
            "files without naming their blocks");
  c = ChangedBlocks::FromWaldumpOutput(
      "rmgr: Heap len (rec/tot): 1/1, tx: 1, lsn: 0/1, prev 0/0, desc: X, blkref #0: rel 1663/x\n",
      8192, 131072);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "cannot read a block reference in 'Heap len (rec/tot): 1/1, tx: 1, lsn: 0/1, prev 0/0, "
            "desc: X, blkref #0: rel 1663/x'");
}

TEST(PageCheckTest, FlagsOnlyPagesWhoseChecksumDisagreesAndThatPredateTheBackup) {
  auto page_with = [](uint32_t lsn_lo, uint8_t fill) {
    Bytes p(kPageSize, fill);
    std::fill(p.begin(), p.begin() + 24, 0);
    p[4] = static_cast<uint8_t>(lsn_lo);
    p[14] = 0x00;  // pd_upper = 0x1000
    p[15] = 0x10;
    return p;
  };
  Bytes file;
  for (uint32_t block = 0; block < 3; ++block) {
    Bytes p = page_with(0x10, static_cast<uint8_t>(block + 1));
    uint16_t sum = PageChecksum(p.data(), block);
    p[8] = static_cast<uint8_t>(sum);
    p[9] = static_cast<uint8_t>(sum >> 8);
    file.insert(file.end(), p.begin(), p.end());
  }
  file[kPageSize + 5000] ^= 1;        // block 1 damaged
  Bytes fresh = page_with(0xF0, 7);  // written after the backup began: skipped
  file.insert(file.end(), fresh.begin(), fresh.end());
  file.insert(file.end(), kPageSize, 0);  // a new page: skipped

  PageChecker checker(/*backup_start=*/0x80);
  checker.Inspect("data/base/5/16384", 0, file);
  EXPECT_EQ(checker.pages_checked(), 3u);
  std::vector<BadPage> bad = checker.bad_pages();
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].file, "base/5/16384");
  EXPECT_EQ(bad[0].block, 1u);
  // The same page in a later segment has another block number, hence another checksum.
  PageChecker later(0x80);
  later.Inspect("data/base/5/16384.1", 0, ByteSpan(file).first(kPageSize));
  EXPECT_EQ(later.bad_pages().size(), 1u);
}

}  // namespace
}  // namespace lifeboat::pg
