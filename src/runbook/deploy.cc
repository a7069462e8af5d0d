#include "runbook/deploy.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "base/fs.h"
#include "base/json_fields.h"
#include "base/time.h"
#include "pg/connection.h"
#include "platform/http_probe.h"
#include "platform/secrets.h"

namespace lifeboat::runbook {

namespace {

constexpr const char* kLedger =
    "CREATE TABLE IF NOT EXISTS lifeboat_migrations (service text NOT NULL, name text NOT NULL, "
    "release text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (service, name))";

std::string Now() { return FormatIso8601(NowNanos(), true); }

Result<std::unique_ptr<pg::Connection>> Connect(const Config& cfg, const std::string& db) {
  pg::ConnInfo conn = platform::ClusterFor(cfg).conn;
  conn.dbname = db;
  return pg::Connection::Open(conn);
}

Result<std::string> ReadText(const std::string& path) {
  LB_ASSIGN_OR_RETURN(Bytes b, ReadFile(path));
  return std::string(b.begin(), b.end());
}

// Runs `sql` and the ledger change in one transaction.
Status InTransaction(pg::Connection& c, const std::string& sql, const std::string& ledger,
                     const std::vector<std::string>& params) {
  LB_RETURN_IF_ERROR(c.Query("BEGIN").status());
  Status s = c.Query(sql).status();
  if (s.ok()) s = c.Query(ledger, params).status();
  if (s.ok()) s = c.Query("COMMIT").status();
  if (!s.ok()) (void)c.Query("ROLLBACK");
  return s;
}

}  // namespace

std::vector<Migration> MigrationsIn(const std::string& release_dir) {
  std::vector<Migration> out;
  std::string dir = release_dir + "/migrations";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  std::set<std::string> files;
  while (dirent* e = readdir(d)) files.insert(e->d_name);
  closedir(d);
  const std::string up = ".up.sql", down = ".down.sql";
  for (const auto& f : files) {
    if (f.size() <= up.size() || f.compare(f.size() - up.size(), up.size(), up) != 0) continue;
    Migration m;
    m.name = f.substr(0, f.size() - up.size());
    m.up_file = dir + "/" + f;
    if (files.count(m.name + down)) m.down_file = dir + "/" + m.name + down;
    out.push_back(m);
  }
  return out;
}

std::vector<std::string> Deployments::Databases(const ServiceConfig& svc) {
  if (!svc.databases.empty()) return svc.databases;
  if (!svc.secret.empty()) {
    platform::SecretStore store(cfg_.state.dir, repo_);
    Result<platform::Secret> s = store.Get(svc.secret);
    if (s.ok()) {
      const platform::SecretVersion* v = s->Find(s->current);
      if (v != nullptr && v->values.count("PGDATABASE")) return {v->values.at("PGDATABASE")};
    }
  }
  return {};
}

nlohmann::json AppliedToJson(const AppliedMigrations& applied) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [db, list] : applied) {
    nlohmann::json arr = nlohmann::json::array();
    for (const AppliedMigration& a : list) arr.push_back({{"name", a.name}, {"release", a.release}, {"applied_at", a.applied_at}});
    out[db] = arr;
  }
  return out;
}

Result<AppliedMigrations> Deployments::Applied(const ServiceConfig& svc) {
  AppliedMigrations out;
  for (const auto& db : Databases(svc)) {
    LB_ASSIGN_OR_RETURN(std::unique_ptr<pg::Connection> c, Connect(cfg_, db));
    LB_RETURN_IF_ERROR(c->Query(kLedger).status());
    LB_ASSIGN_OR_RETURN(pg::Rows rows, c->Query(
        "SELECT name, release, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
        "FROM lifeboat_migrations WHERE service = $1 ORDER BY name", {svc.name}));
    std::vector<AppliedMigration>& list = out[db];
    for (size_t i = 0; i < rows.rows.size(); ++i) list.push_back({rows.Get(i, 0), rows.Get(i, 1), rows.Get(i, 2)});
  }
  return out;
}

nlohmann::json DeployParams::ToJson() const {
  nlohmann::json pending = nlohmann::json::object(), undo = nlohmann::json::object();
  for (const auto& [db, names] : pending_migrations) pending[db] = names;
  for (const auto& [db, list] : undo_migrations) {
    nlohmann::json arr = nlohmann::json::array();
    for (const Undo& u : list) arr.push_back({{"name", u.name}, {"down_file", u.down_file}});
    undo[db] = arr;
  }
  nlohmann::json p = {{"service", service},
                      {"tag", tag},
                      {"revision", revision},
                      {"previous_revision", previous_revision},
                      {"previous_tag", previous_tag},
                      {"pending_migrations", pending},
                      {"undo_migrations", undo},
                      {"restore_point", restore_point},
                      {"bake_seconds", bake_seconds},
                      {"error_threshold", error_threshold}};
  if (rollback) p["rollback"] = true;
  return p;
}

Result<DeployParams> DeployParams::FromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f(j, where, &Status::IO);
  LB_RETURN_IF_ERROR(f.IsObject());
  DeployParams p;
  LB_RETURN_IF_ERROR(f.String("service", &p.service));
  LB_RETURN_IF_ERROR(f.String("tag", &p.tag));
  LB_RETURN_IF_ERROR(f.Int("revision", &p.revision));
  LB_RETURN_IF_ERROR(f.Int("previous_revision", &p.previous_revision));
  LB_RETURN_IF_ERROR(f.String("previous_tag", &p.previous_tag));
  LB_RETURN_IF_ERROR(f.String("restore_point", &p.restore_point));
  LB_RETURN_IF_ERROR(f.Int("bake_seconds", &p.bake_seconds));
  LB_RETURN_IF_ERROR(f.Double("error_threshold", &p.error_threshold));
  if (f.Has("rollback")) LB_RETURN_IF_ERROR(f.Bool("rollback", &p.rollback));
  nlohmann::json pending, undo;
  LB_RETURN_IF_ERROR(f.Object("pending_migrations", &pending));
  JsonFields pf(pending, where + ", pending_migrations", &Status::IO);
  for (const auto& [db, names] : pending.items()) LB_RETURN_IF_ERROR(pf.Strings(db.c_str(), &p.pending_migrations[db]));
  LB_RETURN_IF_ERROR(f.Object("undo_migrations", &undo));
  for (const auto& [db, list] : undo.items()) {
    std::string at = where + ", undo_migrations, " + db;
    if (!list.is_array()) return Status::IO(at + ": not a list");
    for (const auto& u : list) {
      JsonFields uf(u, at, &Status::IO);
      LB_RETURN_IF_ERROR(uf.IsObject());
      Undo one;
      LB_RETURN_IF_ERROR(uf.String("name", &one.name));
      LB_RETURN_IF_ERROR(uf.String("down_file", &one.down_file));
      p.undo_migrations[db].push_back(one);
    }
  }
  return p;
}

nlohmann::json DeployVars::ToJson() const {
  nlohmann::json v = nlohmann::json::object();
  if (restore_point) v["restore_point"] = platform::RestorePointToJson(*restore_point);
  if (migrated) v["migrated"] = true;
  return v;
}

Result<DeployVars> DeployVars::FromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f(j, where, &Status::IO);
  LB_RETURN_IF_ERROR(f.IsObject());
  DeployVars v;
  if (f.Has("restore_point")) {
    LB_ASSIGN_OR_RETURN(v.restore_point, platform::RestorePointFromJson(j["restore_point"], where + ", restore_point"));
  }
  if (f.Has("migrated")) LB_RETURN_IF_ERROR(f.Bool("migrated", &v.migrated));
  return v;
}

Result<nlohmann::json> Deployments::ResolveDeploy(const std::string& service, const std::string& tag) {
  const ServiceConfig* svc = cfg_.FindService(service);
  if (svc == nullptr) return Status::NotFound("no service named '" + service + "'");
  LB_ASSIGN_OR_RETURN(DeployParams p, DeployParamsFor(*svc, tag));
  return p.ToJson();
}

Result<DeployParams> Deployments::DeployParamsFor(const ServiceConfig& svc, const std::string& tag) {
  if (!svc.UsesRelease()) {
    return Status::Config("service '" + svc.name + "' does not run releases",
                          "put {release} in [service." + svc.name + "] command, e.g. \"{release}/bin/server --port {port}\"");
  }
  LB_ASSIGN_OR_RETURN(std::string dir, releases_.Install(svc.name, tag));
  LB_ASSIGN_OR_RETURN(std::vector<platform::Revision> revs, releases_.Revisions(svc.name));
  LB_ASSIGN_OR_RETURN(std::optional<platform::Revision> active, releases_.Active(svc.name));
  LB_ASSIGN_OR_RETURN(AppliedMigrations applied, Applied(svc));
  DeployParams p;
  for (const auto& db : Databases(svc)) {
    std::set<std::string> done;
    for (const AppliedMigration& a : applied[db]) done.insert(a.name);
    std::vector<std::string>& pending = p.pending_migrations[db];
    for (const auto& m : MigrationsIn(dir)) {
      if (!done.count(m.name)) pending.push_back(m.name);
    }
  }
  p.service = svc.name;
  p.tag = tag;
  p.revision = revs.empty() ? 1 : revs.back().number + 1;
  p.previous_revision = active ? active->number : 0;
  p.previous_tag = active ? active->tag : "";
  p.restore_point = "deploy-" + svc.name + "-" + std::to_string(p.revision);
  p.bake_seconds = svc.bake_seconds;
  p.error_threshold = svc.error_threshold;
  return p;
}

Result<nlohmann::json> Deployments::ResolveRollback(const std::string& service, int steps, const std::string& to) {
  const ServiceConfig* svc = cfg_.FindService(service);
  if (svc == nullptr) return Status::NotFound("no service named '" + service + "'");
  LB_ASSIGN_OR_RETURN(std::vector<platform::Revision> revs, releases_.Revisions(service));
  LB_ASSIGN_OR_RETURN(std::optional<platform::Revision> active, releases_.Active(service));
  if (!active) return Status::Usage("service '" + service + "' has no deployed revision to roll back");
  // The revisions that served, newest first, without repeats of the active tag.
  std::vector<platform::Revision> served;
  for (auto it = revs.rbegin(); it != revs.rend(); ++it) {
    if (it->state == platform::RevisionState::kFailed || it->number >= active->number || it->tag == active->tag) continue;
    served.push_back(*it);
  }
  std::string target;
  if (!to.empty()) {
    target = to;
    LB_RETURN_IF_ERROR(releases_.Install(service, to).status());
  } else if (steps >= 1 && static_cast<size_t>(steps) <= served.size()) {
    target = served[static_cast<size_t>(steps) - 1].tag;
  } else {
    return Status::Usage("service '" + service + "' has " + std::to_string(served.size()) +
                         " earlier revision(s); cannot go back " + std::to_string(steps),
                         "see 'lifeboat revisions " + service + "'");
  }
  LB_ASSIGN_OR_RETURN(DeployParams params, DeployParamsFor(*svc, target));
  // Migrations applied that the target release does not have must be undone.
  LB_ASSIGN_OR_RETURN(std::string target_dir, releases_.Install(service, target));
  std::set<std::string> known;
  for (const auto& m : MigrationsIn(target_dir)) known.insert(m.name);
  // Down scripts come from the releases that brought the migrations.
  std::map<std::string, std::string> downs;
  for (const auto& r : revs) {
    Result<std::string> dir = releases_.Install(service, r.tag);
    if (!dir.ok()) continue;
    for (const auto& m : MigrationsIn(*dir)) {
      if (!m.down_file.empty()) downs[m.name] = m.down_file;
    }
  }
  LB_ASSIGN_OR_RETURN(AppliedMigrations applied, Applied(*svc));
  for (const auto& [db, list] : applied) {
    std::vector<DeployParams::Undo>& names = params.undo_migrations[db];
    for (auto it = list.rbegin(); it != list.rend(); ++it) {
      const std::string& name = it->name;
      if (known.count(name)) continue;
      if (!downs.count(name)) {
        std::string point;
        for (const auto& r : revs) {
          if (std::find(r.migrations.begin(), r.migrations.end(), name) != r.migrations.end() && r.restore_point) {
            point = r.restore_point->name;
          }
        }
        return Status::Usage("rollback of " + service + " to " + target + " refused: migration " + name +
                                 " (in " + db + ") has no down script, so the database cannot follow",
                             point.empty() ? "restore the database from a snapshot before it with 'lifeboat recover --time T'"
                                           : "'lifeboat recover --restore-point " + point +
                                                 "' restores the database to just before it as a new instance and cuts over");
      }
      names.push_back({name, downs[name]});
    }
  }
  params.pending_migrations.clear();
  params.rollback = true;
  return params.ToJson();
}

Result<std::string> Deployments::Migrate(StepContext& ctx) {
  auto& run = ctx.run;
  LB_ASSIGN_OR_RETURN(DeployParams p, DeployParams::FromJson(run.params, "run " + run.id));
  LB_ASSIGN_OR_RETURN(DeployVars vars, DeployVars::FromJson(run.vars, "run " + run.id));
  bool any = false;
  for (const auto& [db, list] : p.pending_migrations) any = any || !list.empty();
  if (!any) return std::string("no pending migrations");
  if (!vars.restore_point) {
    // Before the first migration: a named restore point, so the database can be recovered to
    // exactly the state before this deploy.
    LB_ASSIGN_OR_RETURN(std::unique_ptr<pg::Connection> c, Connect(cfg_, "postgres"));
    const std::string& name = p.restore_point;
    LB_ASSIGN_OR_RETURN(pg::Rows rows, c->Query(
        "SELECT pg_create_restore_point($1)::text, to_char(now() AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')", {name}));
    vars.restore_point = platform::RestorePoint{name, rows.Get(0, 0), rows.Get(0, 1)};
    run.vars.update(vars.ToJson());
    LB_RETURN_IF_ERROR(ctx.save());
    ctx.say("  restore point " + name + " at " + rows.Get(0, 0));
  }
  const std::string &service = p.service, &tag = p.tag;
  LB_ASSIGN_OR_RETURN(std::string dir, releases_.Install(service, tag));
  std::map<std::string, Migration> by_name;
  for (const auto& m : MigrationsIn(dir)) by_name[m.name] = m;
  int count = 0;
  for (const auto& [db, list] : p.pending_migrations) {
    LB_ASSIGN_OR_RETURN(std::unique_ptr<pg::Connection> c, Connect(cfg_, db));
    LB_RETURN_IF_ERROR(c->Query(kLedger).status());
    for (const std::string& name : list) {
      LB_ASSIGN_OR_RETURN(pg::Rows have, c->Query(
          "SELECT 1 FROM lifeboat_migrations WHERE service = $1 AND name = $2", {service, name}));
      if (!have.rows.empty()) continue;  // applied before an interruption
      LB_ASSIGN_OR_RETURN(std::string sql, ReadText(by_name[name].up_file));
      Status s = InTransaction(*c, sql,
                               "INSERT INTO lifeboat_migrations (service, name, release) VALUES ($1, $2, $3)",
                               {service, name, tag});
      if (!s.ok()) {
        // The deploy stops here: replicas were not touched; the ledger tells which migrations
        // applied where.
        return Status::Verification("migration " + name + " failed in " + db + " and was rolled back: " +
                                        s.message() + "; replicas stay on the old release",
                                    "see 'lifeboat migrations " + service + "' for what is applied where");
      }
      ctx.say("  " + db + ": applied " + name);
      ++count;
    }
  }
  vars.migrated = true;
  run.vars.update(vars.ToJson());
  return std::to_string(count) + " migration(s) applied";
}

Result<std::string> Deployments::Undo(StepContext& ctx) {
  auto& run = ctx.run;
  LB_ASSIGN_OR_RETURN(DeployParams p, DeployParams::FromJson(run.params, "run " + run.id));
  const std::string& service = p.service;
  int count = 0;
  for (const auto& [db, list] : p.undo_migrations) {
    LB_ASSIGN_OR_RETURN(std::unique_ptr<pg::Connection> c, Connect(cfg_, db));
    for (const DeployParams::Undo& m : list) {
      const std::string& name = m.name;
      LB_ASSIGN_OR_RETURN(pg::Rows have, c->Query(
          "SELECT 1 FROM lifeboat_migrations WHERE service = $1 AND name = $2", {service, name}));
      if (have.rows.empty()) continue;
      LB_ASSIGN_OR_RETURN(std::string sql, ReadText(m.down_file));
      Status s = InTransaction(*c, sql, "DELETE FROM lifeboat_migrations WHERE service = $1 AND name = $2",
                               {service, name});
      if (!s.ok()) return s.Context("down script of " + name + " failed in " + db + " (rolled back)");
      ctx.say("  " + db + ": undid " + name);
      ++count;
    }
  }
  return std::to_string(count) + " migration(s) undone";
}

Status Deployments::Roll(const ServiceConfig& svc, const std::string& tag) {
  LB_ASSIGN_OR_RETURN(platform::ReplicaEnv env, stack_->EnvFor(svc, repo_));
  env.release = tag;
  LB_ASSIGN_OR_RETURN(env.release_dir, releases_.Install(svc.name, tag));
  return stack_->manager().RollingRestart(svc, env);
}

Result<std::string> Deployments::Rollout(StepContext& ctx) {
  auto& run = ctx.run;
  LB_ASSIGN_OR_RETURN(DeployParams p, DeployParams::FromJson(run.params, "run " + run.id));
  LB_ASSIGN_OR_RETURN(DeployVars vars, DeployVars::FromJson(run.vars, "run " + run.id));
  const std::string &service = p.service, &tag = p.tag;
  const ServiceConfig* svc = cfg_.FindService(service);
  if (svc == nullptr) return Status::Config("service '" + service + "' is not in the config");
  // The revision is recorded before replicas change, so a resumed or reverted run knows it.
  LB_ASSIGN_OR_RETURN(std::vector<platform::Revision> revs, releases_.Revisions(service));
  int number = p.revision;
  if (revs.empty() || revs.back().number != number) {
    for (auto& r : revs) {
      if (r.state == platform::RevisionState::kActive) r.state = platform::RevisionState::kReplaced;
    }
    platform::Revision rev;
    rev.number = number;
    rev.tag = tag;
    rev.created_at = Now();
    rev.created_by = Username() + "@" + Hostname();
    rev.state = platform::RevisionState::kActive;
    rev.restore_point = vars.restore_point;
    for (const auto& [db, list] : p.pending_migrations) {
      for (const std::string& n : list) {
        if (std::find(rev.migrations.begin(), rev.migrations.end(), n) == rev.migrations.end()) rev.migrations.push_back(n);
      }
    }
    if (p.rollback) rev.reason = "rollback from " + p.previous_tag;
    revs.push_back(rev);
    LB_RETURN_IF_ERROR(releases_.SaveRevisions(service, revs));
  }
  Status rolled = Roll(*svc, tag);
  if (!rolled.ok()) return Status::Verification("circuit breaker: " + rolled.message());
  // Bake: the new revision serves alone; its error rate through the load balancer decides.
  double until = MonotonicSeconds() + static_cast<double>(svc->bake_seconds);
  int probes = 0, errors = 0;
  std::string last;
  std::vector<std::string> paths = {svc->health_path};
  if (!svc->smoke_path.empty()) paths.push_back(svc->smoke_path);
  while (MonotonicSeconds() < until) {
    for (const auto& path : paths) {
      Result<platform::HttpReply> r = stack_->Probe(*svc, path, probes);
      ++probes;
      if (!r.ok() || r->status >= 500) {
        ++errors;
        last = path + ": " + (r.ok() ? std::to_string(r->status) : r.status().message());
      }
    }
    usleep(200000);
  }
  double rate = probes ? static_cast<double>(errors) / probes : 0;
  if (rate > svc->error_threshold) {
    char buf[160];
    std::snprintf(buf, sizeof(buf), "circuit breaker: %d of %d requests failed during the bake (%.0f%% > %.0f%%)",
                  errors, probes, rate * 100, svc->error_threshold * 100);
    return Status::Verification(std::string(buf) + ", last: " + last);
  }
  return "revision " + std::to_string(number) + " (" + tag + ") serves; bake: " + std::to_string(errors) + " of " +
         std::to_string(probes) + " requests failed";
}

Result<std::string> Deployments::Revert(StepContext& ctx, const Status& why) {
  auto& run = ctx.run;
  LB_ASSIGN_OR_RETURN(DeployParams p, DeployParams::FromJson(run.params, "run " + run.id));
  const std::string &service = p.service, &previous = p.previous_tag;
  LB_ASSIGN_OR_RETURN(std::vector<platform::Revision> revs, releases_.Revisions(service));
  bool recorded = false;
  for (auto& r : revs) {
    if (r.number == p.revision) {
      r.state = platform::RevisionState::kFailed;
      r.reason = why.message();
      recorded = true;
    }
  }
  if (!recorded) return std::string();  // the failure came before any replica changed
  if (previous.empty()) {
    LB_RETURN_IF_ERROR(releases_.SaveRevisions(service, revs));
    return std::string("no previous revision to return to");
  }
  for (auto it = revs.rbegin(); it != revs.rend(); ++it) {
    if (it->number == p.previous_revision) {
      it->state = platform::RevisionState::kActive;
      break;
    }
  }
  LB_RETURN_IF_ERROR(releases_.SaveRevisions(service, revs));
  LB_RETURN_IF_ERROR(Roll(*cfg_.FindService(service), previous));
  return "rolled back to revision " + std::to_string(p.previous_revision) + " (" + previous + ")";
}

Plan Deployments::DeployPlan(bool rollback) {
  Plan plan;
  plan.kind = rollback ? "rollback" : "deploy";
  Step migrate;
  migrate.name = rollback ? "undo-migrations" : "migrate";
  migrate.description = rollback ? "down scripts of the migrations the target release does not have"
                                 : "restore point, then each pending migration in its own transaction";
  migrate.run = [this, rollback](StepContext& ctx) { return rollback ? Undo(ctx) : Migrate(ctx); };
  plan.steps.push_back(migrate);
  Step rollout;
  rollout.name = "rollout";
  rollout.description = "replace replicas one at a time behind the health gate, then bake";
  rollout.timeout_seconds = 3600;
  rollout.run = [this](StepContext& ctx) { return Rollout(ctx); };
  plan.steps.push_back(rollout);
  plan.revert = [this](StepContext& ctx, const Status& why) { return Revert(ctx, why); };
  return plan;
}

Result<Plan> Deployments::PlanFor(const std::string& kind) {
  if (kind == "deploy") return DeployPlan(false);
  if (kind == "rollback") return DeployPlan(true);
  return Status::Usage("not a deployment kind: " + kind);
}

}  // namespace lifeboat::runbook
