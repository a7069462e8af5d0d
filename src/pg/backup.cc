#include "pg/backup.h"

#include <dirent.h>
#include <limits.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "base/fs.h"
#include "base/time.h"
#include "pg/block_changes.h"
#include "pg/page_check.h"
#include "pg/wal.h"

namespace lifeboat::pg {

WalkDecision DataDirFilter(const std::string& rel, EntryType type) {
  std::string base = Basename(rel);
  if (base.rfind("pgsql_tmp", 0) == 0 || base == "pg_internal.init") return WalkDecision::kSkip;
  if (rel == "postmaster.pid" || rel == "postmaster.opts" || rel == "backup_label" ||
      rel == "tablespace_map" || rel == "backup_label.old") {
    return WalkDecision::kSkip;
  }
  static const char* kEmptied[] = {"pg_wal", "pg_replslot", "pg_dynshmem", "pg_notify",
                                   "pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans"};
  if (type == EntryType::kDirectory) {
    for (const char* d : kEmptied) {
      if (rel == d) return WalkDecision::kEmptyDir;
    }
  }
  return WalkDecision::kInclude;
}

namespace {


struct Tablespace {
  std::string oid;
  std::string location;
};

Result<std::vector<Tablespace>> FindTablespaces(const std::string& data_dir) {
  std::vector<Tablespace> out;
  std::string dir = data_dir + "/pg_tblspc";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    char target[PATH_MAX];
    ssize_t n = readlink((dir + "/" + name).c_str(), target, sizeof(target) - 1);
    if (n < 0) continue;  // in-place tablespace directory: part of the data directory walk
    out.push_back({name, std::string(target, static_cast<size_t>(n))});
  }
  closedir(d);
  return out;
}

// The WAL files a backup needs to restore on its own: the segments from the one holding its
// start to the one holding the last byte before its stop (PostgreSQL's rule), and on a later
// timeline that timeline's history file.
std::vector<std::string> WalFilesNeeded(uint32_t tli, Lsn start, Lsn stop, uint64_t segment_size) {
  std::vector<std::string> names;
  for (uint64_t seg = start / segment_size; seg <= (stop - 1) / segment_size; ++seg) {
    names.push_back(FormatSegmentName(tli, seg, segment_size));
  }
  if (tli > 1) {
    char history[32];
    std::snprintf(history, sizeof(history), "%08X.history", tli);
    names.emplace_back(history);
  }
  return names;
}

// Waits until every file in `names` is in the repository, as `wal push` or `wal stream` puts
// it there. PostgreSQL's own wait (pg_backup_stop(true)) looks again only once a second, which
// was most of an incremental backup's time; this looks every 20 ms. It gives up after
// `patience` seconds without progress (no needed file arriving, the archiver's count unchanged),
// with what the archiver last reported.
Status AwaitWal(Repository& repo, Connection& conn, const std::vector<std::string>& names,
                int64_t patience) {
  size_t next = 0;  // names[0, next) are in the repository
  std::string archived_count;
  double last_progress = MonotonicSeconds();
  for (;;) {
    while (next < names.size()) {
      Result<ObjectInfo> info = repo.backend().Stat(Repository::NamedKey(kWalStream, names[next]));
      if (!info.ok() && info.status().code() != Code::kNotFound) return info.status();
      if (!info.ok()) break;
      ++next;
      last_progress = MonotonicSeconds();
    }
    if (next == names.size()) return Status::Ok();
    LB_ASSIGN_OR_RETURN(Rows archiver, conn.Query(
        "SELECT archived_count, coalesce(last_failed_wal, ''), coalesce(last_failed_time::text, '') "
        "FROM pg_stat_archiver"));
    if (archiver.Get(0, 0) != archived_count) {
      archived_count = archiver.Get(0, 0);
      last_progress = MonotonicSeconds();
    }
    if (MonotonicSeconds() - last_progress > static_cast<double>(patience)) {
      std::string failed = archiver.Get(0, 1).empty()
                               ? "the archiver reports no failure"
                               : "the archiver last failed on " + archiver.Get(0, 1) + " at " +
                                     archiver.Get(0, 2);
      return Status::IO("WAL file " + names[next] + " did not reach the repository within " +
                            std::to_string(patience) + " s (" + failed + ")",
                        "check that archive_command runs 'lifeboat wal push %p' and succeeds (the "
                        "server log shows its errors), or that 'lifeboat wal stream' runs; "
                        "[database] archive_timeout sets how long to wait");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Whether the WAL since `parent` began can tell which blocks changed; sets `range->from`.
Status BlockLevelPossible(const Snapshot* parent, uint64_t sysid, bool checksums,
                          BlockScanRange* range) {
  if (parent == nullptr) return Status::NotFound("there is no earlier PostgreSQL snapshot");
  LB_ASSIGN_OR_RETURN(PgSnapshotMeta m, PgSnapshotMeta::FromJson(parent->metadata, "the parent snapshot"));
  if (m.system_identifier != sysid) return Status::Config("the parent snapshot is of another cluster");
  // pg_checksums rewrites every page offline, without WAL.
  if (m.data_checksums != checksums) {
    return Status::Config("data checksums were turned " + std::string(checksums ? "on" : "off") +
                          " since the parent snapshot");
  }
  if (m.timeline != range->timeline) {
    return Status::Config("the parent snapshot is on timeline " + std::to_string(m.timeline) +
                          ", this backup on " + std::to_string(range->timeline));
  }
  range->from = m.start_lsn;
  if (range->from > range->to) return Status::Config("the parent snapshot starts after this one");
  // Reading more WAL than a quarter of the database costs more than it saves; below 256 MiB
  // (16 segments, most of them nearly empty after a switch) it is cheap either way.
  const uint64_t wal = range->to - range->from;
  if (wal > (uint64_t{256} << 20) && wal * 4 > parent->logical_bytes) {
    return Status::Config(FormatBytes(range->to - range->from) +
                          " of WAL since the parent is more than a quarter of the database");
  }
  return Status::Ok();
}

}  // namespace

Result<TreeBackupResult> BackupCluster(Repository& repo, const ClusterConfig& cluster,
                                       BackupType type,
                                       Progress* progress) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(cluster.conn));
  LB_ASSIGN_OR_RETURN(Rows facts, conn->Query(
      "SELECT s.system_identifier, current_setting('server_version_num'), "
      "current_setting('data_directory'), i.bytes_per_wal_segment, "
      "i.data_page_checksum_version, current_setting('archive_mode'), "
      "current_setting('archive_command'), i.database_block_size, i.blocks_per_segment "
      "FROM pg_control_system() s, pg_control_init() i"));
  uint64_t sysid = std::strtoull(facts.Get(0, 0).c_str(), nullptr, 10);
  std::string version = facts.Get(0, 1);
  std::string served_dir = facts.Get(0, 2);
  uint64_t segment_size = std::strtoull(facts.Get(0, 3).c_str(), nullptr, 10);
  bool checksums = facts.Get(0, 4) != "0";
  uint64_t block_size = std::strtoull(facts.Get(0, 7).c_str(), nullptr, 10);
  uint64_t blocks_per_segment = std::strtoull(facts.Get(0, 8).c_str(), nullptr, 10);
  if (RealPath(served_dir) != RealPath(cluster.data_dir)) {
    return Status::Config("the cluster at " + conn->Where() + " serves data directory '" +
                              served_dir + "', not [database] data_dir '" + cluster.data_dir + "'",
                          "point [database] data_dir, host and port at the same cluster");
  }
  if (facts.Get(0, 5) == "off" || facts.Get(0, 6).empty() || facts.Get(0, 6) == "(disabled)") {
    return Status::Config(
        "the cluster at " + conn->Where() + " does not archive WAL (archive_mode = " +
            facts.Get(0, 5) + ")",
        "set archive_mode = on and archive_command = 'lifeboat -c <config> wal push %p', then "
        "restart PostgreSQL");
  }
  WalArchive archive(&repo);
  LB_RETURN_IF_ERROR(archive.BindCluster(sysid));

  std::string label = "lifeboat " + FormatIso8601(NowNanos());
  LB_ASSIGN_OR_RETURN(Rows start, conn->Query(
      "SELECT pg_backup_start($1, true), (SELECT timeline_id FROM pg_control_checkpoint()), "
      "clock_timestamp()", {label}));
  std::string start_lsn = start.Get(0, 0);
  std::string timeline = start.Get(0, 1);
  std::string start_time = start.Get(0, 2);
  LB_ASSIGN_OR_RETURN(Lsn start_l, ParseLsn(start_lsn));

  TreeBackupOptions options;
  options.kind = kSnapshotKind;
  options.name = "cluster";
  // A full backup reads everything (identical chunks are still stored only once).
  options.use_parent = type == BackupType::kIncremental;
  PageChecker checker(start_l);
  if (checksums) {
    options.inspect = [&checker](const std::string& path, uint64_t offset, ByteSpan data) {
      checker.Inspect(path, offset, data);
    };
  }
  // Filled in below, before any file is read, when the WAL can say which blocks changed.
  std::optional<ChangedBlocks> changes;
  const uint64_t chunk_size = repo.config().chunk_size;
  options.changed_chunks = [&changes, chunk_size](const std::string& path, uint64_t chunks) {
    return changes ? changes->ChangedChunks(path, chunks, chunk_size) : std::nullopt;
  };
  TreeBackup backup(&repo, options);

  LB_RETURN_IF_ERROR(backup.AddRoot("data", cluster.data_dir, DataDirFilter));
  LB_ASSIGN_OR_RETURN(std::vector<Tablespace> tablespaces, FindTablespaces(cluster.data_dir));
  PgSnapshotMeta meta;
  for (const Tablespace& ts : tablespaces) {
    LB_RETURN_IF_ERROR(backup.AddRoot("tablespaces/" + ts.oid, ts.location));
    meta.tablespaces.push_back({ts.oid, ts.location});
  }
  if (type == BackupType::kIncremental) {
    LB_ASSIGN_OR_RETURN(const Snapshot* parent, backup.Parent());
    BlockScanRange range{static_cast<uint32_t>(std::strtoul(timeline.c_str(), nullptr, 10)),
                         0, start_l, segment_size, block_size, blocks_per_segment};
    Status possible = BlockLevelPossible(parent, sysid, checksums, &range);
    Result<ChangedBlocks> scanned =
        possible.ok() ? ScanChangedBlocks(repo, cluster, range) : Result<ChangedBlocks>(possible);
    IncrementalMeta inc;
    if (scanned.ok()) {
      changes = std::move(*scanned);
      inc.method = IncrementalMeta::Method::kBlocks;
      inc.wal_bytes = changes->wal_bytes();
      inc.wal_records = changes->records();
      inc.blocks_changed = changes->blocks();
    } else {
      inc.method = IncrementalMeta::Method::kFiles;
      inc.reason = scanned.status().message();
    }
    meta.incremental = inc;
  }
  LB_RETURN_IF_ERROR(backup.Read(progress));

  // Returns at once: lifeboat waits for the WAL itself, below.
  LB_ASSIGN_OR_RETURN(Rows stop, conn->Query(
      "SELECT lsn, labelfile, spcmapfile, clock_timestamp() FROM pg_backup_stop(false)"));
  std::string stop_lsn = stop.Get(0, 0);
  std::string labelfile = stop.Get(0, 1);
  std::string spcmap = stop.Get(0, 2);
  std::string stop_time = stop.Get(0, 3);
  LB_ASSIGN_OR_RETURN(Lsn stop_l, ParseLsn(stop_lsn));
  uint32_t tli = static_cast<uint32_t>(std::strtoul(timeline.c_str(), nullptr, 10));
  LB_RETURN_IF_ERROR(AwaitWal(repo, *conn, WalFilesNeeded(tli, start_l, stop_l, segment_size),
                              cluster.archive_timeout_seconds));
  LB_RETURN_IF_ERROR(backup.AddFile("data/backup_label", AsBytes(labelfile), 0600));
  if (!spcmap.empty()) LB_RETURN_IF_ERROR(backup.AddFile("data/tablespace_map", AsBytes(spcmap), 0600));

  LB_ASSIGN_OR_RETURN(std::vector<DatabaseRecord> dbs,
                      RecordDatabases(cluster.conn, cluster.exact_count_limit));

  LB_ASSIGN_OR_RETURN(UnixNanos start_t, ParseTimestamp(start_time));
  LB_ASSIGN_OR_RETURN(UnixNanos stop_t, ParseTimestamp(stop_time));
  meta.type = type;
  meta.pg_version = version;
  meta.system_identifier = sysid;
  meta.timeline = tli;
  meta.start_lsn = start_l;
  meta.stop_lsn = stop_l;
  meta.start_time = start_t;
  meta.stop_time = stop_t;
  meta.wal_segment_size = segment_size;
  meta.start_wal_file = FormatSegmentName(tli, start_l / segment_size, segment_size);
  meta.stop_wal_file = FormatSegmentName(tli, stop_l / segment_size, segment_size);
  meta.data_checksums = checksums;
  meta.pages_checked = checker.pages_checked();
  for (const BadPage& p : checker.bad_pages()) {
    meta.checksum_failures.push_back({p.file, p.block, p.expected, p.actual});
  }
  meta.data_dir = cluster.data_dir;
  meta.databases = std::move(dbs);
  if (meta.incremental) {
    meta.incremental->bytes_read = backup.bytes_read();
    meta.incremental->bytes_reused = backup.bytes_reused();
  }
  return backup.Commit(meta.ToJson());
}

}  // namespace lifeboat::pg
