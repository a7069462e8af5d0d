// lifeboat deploy SERVICE TAG [--yes] [--dry-run]: a new revision with the release's migrations
// (after a restore point), a rolling replacement behind the health gate and a bake; the circuit
// breaker rolls back to the previous revision automatically (exit 3).
#include "cli/commands.h"
#include "cli/plan_runner.h"
#include "runbook/deploy.h"

namespace lifeboat::cli {

namespace {

struct Options {
  std::string service, tag;
  PlanRunOptions run;
};

Status Run(Context& ctx, Options opt) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository());
  runbook::Deployments deployments(cfg, stack, repo.get());
  LB_ASSIGN_OR_RETURN(nlohmann::json params, deployments.ResolveDeploy(opt.service, opt.tag));
  LB_ASSIGN_OR_RETURN(runbook::Plan plan, deployments.PlanFor("deploy"));
  opt.run.confirm_what = "deploy replaces every replica of " + opt.service + " with " + opt.tag +
                         " and applies its pending migrations";
  return RunPlan(ctx, repo.get(), plan, params, opt.run);
}

}  // namespace

void AddDeploy(CLI::App* app, Context* ctx) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app->add_subcommand("deploy", "deploy a release: migrations, rolling replacement, bake, auto-rollback");
  cmd->add_option("service", opt->service, "service name")->required();
  cmd->add_option("tag", opt->tag, "release tag")->required();
  cmd->add_flag("--yes", opt->run.yes, "do not ask for confirmation");
  cmd->add_flag("--dry-run", opt->run.dry_run, "print the plan and change nothing");
  cmd->callback([ctx, opt] { ctx->run = [ctx, opt] { return Run(*ctx, *opt); }; });
}

}  // namespace lifeboat::cli
