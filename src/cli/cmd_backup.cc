// lifeboat backup [--type full] [--no-copy] [--json]: a consistent backup of the running cluster,
// then copied to the offsite repository when the config has one.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "pg/backup.h"
#include "pg/lineage.h"
#include "base/fs.h"
#include "repository/lock.h"
#include "repository/mirror.h"

namespace lifeboat::cli {

namespace {

struct Options {
  std::string type = "full";
  bool no_copy = false;
};

// After a backup, the offsite mirror gets what it lacks (this snapshot, and WAL that a queue
// or an outage left behind). The backup stands either way; a failed copy is reported.
Status CopyToOffsite(const Config& cfg, Repository& repo, nlohmann::ordered_json* out) {
  if (!cfg.offsite) return Status::Ok();
  Result<std::shared_ptr<Backend>> to = OpenBackend(*cfg.offsite);
  if (!cfg.offsite->is_s3()) (void)MakeDirs(cfg.offsite->path, 0700);
  Result<CopyReport> c = to.ok() ? CopyMissing(repo.backend(), **to) : Result<CopyReport>(to.status());
  if (!c.ok()) {
    *out = {{"repository", cfg.offsite->location()}, {"error", c.status().message()}};
    return c.status()
        .Context("the snapshot is stored in the primary repository, but copying it to the offsite repository '" +
                 cfg.offsite->location() + "' failed")
        .WithHint("run 'lifeboat repo copy' once the offsite repository is reachable");
  }
  *out = {{"repository", cfg.offsite->location()}, {"copied", c->objects_copied}, {"bytes", c->bytes_copied}};
  return Status::Ok();
}

Status Run(Context& ctx, const Options& opt) {
  if (opt.type != "full" && opt.type != "incremental") {
    return Status::Usage("unknown backup type '" + opt.type + "'", "use --type full or --type incremental");
  }
  pg::BackupType type = opt.type == "full" ? pg::BackupType::kFull : pg::BackupType::kIncremental;
  LB_ASSIGN_OR_RETURN(pg::ClusterConfig cluster, ctx.Cluster());
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository());
  LB_ASSIGN_OR_RETURN(auto lock, RepositoryLock::Acquire(repo.get(), LockKind::kShared, "backup"));
  double start = MonotonicSeconds();
  Progress progress("backup");
  Result<TreeBackupResult> r = pg::BackupCluster(*repo, cluster, type, &progress);
  if (!r.ok()) return r.status().Context("backup failed");
  LB_ASSIGN_OR_RETURN(pg::PgSnapshotMeta m,
                      pg::PgSnapshotMeta::FromJson(r->snapshot.metadata, "backup " + r->id.Short()));
  // A backup reads production: its timeline is production's (pg/lineage.h).
  LB_RETURN_IF_ERROR(pg::Lineage(repo.get())
                         .MarkProduction(m.timeline, pg::TimelineOrigin::kProduction, "", "")
                         .Context("backup " + r->id.Short() + " is stored, but"));
  double secs = MonotonicSeconds() - start;
  nlohmann::ordered_json offsite;
  Status copied = opt.no_copy ? Status::Ok() : CopyToOffsite(cfg, *repo, &offsite);
  if (ctx.json) {
    nlohmann::ordered_json j = {{"id", r->id.Hex()}};
    if (!offsite.is_null()) j["offsite"] = offsite;
    PrintJson(WithStorage(j, repo->backend()));
  } else {
    std::cout << r->id.Hex() << std::endl;
  }
  for (const pg::ChecksumFailure& bad : m.checksum_failures) {
    std::fprintf(stderr, "warning: page checksum mismatch in '%s' block %lu (stored %u, computed %u)\n",
                 bad.file.c_str(), static_cast<unsigned long>(bad.block), bad.stored, bad.computed);
  }
  if (!m.checksum_failures.empty()) {
    std::fprintf(stderr, "hint: the production cluster has damaged pages; the snapshot holds them "
                         "as they are. Check them with amcheck and restore the affected tables\n");
  }
  std::fprintf(stderr, "backup (%s): %s of %lu files (%lu read), %s added, LSN %s .. %s, %.1f s\n",
               opt.type.c_str(), FormatBytes(r->snapshot.logical_bytes).c_str(),
               static_cast<unsigned long>(r->files), static_cast<unsigned long>(r->files_read),
               FormatBytes(r->snapshot.stored_bytes).c_str(), pg::FormatLsn(m.start_lsn).c_str(),
               pg::FormatLsn(m.stop_lsn).c_str(), secs);
  if (m.incremental) {
    const pg::IncrementalMeta& inc = *m.incremental;
    if (inc.method == pg::IncrementalMeta::Method::kBlocks) {
      std::fprintf(stderr, "incremental: block-level, %s of WAL scanned, %lu changed blocks; "
                           "%s read, %s taken from the parent unread\n",
                   FormatBytes(inc.wal_bytes).c_str(), static_cast<unsigned long>(inc.blocks_changed),
                   FormatBytes(r->bytes_read).c_str(), FormatBytes(r->bytes_reused).c_str());
    } else {
      std::fprintf(stderr, "incremental: file-level (changed files read whole): %s\n", inc.reason.c_str());
    }
  }
  if (offsite.contains("copied")) {
    std::fprintf(stderr, "offsite: %lu objects (%s) copied to '%s'\n",
                 static_cast<unsigned long>(offsite["copied"].get<uint64_t>()),
                 FormatBytes(offsite["bytes"].get<uint64_t>()).c_str(), cfg.offsite->location().c_str());
  }
  return copied;
}

}  // namespace

void AddBackup(CLI::App* app, Context* ctx) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app->add_subcommand("backup", "back up the PostgreSQL cluster, consistently, while it runs");
  cmd->add_option("--type", opt->type, "full (default) or incremental");
  cmd->add_flag("--no-copy", opt->no_copy, "do not copy the snapshot to [repository.offsite] afterwards");
  cmd->callback([ctx, opt] { ctx->run = [ctx, opt] { return Run(*ctx, *opt); }; });
}

}  // namespace lifeboat::cli
