#include "runbook/deploy.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "base/fs.h"
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

Result<nlohmann::json> Deployments::Applied(const ServiceConfig& svc) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& db : Databases(svc)) {
    LB_ASSIGN_OR_RETURN(std::unique_ptr<pg::Connection> c, Connect(cfg_, db));
    LB_RETURN_IF_ERROR(c->Query(kLedger).status());
    LB_ASSIGN_OR_RETURN(pg::Rows rows, c->Query(
        "SELECT name, release, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
        "FROM lifeboat_migrations WHERE service = $1 ORDER BY name", {svc.name}));
    nlohmann::json list = nlohmann::json::array();
    for (size_t i = 0; i < rows.rows.size(); ++i) {
      list.push_back({{"name", rows.Get(i, 0)}, {"release", rows.Get(i, 1)}, {"applied_at", rows.Get(i, 2)}});
    }
    out[db] = list;
  }
  return out;
}

Result<nlohmann::json> Deployments::ResolveDeploy(const std::string& service, const std::string& tag) {
  const ServiceConfig* svc = cfg_.FindService(service);
  if (svc == nullptr) return Status::NotFound("no service named '" + service + "'");
  if (!svc->UsesRelease()) {
    return Status::Config("service '" + service + "' does not run releases",
                          "put {release} in [service." + service + "] command, e.g. \"{release}/bin/server --port {port}\"");
  }
  LB_ASSIGN_OR_RETURN(std::string dir, releases_.Install(service, tag));
  LB_ASSIGN_OR_RETURN(std::vector<platform::Revision> revs, releases_.Revisions(service));
  LB_ASSIGN_OR_RETURN(std::optional<platform::Revision> active, releases_.Active(service));
  LB_ASSIGN_OR_RETURN(nlohmann::json applied, Applied(*svc));
  nlohmann::json pending = nlohmann::json::object();
  for (const auto& db : Databases(*svc)) {
    std::set<std::string> done;
    for (const auto& a : applied[db]) done.insert(a["name"]);
    nlohmann::json p = nlohmann::json::array();
    for (const auto& m : MigrationsIn(dir)) {
      if (!done.count(m.name)) p.push_back(m.name);
    }
    pending[db] = p;
  }
  int number = revs.empty() ? 1 : revs.back().number + 1;
  return nlohmann::json{{"service", service},
                        {"tag", tag},
                        {"revision", number},
                        {"previous_revision", active ? active->number : 0},
                        {"previous_tag", active ? active->tag : ""},
                        {"pending_migrations", pending},
                        {"undo_migrations", nlohmann::json::object()},
                        {"restore_point", "deploy-" + service + "-" + std::to_string(number)},
                        {"bake_seconds", svc->bake_seconds},
                        {"error_threshold", svc->error_threshold}};
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
    if (it->state == "failed" || it->number >= active->number || it->tag == active->tag) continue;
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
  LB_ASSIGN_OR_RETURN(nlohmann::json params, ResolveDeploy(service, target));
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
  LB_ASSIGN_OR_RETURN(nlohmann::json applied, Applied(*svc));
  nlohmann::json undo = nlohmann::json::object();
  for (const auto& [db, list] : applied.items()) {
    nlohmann::json names = nlohmann::json::array();
    for (auto it = list.rbegin(); it != list.rend(); ++it) {
      std::string name = (*it)["name"];
      if (known.count(name)) continue;
      if (!downs.count(name)) {
        std::string point;
        for (const auto& r : revs) {
          if (std::find(r.migrations.begin(), r.migrations.end(), name) != r.migrations.end() &&
              r.restore_point.is_object()) {
            point = r.restore_point["name"];
          }
        }
        return Status::Usage("rollback of " + service + " to " + target + " refused: migration " + name +
                                 " (in " + db + ") has no down script, so the database cannot follow",
                             point.empty() ? "restore the database from a snapshot before it with 'lifeboat recover --time T'"
                                           : "'lifeboat recover --restore-point " + point +
                                                 "' restores the database to just before it as a new instance and cuts over");
      }
      names.push_back({{"name", name}, {"down_file", downs[name]}});
    }
    undo[db] = names;
  }
  params["undo_migrations"] = undo;
  params["pending_migrations"] = nlohmann::json::object();
  params["rollback"] = true;
  return params;
}

Result<std::string> Deployments::Migrate(StepContext& ctx) {
  auto& run = ctx.run;
  const auto& pending = run.params["pending_migrations"];
  bool any = false;
  for (const auto& [db, list] : pending.items()) any = any || !list.empty();
  if (!any) return std::string("no pending migrations");
  if (!run.vars.contains("restore_point")) {
    // Before the first migration: a named restore point, so the database can be recovered to
    // exactly the state before this deploy.
    LB_ASSIGN_OR_RETURN(std::unique_ptr<pg::Connection> c, Connect(cfg_, "postgres"));
    std::string name = run.params["restore_point"];
    LB_ASSIGN_OR_RETURN(pg::Rows rows, c->Query(
        "SELECT pg_create_restore_point($1)::text, to_char(now() AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')", {name}));
    run.vars["restore_point"] = {{"name", name}, {"lsn", rows.Get(0, 0)}, {"time", rows.Get(0, 1)}};
    LB_RETURN_IF_ERROR(ctx.save());
    ctx.say("  restore point " + name + " at " + rows.Get(0, 0));
  }
  std::string service = run.params["service"], tag = run.params["tag"];
  LB_ASSIGN_OR_RETURN(std::string dir, releases_.Install(service, tag));
  std::map<std::string, Migration> by_name;
  for (const auto& m : MigrationsIn(dir)) by_name[m.name] = m;
  int count = 0;
  for (const auto& [db, list] : pending.items()) {
    LB_ASSIGN_OR_RETURN(std::unique_ptr<pg::Connection> c, Connect(cfg_, db));
    LB_RETURN_IF_ERROR(c->Query(kLedger).status());
    for (const auto& n : list) {
      std::string name = n;
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
  run.vars["migrated"] = true;
  return std::to_string(count) + " migration(s) applied";
}

Result<std::string> Deployments::Undo(StepContext& ctx) {
  auto& run = ctx.run;
  std::string service = run.params["service"];
  int count = 0;
  for (const auto& [db, list] : run.params["undo_migrations"].items()) {
    LB_ASSIGN_OR_RETURN(std::unique_ptr<pg::Connection> c, Connect(cfg_, db));
    for (const auto& m : list) {
      std::string name = m["name"];
      LB_ASSIGN_OR_RETURN(pg::Rows have, c->Query(
          "SELECT 1 FROM lifeboat_migrations WHERE service = $1 AND name = $2", {service, name}));
      if (have.rows.empty()) continue;
      LB_ASSIGN_OR_RETURN(std::string sql, ReadText(m["down_file"].get<std::string>()));
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
  std::string service = run.params["service"], tag = run.params["tag"];
  const ServiceConfig* svc = cfg_.FindService(service);
  // The revision is recorded before replicas change, so a resumed or reverted run knows it.
  LB_ASSIGN_OR_RETURN(std::vector<platform::Revision> revs, releases_.Revisions(service));
  int number = run.params["revision"];
  if (revs.empty() || revs.back().number != number) {
    for (auto& r : revs) {
      if (r.state == "active") r.state = "replaced";
    }
    platform::Revision rev;
    rev.number = number;
    rev.tag = tag;
    rev.created_at = Now();
    rev.created_by = Username() + "@" + Hostname();
    rev.state = "active";
    rev.restore_point = run.vars.value("restore_point", nlohmann::json());
    for (const auto& [db, list] : run.params["pending_migrations"].items()) {
      for (const auto& n : list) {
        if (std::find(rev.migrations.begin(), rev.migrations.end(), n) == rev.migrations.end()) rev.migrations.push_back(n);
      }
    }
    if (run.params.value("rollback", false)) rev.reason = "rollback from " + run.params["previous_tag"].get<std::string>();
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
  std::string service = run.params["service"], previous = run.params["previous_tag"];
  LB_ASSIGN_OR_RETURN(std::vector<platform::Revision> revs, releases_.Revisions(service));
  int number = run.params["revision"];
  bool recorded = false;
  for (auto& r : revs) {
    if (r.number == number) {
      r.state = "failed";
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
    if (it->number == run.params["previous_revision"].get<int>()) {
      it->state = "active";
      break;
    }
  }
  LB_RETURN_IF_ERROR(releases_.SaveRevisions(service, revs));
  LB_RETURN_IF_ERROR(Roll(*cfg_.FindService(service), previous));
  return "rolled back to revision " + run.params["previous_revision"].dump() + " (" + previous + ")";
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
