// lifeboat verify --instance NAME [--json] | --snapshot ID|latest [--json]: prove the data is
// there, fresh and sound. Exit 3 when any check fails.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "base/time.h"
#include "cli/output.h"
#include "runbook/scenario.h"
#include "verify/snapshot_verification.h"

namespace lifeboat::cli {

namespace {

struct Options {
  std::string instance;
  std::string snapshot;
  double sample = -1;  // overrides [verify] sample when given
  std::string budget;  // overrides [verify] budget when given
};

// The config with --budget applied.
Result<Config> ConfigFor(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  if (!opt.budget.empty()) {
    Result<int64_t> d = ParseDuration(opt.budget);
    if (!d.ok()) return Status::Usage("--budget: " + d.status().message(), d.status().hint());
    cfg.verify.budget_seconds = *d;
  }
  return cfg;
}

void PrintCoverage(const verify::Coverage& c) {
  std::cout << "integrity: checked " << c.Summary() << "\n";
  if (c.skipped.empty()) return;
  std::string names;
  constexpr size_t kShown = 8;
  for (size_t i = 0; i < c.skipped.size() && i < kShown; ++i) {
    names += (i == 0 ? "" : ", ") + c.skipped[i].database + "." + c.skipped[i].name;
  }
  if (c.skipped.size() > kShown) names += " and " + std::to_string(c.skipped.size() - kShown) + " more (--json lists them)";
  std::cout << "skipped for the budget: " << names << "\n";
}

Status Report(Context& ctx, const std::string& subject, const verify::Report& report,
              nlohmann::json extra) {
  if (ctx.json) {
    nlohmann::json j = report.ToJson();
    for (auto& [k, v] : extra.items()) j[k] = v;
    std::cout << j.dump(2) << "\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : report.checks) {
      rows.push_back({c.name, verify::OutcomeName(c.outcome), c.expected, c.actual, FormatDuration(c.seconds)});
    }
    PrintTable({"CHECK", "RESULT", "EXPECTED", "ACTUAL", "TIME"}, rows);
    for (const auto& c : report.checks) {
      if (c.outcome != verify::Outcome::kPass) {
        std::cout << verify::OutcomeName(c.outcome) << ": " << c.name << ": " << c.detail << "\n";
      }
    }
    if (report.coverage) PrintCoverage(*report.coverage);
    std::cout << "result: " << verify::OutcomeName(report.overall()) << "\n";
  }
  std::vector<std::string> failed = report.Failed();
  if (failed.empty()) return Status::Ok();
  std::string names;
  for (const auto& f : failed) names += (names.empty() ? "" : ", ") + f;
  return Status::Verification("verification of " + subject + " failed: " + std::to_string(failed.size()) +
                                  " check(s) failed: " + names,
                              "production is untouched; inspect the instance, then drop it");
}

Status VerifyInstanceCommand(Context& ctx, const Options& opt) {
  LB_RETURN_IF_ERROR(ctx.Cluster().status());  // [database] is required
  LB_ASSIGN_OR_RETURN(Config cfg, ConfigFor(ctx, opt));
  pg::InstanceRegistry registry(cfg.state.dir);
  LB_ASSIGN_OR_RETURN(std::optional<pg::Instance> inst, registry.Find(opt.instance));
  if (!inst) {
    return Status::NotFound("instance '" + opt.instance + "' does not exist",
                            "list instances with 'lifeboat instances'");
  }
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository());
  LB_ASSIGN_OR_RETURN(verify::Report report, runbook::VerifyManagedInstance(*repo, cfg, *inst, opt.sample));
  return Report(ctx, "instance '" + inst->name + "'", report, {{"instance", inst->name}});
}

Status VerifySnapshotCommand(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(pg::ClusterConfig cluster, ctx.Cluster());
  LB_ASSIGN_OR_RETURN(Config cfg, ConfigFor(ctx, opt));
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepositoryForReading());
  LB_ASSIGN_OR_RETURN(Id id, repo->ResolveSnapshot(opt.snapshot));
  pg::RestoreRequest req =
      runbook::RestoreRequestFor(cfg, runbook::NewRunId("verify-" + id.Short()), SelfPath(), ctx.served_by);
  LB_ASSIGN_OR_RETURN(verify::SnapshotVerification v,
                      verify::VerifySnapshot(*repo, cluster, req, id.Hex(), runbook::PolicyFor(cfg, opt.sample)));
  return Report(ctx, "snapshot " + id.Short(), v.report,
                {{"snapshot", id.Hex()},
                 {"verified_at", FormatIso8601(v.verified_at, true)},
                 {"repository", ctx.served_by}});
}

}  // namespace

void AddVerify(CLI::App* app, Context* ctx) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app->add_subcommand("verify", "check a restored instance, or restore a snapshot and check it");
  auto* i = cmd->add_option("--instance", opt->instance, "a managed instance");
  auto* s = cmd->add_option("--snapshot", opt->snapshot, "a snapshot id, prefix or 'latest': restored to a temporary instance");
  i->excludes(s);
  cmd->add_option("--sample", opt->sample, "share of indexes and relations to check, 0..1 (default: [verify] sample)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--budget", opt->budget,
                  "time the verify may take (30s, 2m): the integrity checks most worth it first (default: [verify] budget)");
  cmd->callback([ctx, opt] {
    ctx->run = [ctx, opt] {
      if (!opt->instance.empty()) return VerifyInstanceCommand(*ctx, *opt);
      if (!opt->snapshot.empty()) return VerifySnapshotCommand(*ctx, *opt);
      return Status::Usage("give --instance NAME or --snapshot ID");
    };
  });
}

}  // namespace lifeboat::cli
