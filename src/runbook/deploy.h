// Scenario 2 as plans: deploy a release (a restore point and the release's migrations first,
// then replicas replaced one at a time behind the health gate, then a bake time watching the
// error rate), with an automatic rollback to the previous revision when the circuit breaker
// trips; and rollback by revisions or to a tag, undoing migrations with their down scripts or
// refusing and pointing at `recover --restore-point`.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "platform/releases.h"
#include "platform/stack.h"
#include "repository/repository.h"
#include "runbook/engine.h"

namespace lifeboat::runbook {

struct Migration {
  std::string name;      // file name without .up.sql
  std::string up_file;
  std::string down_file; // "" when the release has none
};

// One row of a database's migration ledger (lifeboat_migrations).
struct AppliedMigration {
  std::string name;
  std::string release;
  std::string applied_at;  // ISO 8601, UTC
};
// Database name -> its applied migrations, by name.
using AppliedMigrations = std::map<std::string, std::vector<AppliedMigration>>;
// {"db": [{"name","release","applied_at"}]}, as `revisions migrations --json` prints it.
nlohmann::json AppliedToJson(const AppliedMigrations& applied);

// The release's migrations/NAME.up.sql files (and NAME.down.sql), sorted by name.
std::vector<Migration> MigrationsIn(const std::string& release_dir);

// A deploy's or rollback's inputs (its run's params) and what its steps hand on (vars).
struct DeployParams {
  struct Undo {
    std::string name;
    std::string down_file;
  };
  std::string service;
  std::string tag;
  int revision = 0;           // the revision this run records
  int previous_revision = 0;  // 0: none
  std::string previous_tag;
  std::map<std::string, std::vector<std::string>> pending_migrations;  // database -> names, in order
  std::map<std::string, std::vector<Undo>> undo_migrations;            // a rollback's, newest first
  std::string restore_point;  // the name the migrate step gives it
  int64_t bake_seconds = 0;
  double error_threshold = 0;
  bool rollback = false;

  nlohmann::json ToJson() const;
  static Result<DeployParams> FromJson(const nlohmann::json& j, const std::string& where);
};

struct DeployVars {
  std::optional<platform::RestorePoint> restore_point;  // taken before the first migration
  bool migrated = false;

  nlohmann::json ToJson() const;
  static Result<DeployVars> FromJson(const nlohmann::json& j, const std::string& where);
};

class Deployments {
 public:
  Deployments(const Config& cfg, platform::Stack* stack, Repository* repo)
      : cfg_(cfg), stack_(stack), repo_(repo), releases_(cfg, repo) {}

  platform::Releases& releases() { return releases_; }
  // A deploy's inputs: the new revision, the previous one, the pending migrations per database.
  Result<nlohmann::json> ResolveDeploy(const std::string& service, const std::string& tag);
  // A rollback's inputs: the target revision's tag (--steps N back, or --to TAG) and the
  // migrations to undo; refused (exit 1) when one of them has no down script.
  Result<nlohmann::json> ResolveRollback(const std::string& service, int steps, const std::string& tag);
  Result<Plan> PlanFor(const std::string& kind);

  // Applied migrations per database of the service.
  Result<AppliedMigrations> Applied(const ServiceConfig& svc);
  std::vector<std::string> Databases(const ServiceConfig& svc);

 private:
  Plan DeployPlan(bool rollback);
  Result<DeployParams> DeployParamsFor(const ServiceConfig& svc, const std::string& tag);
  Result<std::string> Migrate(StepContext& ctx);
  Result<std::string> Undo(StepContext& ctx);
  Result<std::string> Rollout(StepContext& ctx);
  Result<std::string> Revert(StepContext& ctx, const Status& why);
  Status Roll(const ServiceConfig& svc, const std::string& tag);

  const Config& cfg_;
  platform::Stack* stack_;
  Repository* repo_;
  platform::Releases releases_;
};

}  // namespace lifeboat::runbook
