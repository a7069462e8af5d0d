// Which blocks of which relations changed between two LSNs, from the WAL's block references:
// what makes an incremental backup cost what changed rather than what the files hold.
//
// PostgreSQL (wal_level replica or logical, which archiving needs) writes a WAL record that
// names every block of a permanent relation's main fork before it changes the block, so the
// records between the parent backup's start LSN and this backup's start LSN name every block
// the parent's copy may lack. The few records that change files without naming blocks are
// handled conservatively: relation create and truncate (Storage) make the relation count as
// changed everywhere; database and tablespace records (CREATE DATABASE, DROP TABLESPACE, ...)
// make the scan refuse, and the backup falls back to reading changed files whole. Why the rest
// of the argument holds: docs/architecture.md, "Incremental backups".
//
// Thread safety: a ChangedBlocks is immutable once returned; concurrent readers are safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/result.h"
#include "pg/cluster.h"
#include "pg/wal.h"
#include "pg/wal_reader.h"
#include "repository/repository.h"

namespace lifeboat::pg {

// A relation data file as it appears in a snapshot ("data/base/5/16384.2", "data/global/1262",
// "tablespaces/16390/PG_15_202209061/5/16400_vm").
struct RelationFile {
  uint32_t database = 0;  // 0 for global/
  uint32_t relfilenode = 0;
  std::string fork;       // "" for the main fork, else "fsm", "vm" or "init"
  uint32_t segment = 0;   // the ".N" suffix: 1 GiB segment number
};
std::optional<RelationFile> ParseRelationFile(std::string_view snapshot_path);

struct BlockScanRange {
  uint32_t timeline = 0;
  Lsn from = 0;  // the parent backup's start LSN
  Lsn to = 0;    // this backup's start LSN
  uint64_t segment_size = kDefaultSegmentSize;
  uint64_t block_size = 8192;
  uint64_t blocks_per_segment = 131072;
};

class ChangedBlocks {
 public:
  // For the main-fork file at `snapshot_path` (`chunk_count` chunks of `chunk_size` bytes),
  // which chunks hold a changed block. nullopt when the file must be read whole: not a main
  // fork, or a relation created or truncated in the range.
  std::optional<std::vector<bool>> ChangedChunks(const std::string& snapshot_path,
                                                 uint64_t chunk_count, uint64_t chunk_size) const;

  // From pg_waldump's output as text: the reference the tests hold WAL reading against (and a
  // fuzzed parser); backups read the WAL themselves (ScanChangedBlocks).
  static Result<ChangedBlocks> FromWaldumpOutput(std::string_view output, uint64_t block_size,
                                                 uint64_t blocks_per_segment);

  // The same blocks named, and the same relations to read whole (tests compare scans).
  bool SameChanges(const ChangedBlocks& other) const {
    return blocks_ == other.blocks_ && whole_ == other.whole_;
  }

  uint64_t records() const { return records_; }
  uint64_t block_refs() const { return block_refs_; }
  uint64_t blocks() const;  // distinct blocks
  uint64_t wal_bytes() const { return wal_bytes_; }

 private:
  friend class BlockScanner;
  friend Result<ChangedBlocks> ScanChangedBlocks(Repository& repo, const ClusterConfig& cluster,
                                                 const BlockScanRange& range);
  void AddBlock(uint32_t database, uint32_t relfilenode, uint32_t block);
  static void Compact(std::vector<uint32_t>* blocks);
  void CompactAll();
  // Takes one record's block references; fails on a record that changes files without naming
  // their blocks.
  Status Add(const WalRecord& record);
  static uint64_t Key(uint32_t database, uint32_t relfilenode) {
    return (static_cast<uint64_t>(database) << 32) | relfilenode;
  }
  // Relations by (database, relfilenode); the tablespace is left out, which can only make a
  // relation count as changed in two tablespaces at once.
  std::unordered_map<uint64_t, std::vector<uint32_t>> blocks_;  // sorted, distinct
  std::unordered_set<uint64_t> whole_;
  uint64_t records_ = 0;
  uint64_t block_refs_ = 0;
  uint64_t wal_bytes_ = 0;
  uint64_t block_size_ = 8192;
  uint64_t blocks_per_segment_ = 131072;
};


// Reads the WAL of `range` (from the cluster's pg_wal while segments are there, else from the
// repository) and collects its block references. Any failure (a segment missing, the WAL not
// leading to `to`, a damaged record, a record that changes files without naming blocks) is an
// error whose message says why; the caller then reads changed files whole.
Result<ChangedBlocks> ScanChangedBlocks(Repository& repo, const ClusterConfig& cluster,
                                        const BlockScanRange& range);

}  // namespace lifeboat::pg
