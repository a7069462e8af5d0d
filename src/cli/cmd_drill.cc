// lifeboat drill [--json]: the runbook's restore test, measured and recorded; lifeboat drills
// [--json]: every recorded drill, newest first.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/plan_runner.h"
#include "runbook/drill.h"

namespace lifeboat::cli {

namespace {

std::string Figure(const nlohmann::json& v) {
  if (v.is_null()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f s", v.get<double>());
  return buf;
}

Status RunDrill(Context& ctx) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository());
  runbook::Drill drill(cfg, stack, repo.get(), SelfPath());
  LB_ASSIGN_OR_RETURN(nlohmann::json params, drill.Resolve());
  LB_ASSIGN_OR_RETURN(runbook::RunLock lock, runbook::RunLock::Take(cfg.state.dir));
  runbook::Journal journal(cfg.state.dir, repo.get());
  bool json = ctx.json;
  Say say = [json](const std::string& line) { (json ? std::cerr : std::cout) << line << std::endl; };
  runbook::Engine engine(&journal, say);
  runbook::Plan plan = drill.DrillPlan();
  LB_ASSIGN_OR_RETURN(runbook::RunRecord run, engine.Begin(plan, params));
  say("drill " + run.id + ": restore test while production keeps serving");
  Status outcome = engine.Execute(&run, plan);
  Status torn = drill.Teardown(run, say);
  nlohmann::json record = drill.Record(run, outcome.ok() ? torn : outcome);
  LB_RETURN_IF_ERROR(drill.Save(record));
  if (json) {
    std::cout << record.dump(2) << "\n";
  } else {
    std::cout << "drill " << record["id"].get<std::string>() << ": "
              << (record["passed"].get<bool>() ? "PASSED" : "FAILED") << "\n"
              << "  RTO " << Figure(record["rto_seconds"]) << " (objective "
              << FormatDuration(static_cast<double>(cfg.objectives.rto_seconds)) << ")\n"
              << "  RPO " << Figure(record["rpo_seconds"]) << " (objective "
              << FormatDuration(static_cast<double>(cfg.objectives.rpo_seconds)) << "; basis: "
              << record["rpo_basis"].get<std::string>() << ")\n";
  }
  if (record["passed"].get<bool>()) return Status::Ok();
  return Status::Verification("drill " + record["id"].get<std::string>() + " failed: " +
                                  record["reason"].get<std::string>(),
                              "the drill is recorded ('lifeboat drills'); its scratch instance and replicas are gone");
}

Status RunRollbackDrill(Context& ctx, const std::string& service) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository());
  runbook::Drill drill(cfg, stack, repo.get(), SelfPath());
  bool json = ctx.json;
  Say say = [json](const std::string& line) { (json ? std::cerr : std::cout) << line << std::endl; };
  LB_ASSIGN_OR_RETURN(nlohmann::json record, drill.RollbackDrill(service, say));
  LB_RETURN_IF_ERROR(drill.Save(record));
  if (json) {
    std::cout << record.dump(2) << "\n";
  } else {
    std::cout << "drill " << record["id"].get<std::string>() << ": " << (record["passed"].get<bool>() ? "PASSED" : "FAILED")
              << "\n  detected in " << Figure(record["detect_seconds"]) << ", back on the good revision in "
              << Figure(record["rollback_seconds"]) << ", " << record["failed_requests"] << " of " << record["requests"]
              << " requests failed\n";
  }
  if (record["passed"].get<bool>()) return Status::Ok();
  return Status::Verification("drill " + record["id"].get<std::string>() + " failed: " + record["reason"].get<std::string>());
}

Status ListDrills(Context& ctx) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository(false));
  runbook::Drill drill(cfg, stack, repo.get(), SelfPath());
  LB_ASSIGN_OR_RETURN(std::vector<nlohmann::json> all, drill.List());
  if (ctx.json) {
    std::cout << nlohmann::json(all).dump(2) << "\n";
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& d : all) {
    bool rb = d.value("kind", "restore") == "rollback";
    std::string figures = rb ? "detect " + Figure(d["detect_seconds"]) + ", rollback " + Figure(d["rollback_seconds"]) +
                                   ", " + d["failed_requests"].dump() + " failed requests"
                             : "RTO " + Figure(d["rto_seconds"]) + ", RPO " + Figure(d["rpo_seconds"]);
    rows.push_back({d["id"], rb ? "rollback" : "restore", d["started_at"], d["passed"].get<bool>() ? "passed" : "FAILED",
                    figures, d.value("reason", "")});
  }
  PrintTable({"ID", "KIND", "STARTED", "RESULT", "MEASURED", "REASON"}, rows);
  if (all.empty()) std::cout << "no drill yet: run 'lifeboat drill'\n";
  return Status::Ok();
}

}  // namespace

void AddDrill(CLI::App* app, Context* ctx) {
  CLI::App* drill = app->add_subcommand("drill", "restore test: scratch instance, verify, scratch app, measured RTO/RPO");
  drill->callback([ctx, drill] {
    if (drill->get_subcommands().empty()) ctx->run = [ctx] { return RunDrill(*ctx); };
  });
  auto service = std::make_shared<std::string>();
  CLI::App* rb = drill->add_subcommand("rollback", "deployment drill: a revision that cannot start, detected and rolled back");
  rb->add_option("--service", *service, "the service to copy (default: the first)");
  rb->callback([ctx, service] { ctx->run = [ctx, service] { return RunRollbackDrill(*ctx, *service); }; });
  app->add_subcommand("drills", "recorded drills, newest first")
      ->callback([ctx] { ctx->run = [ctx] { return ListDrills(*ctx); }; });
}

}  // namespace lifeboat::cli
