// lifeboat recreate RESOURCE [--yes]: one resource back as the definition has it (Scenario 4);
// one that exists and matches is left alone.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/stack_repair.h"

namespace lifeboat::cli {

namespace {

Status Recreate(Context& ctx, const std::vector<std::string>& words, const PlanRunOptions& run) {
  std::string resource;
  for (const auto& w : words) resource += (resource.empty() ? "" : " ") + w;
  LB_ASSIGN_OR_RETURN(RepairInputs in, LoadRepairInputs(ctx));
  Say say = [](const std::string& line) { std::cout << line << std::endl; };
  if (resource == kProduction) return RecreateProduction(ctx, in, run, say);
  LB_ASSIGN_OR_RETURN(std::string did, platform::Recreate(in.cfg, *in.stack, *in.repo, resource, in.frontend, say));
  say(did);
  return Status::Ok();
}

}  // namespace

void AddRecreate(CLI::App* app, Context* ctx) {
  auto words = std::make_shared<std::vector<std::string>>();
  auto run = std::make_shared<PlanRunOptions>();
  CLI::App* recreate = app->add_subcommand(
      "recreate", "bring one resource back as the definition has it (Scenario 4); one that matches is left alone");
  recreate->add_option("resource", *words, "service NAME, load-balancer, frontend, secret NAME or instance production")
      ->required();
  recreate->add_flag("--yes", run->yes, "do not ask for confirmation (a recovery of production asks)");
  recreate->callback([ctx, words, run] { ctx->run = [ctx, words, run] { return Recreate(*ctx, *words, *run); }; });
}

}  // namespace lifeboat::cli
