#include "pg/restore.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "base/fs.h"
#include "base/process.h"
#include "files/tree_restore.h"
#include "pg/connection.h"
#include "pg/lineage.h"

namespace lifeboat::pg {

namespace {


bool Inside(const std::string& path, const std::string& dir) {
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                         path[dir.size()] == '/');
}

// Points the restored tablespace links and tablespace_map at the restored copies, never at the
// production locations.
Status RelinkTablespaces(const Instance& inst, const PgSnapshot& snap) {
  std::string map;
  for (const TablespaceMeta& ts : snap.tablespaces) {
    const std::string& oid = ts.oid;
    std::string link = inst.data_dir + "/pg_tblspc/" + oid;
    std::string target = inst.dir + "/tablespaces/" + oid;
    ::unlink(link.c_str());
    if (::symlink(target.c_str(), link.c_str()) != 0) {
      return ErrnoStatus("cannot link tablespace '" + link + "'", errno);
    }
    map += oid + " " + target + "\n";
  }
  if (!map.empty()) {
    LB_RETURN_IF_ERROR(WriteFileDurable(inst.data_dir + "/tablespace_map", AsBytes(map), 0600));
  }
  return Status::Ok();
}

std::string PgTime(UnixNanos t) {
  // PostgreSQL's own syntax, microseconds, UTC.
  std::string iso = FormatIso8601(t, true);  // 2026-11-29T03:10:00.123456Z
  iso[10] = ' ';
  iso.pop_back();
  return iso + "+00";
}

// Where the prefetch server of a restore listens and spools: the instance's own directory.
std::string PrefetchSocket(const Instance& inst) { return inst.dir + "/wal.sock"; }
std::string PrefetchSpool(const Instance& inst) { return inst.dir + "/wal-spool"; }
bool Prefetches(const Instance& inst, const RestoreRequest& req) {
  return req.wal_prefetch_bytes > 0 && FitsUnixSocketPath(PrefetchSocket(inst));
}

Status ConfigureRecovery(const Instance& inst, const RestoreRequest& req, const RestoreTarget& t) {
  std::string conf;
  // A data directory from a Debian cluster keeps its configuration in /etc: give the copy a
  // minimal one of its own.
  if (::access((inst.data_dir + "/postgresql.conf").c_str(), F_OK) != 0) {
    LB_RETURN_IF_ERROR(WriteFileDurable(inst.data_dir + "/postgresql.conf",
                                        AsBytes("# written by lifeboat restore\n"), 0600));
    LB_RETURN_IF_ERROR(WriteFileDurable(inst.data_dir + "/pg_hba.conf",
                                        AsBytes("local all all peer\nhost all all 127.0.0.1/32 scram-sha-256\n"),
                                        0600));
    LB_RETURN_IF_ERROR(WriteFileDurable(inst.data_dir + "/pg_ident.conf", AsBytes(""), 0600));
  }
  // The timeline is always named: 'latest' would follow the highest history file in the
  // repository, which may be a timeline that never was production. `wal get --timeline`
  // refuses WAL past the points where the path forked.
  std::string wal_get = "\"" + req.lifeboat_binary + "\" -c \"" + req.config_file + "\"" +
                        (req.repository.empty() ? "" : " --repo " + req.repository) + " wal get --timeline " +
                        std::to_string(t.timeline);
  std::string restore_command = wal_get + " %f \"%p\"";
  if (Prefetches(inst, req)) {
    // The restore's prefetch server first, through the small client when it is installed next
    // to lifeboat (it starts in under 2 ms, the full binary in 7); whatever it cannot answer,
    // `wal get` fetches.
    std::string fetch = Dirname(req.lifeboat_binary) + "/lifeboat-wal-fetch";
    restore_command = ::access(fetch.c_str(), X_OK) == 0
                          ? "\"" + fetch + "\" \"" + PrefetchSocket(inst) + "\" %f \"%p\" || " + restore_command
                          : wal_get + " --socket \"" + PrefetchSocket(inst) + "\" %f \"%p\"";
  }
  conf += "\n# lifeboat restore: instance " + inst.name + "\n";
  conf += "port = " + std::to_string(inst.port) + "\n";
  conf += "listen_addresses = 'localhost'\n";
  conf += "unix_socket_directories = " + QuoteLiteral(inst.host) + "\n";
  switch (req.archive) {
    case RestoreRequest::Archive::kNow:
      conf += "archive_mode = on\n";
      conf += "archive_command = " + QuoteLiteral(WalPushCommand(req.lifeboat_binary, req.config_file)) + "\n";
      break;
    case RestoreRequest::Archive::kDeferred:
      // PostgreSQL keeps WAL it cannot archive yet; the cutover sets the command.
      conf += "archive_mode = on\n";
      conf += "archive_command = ''\n";
      break;
    case RestoreRequest::Archive::kOff:
      conf += "archive_mode = off\n";
      break;
  }
  conf += "restore_command = " + QuoteLiteral(restore_command) + "\n";
  conf += "recovery_target_action = 'promote'\n";
  conf += "recovery_target_timeline = " + QuoteLiteral(std::to_string(t.timeline)) + "\n";
  switch (t.kind) {
    case RestoreTarget::Kind::kTime:
      conf += "recovery_target_time = " + QuoteLiteral(PgTime(t.time)) + "\n";
      break;
    case RestoreTarget::Kind::kLsn:
      conf += "recovery_target_lsn = " + QuoteLiteral(FormatLsn(t.lsn)) + "\n";
      break;
    case RestoreTarget::Kind::kSnapshot:
      conf += "recovery_target = 'immediate'\n";
      break;
    case RestoreTarget::Kind::kLatest:
      break;
  }
  std::string auto_conf = inst.data_dir + "/postgresql.auto.conf";
  Result<Bytes> existing = ReadFile(auto_conf);
  std::string text = existing.ok() ? std::string(existing->begin(), existing->end()) : "";
  LB_RETURN_IF_ERROR(WriteFileDurable(auto_conf, AsBytes(text + conf), 0600));
  LB_RETURN_IF_ERROR(WriteFileDurable(inst.data_dir + "/recovery.signal", AsBytes(""), 0600));
  // pg_wal/archive_status is not in the snapshot (pg_wal is copied empty).
  return MakeDirs(inst.data_dir + "/pg_wal/archive_status", 0700);
}

// Waits until the instance has left recovery; fails with the log's last lines if it stops.
Result<std::optional<UnixNanos>> AwaitPromotion(const ClusterConfig& cluster, const Instance& inst) {
  ConnInfo info = cluster.conn;
  info.host = inst.host;
  info.port = inst.port;
  info.dbname = "postgres";
  for (;;) {
    if (StateOf(inst) != InstanceState::kRunning) {
      Result<Bytes> log = ReadFile(inst.log_file());
      std::string tail = log.ok() ? LastLines(std::string(log->begin(), log->end()), 4) : "";
      return Status::IO("instance '" + inst.name + "' stopped during recovery: " + tail,
                        "see '" + inst.log_file() + "'");
    }
    Result<std::unique_ptr<Connection>> conn = Connection::Open(info);
    if (conn.ok()) {
      Result<Rows> r = (*conn)->Query("SELECT pg_is_in_recovery(), pg_last_xact_replay_timestamp()");
      if (r.ok()) {
        if (r->Get(0, 0) == "f") {
          std::optional<UnixNanos> recovered;
          if (r->rows[0][1]) {
            Result<UnixNanos> t = ParseTimestamp(*r->rows[0][1]);
            if (t.ok()) recovered = *t;
          }
          return recovered;
        }
      }
    }
    // Each poll is a connection; 50 ms keeps the promotion's detection out of the RTO.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

ConnInfo InstanceConn(const ClusterConfig& cluster, const Instance& inst) {
  ConnInfo info = cluster.conn;
  info.host = inst.host;
  info.port = inst.port;
  info.dbname = "postgres";
  return info;
}

Result<uint32_t> InstanceTimeline(const ClusterConfig& cluster, const Instance& inst) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(InstanceConn(cluster, inst)));
  LB_ASSIGN_OR_RETURN(std::string tli, conn->QueryValue("SELECT timeline_id FROM pg_control_checkpoint()"));
  return static_cast<uint32_t>(std::strtoul(tli.c_str(), nullptr, 10));
}

}  // namespace

std::string WalPushCommand(const std::string& lifeboat_binary, const std::string& config_file) {
  return "\"" + lifeboat_binary + "\" -c \"" + config_file + "\" wal push \"%p\"";
}

Result<uint32_t> ArmArchiving(Repository& repo, const ClusterConfig& cluster, const Instance& inst,
                              const std::string& archive_command, const std::string& slot,
                              double timeout_seconds) {
  std::string what = "cannot protect instance '" + inst.name + "'";
  auto fail = [&](const Status& s) { return s.Context(what); };
  Result<std::unique_ptr<Connection>> opened = Connection::Open(InstanceConn(cluster, inst));
  if (!opened.ok()) return fail(opened.status());
  Connection& conn = **opened;
  Result<std::string> mode = conn.QueryValue("SHOW archive_mode");
  if (!mode.ok()) return fail(mode.status());
  if (*mode == "off") {
    return Status::Usage(what + ": it does not archive WAL (archive_mode is off)",
                         "an instance that becomes production must archive: restore it with --archive, "
                         "or let 'lifeboat recover' restore it");
  }
  Result<std::string> current = conn.QueryValue("SHOW archive_command");
  if (!current.ok()) return fail(current.status());
  if (*current != archive_command) {
    if (Status s = conn.Exec("ALTER SYSTEM SET archive_command = " + QuoteLiteral(archive_command)); !s.ok()) {
      return fail(s);
    }
    if (Status s = conn.Exec("SELECT pg_reload_conf()"); !s.ok()) return fail(s);
  }
  // The slot first: WAL from here on is kept for the streamer even before it connects.
  Result<Rows> exists = conn.Query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", {slot});
  if (!exists.ok()) return fail(exists.status());
  if (exists->empty()) {
    if (Status s = conn.Exec("SELECT pg_create_physical_replication_slot(" + QuoteLiteral(slot) + ", true)");
        !s.ok()) {
      return fail(s);
    }
  }
  Result<std::string> tli_text = conn.QueryValue("SELECT timeline_id FROM pg_control_checkpoint()");
  if (!tli_text.ok()) return fail(tli_text.status());
  uint32_t tli = static_cast<uint32_t>(std::strtoul(tli_text->c_str(), nullptr, 10));
  Result<std::string> switched = conn.QueryValue("SELECT pg_walfile_name(pg_switch_wal())");
  if (!switched.ok()) return fail(switched.status());
  char history[32];
  std::snprintf(history, sizeof(history), "%08X.history", tli);
  WalArchive archive(&repo);
  double deadline = MonotonicSeconds() + timeout_seconds;
  for (;;) {
    bool have_history = tli <= 1 || archive.Read(history).ok();
    bool have_segment = archive.Read(*switched).ok();
    if (have_history && have_segment) return tli;
    if (MonotonicSeconds() > deadline) {
      Result<Rows> st = conn.Query("SELECT coalesce(last_failed_wal, ''), coalesce(last_failed_time::text, '') "
                                   "FROM pg_stat_archiver");
      std::string failure = st.ok() && !st->Get(0, 0).empty()
                                ? "; the archiver last failed on " + st->Get(0, 0) + " at " + st->Get(0, 1)
                                : "";
      return Status::IO(what + ": " + std::string(have_history ? *switched : history) +
                            " did not reach the repository within " + FormatDuration(timeout_seconds) + failure,
                        "see '" + inst.log_file() + "'");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string DescribeWindow(const Window& w) {
  if (w.empty()) return "no restorable point yet (no PostgreSQL snapshot with its WAL)";
  return FormatIso8601(w.earliest(), true) + " .. " + FormatIso8601(w.latest(), true);
}

Result<RestoreResult> RestoreInstance(Repository& repo, const ClusterConfig& cluster,
                                      const RestoreRequest& req, Progress* progress) {
  std::string what = "cannot restore instance '" + req.name + "'";
  if (req.name.empty() || req.name.find('/') != std::string::npos || req.name[0] == '.') {
    return Status::Usage(what + ": invalid instance name");
  }
  InstanceRegistry registry(req.state_dir);
  LB_ASSIGN_OR_RETURN(std::vector<Instance> instances, registry.List());
  for (const Instance& i : instances) {
    if (i.name == req.name) {
      return Status::AlreadyExists(what + ": an instance of that name exists",
                                   "choose another --instance name, or 'lifeboat instance drop " +
                                       req.name + "'");
    }
  }
  Instance inst;
  inst.name = req.name;
  inst.dir = JoinPath(req.instances_dir, req.name);
  inst.data_dir = inst.dir + "/data";
  inst.host = inst.dir;
  inst.created_at = FormatIso8601(NowNanos());
  std::string production = RealPath(cluster.data_dir);
  std::string dir_real = RealPath(inst.dir);
  if (!cluster.data_dir.empty() && (Inside(dir_real, production) || Inside(production, dir_real))) {
    return Status::Usage(what + ": '" + inst.dir + "' would write into the production data directory '" +
                         cluster.data_dir + "'",
                         "a restore always creates a new instance; set [instances] dir elsewhere");
  }
  LB_ASSIGN_OR_RETURN(bool empty, IsMissingOrEmptyDir(inst.dir));
  if (!empty) {
    return Status::Usage(what + ": the directory '" + inst.dir + "' is not empty",
                         "choose another --instance name or remove that directory");
  }

  // The snapshot and the recovery target.
  LB_ASSIGN_OR_RETURN(std::vector<PgSnapshot> snaps, LoadPgSnapshots(repo));
  std::optional<PgSnapshot> chosen;
  const RestoreTarget& t = req.target;
  bool end_of_wal = false;
  std::optional<RestoreResult::StoppedAtGap> stopped_at_gap;
  uint32_t timeline = t.timeline;  // resolved below: never PostgreSQL's 'latest'
  if (t.kind == RestoreTarget::Kind::kSnapshot) {
    LB_ASSIGN_OR_RETURN(Id id, repo.ResolveSnapshot(t.snapshot));
    for (const PgSnapshot& s : snaps) {
      if (s.id == id) chosen = s;
    }
    if (!chosen) return Status::Usage(what + ": snapshot " + id.Short() + " is not a PostgreSQL snapshot");
    // Consistency is reached on the snapshot's own timeline, which may have been retired since.
    timeline = t.timeline != 0 ? t.timeline : chosen->timeline;
  } else {
    if (snaps.empty()) {
      return Status::NotFound(what + ": the repository holds no PostgreSQL snapshot",
                              "take one with 'lifeboat backup'");
    }
    LB_ASSIGN_OR_RETURN(Window w, ComputeWindow(repo, t.timeline, &snaps));
    timeline = w.timeline;
    if (w.empty()) {
      return Status::Corruption(what + ": no snapshot has the WAL it needs",
                                "check 'lifeboat window' for gaps");
    }
    if (t.kind == RestoreTarget::Kind::kTime) {
      if (t.time < w.earliest() || t.time > w.latest()) {
        return Status::Usage(what + ": " + FormatIso8601(t.time, true) +
                                 " is outside the restorable window " + DescribeWindow(w),
                             "choose a time inside the window ('lifeboat window')");
      }
      std::optional<WindowRange> range = w.Covering(t.time);
      if (!range) {
        return Status::Corruption(what + ": WAL is missing between a snapshot and " +
                                      FormatIso8601(t.time, true),
                                  "see the gaps in 'lifeboat window'");
      }
      for (const PgSnapshot& s : snaps) {
        if (s.id == range->snapshot) chosen = s;
      }
      // PostgreSQL stops before the first commit after the target, so it must see one; when
      // the archived WAL holds none, replaying all of it gives exactly the commits up to the
      // target.
      if (t.time >= range->to) end_of_wal = true;
    } else if (t.kind == RestoreTarget::Kind::kLsn) {
      for (const PgSnapshot& s : snaps) {
        if (s.stop_lsn <= t.lsn && w.Covering(s.stop_time)) chosen = s;  // newest wins
      }
      if (!chosen) {
        return Status::Usage(what + ": no snapshot ends at or before LSN " + FormatLsn(t.lsn),
                             "choose an LSN after the oldest snapshot's stop LSN");
      }
    } else {
      std::optional<WindowRange> newest;
      for (const WindowRange& r : w.ranges) {
        if (!newest || r.from > newest->from) newest = r;
      }
      for (const PgSnapshot& s : snaps) {
        if (s.id == newest->snapshot) chosen = s;
      }
      // Replay ends at the first segment missing after the range, where PostgreSQL's
      // recovery runs out of WAL; what the archive holds beyond it is lost to this restore.
      if (w.newest_commit > newest->to) {
        for (const WalGap& g : w.gaps) {
          if (g.first_missing <= newest->last_segment) continue;
          if (!stopped_at_gap || g.first_missing < stopped_at_gap->gap.first_missing) {
            stopped_at_gap = RestoreResult::StoppedAtGap{g, w.newest_commit};
          }
        }
      }
    }
  }

  LB_ASSIGN_OR_RETURN(inst.port, req.port != 0 ? Result<int>(req.port)
                                               : FreePort(req.port_first, req.port_last, instances));
  inst.origin_snapshot = chosen->id.Hex();
  switch (t.kind) {
    case RestoreTarget::Kind::kTime: inst.target = "time " + FormatIso8601(t.time, true); break;
    case RestoreTarget::Kind::kLsn: inst.target = "lsn " + FormatLsn(t.lsn); break;
    case RestoreTarget::Kind::kSnapshot: inst.target = "snapshot"; break;
    case RestoreTarget::Kind::kLatest: inst.target = "latest"; break;
  }

  // From here on the instance exists: registered first, so 'instance drop' can remove what a
  // failure leaves.
  LB_RETURN_IF_ERROR(registry.Add(inst));
  // A failure from here on keeps the instance for inspection, and says how to remove it.
  auto kept = [&](const Status& s) {
    std::string keep = "the instance is kept for inspection; remove it with 'lifeboat instance drop " +
                       inst.name + "'";
    return s.Context(what).WithHint(s.hint().empty() ? keep : s.hint() + "; " + keep);
  };
  Result<TreeRestoreResult> files = RestoreTree(repo, chosen->snapshot, inst.dir, progress);
  if (!files.ok()) return kept(files.status());
  if (Status s = RelinkTablespaces(inst, *chosen); !s.ok()) return kept(s);
  LB_RETURN_IF_ERROR(::chmod(inst.data_dir.c_str(), 0700) == 0
                         ? Status::Ok()
                         : ErrnoStatus("cannot set the mode of '" + inst.data_dir + "'", errno));
  RestoreTarget recovery_target = t;
  if (end_of_wal) recovery_target.kind = RestoreTarget::Kind::kLatest;
  recovery_target.timeline = timeline;
  if (Status s = ConfigureRecovery(inst, req, recovery_target); !s.ok()) return kept(s);

  RestoreResult result;
  result.instance = inst;
  result.snapshot = chosen->id;
  result.stopped_at_gap = stopped_at_gap;
  if (!req.start) return result;
  // Recovery's WAL comes through this process, which has the repository open. Without the
  // server (its path unreadable, the socket refused) restore_command fetches for itself.
  std::unique_ptr<WalPrefetchServer> prefetch;
  if (Prefetches(inst, req)) {
    Result<std::vector<TimelineStep>> path = TimelinePath(repo, timeline);
    WalPrefetchOptions po;
    po.spool_bytes = req.wal_prefetch_bytes;
    Result<std::unique_ptr<WalPrefetchServer>> started =
        path.ok() ? WalPrefetchServer::Start(&repo, *path, PrefetchSocket(inst), PrefetchSpool(inst), po)
                  : Result<std::unique_ptr<WalPrefetchServer>>(path.status());
    if (started.ok()) prefetch = std::move(*started);
  }
  if (Status s = StartInstance(cluster, inst); !s.ok()) return kept(s);
  Result<std::optional<UnixNanos>> recovered = AwaitPromotion(cluster, inst);
  if (prefetch) {
    prefetch->Stop();
    result.prefetch = prefetch->stats();
  }
  if (!recovered.ok()) return kept(recovered.status());
  result.recovered_to = *recovered;
  if (req.archive == RestoreRequest::Archive::kNow) {
    // Archived by hand: its timeline is in the repository, recorded as never production.
    Result<uint32_t> tli = InstanceTimeline(cluster, inst);
    if (!tli.ok()) return kept(tli.status());
    if (Status s = Lineage(&repo).MarkNotProduction(*tli, TimelineOrigin::kRestore, inst.name); !s.ok()) {
      return kept(s);
    }
  }
  if (result.recovered_to) {
    inst.recovered_to = FormatIso8601(*result.recovered_to, true);
    result.instance = inst;
    LB_RETURN_IF_ERROR(registry.Update(inst));
  }
  return result;
}

}  // namespace lifeboat::pg
