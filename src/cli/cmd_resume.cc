// lifeboat resume RUN: continue an interrupted (or failed) run at its first unfinished step,
// with the values it resolved when it started.
#include "cli/commands.h"
#include "cli/plan_runner.h"
#include "runbook/deploy.h"
#include "runbook/rebuild.h"

namespace lifeboat::cli {

namespace {

Status Run(Context& ctx, const std::string& id) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  // A recovery that read from the offsite repository resumes from it while the primary is down.
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepositoryForReading());
  runbook::Journal journal(cfg.state.dir, repo.get());
  LB_ASSIGN_OR_RETURN(runbook::RunRecord run, journal.Load(id));
  runbook::RunState state = run.Effective();
  if (state == runbook::RunState::kRunning) {
    return Status::Busy("run " + id + " is still running (pid " + std::to_string(run.pid) + ")");
  }
  if (state == runbook::RunState::kSucceeded || state == runbook::RunState::kReverted) {
    return Status::Usage("run " + id + " has finished (" + runbook::RunStateName(state) +
                         "); there is nothing to resume");
  }
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  runbook::Scenario scenario(cfg, stack, repo.get(), SelfPath(), ctx.served_by);
  runbook::Deployments deployments(cfg, stack, repo.get());
  runbook::Rebuild rebuild(cfg, stack, repo.get(), SelfPath(), ctx.served_by);
  bool deploy = run.kind == "deploy" || run.kind == "rollback";
  LB_ASSIGN_OR_RETURN(runbook::Plan plan, deploy                      ? deployments.PlanFor(run.kind)
                                          : run.kind == "bootstrap" ? rebuild.PlanFor(run.kind)
                                                                    : scenario.PlanFor(run.kind));
  return ContinueRun(ctx, repo.get(), std::move(run), plan);
}

}  // namespace

void AddResume(CLI::App* app, Context* ctx) {
  auto id = std::make_shared<std::string>();
  CLI::App* cmd = app->add_subcommand("resume", "continue an interrupted run at its first unfinished step");
  cmd->add_option("run", *id, "run id (see 'lifeboat runs')")->required();
  cmd->callback([ctx, id] { ctx->run = [ctx, id] { return Run(*ctx, *id); }; });
}

}  // namespace lifeboat::cli
