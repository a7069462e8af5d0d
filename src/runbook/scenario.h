// Scenario 1 of the runbook as plans on the engine: recover (window, restore to a new
// instance, verify, cutover with a health gate and automatic revert, report RTO and RPO), and
// cutover and revert on their own. Each step is idempotent, so `resume` can run it again.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "pg/instance.h"
#include "pg/restore.h"
#include "platform/stack.h"
#include "repository/repository.h"
#include "runbook/engine.h"
#include "runbook/scenario_state.h"
#include "verify/verifier.h"

namespace lifeboat::runbook {

// The [verify] and [objectives] sections as the verifier wants them; `sample` < 0 keeps
// [verify] sample.
verify::Policy PolicyFor(const Config& cfg, double sample = -1);

// A restore request for a new instance `name` with the config's directories and port range;
// restore_command runs `self` with the config's file. The target is left to the caller.
// `repository` is the one the restore reads from ("primary" or "offsite"); the restored
// instance's restore_command reads from it too.
pg::RestoreRequest RestoreRequestFor(const Config& cfg, const std::string& name, const std::string& self,
                                     const std::string& repository = "primary");

// Verifies a managed instance against the snapshot it was restored from.
Result<verify::Report> VerifyManagedInstance(Repository& repo, const Config& cfg,
                                             const pg::Instance& instance, double sample = -1);

struct RecoverRequest {
  std::optional<UnixNanos> time;  // nullopt: latest
  // A named restore point (a deploy's, before its migrations): recovery stops at its LSN.
  std::string restore_point;
};

class Scenario {
 public:
  // Everything must outlive the scenario. `self` is the lifeboat binary; `repository` names
  // `repo` ("primary" or "offsite": the one that served), recorded in the run and given to the
  // restored instance's restore_command.
  Scenario(const Config& cfg, platform::Stack* stack, Repository* repo, std::string self,
           std::string repository = "primary")
      : cfg_(cfg), stack_(stack), repo_(repo), self_(std::move(self)), repository_(std::move(repository)) {}

  // The recover plan's resolved inputs: target, window, the new instance's name and port, the
  // snapshot, the secret and its versions, the services to roll, the objectives. A target
  // outside the window is Code::kUsage with the window in the message; nothing is changed.
  Result<nlohmann::json> ResolveRecover(const RecoverRequest& request);
  Result<nlohmann::json> ResolveCutover(const std::string& instance);
  Result<nlohmann::json> ResolveRevert();
  // Cleanup (Scenario 1, step 6): refused before [recovery] cleanup_after has passed since the
  // cutover unless `now`; an unreachable retired cluster (no final snapshot possible) needs
  // `force`.
  Result<nlohmann::json> ResolveCleanup(bool now, bool force);

  // The plan of a run kind ("recover", "cutover", "revert"), for new runs and for resume.
  Result<Plan> PlanFor(const std::string& kind);

 private:
  Plan RecoverPlan();
  Plan CleanupPlan();
  Step CutoverStep();
  Result<std::string> Cutover(StepContext& ctx);
  Result<std::string> Revert(StepContext& ctx);
  // Protection follows production: the instance archives, has its slot, and its timeline is
  // recorded as production (pg::ArmArchiving, pg::Lineage).
  Result<std::string> Protect(StepContext& ctx, const pg::Instance& inst, ScenarioVars* vars);
  // The cluster that was production when the run started, made read-only (pg::FenceCluster).
  Result<std::string> FenceRetired(StepContext& ctx, const CutoverParams& p, ScenarioVars* vars);
  pg::ClusterConfig RetiredCluster(const CutoverParams& p) const;
  Result<CutoverParams> CutoverParamsFor(const std::string& instance);
  // The run's params and vars, decoded (a bad key is an error naming the run).
  Result<CutoverParams> CutoverOf(const RunRecord& run) const;
  Result<ScenarioVars> VarsOf(const RunRecord& run) const;
  // Records `vars` in the run and saves the journal.
  static Status SaveVars(StepContext& ctx, const ScenarioVars& vars);
  // Switches every service using the secret onto its current version in one load-balancer
  // change each (nothing when all are on it).
  Status SwitchServices(const std::vector<std::string>& services, const Say& say);
  // Each service's health path and smoke request through the load balancer, until they pass
  // or `deadline`.
  Result<std::string> Gate(const std::vector<std::string>& services, double deadline);
  Result<std::string> Report(StepContext& ctx);
  std::vector<std::string> ServicesUsingSecret() const;

  const Config& cfg_;
  platform::Stack* stack_;
  Repository* repo_;
  std::string self_;
  std::string repository_;
};

}  // namespace lifeboat::runbook
