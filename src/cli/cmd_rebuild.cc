// lifeboat rebuild [--plan] [--yes]: every difference repaired in the seed's Scenario 3 order
// (database, secrets, front end, services, load balancer), skipping what matches; --plan
// prints the steps and changes nothing.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/stack_repair.h"

namespace lifeboat::cli {

namespace {

Status Rebuild(Context& ctx, bool plan_only, const PlanRunOptions& run) {
  LB_ASSIGN_OR_RETURN(RepairInputs in, LoadRepairInputs(ctx));
  LB_ASSIGN_OR_RETURN(std::vector<platform::Drift> drift, platform::FindDrift(in.cfg, *in.stack, *in.repo, in.frontend));
  std::vector<std::string> todo;  // each resource once, in the order FindDrift gives
  for (const auto& d : drift) {
    if (d.kind == platform::DriftKind::kExtra) continue;
    if (std::find(todo.begin(), todo.end(), d.resource) == todo.end()) todo.push_back(d.resource);
  }
  if (plan_only) {
    if (todo.empty()) std::cout << "nothing to rebuild: everything matches the definition\n";
    int n = 1;
    for (const auto& r : todo) {
      std::string why;
      for (const auto& d : drift) {
        if (d.resource == r) why += (why.empty() ? "" : "; ") + std::string(platform::DriftKindName(d.kind)) + ": " + d.detail;
      }
      std::cout << n++ << ". recreate " << r << " (" << why << ")\n";
    }
    for (const auto& d : drift) {
      if (d.kind == platform::DriftKind::kExtra) std::cout << "left as it is: " << d.resource << " (extra: " << d.detail << ")\n";
    }
    return Status::Ok();
  }
  Say say = [](const std::string& line) { std::cout << line << std::endl; };
  for (const auto& r : todo) {
    if (r == kProduction) {
      LB_RETURN_IF_ERROR(RecreateProduction(ctx, in, run, say));
      continue;
    }
    LB_ASSIGN_OR_RETURN(std::string did, platform::Recreate(in.cfg, *in.stack, *in.repo, r, in.frontend, say));
    say(did);
  }
  if (todo.empty()) say("nothing to rebuild: everything matches the definition");
  return Status::Ok();
}

}  // namespace

void AddRebuild(CLI::App* app, Context* ctx) {
  auto plan_only = std::make_shared<bool>(false);
  auto rebuild_run = std::make_shared<PlanRunOptions>();
  CLI::App* rebuild = app->add_subcommand(
      "rebuild", "repair every difference in dependency order (database, secrets, front end, services, load balancer)");
  rebuild->add_flag("--plan", *plan_only, "print the steps and change nothing");
  rebuild->add_flag("--yes", rebuild_run->yes, "do not ask for confirmation (a recovery of production asks)");
  rebuild->callback([ctx, plan_only, rebuild_run] {
    ctx->run = [ctx, plan_only, rebuild_run] { return Rebuild(*ctx, *plan_only, *rebuild_run); };
  });
}

}  // namespace lifeboat::cli
