// lifeboat prune [--dry-run]: free data that no snapshot references.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "repository/lock.h"
#include "repository/prune.h"

namespace lifeboat::cli {

namespace {

struct Options {
  bool dry_run = false;
};

Status Run(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository());
  LB_ASSIGN_OR_RETURN(auto lock, RepositoryLock::Acquire(repo.get(), LockKind::kExclusive, "prune"));
  PruneOptions options;
  options.dry_run = opt.dry_run;
  LB_ASSIGN_OR_RETURN(PruneReport r, Prune(*repo, options));
  uint64_t freed = r.bytes_deleted > r.bytes_written ? r.bytes_deleted - r.bytes_written : 0;
  if (ctx.json) {
    nlohmann::ordered_json j;
    j["dry_run"] = opt.dry_run;
    j["snapshots"] = r.snapshots;
    j["packs_kept"] = r.packs_kept;
    j["packs_deleted"] = r.packs_deleted;
    j["packs_repacked"] = r.packs_repacked;
    j["bytes_deleted"] = r.bytes_deleted;
    j["bytes_written"] = r.bytes_written;
    j["bytes_freed"] = freed;
    PrintJson(j);
    return Status::Ok();
  }
  std::cout << (opt.dry_run ? "would delete " : "deleted ") << r.packs_deleted
            << " unused pack(s), " << (opt.dry_run ? "would repack " : "repacked ")
            << r.packs_repacked << ", kept " << r.packs_kept << "; "
            << (opt.dry_run ? "would free " : "freed ") << FormatBytes(freed) << "\n";
  return Status::Ok();
}

}  // namespace

void AddPrune(CLI::App* app, Context* ctx) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app->add_subcommand("prune", "free data that no snapshot references");
  cmd->add_flag("--dry-run", opt->dry_run, "report what would be freed, change nothing");
  cmd->callback([ctx, opt] { ctx->run = [ctx, opt] { return Run(*ctx, *opt); }; });
}

}  // namespace lifeboat::cli
