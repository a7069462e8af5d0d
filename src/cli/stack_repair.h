// What plan, recreate and rebuild share: the definition and what runs, loaded once, and the
// production database brought back (started, or recovered to the latest point).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/context.h"
#include "cli/plan_runner.h"
#include "platform/drift.h"

namespace lifeboat::cli {

inline constexpr const char* kProduction = "instance production";

struct RepairInputs {
  Config cfg;
  platform::Stack* stack = nullptr;
  std::unique_ptr<Repository> repo;
  std::string frontend;  // the version the repository's definition records ("" none recorded)
};

Result<RepairInputs> LoadRepairInputs(Context& ctx);
// RESOURCE, STATE, DETAIL.
void PrintDrift(const std::vector<platform::Drift>& drift);
// Production started when its data directory is there; else Scenario 1's recovery to the
// latest point as a run (confirmed unless run.yes); left alone when it runs.
Status RecreateProduction(Context& ctx, RepairInputs& in, const PlanRunOptions& run, const Say& say);

}  // namespace lifeboat::cli
