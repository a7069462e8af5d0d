// What recover, cutover, resume and drill share on the command line: the dry run that prints
// the resolved plan, the confirmation of destructive steps, and the report of a finished run
// (its steps' timeline and its measured result).
#pragma once

#include <string>

#include "cli/context.h"
#include "runbook/engine.h"
#include "runbook/scenario.h"

namespace lifeboat::cli {

struct PlanRunOptions {
  bool dry_run = false;
  bool yes = false;
  std::string confirm_what;  // "" when the plan changes nothing in production
};

// Asks for confirmation when the plan changes production (options.confirm_what) and --yes was
// not given: on a terminal a typed "yes", else a usage error saying to pass --yes.
Status Confirm(const PlanRunOptions& options);
// Dry run: prints the plan and returns. Otherwise asks for confirmation when needed, takes the
// run lock, starts a run and executes it, printing each step as it runs (to stderr with --json)
// and the report at the end.
// `repo` mirrors the journal.
Status RunPlan(Context& ctx, Repository* repo, const runbook::Plan& plan, const nlohmann::json& params,
               const PlanRunOptions& options);
// Continues an existing run (resume).
Status ContinueRun(Context& ctx, Repository* repo, runbook::RunRecord run, const runbook::Plan& plan);
// Prints a run: its steps with states and durations, then its result.
void PrintRun(const runbook::RunRecord& run);

}  // namespace lifeboat::cli
