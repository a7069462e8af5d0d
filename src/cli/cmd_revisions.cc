// lifeboat revisions SERVICE [--json] | migrations SERVICE [--json]: a service's deployment
// history, and its applied and pending migrations per database with each deploy's restore point.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "runbook/deploy.h"

namespace lifeboat::cli {

namespace {

Status Revisions(Context& ctx, const std::string& service) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository(false));
  platform::Releases releases(cfg, repo.get());
  LB_ASSIGN_OR_RETURN(std::vector<platform::Revision> revs, releases.Revisions(service));
  if (ctx.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (auto it = revs.rbegin(); it != revs.rend(); ++it) arr.push_back(platform::RevisionToJson(*it));
    std::cout << arr.dump(2) << "\n";
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (auto it = revs.rbegin(); it != revs.rend(); ++it) {
    rows.push_back({std::to_string(it->number), it->tag, platform::RevisionStateName(it->state), it->created_at,
                    std::to_string(it->migrations.size()), it->reason.substr(0, 80)});
  }
  PrintTable({"REVISION", "TAG", "STATE", "CREATED", "MIGRATIONS", "REASON"}, rows);
  return Status::Ok();
}

Status Migrations(Context& ctx, const std::string& service) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository(false));
  const ServiceConfig* svc = cfg.FindService(service);
  if (svc == nullptr) return Status::NotFound("no service named '" + service + "'");
  runbook::Deployments deployments(cfg, stack, repo.get());
  LB_ASSIGN_OR_RETURN(runbook::AppliedMigrations applied, deployments.Applied(*svc));
  LB_ASSIGN_OR_RETURN(std::optional<platform::Revision> active, deployments.releases().Active(service));
  nlohmann::json pending = nlohmann::json::object();
  if (active) {
    LB_ASSIGN_OR_RETURN(std::string dir, deployments.releases().Install(service, active->tag));
    for (const auto& [db, list] : applied) {
      nlohmann::json p = nlohmann::json::array();
      for (const auto& m : runbook::MigrationsIn(dir)) {
        bool done = false;
        for (const auto& a : list) done = done || a.name == m.name;
        if (!done) p.push_back(m.name);
      }
      pending[db] = p;
    }
  }
  LB_ASSIGN_OR_RETURN(std::vector<platform::Revision> revs, deployments.releases().Revisions(service));
  nlohmann::json points = nlohmann::json::array();
  for (const auto& r : revs) {
    if (r.restore_point) {
      points.push_back({{"revision", r.number}, {"tag", r.tag}, {"restore_point", platform::RestorePointToJson(*r.restore_point)}});
    }
  }
  if (ctx.json) {
    PrintJson({{"applied", runbook::AppliedToJson(applied)}, {"pending", pending}, {"restore_points", points}});
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& [db, list] : applied) {
    for (const auto& a : list) rows.push_back({db, a.name, "applied", a.release, a.applied_at});
  }
  for (const auto& [db, list] : pending.items()) {
    for (const auto& p : list) rows.push_back({db, p, "pending", "", ""});
  }
  PrintTable({"DATABASE", "MIGRATION", "STATE", "RELEASE", "APPLIED"}, rows);
  for (const auto& r : revs) {
    if (!r.restore_point) continue;
    std::cout << "restore point " << r.restore_point->name << " (revision " << r.number << ", " << r.tag
              << "): LSN " << r.restore_point->lsn << " at " << r.restore_point->time << "\n";
  }
  return Status::Ok();
}

}  // namespace

void AddRevisions(CLI::App* app, Context* ctx) {
  auto service = std::make_shared<std::string>();
  CLI::App* revs = app->add_subcommand("revisions", "a service's deployment history, newest first");
  revs->add_option("service", *service, "service name")->required();
  revs->callback([ctx, service] { ctx->run = [ctx, service] { return Revisions(*ctx, *service); }; });
  CLI::App* migs = app->add_subcommand("migrations", "applied and pending migrations per database, and restore points");
  migs->add_option("service", *service, "service name")->required();
  migs->callback([ctx, service] { ctx->run = [ctx, service] { return Migrations(*ctx, *service); }; });
}

}  // namespace lifeboat::cli
