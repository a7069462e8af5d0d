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

#include "pg/page_check.h"

namespace lifeboat::pg {
namespace {

TEST(PageCheckTest, RecognisesRelationFilesAndTheirBlockNumbers) {
  uint64_t b = 99;
  EXPECT_TRUE(RelationFileFirstBlock("data/base/5/16384", &b));
  EXPECT_EQ(b, 0u);
  EXPECT_TRUE(RelationFileFirstBlock("data/base/5/16384.2", &b));
  EXPECT_EQ(b, 2 * kPagesPerSegment);
  EXPECT_TRUE(RelationFileFirstBlock("data/global/1262_fsm", &b));
  EXPECT_TRUE(RelationFileFirstBlock("data/base/5/16384_vm.1", &b));
  EXPECT_EQ(b, kPagesPerSegment);
  EXPECT_TRUE(RelationFileFirstBlock("tablespaces/16390/PG_15_202209061/5/16391", &b));
  EXPECT_FALSE(RelationFileFirstBlock("data/base/5/pg_filenode.map", &b));
  EXPECT_FALSE(RelationFileFirstBlock("data/base/5/PG_VERSION", &b));
  EXPECT_FALSE(RelationFileFirstBlock("data/pg_xact/0000", &b));
  EXPECT_FALSE(RelationFileFirstBlock("data/base/5/16384.", &b));
  EXPECT_FALSE(RelationFileFirstBlock("data/base/5/16384_xyz", &b));
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
