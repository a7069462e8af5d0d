// lifeboat's own WAL reader against pg_waldump on the same WAL of a real cluster: the block
// references an incremental backup takes from the WAL must be exactly those PostgreSQL's own
// tool reports, for records of every shape (page images, records spanning pages, a segment
// switch, relations created and truncated).
#include <gtest/gtest.h>

#include <cstring>

#include "base/fs.h"
#include "base/time.h"
#include "pg/block_changes.h"
#include "pg/wal_reader.h"
#include "pg/window.h"
#include "pg_harness.h"
#include "storage/local/local_backend.h"

namespace lifeboat::testing {
namespace {

using pg::ChangedBlocks;
using pg::Lsn;

class WalReaderTest : public PgTest {
 protected:
  std::unique_ptr<Repository> OpenRepository() {
    Result<std::unique_ptr<Repository>> r =
        Repository::Open(std::make_shared<LocalBackend>(repo()), "test passphrase", {});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }
  Lsn CheckpointRedo() {
    Sql("CHECKPOINT");
    return *pg::ParseLsn(SqlValue("SELECT redo_lsn FROM pg_control_checkpoint()"));
  }
  pg::ClusterConfig Cluster() {
    pg::ClusterConfig c;
    c.data_dir = Path("main");
    return c;
  }
};

TEST_F(WalReaderTest, FindsExactlyTheBlockReferencesPgWaldumpReports) {
  Sql("CREATE TABLE accounts (id int PRIMARY KEY, balance int, note text)");
  Sql("INSERT INTO accounts SELECT g, 0, md5(g::text) FROM generate_series(1, 20000) g");
  Sql("CREATE TABLE doomed (v text)");
  Sql("INSERT INTO doomed SELECT md5(g::text) FROM generate_series(1, 3000) g");
  Lsn from = CheckpointRedo();

  // After the checkpoint every first change of a page carries its image (records of 8 KiB and
  // more, across pages); a logical message of 100 kB spans a dozen pages; a switch leaves the
  // rest of its segment unused; TRUNCATE and CREATE write Storage records.
  Sql("UPDATE accounts SET balance = balance + 1 WHERE id % 7 = 0");
  Sql("SELECT pg_logical_emit_message(false, 'lifeboat', repeat('x', 100000))");
  Sql("SELECT pg_switch_wal()");
  Sql("TRUNCATE doomed");
  Sql("CREATE TABLE fresh AS SELECT g AS id FROM generate_series(1, 5000) g");
  Sql("CREATE INDEX ON fresh (id)");
  Sql("DELETE FROM accounts WHERE id BETWEEN 100 AND 400");
  Sql("VACUUM accounts");
  Lsn to = CheckpointRedo();
  SwitchWalAndWaitArchived();

  std::unique_ptr<Repository> repo = OpenRepository();
  ASSERT_NE(repo, nullptr);
  pg::BlockScanRange range{1, from, to};
  Result<ChangedBlocks> native = pg::ScanChangedBlocks(*repo, Cluster(), range);
  ASSERT_TRUE(native.ok()) << native.status().ToString();

  // pg_waldump reads on to the end of the WAL: keep the records before `to`.
  std::string dump;
  RunAsPostgres({std::string(kPgBin) + "/pg_waldump", "-p", Path("main/pg_wal"), "-s",
                 pg::FormatLsn(from)},
                &dump);
  std::string before_to;
  size_t kept = 0;
  for (size_t at = 0; at < dump.size();) {
    size_t eol = dump.find('\n', at);
    if (eol == std::string::npos) eol = dump.size();
    std::string line = dump.substr(at, eol - at);
    at = eol + 1;
    size_t lsn_at = line.find(", lsn: ");
    if (line.rfind("rmgr: ", 0) != 0 || lsn_at == std::string::npos) continue;
    std::string lsn = line.substr(lsn_at + 7, line.find(',', lsn_at + 7) - lsn_at - 7);
    if (*pg::ParseLsn(lsn) >= to) continue;
    before_to += line + "\n";
    ++kept;
  }
  Result<ChangedBlocks> reference = ChangedBlocks::FromWaldumpOutput(before_to, 8192, 131072);
  ASSERT_TRUE(reference.ok()) << reference.status().ToString();

  EXPECT_EQ(native->records(), kept);
  EXPECT_EQ(native->block_refs(), reference->block_refs());
  EXPECT_EQ(native->blocks(), reference->blocks());
  EXPECT_GT(native->blocks(), 100u);
  EXPECT_TRUE(native->SameChanges(*reference));
  // The truncated relation is read whole, as is the new one.
  std::string doomed = SqlValue("SELECT pg_relation_filepath('doomed')");
  std::string fresh = SqlValue("SELECT pg_relation_filepath('fresh')");
  EXPECT_EQ(native->ChangedChunks("data/" + doomed, 1, 1 << 20), std::nullopt);
  EXPECT_EQ(native->ChangedChunks("data/" + fresh, 1, 1 << 20), std::nullopt);
  std::optional<std::vector<bool>> accounts =
      native->ChangedChunks("data/" + SqlValue("SELECT pg_relation_filepath('accounts')"), 2, 1 << 20);
  ASSERT_TRUE(accounts.has_value());
  EXPECT_EQ(*accounts, std::vector<bool>({true, true}));
}

TEST_F(WalReaderTest, ADamagedRecordOrAMissingSegmentIsAnErrorNotAGuess) {
  Sql("CREATE TABLE t (v text)");
  Sql("SELECT pg_switch_wal()");  // the range then starts near a segment's start
  Lsn from = CheckpointRedo();
  Sql("INSERT INTO t SELECT md5(g::text) FROM generate_series(1, 1000) g");
  Lsn to = CheckpointRedo();
  std::string name = SqlValue("SELECT pg_walfile_name('" + pg::FormatLsn(from) + "')");
  Result<Bytes> segment = ReadFile(Path("main/pg_wal/" + name));
  ASSERT_TRUE(segment.ok());
  const uint64_t seg_size = 16 << 20;

  auto read = [&](Bytes bytes) {
    pg::WalReader reader([&](uint64_t) -> Result<Bytes> { return bytes; }, seg_size);
    return reader.Read(from, to, [](const pg::WalRecord&) { return Status::Ok(); });
  };
  ASSERT_EQ(from / seg_size, to / seg_size) << "the range should stay in one segment";
  EXPECT_TRUE(read(*segment).ok());

  Bytes flipped = *segment;
  flipped[from % seg_size + 30] ^= 0x20;  // inside the first record, past its header
  Status s = read(flipped);
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_EQ(s.message(), "WAL record at " + pg::FormatLsn(from) + " fails its CRC");

  Bytes moved = *segment;
  Lsn page = (from / 8192 + 1) * 8192;  // the next page claims to be another
  moved[page % seg_size + 8] ^= 0x01;
  s = read(moved);
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_EQ(s.message().rfind("WAL page at " + pg::FormatLsn(page) + " has a header for another page", 0),
            0u)
      << s.message();

  // A range that does not end where a record starts.
  pg::WalReader reader([&](uint64_t) -> Result<Bytes> { return *segment; }, seg_size);
  s = reader.Read(from, to + 8, [](const pg::WalRecord&) { return Status::Ok(); });
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_EQ(s.message().rfind("the WAL from " + pg::FormatLsn(from) + " does not lead to " +
                                  pg::FormatLsn(to + 8) + ": a record ends at ",
                              0),
            0u)
      << s.message();

  // A segment the source cannot give.
  pg::WalReader lost([](uint64_t) -> Result<Bytes> { return Status::NotFound("gone"); }, seg_size);
  s = lost.Read(from, to, [](const pg::WalRecord&) { return Status::Ok(); });
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "gone");
}

// The newest "desc: COMMIT <time> UTC" (or COMMIT_PREPARED) pg_waldump prints for one file.
std::optional<UnixNanos> NewestCommitByPgWaldump(const std::string& path) {
  std::string dump;
  RunAsPostgres({std::string(kPgBin) + "/pg_waldump", "-r", "Transaction", path}, &dump);
  std::optional<UnixNanos> newest;
  for (size_t pos = 0; (pos = dump.find("desc: COMMIT", pos)) != std::string::npos;) {
    size_t start = dump.find(' ', pos + 6) + 1;
    size_t utc = dump.find(" UTC", start);
    Result<UnixNanos> t = ParseTimestamp(dump.substr(start, utc + 4 - start));
    EXPECT_TRUE(t.ok()) << dump.substr(start, 40);
    if (t.ok() && (!newest || *t > *newest)) newest = *t;
    pos = start;
  }
  return newest;
}

TEST_F(WalReaderTest, TheNewestCommitInASegmentIsTheOnePgWaldumpFinds) {
  Sql("CREATE TABLE t (v int)");
  Sql("SELECT pg_switch_wal()");
  auto segment_now = [&] { return SqlValue("SELECT pg_walfile_name(pg_current_wal_insert_lsn())"); };
  std::string first = segment_now();
  UnixNanos before_first = NowNanos();
  Sql("INSERT INTO t VALUES (1)");
  // A 40 MB record: the segment after `first` holds only its middle, and the one where it ends
  // starts with the rest of it.
  Sql("SELECT pg_logical_emit_message(false, 'lifeboat', repeat('x', 40000000))");
  std::string last = segment_now();
  UnixNanos before_last = NowNanos();
  Sql("INSERT INTO t VALUES (2)");
  UnixNanos after_last = NowNanos();
  SwitchWalAndWaitArchived();

  pg::SegmentName a, b;
  const uint64_t seg_size = 16 << 20;
  ASSERT_TRUE(pg::ParseSegmentName(first, seg_size, &a));
  ASSERT_TRUE(pg::ParseSegmentName(last, seg_size, &b));
  ASSERT_GE(b.segno, a.segno + 2);
  std::string middle = pg::FormatSegmentName(a.timeline, a.segno + 1, seg_size);

  std::unique_ptr<Repository> repo = OpenRepository();
  ASSERT_NE(repo, nullptr);
  for (const std::string& name : {first, middle, last}) {
    Result<std::optional<UnixNanos>> native = pg::NewestCommitIn(*repo, name, seg_size);
    ASSERT_TRUE(native.ok()) << name << ": " << native.status().ToString();
    EXPECT_EQ(*native, NewestCommitByPgWaldump(Path("main/pg_wal/" + name))) << name;
  }
  std::optional<UnixNanos> in_first = *pg::NewestCommitIn(*repo, first, seg_size);
  std::optional<UnixNanos> in_middle = *pg::NewestCommitIn(*repo, middle, seg_size);
  std::optional<UnixNanos> in_last = *pg::NewestCommitIn(*repo, last, seg_size);
  ASSERT_TRUE(in_first.has_value());
  EXPECT_GE(*in_first, before_first);  // the first INSERT's commit, or a later one
  EXPECT_LE(*in_first, before_last);
  EXPECT_EQ(in_middle, std::nullopt);  // inside one record: no commit starts there
  ASSERT_TRUE(in_last.has_value());
  EXPECT_GE(*in_last, before_last);
  EXPECT_LE(*in_last, after_last + int64_t{5'000'000'000});  // autovacuum may commit after it

  Result<std::optional<UnixNanos>> missing =
      pg::NewestCommitIn(*repo, pg::FormatSegmentName(b.timeline, b.segno + 50, seg_size), seg_size);
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace lifeboat::testing
