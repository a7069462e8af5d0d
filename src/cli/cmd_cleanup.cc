// lifeboat cleanup [--yes] [--now] [--force] [--dry-run]: Scenario 1, step 6.
#include "cli/commands.h"
#include "cli/plan_runner.h"

namespace lifeboat::cli {

namespace {

struct Options {
  bool now = false;
  bool force = false;
  PlanRunOptions run;
};

Status Run(Context& ctx, Options opt) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository());
  runbook::Scenario scenario(cfg, stack, repo.get(), SelfPath());
  LB_ASSIGN_OR_RETURN(nlohmann::json params, scenario.ResolveCleanup(opt.now, opt.force));
  LB_ASSIGN_OR_RETURN(runbook::Plan plan, scenario.PlanFor("cleanup"));
  opt.run.confirm_what = "cleanup deletes the retired cluster's data directory " +
                         params["retired_data_dir"].get<std::string>();
  return RunPlan(ctx, repo.get(), plan, params, opt.run);
}

}  // namespace

void AddCleanup(CLI::App* app, Context* ctx) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app->add_subcommand("cleanup", "after a recovery: final snapshot, drop the retired cluster, rename");
  cmd->add_flag("--now", opt->now, "do not wait for [recovery] cleanup_after");
  cmd->add_flag("--force", opt->force, "drop a retired cluster that is not running (no final snapshot)");
  cmd->add_flag("--yes", opt->run.yes, "do not ask for confirmation");
  cmd->add_flag("--dry-run", opt->run.dry_run, "print the plan and change nothing");
  cmd->callback([ctx, opt] { ctx->run = [ctx, opt] { return Run(*ctx, *opt); }; });
}

}  // namespace lifeboat::cli
