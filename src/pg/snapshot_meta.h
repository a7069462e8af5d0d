// What a PostgreSQL snapshot records about the cluster it copied: one type and one codec,
// written by backup and read by window, restore, verify, expire and the CLI. It is stored as
// the snapshot manifest's opaque `metadata` (the repository format knows nothing of it); the
// keys are documented in docs/repository-format.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "base/time.h"
#include "pg/cluster.h"
#include "pg/wal.h"

namespace lifeboat::pg {

enum class BackupType {
  kFull,         // every file read
  // Only what changed since the previous PostgreSQL snapshot is read. Files whose size, mtime,
  // ctime and inode are unchanged (and were last modified well before that snapshot began)
  // reuse their chunk lists. Of the other relation files, only the 1 MiB chunks that hold a
  // block named by a WAL record since the parent's start LSN are read (block-level); when the
  // WAL cannot say (missing, or CREATE DATABASE and the like in it), changed files are read
  // whole (file-level). The snapshot lists every file and restores on its own. Why this cannot
  // miss a change: docs/architecture.md, "Incremental backups".
  kIncremental,
};

struct TablespaceMeta {
  std::string oid;
  std::string location;  // in the backed-up cluster
};

struct ChecksumFailure {
  std::string file;
  uint64_t block = 0;
  uint32_t stored = 0;
  uint32_t computed = 0;
};

struct IncrementalMeta {
  enum class Method { kBlocks, kFiles };
  Method method = Method::kFiles;
  std::string reason;         // kFiles: why block-level was not possible
  uint64_t wal_bytes = 0;     // kBlocks: the WAL read since the parent's start
  uint64_t wal_records = 0;
  uint64_t blocks_changed = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_reused = 0;
};

struct PgSnapshotMeta {
  BackupType type = BackupType::kFull;
  std::string pg_version;  // server_version_num
  uint64_t system_identifier = 0;
  uint32_t timeline = 1;
  Lsn start_lsn = 0;
  Lsn stop_lsn = 0;
  UnixNanos start_time = 0;
  UnixNanos stop_time = 0;  // the consistency point
  uint64_t wal_segment_size = kDefaultSegmentSize;
  std::string start_wal_file;
  std::string stop_wal_file;
  bool data_checksums = false;
  uint64_t pages_checked = 0;
  std::vector<ChecksumFailure> checksum_failures;
  std::string data_dir;
  std::vector<TablespaceMeta> tablespaces;
  std::vector<DatabaseRecord> databases;  // sizes and row counts at the backup
  std::optional<IncrementalMeta> incremental;

  nlohmann::json ToJson() const;
  // The snapshot's metadata; `where` names it in errors (Code::kCorruption: a key missing or
  // of the wrong type). The identity, position and time keys are required; the others, absent
  // in snapshots of older versions, take their defaults.
  static Result<PgSnapshotMeta> FromJson(const nlohmann::json& j, const std::string& where);
};

const char* BackupTypeName(BackupType t);  // "full", "incremental"

}  // namespace lifeboat::pg
