// lifeboat verify --instance NAME [--json] | --snapshot ID|latest [--json]: prove the data is
// there, fresh and sound. Exit 3 when any check fails.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "verify/snapshot_verification.h"

namespace lifeboat::cli {

namespace {

struct Options {
  std::string instance;
  std::string snapshot;
  double sample = -1;  // overrides [verify] sample when given
};

verify::Policy PolicyFrom(const Config& cfg, const Options& opt) {
  verify::Policy p;
  p.critical_tables = cfg.verify.critical_tables;
  p.shrink_limit = cfg.verify.shrink_limit;
  p.size_tolerance = cfg.verify.size_tolerance;
  p.amcheck_timeout_seconds = cfg.verify.amcheck_timeout_seconds;
  p.sample = opt.sample >= 0 ? opt.sample : cfg.verify.sample;
  p.rpo_seconds = cfg.objectives.rpo_seconds;
  for (const auto& f : cfg.verify.freshness) p.freshness.push_back({f.database, f.table, f.column});
  for (const auto& c : cfg.verify.checks) p.checks.push_back({c.name, c.database, c.sql, c.expect});
  return p;
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
  LB_ASSIGN_OR_RETURN(pg::ClusterConfig cluster, ctx.Cluster());
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  pg::InstanceRegistry registry(cfg.state.dir);
  LB_ASSIGN_OR_RETURN(std::optional<pg::Instance> inst, registry.Find(opt.instance));
  if (!inst) {
    return Status::NotFound("instance '" + opt.instance + "' does not exist",
                            "list instances with 'lifeboat instances'");
  }
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository());
  LB_ASSIGN_OR_RETURN(std::vector<pg::PgSnapshot> snaps, pg::LoadPgSnapshots(*repo));
  pg::WalArchive archive(repo.get());
  LB_ASSIGN_OR_RETURN(std::optional<uint64_t> sysid, archive.ClusterIdentity());
  for (const pg::PgSnapshot& s : snaps) {
    if (s.id.Hex() != inst->origin_snapshot) continue;
    pg::ConnInfo conn = cluster.conn;
    conn.host = inst->host;
    conn.port = inst->port;
    verify::Report report =
        verify::VerifyInstance(conn, verify::BaselineFor(s, sysid.value_or(0), *inst), PolicyFrom(cfg, opt));
    return Report(ctx, "instance '" + inst->name + "'", report, {{"instance", inst->name}});
  }
  return Status::NotFound("instance '" + opt.instance + "' came from snapshot " +
                          inst->origin_snapshot.substr(0, 8) + ", which is no longer in the repository");
}

Status VerifySnapshotCommand(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(pg::ClusterConfig cluster, ctx.Cluster());
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository());
  LB_ASSIGN_OR_RETURN(Id id, repo->ResolveSnapshot(opt.snapshot));
  pg::RestoreRequest req;
  std::string stamp = FormatIso8601(NowNanos());
  for (char& c : stamp) if (c == ':' || c == '-') c = 0;
  stamp.erase(std::remove(stamp.begin(), stamp.end(), '\0'), stamp.end());
  req.name = "verify-" + id.Short() + "-" + stamp.substr(0, 15);
  req.instances_dir = cfg.instances.dir;
  req.state_dir = cfg.state.dir;
  req.port_first = cfg.instances.port_first;
  req.port_last = cfg.instances.port_last;
  req.lifeboat_binary = SelfPath();
  req.config_file = cfg.file;
  LB_ASSIGN_OR_RETURN(verify::SnapshotVerification v,
                      verify::VerifySnapshot(*repo, cluster, req, id.Hex(), PolicyFrom(cfg, opt)));
  return Report(ctx, "snapshot " + id.Short(), v.report,
                {{"snapshot", id.Hex()}, {"verified_at", FormatIso8601(v.verified_at, true)}});
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
  cmd->callback([ctx, opt] {
    ctx->run = [ctx, opt] {
      if (!opt->instance.empty()) return VerifyInstanceCommand(*ctx, *opt);
      if (!opt->snapshot.empty()) return VerifySnapshotCommand(*ctx, *opt);
      return Status::Usage("give --instance NAME or --snapshot ID");
    };
  });
}

}  // namespace lifeboat::cli
