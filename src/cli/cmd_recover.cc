// lifeboat recover (--time T | --latest | --restore-point NAME) [--yes] [--dry-run] [--json]: Scenario 1, steps 1-5:
// window and recovery point, restore to a new instance, verify, cutover with a health gate and
// automatic revert, and the measured RTO and RPO.
#include "cli/commands.h"
#include "cli/plan_runner.h"

namespace lifeboat::cli {

namespace {

struct Options {
  std::string time;
  std::string restore_point;
  bool latest = false;
  PlanRunOptions run;
};

Status Run(Context& ctx, Options opt) {
  if (!opt.time.empty() + opt.latest + !opt.restore_point.empty() != 1) {
    return Status::Usage("give exactly one of --time T, --latest or --restore-point NAME");
  }
  runbook::RecoverRequest req;
  req.restore_point = opt.restore_point;
  if (!opt.time.empty()) {
    LB_ASSIGN_OR_RETURN(UnixNanos t, ParseTimestamp(opt.time));
    req.time = t;
  }
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepositoryForReading());
  runbook::Scenario scenario(cfg, stack, repo.get(), SelfPath(), ctx.served_by);
  LB_ASSIGN_OR_RETURN(nlohmann::json params, scenario.ResolveRecover(req));
  LB_ASSIGN_OR_RETURN(runbook::Plan plan, scenario.PlanFor("recover"));
  opt.run.confirm_what = "recovery switches the application to a restored instance (" +
                         params["instance"].get<std::string>() + ")";
  return RunPlan(ctx, repo.get(), plan, params, opt.run);
}

}  // namespace

void AddRecover(CLI::App* app, Context* ctx) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app->add_subcommand("recover", "restore, verify and cut over to a point in time (Scenario 1)");
  auto* t = cmd->add_option("--time", opt->time, "recovery target, ISO 8601 with a zone");
  auto* l = cmd->add_flag("--latest", opt->latest, "the newest restorable point");
  t->excludes(l);
  cmd->add_option("--restore-point", opt->restore_point, "a deploy's restore point (before its migrations)");
  cmd->add_flag("--yes", opt->run.yes, "do not ask for confirmation");
  cmd->add_flag("--dry-run", opt->run.dry_run, "print the plan with its resolved values and change nothing");
  cmd->callback([ctx, opt] { ctx->run = [ctx, opt] { return Run(*ctx, *opt); }; });
}

}  // namespace lifeboat::cli
