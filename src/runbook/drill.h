// Drills: the runbook's restore test, run whenever asked while production keeps serving.
// Restore latest (or a point in the window: `--point random` picks one uniformly, as AWS
// Backup's restore testing does, so drills prove more than the newest backup) to a scratch
// instance, verify it, start one scratch replica of each service
// against it (never in the load balancer), health-check and smoke-test it, tear everything down
// (also after a failure), and record what was measured in the repository (named/drills/<id>).
// A drill never changes production's data, secrets or services.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "config/config.h"
#include "pg/window.h"
#include "platform/stack.h"
#include "repository/repository.h"
#include "runbook/drill_record.h"
#include "runbook/engine.h"

namespace lifeboat::runbook {

// A drill's inputs (its run's params) and what its steps hand on (vars), with their codecs.
struct DrillParams {
  std::string instance;  // the scratch instance
  UnixNanos production_newest_commit = 0;
  std::string rpo_basis;  // ProductionNewestCommit's second element
  std::vector<std::string> services;
  int64_t rto_objective_seconds = 0;
  int64_t rpo_objective_seconds = 0;
  std::string repository = "primary";  // the one the scratch instance is restored from
  // A point-in-time drill: how the point was chosen ("random" or "time") and the point.
  // "latest" and no target: the newest point, measured against production's newest commit.
  std::string point = "latest";
  std::optional<UnixNanos> target;

  nlohmann::json ToJson() const;
  static Result<DrillParams> FromJson(const nlohmann::json& j, const std::string& where);
};

struct DrillVars {
  std::optional<UnixNanos> recovered_to;
  nlohmann::json verification;  // verify::Report::ToJson(); null before the verify step
  std::optional<UnixNanos> app_healthy_at;

  nlohmann::json ToJson() const;
  static Result<DrillVars> FromJson(const nlohmann::json& j, const std::string& where);
};

// Every drill recorded in `repo`, newest first; a damaged record is an error naming it (exit 3).
Result<std::vector<DrillRecord>> ListDrills(Repository& repo);

class Drill {
 public:
  // Everything must outlive the drill; `repository` names `repo` ("primary" or "offsite").
  Drill(const Config& cfg, platform::Stack* stack, Repository* repo, std::string self,
        std::string repository = "primary")
      : cfg_(cfg), stack_(stack), repo_(repo), self_(std::move(self)), repository_(std::move(repository)) {}

  // The drill's inputs: scratch instance name, production's newest commit now, objectives, and
  // the point: "latest", "random" (uniform over the restorable window) or an instant inside
  // the window (ISO 8601). A point outside the window is Code::kUsage, naming the window.
  Result<nlohmann::json> Resolve(const std::string& point = "latest");
  Plan DrillPlan();
  // Stops the scratch replicas and drops the scratch instance; safe to call twice.
  Status Teardown(const RunRecord& run, const Say& say);
  // The record stored in the repository, from the run's journal and its outcome.
  DrillRecord Record(const RunRecord& run, const Status& outcome);
  Status Save(const DrillRecord& record);
  // Every recorded drill, newest first; a damaged record is an error naming it (exit 3).
  Result<std::vector<DrillRecord>> List();

  // The deployment drill: a scratch copy of `service` (one replica... two, on its current
  // release) gets a revision whose command exits at once; measures the time to detect it
  // (detect_seconds) and to be back on the good revision (rollback_seconds) while requests go to
  // the scratch copy (failed_requests), tears the copy down and returns the record.
  Result<DrillRecord> RollbackDrill(const std::string& service, const Say& say);

 private:
  std::vector<ServiceConfig> ScratchServices(const std::string& run_id) const;
  const Config& cfg_;
  platform::Stack* stack_;
  Repository* repo_;
  std::string self_;
  std::string repository_;
};

// Production's newest commit: pg_last_committed_xact() when track_commit_timestamp is on and
// production answers, else the newest commit in the repository's WAL. The second element
// says which. `window`, when the caller has computed it, is not computed again.
inline constexpr const char* kNewestArchivedCommit = "newest archived commit";
Result<std::pair<UnixNanos, std::string>> ProductionNewestCommit(const Config& cfg, Repository& repo,
                                                                 const pg::Window* window = nullptr);

}  // namespace lifeboat::runbook
