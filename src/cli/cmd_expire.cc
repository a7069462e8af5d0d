// lifeboat expire [--dry-run] [--now T] [--json]: apply [retention] days (PostgreSQL snapshots
// and WAL, and releases beyond [service.NAME] keep_releases), then prune.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "pg/expire.h"
#include "platform/releases.h"
#include "repository/lock.h"
#include "repository/prune.h"

namespace lifeboat::cli {

namespace {

struct Options {
  bool dry_run = false;
  std::string now;
};

// WAL removed plus what prune freed (a dry run does not prune, so only the WAL is known).
uint64_t Freed(const pg::ExpirePlan& plan, const PruneReport& pruned, bool dry_run) {
  uint64_t packs = pruned.bytes_deleted > pruned.bytes_written ? pruned.bytes_deleted - pruned.bytes_written : 0;
  return plan.wal_bytes + (dry_run ? 0 : packs);
}

Status Run(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  UnixNanos now = NowNanos();
  if (!opt.now.empty()) {
    LB_ASSIGN_OR_RETURN(now, ParseTimestamp(opt.now));
  }
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository());
  LB_ASSIGN_OR_RETURN(auto lock, RepositoryLock::Acquire(repo.get(), LockKind::kExclusive, "expire"));
  // Each repository keeps its own window: [repository.offsite] days, when set, for --repo offsite.
  LB_ASSIGN_OR_RETURN(RepositoryConfigSection rc, ctx.RepositorySection(cfg, ctx.repo_flag));
  int days = rc.days > 0 ? rc.days : cfg.retention.days;
  LB_ASSIGN_OR_RETURN(pg::ExpirePlan plan, pg::PlanExpire(*repo, now, days));
  // Releases: [service.NAME] keep_releases, plus any deployed inside the window.
  std::vector<std::pair<std::string, std::string>> releases;
  platform::Releases store(cfg, repo.get());
  for (const auto& svc : cfg.services) {
    if (!svc.UsesRelease()) continue;
    LB_ASSIGN_OR_RETURN(auto expired, store.Expired(svc.name, svc.keep_releases, plan.window_start));
    releases.insert(releases.end(), expired.begin(), expired.end());
  }
  PruneReport pruned;
  if (!opt.dry_run) {
    for (const auto& [snapshot, why] : releases) {
      LB_ASSIGN_OR_RETURN(Id id, repo->ResolveSnapshot(snapshot));
      LB_RETURN_IF_ERROR(repo->DeleteSnapshot(id));
    }
    LB_RETURN_IF_ERROR(pg::ApplyExpire(*repo, plan));
    LB_ASSIGN_OR_RETURN(pruned, Prune(*repo, PruneOptions{}));
  }
  if (ctx.json) {
    nlohmann::ordered_json j;
    j["dry_run"] = opt.dry_run;
    j["window_start"] = FormatIso8601(plan.window_start, true);
    j["snapshots"] = nlohmann::ordered_json::array();
    for (const auto& [id, why] : plan.snapshots) j["snapshots"].push_back({{"id", id.Hex()}, {"reason", why}});
    j["wal_files"] = plan.wal_files;
    j["releases"] = nlohmann::ordered_json::array();
    for (const auto& [id, why] : releases) j["releases"].push_back({{"snapshot", id}, {"reason", why}});
    j["kept"] = nlohmann::ordered_json::array();
    for (const Id& id : plan.kept) j["kept"].push_back(id.Hex());
    j["bytes_freed"] = Freed(plan, pruned, opt.dry_run);
    PrintJson(j);
    return Status::Ok();
  }
  std::string verb = opt.dry_run ? "would remove" : "removed";
  std::cout << "window starts " << FormatIso8601(plan.window_start) << " (" << days << " days)\n";
  for (const auto& [id, why] : plan.snapshots) std::cout << verb << " snapshot " << id.Short() << ": " << why << "\n";
  for (const auto& [id, why] : releases) std::cout << verb << " snapshot " << id.substr(0, 8) << ": " << why << "\n";
  if (!plan.wal_files.empty()) {
    std::cout << verb << " " << plan.wal_files.size() << " WAL file(s) " << plan.wal_files.front() << " .. "
              << plan.wal_files.back() << ": older than the oldest kept snapshot\n";
  }
  std::cout << "kept " << plan.kept.size() << " PostgreSQL snapshot(s)";
  if (!opt.dry_run) std::cout << "; freed " << FormatBytes(Freed(plan, pruned, false));
  std::cout << "\n";
  return Status::Ok();
}

}  // namespace

void AddExpire(CLI::App* app, Context* ctx) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app->add_subcommand("expire", "remove snapshots and WAL older than the retention window, then prune");
  cmd->add_flag("--dry-run", opt->dry_run, "list what would go and why; change nothing");
  cmd->add_option("--now", opt->now, "evaluate the window as of this time (ISO 8601), e.g. to plan ahead");
  cmd->callback([ctx, opt] { ctx->run = [ctx, opt] { return Run(*ctx, *opt); }; });
}

}  // namespace lifeboat::cli
