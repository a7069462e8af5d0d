#include "cli/plan_runner.h"

#include <unistd.h>

#include <iostream>

#include "cli/output.h"

namespace lifeboat::cli {

namespace {

std::string Flat(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

Say SayFor(const Context& ctx) {
  bool json = ctx.json;
  return [json](const std::string& line) { (json ? std::cerr : std::cout) << line << std::endl; };
}

Status Execute(Context& ctx, runbook::Journal* journal, runbook::RunRecord run, const runbook::Plan& plan) {
  runbook::Engine engine(journal, SayFor(ctx));
  Status s = engine.Execute(&run, plan);
  if (ctx.json) {
    std::cout << runbook::RunToJson(run).dump(2) << "\n";
  } else {
    PrintRun(run);
  }
  return s;
}

}  // namespace

Status Confirm(const PlanRunOptions& options) {
  if (options.yes || options.confirm_what.empty()) return Status::Ok();
  if (!isatty(STDIN_FILENO)) {
    return Status::Usage("this " + options.confirm_what + " and needs confirmation",
                         "pass --yes, or run it on a terminal to confirm; --dry-run shows the plan");
  }
  std::cout << "This " << options.confirm_what << ". Type 'yes' to continue: " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  if (answer != "yes") return Status::Usage("not confirmed; nothing was changed");
  return Status::Ok();
}

void PrintRun(const runbook::RunRecord& run) {
  std::cout << "\nrun " << run.id << ": " << run.DisplayState() << "\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : run.steps) {
    rows.push_back({s.name, runbook::StepStateName(s.state), s.state == runbook::StepState::kPending ? "" : FormatDuration(s.seconds), s.detail.substr(0, 100)});
  }
  PrintTable({"STEP", "STATE", "TIME", "DETAIL"}, rows);
  if (!run.result.empty()) {
    for (const auto& [k, v] : run.result.items()) std::cout << "  " << k << ": " << Flat(v) << "\n";
  }
}

Status RunPlan(Context& ctx, Repository* repo, const runbook::Plan& plan, const nlohmann::json& params,
               const PlanRunOptions& options) {
  if (options.dry_run) {
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& s : plan.steps) steps.push_back({{"name", s.name}, {"description", s.description}});
    if (ctx.json) {
      std::cout << nlohmann::json{{"kind", plan.kind}, {"params", params}, {"steps", steps}}.dump(2) << "\n";
      return Status::Ok();
    }
    std::cout << "plan: " << plan.kind << " (dry run: nothing is changed)\n";
    for (const auto& [k, v] : params.items()) std::cout << "  " << k << ": " << Flat(v) << "\n";
    std::cout << "steps:\n";
    int n = 1;
    for (const auto& s : plan.steps) std::cout << "  " << n++ << ". " << s.name << ": " << s.description << "\n";
    return Status::Ok();
  }
  LB_RETURN_IF_ERROR(Confirm(options));
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(runbook::RunLock lock, runbook::RunLock::Take(cfg.state.dir));
  runbook::Journal journal(cfg.state.dir, repo);
  runbook::Engine engine(&journal, SayFor(ctx));
  LB_ASSIGN_OR_RETURN(runbook::RunRecord run, engine.Begin(plan, params));
  SayFor(ctx)("run " + run.id + " started (resume it with 'lifeboat resume " + run.id + "' if interrupted)");
  return Execute(ctx, &journal, std::move(run), plan);
}

Status ContinueRun(Context& ctx, Repository* repo, runbook::RunRecord run, const runbook::Plan& plan) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(runbook::RunLock lock, runbook::RunLock::Take(cfg.state.dir));
  runbook::Journal journal(cfg.state.dir, repo);
  SayFor(ctx)("resuming run " + run.id + " at its first unfinished step");
  return Execute(ctx, &journal, std::move(run), plan);
}

}  // namespace lifeboat::cli
