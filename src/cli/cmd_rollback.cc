// lifeboat rollback SERVICE [--steps N | --to TAG] [--yes] [--dry-run]: back to an earlier
// release through the same gate; migrations the target lacks are undone with their down
// scripts, or the rollback is refused with the restore point to recover to.
#include "cli/commands.h"
#include "cli/plan_runner.h"
#include "runbook/deploy.h"

namespace lifeboat::cli {

namespace {

struct Options {
  std::string service, to;
  int steps = 1;
  PlanRunOptions run;
};

Status Run(Context& ctx, Options opt) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository());
  runbook::Deployments deployments(cfg, stack, repo.get());
  LB_ASSIGN_OR_RETURN(nlohmann::json params, deployments.ResolveRollback(opt.service, opt.steps, opt.to));
  LB_ASSIGN_OR_RETURN(runbook::Plan plan, deployments.PlanFor("rollback"));
  opt.run.confirm_what = "rollback replaces every replica of " + opt.service + " with " +
                         params["tag"].get<std::string>();
  return RunPlan(ctx, repo.get(), plan, params, opt.run);
}

}  // namespace

void AddRollback(CLI::App* app, Context* ctx) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app->add_subcommand("rollback", "back to an earlier release of a service");
  cmd->add_option("service", opt->service, "service name")->required();
  auto* s = cmd->add_option("--steps", opt->steps, "revisions back (default 1)")->check(CLI::PositiveNumber);
  auto* t = cmd->add_option("--to", opt->to, "a release tag");
  s->excludes(t);
  cmd->add_flag("--yes", opt->run.yes, "do not ask for confirmation");
  cmd->add_flag("--dry-run", opt->run.dry_run, "print the plan and change nothing");
  cmd->callback([ctx, opt] { ctx->run = [ctx, opt] { return Run(*ctx, *opt); }; });
}

}  // namespace lifeboat::cli
