// lifeboat plan [--json]: every difference between the definition and what runs, in rebuild
// order (exit 2 when there is one).
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/stack_repair.h"

namespace lifeboat::cli {

namespace {

Status Plan(Context& ctx) {
  LB_ASSIGN_OR_RETURN(RepairInputs in, LoadRepairInputs(ctx));
  LB_ASSIGN_OR_RETURN(std::vector<platform::Drift> drift, platform::FindDrift(in.cfg, *in.stack, *in.repo, in.frontend));
  if (ctx.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& d : drift) arr.push_back(d.ToJson());
    std::cout << arr.dump(2) << "\n";
  } else if (drift.empty()) {
    std::cout << "everything matches the definition\n";
  } else {
    PrintDrift(drift);
  }
  if (drift.empty()) return Status::Ok();
  return Status::IO(std::to_string(drift.size()) + " difference(s) between the definition and what runs",
                    "'lifeboat rebuild' repairs them in order; 'lifeboat recreate RESOURCE' one at a time");
}

}  // namespace

void AddPlan(CLI::App* app, Context* ctx) {
  app->add_subcommand("plan", "what differs between the definition and what runs (exit 2 when anything does)")
      ->callback([ctx] { ctx->run = [ctx] { return Plan(*ctx); }; });
}

}  // namespace lifeboat::cli
