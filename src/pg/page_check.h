// Verifies data page checksums while a backup reads the files, like PostgreSQL's
// pg_checksums but online: a page whose LSN is at or after the backup's start LSN may be
// mid-write and is skipped (WAL replay rewrites it); new (all-zero) pages have no checksum.
//
// Thread safety: Inspect() may be called from many threads at once.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "pg/wal.h"

namespace lifeboat::pg {

inline constexpr size_t kPageSize = 8192;
inline constexpr uint64_t kPagesPerSegment = 131072;  // 1 GiB relation segment files

struct BadPage {
  std::string file;  // relative to the data directory or tablespace, as in the snapshot
  uint64_t block = 0;
  uint16_t expected = 0;  // stored in the page
  uint16_t actual = 0;    // computed
};

// PostgreSQL's checksum of one 8 KiB page at block number `blkno`.
uint16_t PageChecksum(const uint8_t* page, uint32_t blkno);

class PageChecker {
 public:
  explicit PageChecker(Lsn backup_start) : start_(backup_start) {}

  // `path` is the snapshot path ("data/base/5/1259.1"); `offset` of `data` within the file.
  void Inspect(const std::string& path, uint64_t offset, ByteSpan data);

  std::vector<BadPage> bad_pages() const;
  uint64_t pages_checked() const;

 private:
  Lsn start_;
  mutable std::mutex mu_;
  std::vector<BadPage> bad_;
  uint64_t checked_ = 0;
};

}  // namespace lifeboat::pg
