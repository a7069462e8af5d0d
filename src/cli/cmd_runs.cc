// lifeboat runs [--json] (newest first) and lifeboat runs show RUN: the journals of runs.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/plan_runner.h"

namespace lifeboat::cli {

namespace {

Status List(Context& ctx) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  runbook::Journal journal(cfg.state.dir, nullptr);
  LB_ASSIGN_OR_RETURN(std::vector<runbook::RunRecord> runs, journal.List());
  if (ctx.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& r : runs) {
      nlohmann::json steps = nlohmann::json::array();
      for (const auto& s : r.steps) {
        steps.push_back({{"name", s.name}, {"state", runbook::StepStateName(s.state)}, {"seconds", s.seconds}, {"detail", s.detail}});
      }
      arr.push_back({{"id", r.id}, {"kind", r.kind}, {"started_at", r.started_at},
                     {"finished_at", r.finished_at.empty() ? nlohmann::json() : nlohmann::json(r.finished_at)},
                     {"state", r.DisplayState()}, {"steps", steps}, {"result", r.result},
                     {"error", r.error}});
    }
    std::cout << arr.dump(2) << "\n";
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : runs) {
    int done = 0;
    for (const auto& s : r.steps) done += s.state == runbook::StepState::kDone ? 1 : 0;
    rows.push_back({r.id, r.kind, r.started_at, r.finished_at, r.DisplayState(),
                    std::to_string(done) + "/" + std::to_string(r.steps.size())});
  }
  PrintTable({"ID", "KIND", "STARTED", "FINISHED", "STATE", "STEPS"}, rows);
  return Status::Ok();
}

Status Show(Context& ctx, const std::string& id) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  runbook::Journal journal(cfg.state.dir, nullptr);
  LB_ASSIGN_OR_RETURN(runbook::RunRecord run, journal.Load(id));
  if (ctx.json) {
    nlohmann::json j = runbook::RunToJson(run);
    j["state"] = run.DisplayState();
    std::cout << j.dump(2) << "\n";
  } else {
    PrintRun(run);
  }
  return Status::Ok();
}

}  // namespace

void AddRuns(CLI::App* app, Context* ctx) {
  CLI::App* runs = app->add_subcommand("runs", "runs of recover, cutover and drills, newest first");
  runs->callback([ctx, runs] {
    if (runs->get_subcommands().empty()) ctx->run = [ctx] { return List(*ctx); };
  });
  auto id = std::make_shared<std::string>();
  CLI::App* show = runs->add_subcommand("show", "one run: its steps, timings and result");
  show->add_option("run", *id, "run id")->required();
  show->callback([ctx, id] { ctx->run = [ctx, id] { return Show(*ctx, *id); }; });
}

}  // namespace lifeboat::cli
