// libFuzzer entry points for every decoder of bytes lifeboat did not just write itself. One
// source, one binary per target: FUZZ_TARGET selects the decoder at compile time.
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/time.h"
#include "config/config.h"
#include "pg/block_changes.h"
#include "pg/lineage.h"
#include "pg/page_check.h"
#include "pg/snapshot_meta.h"
#include "pg/stream.h"
#include "pg/wal.h"
#include "pg/wal_reader.h"
#include "repository/index.h"
#include "repository/key_file.h"
#include "repository/pack.h"
#include "repository/snapshot.h"
#include "verify/expectation.h"

using namespace lifeboat;

// A property that must hold for every input the decoder accepts; a violation stops the fuzzer
// like a crash, leaving the input in the artifacts.
#define CHECK(cond)                    \
  do {                                 \
    if (!(cond)) __builtin_trap();     \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in(data, size);
  std::string text(reinterpret_cast<const char*>(data), size);
#if FUZZ_TARGET == 1  // key files: plain JSON
  Result<KeyFile> kf = DecodeKeyFile(in);
  if (kf.ok()) {
    Result<KeyFile> again = DecodeKeyFile(EncodeKeyFile(*kf));
    CHECK(again.ok() && again->kdf == kf->kdf && again->salt == kf->salt &&
          again->wrapped == kf->wrapped);
  }
#elif FUZZ_TARGET == 2  // pack headers, under a fixed key (the header must also decrypt)
  Key256 key{};
  (void)ReadPackHeader(key, in);
#elif FUZZ_TARGET == 3  // index files (after decryption and decompression)
  Result<std::vector<IndexedPack>> packs = DecodeIndexFile(in);
  // Every accepted index re-encodes to exactly its input: nothing is dropped or invented.
  if (packs.ok()) CHECK(EncodeIndexFile(*packs) == Bytes(in.begin(), in.end()));
#elif FUZZ_TARGET == 4  // manifests (after decryption and decompression)
  Result<Snapshot> snap = DecodeSnapshot(in);
  if (snap.ok()) {
    Result<Snapshot> again = DecodeSnapshot(EncodeSnapshot(*snap));
    CHECK(again.ok() && again->entries.size() == snap->entries.size() &&
          again->logical_bytes == snap->logical_bytes);
  }
#elif FUZZ_TARGET == 5  // the config loader
  (void)ParseConfig(text, "/fuzz/lifeboat.toml");
#elif FUZZ_TARGET == 6  // times, durations, LSNs, WAL names and headers, expectations, pages
  (void)ParseTimestamp(text);
  (void)ParseDuration(text);
  Result<pg::Lsn> lsn = pg::ParseLsn(text);
  if (lsn.ok()) CHECK(*pg::ParseLsn(pg::FormatLsn(*lsn)) == *lsn);
  pg::SegmentName sn;
  if (pg::ParseSegmentName(text, pg::kDefaultSegmentSize, &sn)) {
    CHECK(pg::FormatSegmentName(sn.timeline, sn.segno, pg::kDefaultSegmentSize) == text);
  }
  (void)pg::IsWalFileName(text);
  (void)pg::ReadSystemIdentifier(in);
  (void)verify::ParseExpectation(text);
  (void)pg::ParseRelationFile(text);
  (void)pg::ChangedBlocks::FromWaldumpOutput(text, 8192, 131072);
  pg::PageChecker checker(~pg::Lsn{0});
  checker.Inspect("data/base/1/1", 0, in);
#elif FUZZ_TARGET == 7  // WAL: the input is segment 0 of a cluster with 64 KiB segments
  constexpr uint64_t kSegment = 1 << 16;
  Bytes segment(in.begin(), in.end());
  segment.resize(kSegment);
  pg::WalReader reader(
      [&](uint64_t segno) -> Result<Bytes> {
        if (segno != 0) return Status::NotFound("no such segment");
        return segment;
      },
      kSegment);
  uint64_t records = 0;
  Status s = reader.Read(40, 2 * kSegment, [&](const pg::WalRecord& r) {
    CHECK(r.lsn >= 40 && r.lsn < kSegment);
    ++records;
    return Status::Ok();
  });
  CHECK(!s.ok());  // the range runs past the only segment
  // As the window reads one segment: records start in it, and running out ends the scan.
  uint64_t in_segment = 0;
  s = reader.ReadSegment(0, [&](const pg::WalRecord& r) {
    CHECK(r.lsn >= 40 && r.lsn < kSegment);
    ++in_segment;
    return Status::Ok();
  });
  CHECK(s.ok() || s.code() == Code::kCorruption);  // only a bad first page is an error
#elif FUZZ_TARGET == 8  // typed records kept as JSON: timeline records, snapshot metadata, streamer state
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return 0;
  // Whatever a decoder accepts, it writes back as something it accepts again unchanged.
  Result<pg::TimelineRecord> tl = pg::TimelineRecord::FromJson(j, "fuzz");
  if (tl.ok()) {
    Result<pg::TimelineRecord> again = pg::TimelineRecord::FromJson(tl->ToJson(), "fuzz");
    CHECK(again.ok() && again->ToJson() == tl->ToJson());
  }
  Result<pg::PgSnapshotMeta> meta = pg::PgSnapshotMeta::FromJson(j, "fuzz");
  if (meta.ok()) {
    Result<pg::PgSnapshotMeta> again = pg::PgSnapshotMeta::FromJson(meta->ToJson(), "fuzz");
    CHECK(again.ok() && again->ToJson() == meta->ToJson());
  }
  Result<pg::StreamProgress> sp = pg::StreamProgress::FromJson(j, "fuzz");
  if (sp.ok()) {
    Result<pg::StreamProgress> again = pg::StreamProgress::FromJson(sp->ToJson(), "fuzz");
    CHECK(again.ok() && again->ToJson() == sp->ToJson());
  }
#endif
  return 0;
}
