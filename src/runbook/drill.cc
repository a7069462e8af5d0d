#include "runbook/drill.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>
#include <thread>

#include "base/fs.h"
#include "base/json_fields.h"
#include "base/process.h"
#include "base/time.h"
#include "pg/connection.h"
#include "pg/restore.h"
#include "platform/http_probe.h"
#include "platform/secrets.h"
#include "runbook/scenario.h"

namespace lifeboat::runbook {

namespace {

constexpr const char* kStream = "drills";

std::string Iso(UnixNanos t) { return FormatIso8601(t, true); }

}  // namespace

Result<std::pair<UnixNanos, std::string>> ProductionNewestCommit(const Config& cfg, Repository& repo,
                                                                 const pg::Window* window) {
  pg::ClusterConfig cluster = platform::ProductionClusterFor(cfg);
  Result<std::unique_ptr<pg::Connection>> conn = pg::Connection::Open(cluster.conn);
  if (conn.ok()) {
    Result<std::optional<UnixNanos>> when = pg::LastCommitTime(**conn);
    if (when.ok() && when->has_value()) return std::make_pair(**when, std::string("production's last commit"));
  }
  Result<pg::Window> w = window != nullptr ? Result<pg::Window>(*window) : pg::ComputeWindow(repo);
  LB_RETURN_IF_ERROR(w.status());
  if (w->empty()) return Status::Usage("nothing to drill: the repository has no restorable snapshot",
                                       "take one with 'lifeboat backup'");
  return std::make_pair(w->latest(), std::string(kNewestArchivedCommit));
}

nlohmann::json DrillParams::ToJson() const {
  nlohmann::json j = {{"instance", instance},
                      {"production_newest_commit", Iso(production_newest_commit)},
                      {"rpo_basis", rpo_basis},
                      {"services", services},
                      {"objectives", {{"rto_seconds", rto_objective_seconds}, {"rpo_seconds", rpo_objective_seconds}}},
                      {"repository", repository},
                      {"point", point}};
  if (target) j["target"] = Iso(*target);
  return j;
}

Result<DrillParams> DrillParams::FromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f(j, where, &Status::IO);
  LB_RETURN_IF_ERROR(f.IsObject());
  DrillParams p;
  LB_RETURN_IF_ERROR(f.String("instance", &p.instance));
  LB_RETURN_IF_ERROR(f.Time("production_newest_commit", &p.production_newest_commit));
  LB_RETURN_IF_ERROR(f.String("rpo_basis", &p.rpo_basis));
  LB_RETURN_IF_ERROR(f.Strings("services", &p.services));
  nlohmann::json o;
  LB_RETURN_IF_ERROR(f.Object("objectives", &o));
  JsonFields of(o, where + ", objectives", &Status::IO);
  LB_RETURN_IF_ERROR(of.Int("rto_seconds", &p.rto_objective_seconds));
  LB_RETURN_IF_ERROR(of.Int("rpo_seconds", &p.rpo_objective_seconds));
  if (f.Has("repository")) LB_RETURN_IF_ERROR(f.String("repository", &p.repository));
  if (f.Has("point")) LB_RETURN_IF_ERROR(f.String("point", &p.point));
  LB_RETURN_IF_ERROR(f.OptionalTime("target", &p.target));
  return p;
}

nlohmann::json DrillVars::ToJson() const {
  nlohmann::json v = nlohmann::json::object();
  if (recovered_to) v["recovered_to"] = Iso(*recovered_to);
  if (!verification.is_null()) v["verification"] = verification;
  if (app_healthy_at) v["app_healthy_at"] = Iso(*app_healthy_at);
  return v;
}

Result<DrillVars> DrillVars::FromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f(j, where, &Status::IO);
  LB_RETURN_IF_ERROR(f.IsObject());
  DrillVars v;
  LB_RETURN_IF_ERROR(f.OptionalTime("recovered_to", &v.recovered_to));
  if (f.Has("verification")) LB_RETURN_IF_ERROR(f.Object("verification", &v.verification));
  LB_RETURN_IF_ERROR(f.OptionalTime("app_healthy_at", &v.app_healthy_at));
  return v;
}

Result<nlohmann::json> Drill::Resolve(const std::string& point) {
  if (!cfg_.database.present) return Status::Config("config '" + cfg_.file + "' has no [database] section");
  LB_ASSIGN_OR_RETURN(auto newest, ProductionNewestCommit(cfg_, *repo_));
  DrillParams p;
  if (point != "latest") {
    LB_ASSIGN_OR_RETURN(pg::Window w, pg::ComputeWindow(*repo_, 0));
    if (w.empty()) return Status::Usage("nothing to drill: the repository has no restorable point");
    std::string window = Iso(w.earliest()) + " .. " + Iso(w.latest());
    if (point == "random") {
      std::random_device rd;
      std::uniform_int_distribution<UnixNanos> pick(w.earliest(), w.latest());
      p.target = pick(rd);
      p.point = "random";
    } else {
      Result<UnixNanos> t = ParseTimestamp(point);
      if (!t.ok()) {
        return Status::Usage("--point '" + point + "' is not 'latest', 'random' or a time",
                             "a time is ISO 8601, such as 2026-12-01T10:15:00Z");
      }
      if (*t < w.earliest() || *t > w.latest()) {
        return Status::Usage("--point " + Iso(*t) + " is outside the restorable window " + window,
                             "'lifeboat window' shows it");
      }
      p.target = *t;
      p.point = "time";
    }
  }
  p.instance = NewRunId("drill");
  p.production_newest_commit = newest.first;
  p.rpo_basis = newest.second;
  for (const auto& s : cfg_.services) p.services.push_back(s.name);
  p.rto_objective_seconds = cfg_.objectives.rto_seconds;
  p.rpo_objective_seconds = cfg_.objectives.rpo_seconds;
  p.repository = repository_;
  return p.ToJson();
}

std::vector<ServiceConfig> Drill::ScratchServices(const std::string& run_id) const {
  std::vector<ServiceConfig> out;
  for (ServiceConfig s : cfg_.services) {
    s.name = s.name + "-" + run_id;  // its own state: production's replicas are never touched
    s.replicas = 1;
    s.routes.clear();
    out.push_back(s);
  }
  return out;
}

Plan Drill::DrillPlan() {
  Plan plan;
  plan.kind = "drill";
  Step restore;
  restore.name = "restore";
  restore.description = "restore the drill's point (the latest, or one in the window) to a scratch instance";
  restore.timeout_seconds = 6 * 3600;
  restore.run = [this](StepContext& ctx) -> Result<std::string> {
    LB_ASSIGN_OR_RETURN(DrillParams p, DrillParams::FromJson(ctx.run.params, "run " + ctx.run.id));
    LB_ASSIGN_OR_RETURN(DrillVars vars, DrillVars::FromJson(ctx.run.vars, "run " + ctx.run.id));
    pg::RestoreRequest req = RestoreRequestFor(cfg_, p.instance, self_, repository_);
    if (p.target) {
      req.target.kind = pg::RestoreTarget::Kind::kTime;
      req.target.time = *p.target;
    }
    LB_ASSIGN_OR_RETURN(pg::RestoreResult r, pg::RestoreInstance(*repo_, platform::ClusterFor(cfg_), req, nullptr));
    pg::InstanceRegistry registry(cfg_.state.dir);
    pg::Instance scratch = r.instance;
    scratch.role = pg::InstanceRole::kScratch;
    LB_RETURN_IF_ERROR(registry.Update(scratch));
    // A point before any commit past the snapshot restores the snapshot's own state: nothing
    // to replay is right there, and wrong for the latest point.
    if (!r.recovered_to && !p.target) return Status::Verification("the scratch instance replayed no transaction");
    if (r.recovered_to) vars.recovered_to = *r.recovered_to;
    ctx.run.vars.update(vars.ToJson());
    return r.instance.name + " on port " + std::to_string(r.instance.port) +
           (r.recovered_to ? ", newest transaction " + Iso(*r.recovered_to)
                           : ", no transaction between the snapshot and the point");
  };
  plan.steps.push_back(restore);

  Step check;
  check.name = "verify";
  check.description = "verify the scratch instance";
  check.timeout_seconds = 3 * 3600;
  check.run = [this](StepContext& ctx) -> Result<std::string> {
    LB_ASSIGN_OR_RETURN(DrillParams p, DrillParams::FromJson(ctx.run.params, "run " + ctx.run.id));
    LB_ASSIGN_OR_RETURN(DrillVars vars, DrillVars::FromJson(ctx.run.vars, "run " + ctx.run.id));
    pg::InstanceRegistry registry(cfg_.state.dir);
    LB_ASSIGN_OR_RETURN(std::optional<pg::Instance> inst, registry.Find(p.instance));
    if (!inst) return Status::NotFound("the scratch instance is gone");
    LB_ASSIGN_OR_RETURN(verify::Report report, VerifyManagedInstance(*repo_, cfg_, *inst));
    vars.verification = report.ToJson();
    ctx.run.vars.update(vars.ToJson());
    std::vector<std::string> failed = report.Failed();
    if (!failed.empty()) {
      std::string names;
      for (const auto& f : failed) names += (names.empty() ? "" : ", ") + f;
      return Status::Verification("verification failed: " + names);
    }
    return std::to_string(report.checks.size()) + " checks passed";
  };
  plan.steps.push_back(check);

  Step app;
  app.name = "scratch-app";
  app.description = "one scratch replica of each service against the scratch instance; health and smoke";
  app.timeout_seconds = 600;
  app.run = [this](StepContext& ctx) -> Result<std::string> {
    LB_ASSIGN_OR_RETURN(DrillParams p, DrillParams::FromJson(ctx.run.params, "run " + ctx.run.id));
    LB_ASSIGN_OR_RETURN(DrillVars vars, DrillVars::FromJson(ctx.run.vars, "run " + ctx.run.id));
    pg::InstanceRegistry registry(cfg_.state.dir);
    LB_ASSIGN_OR_RETURN(std::optional<pg::Instance> inst, registry.Find(p.instance));
    if (!inst) return Status::NotFound("the scratch instance is gone");
    platform::ServiceManager scratch(cfg_.state.dir, self_, nullptr);
    std::string detail;
    for (const ServiceConfig& svc : ScratchServices(ctx.run.id)) {
      const ServiceConfig* original = cfg_.FindService(svc.name.substr(0, svc.name.size() - ctx.run.id.size() - 1));
      LB_ASSIGN_OR_RETURN(platform::ReplicaEnv env, stack_->EnvFor(*original, repo_));
      // The production secret's values, pointed at the scratch instance; the secret itself is
      // not changed.
      env.vars["PGHOST"] = inst->host;
      env.vars["PGPORT"] = std::to_string(inst->port);
      LB_RETURN_IF_ERROR(scratch.Start(svc, env));
      LB_ASSIGN_OR_RETURN(platform::ServiceState st, scratch.Load(svc.name));
      int port = st.replicas.front().port;
      std::vector<std::string> paths = {svc.health_path};
      if (!svc.smoke_path.empty()) paths.push_back(svc.smoke_path);
      for (const auto& path : paths) {
        LB_ASSIGN_OR_RETURN(platform::HttpReply reply, platform::HttpGet("127.0.0.1", port, path, 5));
        if (reply.status != 200) {
          return Status::Verification("scratch " + original->name + ": GET " + path + " answered " +
                                      std::to_string(reply.status));
        }
        detail += (detail.empty() ? "" : ", ") + original->name + " " + path + " 200";
      }
    }
    vars.app_healthy_at = NowNanos();
    ctx.run.vars.update(vars.ToJson());
    return detail.empty() ? std::string("no services configured") : detail;
  };
  plan.steps.push_back(app);
  return plan;
}

Status Drill::Teardown(const RunRecord& run, const Say& say) {
  Status first = Status::Ok();
  platform::ServiceManager scratch(cfg_.state.dir, self_, nullptr);
  for (const ServiceConfig& svc : ScratchServices(run.id)) {
    Status s = scratch.Stop(svc);
    if (s.ok()) {
      (void)RunProcess({"/bin/rm", "-rf", scratch.ServiceDir(svc.name)});
    } else if (first.ok()) {
      first = s;
    }
  }
  LB_ASSIGN_OR_RETURN(DrillParams p, DrillParams::FromJson(run.params, "run " + run.id));
  pg::InstanceRegistry registry(cfg_.state.dir);
  LB_ASSIGN_OR_RETURN(std::optional<pg::Instance> inst, registry.Find(p.instance));
  if (inst) {
    Status s = pg::DropInstance(platform::ClusterFor(cfg_), cfg_.state.dir, *inst);
    if (!s.ok() && first.ok()) first = s;
  }
  say(first.ok() ? "[teardown] scratch replicas stopped, scratch instance dropped"
                 : "[teardown] FAILED: " + first.message());
  return first;
}

DrillRecord Drill::Record(const RunRecord& run, const Status& outcome) {
  DrillRecord r;
  r.id = run.id;
  r.kind = DrillKind::kRestore;
  r.started_at = run.started_at;
  r.config_fingerprint = cfg_.recovery_fingerprint;
  for (const auto& s : run.steps) r.checks.push_back({s.name, s.state == StepState::kDone, s.detail});
  Result<DrillParams> p = DrillParams::FromJson(run.params, "run " + run.id);
  Result<DrillVars> vars = DrillVars::FromJson(run.vars, "run " + run.id);
  if (!p.ok() || !vars.ok()) {
    // The record says why rather than failing: a drill that cannot be read did not pass.
    r.finished_at = FormatIso8601(NowNanos(), true);
    r.reason = (!p.ok() ? p.status() : vars.status()).message();
    return r;
  }
  if (vars->verification.is_object()) {
    Result<verify::Report> report = verify::Report::FromJson(vars->verification, "run " + run.id + "'s verification");
    if (report.ok()) {
      for (const verify::CheckResult& c : report->checks) {
        r.checks.push_back({"verify: " + c.name, c.outcome != verify::Outcome::kFail, c.detail});
      }
      if (report->coverage) {
        const verify::Coverage& c = *report->coverage;
        r.coverage = DrillRecord::Coverage{static_cast<int>(c.checked.size()), static_cast<int>(c.skipped.size()),
                                           c.CheckedBytes(), c.SkippedBytes()};
      }
    }
  }
  bool within = false;
  Result<UnixNanos> started = ParseTimestamp(run.started_at);
  if (started.ok() && vars->app_healthy_at && (vars->recovered_to || p->target)) {
    UnixNanos healthy = *vars->app_healthy_at;
    UnixNanos newest = p->production_newest_commit;
    double rto_s = static_cast<double>(healthy - *started) / 1e9;
    r.rto_seconds = std::round(rto_s * 1000) / 1000;
    bool rto_ok = rto_s <= static_cast<double>(cfg_.objectives.rto_seconds);
    r.checks.push_back({"rto within objective", rto_ok,
                        FormatDuration(rto_s) + " of " + FormatDuration(static_cast<double>(cfg_.objectives.rto_seconds))});
    bool second_ok = false;
    if (p->target && !vars->recovered_to) {
      second_ok = true;
      r.checks.push_back({"restored to the point", true,
                          "no transaction between the snapshot and " + Iso(*p->target) + ": the snapshot's own state"});
    } else if (p->target) {
      // A point in the past has no RPO: what it proves is that recovery stopped at the point,
      // with the newest transaction at or before it (PostgreSQL's recovery_target_time).
      UnixNanos recovered = *vars->recovered_to;
      second_ok = recovered <= *p->target;
      r.checks.push_back({"restored to the point", second_ok,
                          "newest transaction " + Iso(recovered) + (second_ok ? ", at or before " : ", after ") +
                              Iso(*p->target)});
    } else {
      double rpo_s = std::max(0.0, static_cast<double>(newest - *vars->recovered_to) / 1e9);
      r.rpo_seconds = std::round(rpo_s * 1000) / 1000;
      second_ok = rpo_s <= static_cast<double>(cfg_.objectives.rpo_seconds);
      r.checks.push_back({"rpo within objective", second_ok,
                          FormatDuration(rpo_s) + " of " + FormatDuration(static_cast<double>(cfg_.objectives.rpo_seconds))});
    }
    within = rto_ok && second_ok;
  }
  bool all = true;
  for (const DrillCheck& c : r.checks) all = all && c.passed;
  r.finished_at = FormatIso8601(NowNanos(), true);
  r.rpo_basis = p->target ? "point in time" : p->rpo_basis;
  r.repository = p->repository;
  r.point = p->point;
  r.target = p->target ? Iso(*p->target) : "";
  r.recovered_to = vars->recovered_to ? Iso(*vars->recovered_to) : "";
  r.objectives = DrillRecord::Objectives{p->rto_objective_seconds, p->rpo_objective_seconds};
  r.passed = outcome.ok() && all && within;
  r.reason = !outcome.ok() ? outcome.message() : !within ? "an objective was missed" : "";
  return r;
}

Status Drill::Save(const DrillRecord& record) {
  std::string text = record.ToJson().dump();
  return repo_->PutNamed(kStream, record.id, ByteSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

Result<std::vector<DrillRecord>> Drill::List() { return ListDrills(*repo_); }

Result<std::vector<DrillRecord>> ListDrills(Repository& repo) {
  LB_ASSIGN_OR_RETURN(std::vector<std::string> names, repo.ListNamed(kStream));
  std::vector<DrillRecord> out;
  for (const auto& n : names) {
    LB_ASSIGN_OR_RETURN(Bytes b, repo.GetNamed(kStream, n));
    auto j = nlohmann::json::parse(b.begin(), b.end(), nullptr, false);
    LB_ASSIGN_OR_RETURN(DrillRecord r, DrillRecord::FromJson(j, "drill record '" + n + "'"));
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(),
            [](const DrillRecord& a, const DrillRecord& b) { return a.started_at > b.started_at; });
  return out;
}

Result<DrillRecord> Drill::RollbackDrill(const std::string& service, const Say& say) {
  const ServiceConfig* original = service.empty() ? (cfg_.services.empty() ? nullptr : &cfg_.services.front())
                                                  : cfg_.FindService(service);
  if (original == nullptr) {
    return Status::NotFound("no service named '" + service + "' to drill", "services are [service.NAME] in the config");
  }
  std::string id = NewRunId("drill-rollback");
  ServiceConfig good = *original;
  good.name = original->name + "-" + id;  // its own state; never in the load balancer
  good.replicas = 2;
  good.routes.clear();
  ServiceConfig bad = good;
  bad.command = {"/bin/sh", "-c", "echo 'drill: this revision cannot start' >&2; exit 1"};
  LB_ASSIGN_OR_RETURN(platform::ReplicaEnv env, stack_->EnvFor(*original, repo_));
  platform::ServiceManager scratch(cfg_.state.dir, self_, nullptr);
  std::string started_at = FormatIso8601(NowNanos(), true);
  std::vector<DrillCheck> checks;
  double detect = -1, rollback = -1;
  int probes = 0, failures = 0;
  std::string reason;
  Status s = scratch.Start(good, env);
  say("[scratch] " + std::string(s.ok() ? "2 replicas of " + original->name + " on its current revision" : s.message()));
  checks.push_back({"scratch copy healthy", s.ok(), s.ok() ? "" : s.message()});
  if (s.ok()) {
    // Requests to the scratch copy, from another thread, for the whole deploy and rollback.
    std::atomic<bool> done{false};
    std::thread load([&] {
      while (!done) {
        Result<platform::ServiceState> st = scratch.Load(good.name);
        std::vector<int> ports;
        if (st.ok()) {
          for (const auto& r : st->replicas) {
            if (r.registered) ports.push_back(r.port);
          }
        }
        Result<platform::HttpReply> r = ports.empty()
            ? Result<platform::HttpReply>(Status::IO("no replica in service"))
            : platform::HttpGet("127.0.0.1", ports[static_cast<size_t>(probes) % ports.size()], good.health_path, 2);
        ++probes;
        if (!r.ok() || r->status != 200) ++failures;
        usleep(50000);
      }
    });
    double t0 = MonotonicSeconds();
    platform::ReplicaEnv bad_env = env;
    Status deployed = scratch.RollingRestart(bad, bad_env);
    double t1 = MonotonicSeconds();
    detect = t1 - t0;
    say("[deploy] a revision that cannot start: " +
        std::string(deployed.ok() ? "it was NOT detected" : "detected in " + FormatDuration(detect)));
    checks.push_back({"bad revision detected", !deployed.ok(), deployed.ok() ? "" : deployed.message()});
    Status back = scratch.RollingRestart(good, env);
    rollback = MonotonicSeconds() - t1;
    say("[rollback] back on the good revision in " + FormatDuration(rollback));
    checks.push_back({"back on the good revision", back.ok(), back.ok() ? "" : back.message()});
    done = true;
    load.join();
    checks.push_back({"no failed request", failures == 0,
                      std::to_string(failures) + " of " + std::to_string(probes) + " requests failed"});
    if (deployed.ok()) reason = "the bad revision was not detected";
    else if (!back.ok()) reason = back.message();
    else if (failures > 0) reason = std::to_string(failures) + " requests failed";
  } else {
    reason = s.message();
  }
  Status stopped = scratch.Stop(good);
  if (stopped.ok()) (void)RunProcess({"/bin/rm", "-rf", scratch.ServiceDir(good.name)});
  say("[teardown] " + std::string(stopped.ok() ? "scratch replicas stopped" : "FAILED: " + stopped.message()));
  bool passed = reason.empty() && stopped.ok();
  auto round3 = [](double v) { return v < 0 ? std::optional<double>() : std::optional<double>(std::round(v * 1000) / 1000); };
  DrillRecord r;
  r.id = id;
  r.kind = DrillKind::kRollback;
  r.config_fingerprint = cfg_.recovery_fingerprint;
  r.service = original->name;
  r.started_at = started_at;
  r.finished_at = FormatIso8601(NowNanos(), true);
  r.detect_seconds = round3(detect);
  r.rollback_seconds = round3(rollback);
  r.failed_requests = failures;
  r.requests = probes;
  r.passed = passed;
  r.checks = std::move(checks);
  r.reason = stopped.ok() ? reason : stopped.message();
  return r;
}

}  // namespace lifeboat::runbook
