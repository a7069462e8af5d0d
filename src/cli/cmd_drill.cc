// lifeboat drill [--json]: the runbook's restore test, measured and recorded; lifeboat drills
// [--json]: every recorded drill, newest first.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/plan_runner.h"
#include "runbook/drill.h"

namespace lifeboat::cli {

namespace {

std::string Figure(const std::optional<double>& v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f s", *v);
  return buf;
}

// The runbook's "Last test" changed: a drill stores it. The drill's own outcome stands when
// that fails; stderr says so.
void StoreRunbookAfter(Context& ctx, const Config& cfg, Repository& repo) {
  Status s = StoreRunbook(ctx, cfg, repo);
  if (!s.ok()) std::cerr << "lifeboat: the drill is recorded, the runbook is not stored: " << s.message() << std::endl;
}

Status RunDrill(Context& ctx, const std::string& point) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepositoryForReading());
  runbook::Drill drill(cfg, stack, repo.get(), SelfPath(), ctx.served_by);
  LB_ASSIGN_OR_RETURN(nlohmann::json params, drill.Resolve(point));
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
  runbook::DrillRecord record = drill.Record(run, outcome.ok() ? torn : outcome);
  LB_RETURN_IF_ERROR(drill.Save(record));
  StoreRunbookAfter(ctx, cfg, *repo);
  if (json) {
    std::cout << record.ToJson().dump(2) << "\n";
  } else {
    std::cout << "drill " << record.id << ": " << (record.passed ? "PASSED" : "FAILED") << "\n"
              << "  RTO " << Figure(record.rto_seconds) << " (objective "
              << FormatDuration(static_cast<double>(cfg.objectives.rto_seconds)) << ")\n"
              << "  RPO " << Figure(record.rpo_seconds) << " (objective "
              << FormatDuration(static_cast<double>(cfg.objectives.rpo_seconds)) << "; basis: " << record.rpo_basis
              << ")\n";
    if (!record.target.empty()) {
      std::cout << "  point " << record.target << " (" << record.point << "), newest transaction restored "
                << (record.recovered_to.empty() ? "unknown" : record.recovered_to) << "\n";
    }
    if (record.repository != "primary") std::cout << "  restored from the " << record.repository << " repository\n";
    if (record.coverage && record.coverage->skipped > 0) {
      std::cout << "  integrity checks covered " << record.coverage->checked << " of "
                << record.coverage->checked + record.coverage->skipped << " indexes and relations ([verify] budget)\n";
    }
  }
  if (record.passed) return Status::Ok();
  return Status::Verification("drill " + record.id + " failed: " + record.reason,
                              "the drill is recorded ('lifeboat drills'); its scratch instance and replicas are gone");
}

Status RunRollbackDrill(Context& ctx, const std::string& service) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository());
  runbook::Drill drill(cfg, stack, repo.get(), SelfPath());
  bool json = ctx.json;
  Say say = [json](const std::string& line) { (json ? std::cerr : std::cout) << line << std::endl; };
  LB_ASSIGN_OR_RETURN(runbook::DrillRecord record, drill.RollbackDrill(service, say));
  LB_RETURN_IF_ERROR(drill.Save(record));
  StoreRunbookAfter(ctx, cfg, *repo);
  if (json) {
    std::cout << record.ToJson().dump(2) << "\n";
  } else {
    std::cout << "drill " << record.id << ": " << (record.passed ? "PASSED" : "FAILED") << "\n  detected in "
              << Figure(record.detect_seconds) << ", back on the good revision in " << Figure(record.rollback_seconds)
              << ", " << record.failed_requests << " of " << record.requests << " requests failed\n";
  }
  if (record.passed) return Status::Ok();
  return Status::Verification("drill " + record.id + " failed: " + record.reason);
}

Status ListDrills(Context& ctx) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository(false));
  runbook::Drill drill(cfg, stack, repo.get(), SelfPath());
  LB_ASSIGN_OR_RETURN(std::vector<runbook::DrillRecord> all, drill.List());
  if (ctx.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& d : all) out.push_back(d.ToJson());
    std::cout << out.dump(2) << "\n";
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& d : all) {
    bool rb = d.kind == runbook::DrillKind::kRollback;
    std::string figures = rb ? "detect " + Figure(d.detect_seconds) + ", rollback " + Figure(d.rollback_seconds) + ", " +
                                   std::to_string(d.failed_requests) + " failed requests"
                             : "RTO " + Figure(d.rto_seconds) + ", RPO " + Figure(d.rpo_seconds) +
                                   (d.coverage && d.coverage->skipped > 0
                                        ? ", checked " + std::to_string(d.coverage->checked) + "/" +
                                              std::to_string(d.coverage->checked + d.coverage->skipped)
                                        : "");
    rows.push_back({d.id, runbook::DrillKindName(d.kind), d.started_at, d.passed ? "passed" : "FAILED", figures, d.reason});
  }
  PrintTable({"ID", "KIND", "STARTED", "RESULT", "MEASURED", "REASON"}, rows);
  if (all.empty()) std::cout << "no drill yet: run 'lifeboat drill'\n";
  return Status::Ok();
}

}  // namespace

void AddDrill(CLI::App* app, Context* ctx) {
  CLI::App* drill = app->add_subcommand("drill", "restore test: scratch instance, verify, scratch app, measured RTO/RPO");
  auto point = std::make_shared<std::string>("latest");
  drill->add_option("--point", *point,
                    "what to restore: latest (default), random (a point anywhere in the window) or a time");
  drill->callback([ctx, drill, point] {
    if (drill->get_subcommands().empty()) ctx->run = [ctx, point] { return RunDrill(*ctx, *point); };
  });
  auto service = std::make_shared<std::string>();
  CLI::App* rb = drill->add_subcommand("rollback", "deployment drill: a revision that cannot start, detected and rolled back");
  rb->add_option("--service", *service, "the service to copy (default: the first)");
  rb->callback([ctx, service] { ctx->run = [ctx, service] { return RunRollbackDrill(*ctx, *service); }; });
  app->add_subcommand("drills", "recorded drills, newest first")
      ->callback([ctx] { ctx->run = [ctx] { return ListDrills(*ctx); }; });
}

}  // namespace lifeboat::cli
