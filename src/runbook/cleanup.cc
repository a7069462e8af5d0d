// Scenario 1, step 6: after the grace period, a final snapshot of the retired cluster, stop and
// drop it, and give the instance that took over the production name.
#include <filesystem>

#include "base/fs.h"
#include "base/process.h"
#include "base/time.h"
#include "pg/backup.h"
#include "pg/connection.h"
#include "repository/lock.h"
#include "runbook/scenario.h"
#include "runbook/scenario_state.h"

namespace lifeboat::runbook {

namespace {

// The retired cluster as an instance record (its data directory, socket and port).
pg::Instance Retired(const Config& cfg) {
  pg::Instance i;
  i.name = cfg.database.name;
  i.data_dir = cfg.database.data_dir;
  i.host = cfg.database.host;
  i.port = cfg.database.port;
  return i;
}

}  // namespace

Result<nlohmann::json> Scenario::ResolveCleanup(bool now, bool force) {
  if (!cfg_.database.present) return Status::Config("config '" + cfg_.file + "' has no [database] section");
  pg::InstanceRegistry registry(cfg_.state.dir);
  LB_ASSIGN_OR_RETURN(std::vector<pg::Instance> all, registry.List());
  const pg::Instance* production = nullptr;
  for (const auto& i : all) {
    if (i.role == pg::InstanceRole::kProduction) production = &i;
  }
  if (production == nullptr) {
    return Status::Usage("nothing to clean up: no restored instance has taken over production",
                         "cleanup follows a 'lifeboat recover' or 'lifeboat cutover'");
  }
  // The cutover's time: the gate of the newest run that made this instance production.
  std::string cutover_at = production->created_at;
  Journal journal(cfg_.state.dir, nullptr);
  LB_ASSIGN_OR_RETURN(std::vector<RunRecord> runs, journal.List());
  for (const auto& r : runs) {
    if (r.state != RunState::kSucceeded || (r.kind != "recover" && r.kind != "cutover")) continue;
    LB_ASSIGN_OR_RETURN(CutoverParams p, CutoverParams::FromJson(r.params, "run " + r.id));
    LB_ASSIGN_OR_RETURN(ScenarioVars vars, ScenarioVars::FromJson(r.vars, "run " + r.id));
    if (p.instance == production->name && vars.gate_passed_at) {
      cutover_at = FormatIso8601(*vars.gate_passed_at, true);
      break;
    }
  }
  LB_ASSIGN_OR_RETURN(UnixNanos cut, ParseTimestamp(cutover_at));
  UnixNanos allowed = cut + cfg_.recovery.cleanup_after_seconds * 1000000000LL;
  if (!now && NowNanos() < allowed) {
    return Status::Usage("cleanup refused: the retired cluster is kept until " + FormatIso8601(allowed) +
                             " (" + FormatDuration(static_cast<double>(allowed - NowNanos()) / 1e9) +
                             " from now; [recovery] cleanup_after is " +
                             FormatDuration(static_cast<double>(cfg_.recovery.cleanup_after_seconds)) + ")",
                         "pass --now to clean up earlier");
  }
  pg::Instance retired = Retired(cfg_);
  bool present = std::filesystem::exists(retired.data_dir);
  bool reachable = present && pg::StateOf(retired) == pg::InstanceState::kRunning;
  if (present && !reachable && !force) {
    return Status::IO("the retired cluster '" + retired.name + "' is not running, so cleanup cannot take "
                          "its final snapshot",
                      "start it ('lifeboat up' starts the database) or pass --force to drop it without "
                      "a final snapshot");
  }
  CleanupParams p;
  p.production = production->name;
  p.production_data_dir = production->data_dir;
  p.production_host = production->host;
  p.production_port = production->port;
  p.retired = retired.name;
  p.retired_data_dir = retired.data_dir;
  p.retired_reachable = reachable;
  p.cutover_at = cutover_at;
  p.force = force;
  return p.ToJson();
}

Plan Scenario::CleanupPlan() {
  Plan plan;
  plan.kind = "cleanup";
  Step final_snapshot;
  final_snapshot.name = "final-snapshot";
  final_snapshot.description = "a final snapshot of the retired cluster";
  final_snapshot.timeout_seconds = 6 * 3600;
  final_snapshot.done = [](StepContext& ctx) -> Result<bool> {
    LB_ASSIGN_OR_RETURN(CleanupVars vars, CleanupVars::FromJson(ctx.run.vars, "run " + ctx.run.id));
    return vars.final_snapshot_done;
  };
  final_snapshot.run = [this](StepContext& ctx) -> Result<std::string> {
    LB_ASSIGN_OR_RETURN(CleanupParams p, CleanupParams::FromJson(ctx.run.params, "run " + ctx.run.id));
    CleanupVars vars;
    vars.final_snapshot_done = true;
    if (!p.retired_reachable) {
      ctx.run.vars.update(vars.ToJson());
      return std::string("none: the retired cluster is not running (--force)");
    }
    LB_ASSIGN_OR_RETURN(auto lock, RepositoryLock::Acquire(repo_, LockKind::kShared, "final snapshot"));
    LB_ASSIGN_OR_RETURN(TreeBackupResult r, pg::BackupCluster(*repo_, platform::ClusterFor(cfg_),
                                                              pg::BackupType::kFull, nullptr));
    vars.final_snapshot = r.id.Hex();
    ctx.run.vars.update(vars.ToJson());
    return "snapshot " + r.id.Short() + " of " + p.retired;
  };
  plan.steps.push_back(final_snapshot);

  Step drop;
  drop.name = "drop-retired";
  drop.description = "stop the retired cluster and delete its data directory";
  drop.done = [](StepContext& ctx) -> Result<bool> {
    LB_ASSIGN_OR_RETURN(CleanupParams p, CleanupParams::FromJson(ctx.run.params, "run " + ctx.run.id));
    return !std::filesystem::exists(p.retired_data_dir);
  };
  drop.run = [this](StepContext& ctx) -> Result<std::string> {
    LB_ASSIGN_OR_RETURN(CleanupParams p, CleanupParams::FromJson(ctx.run.params, "run " + ctx.run.id));
    pg::Instance retired = Retired(cfg_);
    retired.data_dir = p.retired_data_dir;
    retired.dir = cfg_.state.dir + "/database";
    LB_RETURN_IF_ERROR(pg::StopInstance(platform::ClusterFor(cfg_), retired));
    LB_ASSIGN_OR_RETURN(ProcessResult rm, RunProcess({"/bin/rm", "-rf", "--", retired.data_dir}));
    if (rm.exit_code != 0) return Status::IO("cannot delete " + retired.data_dir + ": " + LastLines(rm.err, 2));
    return "stopped and deleted " + retired.data_dir;
  };
  plan.steps.push_back(drop);

  Step rename;
  rename.name = "rename";
  rename.description = "the instance that took over becomes production under the production name";
  rename.run = [this](StepContext& ctx) -> Result<std::string> {
    LB_ASSIGN_OR_RETURN(CleanupParams p, CleanupParams::FromJson(ctx.run.params, "run " + ctx.run.id));
    LB_RETURN_IF_ERROR(platform::WriteProductionOverride(cfg_, p.production_data_dir, p.production_host,
                                                         p.production_port));
    pg::InstanceRegistry registry(cfg_.state.dir);
    LB_ASSIGN_OR_RETURN(std::optional<pg::Instance> inst, registry.Find(p.production));
    if (inst) LB_RETURN_IF_ERROR(registry.Remove(inst->name));
    // The secret already points at this instance's socket and port, which do not change, so
    // the services need no restart.
    return p.production + " is now '" + cfg_.database.name + "' (port " + std::to_string(p.production_port) +
           "); backups and WAL streaming follow it";
  };
  plan.steps.push_back(rename);
  return plan;
}

}  // namespace lifeboat::runbook
