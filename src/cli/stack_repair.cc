#include "cli/stack_repair.h"

#include "base/fs.h"
#include "cli/output.h"
#include "pg/instance.h"
#include "platform/definition.h"

namespace lifeboat::cli {

namespace {

// The front-end version the repository's definition records ("" when it has no definition:
// then any published version will do).
Result<std::string> DefinedFrontend(Repository& repo) {
  Result<platform::StackDefinition> def = platform::StoredDefinition(repo);
  if (def.ok()) return def->frontend;
  if (def.status().code() == Code::kNotFound) return std::string();
  return def.status();
}

}  // namespace

Result<RepairInputs> LoadRepairInputs(Context& ctx) {
  RepairInputs in;
  LB_ASSIGN_OR_RETURN(in.cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(in.stack, ctx.Stack());
  LB_ASSIGN_OR_RETURN(in.repo, ctx.OpenRepositoryForReading());  // with the index: recreate restores files
  LB_ASSIGN_OR_RETURN(in.frontend, DefinedFrontend(*in.repo));
  return in;
}

void PrintDrift(const std::vector<platform::Drift>& drift) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& d : drift) rows.push_back({d.resource, platform::DriftKindName(d.kind), d.detail});
  PrintTable({"RESOURCE", "STATE", "DETAIL"}, rows);
}

Status RecreateProduction(Context& ctx, RepairInputs& in, const PlanRunOptions& run, const Say& say) {
  LB_ASSIGN_OR_RETURN(std::vector<platform::Drift> drift,
                      platform::FindDrift(in.cfg, *in.stack, *in.repo, in.frontend));
  for (const auto& d : drift) {
    if (d.resource != kProduction) continue;
    if (d.kind == platform::DriftKind::kStopped) {
      // The instance a recovery made production, or the configured cluster.
      std::string name;
      pg::ClusterConfig c = platform::ProductionClusterFor(in.cfg, &name);
      pg::Instance prod = platform::ProductionInstance(in.cfg);
      if (!name.empty()) {
        LB_ASSIGN_OR_RETURN(std::optional<pg::Instance> inst, pg::InstanceRegistry(in.cfg.state.dir).Find(name));
        if (inst) prod = *inst;
      }
      LB_RETURN_IF_ERROR(MakeDirs(prod.dir, 0700));
      LB_RETURN_IF_ERROR(pg::StartInstance(platform::ClusterFor(in.cfg), prod));
      say(std::string(kProduction) + ": started " + prod.data_dir);
      return Status::Ok();
    }
    runbook::Scenario scenario(in.cfg, in.stack, in.repo.get(), SelfPath(), ctx.served_by);
    LB_ASSIGN_OR_RETURN(nlohmann::json params, scenario.ResolveRecover(runbook::RecoverRequest{}));
    LB_ASSIGN_OR_RETURN(runbook::Plan plan, scenario.PlanFor("recover"));
    PlanRunOptions options = run;
    options.confirm_what = "recreation replaces the lost production by a recovery to the latest point";
    return RunPlan(ctx, in.repo.get(), plan, params, options);
  }
  say(std::string(kProduction) + ": running, left alone");
  return Status::Ok();
}

}  // namespace lifeboat::cli
