// lifeboat forget SNAPSHOT...: remove snapshots from the listing; `prune` frees their data.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "repository/lock.h"

namespace lifeboat::cli {

namespace {

struct Options {
  std::vector<std::string> snapshots;
};

Status Run(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository());
  LB_ASSIGN_OR_RETURN(auto lock, RepositoryLock::Acquire(repo.get(), LockKind::kExclusive, "forget"));
  // Resolve every name before removing any, so a typo removes nothing.
  std::vector<Id> ids;
  for (const std::string& ref : opt.snapshots) {
    LB_ASSIGN_OR_RETURN(Id id, repo->ResolveSnapshot(ref));
    ids.push_back(id);
  }
  nlohmann::ordered_json removed = nlohmann::ordered_json::array();
  for (const Id& id : ids) {
    LB_RETURN_IF_ERROR(repo->DeleteSnapshot(id));
    removed.push_back(id.Hex());
    if (!ctx.json) std::cout << "forgot snapshot " << id.Short() << "\n";
  }
  if (ctx.json) PrintJson({{"forgotten", removed}});
  else std::cout << "run 'lifeboat prune' to free the space their data uses\n";
  return Status::Ok();
}

}  // namespace

void AddForget(CLI::App* app, Context* ctx) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app->add_subcommand("forget", "remove snapshots from the listing");
  cmd->add_option("snapshot", opt->snapshots, "snapshot ids or unique prefixes")->required();
  cmd->callback([ctx, opt] { ctx->run = [ctx, opt] { return Run(*ctx, *opt); }; });
}

}  // namespace lifeboat::cli
