// Scenario 3 of the runbook: the whole stack back on a machine that has none of it, from the
// repository alone. `bootstrap` is Scenario 1's recovery to the latest point (window, restore,
// verify, cutover, report) with the rest of the stack brought up around it: the front end's
// recorded version and the services that need no database before the cutover starts the
// application on the restored instance behind the load balancer, then the agent (when
// configured), the DNS step ([rebuild] dns_hook), the inventory and a new stack definition. Its steps are idempotent: `resume`
// finishes a run a kill interrupted. Unlike a recovery it has no revert: there is nothing to
// go back to, so a failed step stops the run for `resume`.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "config/config.h"
#include "platform/definition.h"
#include "platform/stack.h"
#include "repository/repository.h"
#include "runbook/engine.h"
#include "runbook/scenario.h"

namespace lifeboat::runbook {

// What a bootstrap resolves beyond its recovery (its run's params, key "bootstrap").
struct BootstrapParams {
  std::string frontend;              // the snapshot to serve ("" none)
  std::string definition_recorded_at;
  std::string definition_from;       // the config file it was recorded from
  bool agent = false;                // [agent] is configured: start it

  nlohmann::json ToJson() const;
  static Result<BootstrapParams> FromJson(const nlohmann::json& j, const std::string& where);
};

class Rebuild {
 public:
  // Everything must outlive the object; as for Scenario.
  Rebuild(const Config& cfg, platform::Stack* stack, Repository* repo, std::string self,
          std::string repository = "primary");

  // A recovery to the latest point, plus what the definition says serves.
  Result<nlohmann::json> ResolveBootstrap(const platform::StackDefinition& def);
  // "bootstrap"
  Result<Plan> PlanFor(const std::string& kind);

 private:
  Result<std::string> Frontend(StepContext& ctx);
  Result<std::string> Prepare(StepContext& ctx);
  Result<std::string> StartAgent(StepContext& ctx);
  // The seed's DNS step: [rebuild] dns_hook with the endpoints on stdin, or the records printed.
  Result<std::string> Dns(StepContext& ctx);
  Result<std::string> Inventory(StepContext& ctx);
  Result<std::string> Record(StepContext& ctx);

  const Config& cfg_;
  platform::Stack* stack_;
  Repository* repo_;
  std::string self_;
  Scenario scenario_;
};

}  // namespace lifeboat::runbook
