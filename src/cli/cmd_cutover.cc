// lifeboat cutover --instance NAME [--yes] [--dry-run] | cutover --revert [--yes] [--dry-run]:
// switch the services to a restored instance (or back to the previous secret version), with
// a rolling restart and the health gate.
#include "cli/commands.h"
#include "cli/plan_runner.h"

namespace lifeboat::cli {

namespace {

struct Options {
  std::string instance;
  bool revert = false;
  PlanRunOptions run;
};

Status Run(Context& ctx, Options opt) {
  if (opt.instance.empty() == !opt.revert) return Status::Usage("give exactly one of --instance NAME or --revert");
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository(false));
  runbook::Scenario scenario(cfg, stack, repo.get(), SelfPath());
  nlohmann::json params;
  if (opt.revert) {
    LB_ASSIGN_OR_RETURN(params, scenario.ResolveRevert());
    opt.run.confirm_what = "revert switches the application back to secret version " +
                           params["revert_to_version"].dump();
  } else {
    pg::InstanceRegistry registry(cfg.state.dir);
    LB_ASSIGN_OR_RETURN(std::optional<pg::Instance> inst, registry.Find(opt.instance));
    if (!inst) {
      return Status::NotFound("instance '" + opt.instance + "' does not exist",
                              "list instances with 'lifeboat instances'");
    }
    LB_ASSIGN_OR_RETURN(params, scenario.ResolveCutover(opt.instance));
    opt.run.confirm_what = "cutover switches the application to instance " + opt.instance;
  }
  LB_ASSIGN_OR_RETURN(runbook::Plan plan, scenario.PlanFor(opt.revert ? "revert" : "cutover"));
  return RunPlan(ctx, repo.get(), plan, params, opt.run);
}

}  // namespace

void AddCutover(CLI::App* app, Context* ctx) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app->add_subcommand("cutover", "point the services at an instance, or --revert");
  auto* i = cmd->add_option("--instance", opt->instance, "a managed instance");
  auto* r = cmd->add_flag("--revert", opt->revert, "back to the previous secret version");
  i->excludes(r);
  cmd->add_flag("--yes", opt->run.yes, "do not ask for confirmation");
  cmd->add_flag("--dry-run", opt->run.dry_run, "print the plan and change nothing");
  cmd->callback([ctx, opt] { ctx->run = [ctx, opt] { return Run(*ctx, *opt); }; });
}

}  // namespace lifeboat::cli
