// lifeboat jobs [--json]: what the agent ran, newest first: each job's due time, state,
// duration and why it failed or was missed.
#include <iostream>

#include "agent/jobs.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace lifeboat::cli {

namespace {

Status List(Context& ctx) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.ReadConfig());
  agent::JobJournal journal(cfg.state.dir);
  LB_ASSIGN_OR_RETURN(std::vector<agent::JobRecord> jobs, journal.List());
  if (ctx.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& r : jobs) arr.push_back(r.ToJson());
    std::cout << arr.dump(2) << "\n";
    return Status::Ok();
  }
  if (jobs.empty()) {
    std::cout << "no job has run yet: the agent runs [schedule]'s jobs ('lifeboat schedule')\n";
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : jobs) {
    std::string secs = r.started_at && r.finished_at
                           ? FormatDuration(static_cast<double>(*r.finished_at - *r.started_at) / 1e9)
                           : "";
    rows.push_back({r.id, agent::JobKindName(r.job), agent::JobStateName(r.state), FormatIso8601(r.due_at), secs,
                    r.detail});
  }
  PrintTable({"ID", "JOB", "STATE", "DUE", "TIME", "DETAIL"}, rows);
  return Status::Ok();
}

}  // namespace

void AddJobs(CLI::App* app, Context* ctx) {
  CLI::App* cmd = app->add_subcommand("jobs", "the agent's jobs, newest first: ran, failed, interrupted or missed");
  cmd->callback([ctx] { ctx->run = [ctx] { return List(*ctx); }; });
}

}  // namespace lifeboat::cli
