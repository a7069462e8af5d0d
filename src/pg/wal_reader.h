// Reads WAL records from segment bytes as PostgreSQL 15 writes them (layouts from the server's
// access/xlog_internal.h and access/xlogrecord.h): page headers, records split across pages,
// and each record's block references. What an incremental backup needs from the WAL, without
// running pg_waldump and parsing its text (which cost more than the rest of an incremental).
//
// Every record is checked the way PostgreSQL's reader checks it: each page's header (magic,
// address, continuation length), the chain of xl_prev links, the record's CRC-32C, and block
// headers that add up to the record's length. Any mismatch is an error, never a guess.
//
// Thread safety: a WalReader is used by one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "pg/wal.h"

namespace lifeboat::pg {

// Resource managers whose records matter to a block scan (access/rmgrlist.h).
inline constexpr uint8_t kRmgrXlog = 0;
inline constexpr uint8_t kRmgrTransaction = 1;
inline constexpr uint8_t kRmgrStorage = 2;
inline constexpr uint8_t kRmgrDatabase = 4;
inline constexpr uint8_t kRmgrTablespace = 5;

struct WalBlockRef {
  uint32_t tablespace = 0;
  uint32_t database = 0;
  uint32_t relfilenode = 0;
  uint8_t fork = 0;  // 0 main, 1 fsm, 2 vm, 3 init
  uint32_t block = 0;
};

struct WalRecord {
  Lsn lsn = 0;
  uint8_t rmgr = 0;
  uint8_t info = 0;             // xl_info: the resource manager's bits are the high four
  std::vector<WalBlockRef> blocks;
  ByteSpan main_data;           // valid during the visit only
};

class WalReader {
 public:
  // The bytes of segment number `segno` of the reader's timeline (exactly segment_size).
  using SegmentSource = std::function<Result<Bytes>(uint64_t segno)>;

  WalReader(SegmentSource source, uint64_t segment_size, uint64_t page_size = 8192)
      : source_(std::move(source)), segment_size_(segment_size), page_size_(page_size) {}

  // Visits every record that starts at or after `from` (a record's start) and before `to`,
  // in order, and checks that the last one leads exactly to `to`. A visitor's error stops the
  // read and is returned.
  using Visit = std::function<Status(const WalRecord&)>;
  Status Read(Lsn from, Lsn to, const Visit& visit);

  // Visits the records that start in segment `segno` and end in it, as pg_waldump does given
  // one file: from the first record after the end of one continued from the segment before,
  // until the end of the segment or of the WAL written into it (a zero length, a page left
  // from the file's earlier use, a record that fails its CRC or goes on into the next
  // segment). A segment that cannot be had, or whose first page is bad, is an error; so is a
  // visitor's error.
  Status ReadSegment(uint64_t segno, const Visit& visit);

 private:
  // The page starting at `page` (a multiple of the page size), its header checked.
  Result<const uint8_t*> Page(Lsn page);
  Status CheckPageHeader(Lsn page, const uint8_t* p);
  size_t HeaderSize(Lsn page) const;
  // Appends to `out` (unless null) the `n` bytes of the record being read that follow `*at`,
  // crossing pages (whose headers must announce `*left` bytes of the record still to come);
  // advances `*at`.
  Status Copy(Lsn* at, size_t n, uint64_t* left, Bytes* out);
  // Read's loop: visits records from `from` until `to`; a visitor's error goes to
  // `*visit_error`, and `*end` is where the last record visited ended.
  Status Scan(Lsn from, Lsn to, const Visit& visit, Status* visit_error, Lsn* end);
  Status Decode(Lsn lsn, ByteSpan record, WalRecord* out);

  SegmentSource source_;
  uint64_t segment_size_;
  uint64_t page_size_;
  uint64_t loaded_segno_ = UINT64_MAX;
  Bytes segment_;
};

// CRC-32C (Castagnoli), as PostgreSQL computes it: `crc` starts at ~0 and is finished with ~.
uint32_t Crc32cUpdate(uint32_t crc, ByteSpan data);

}  // namespace lifeboat::pg
