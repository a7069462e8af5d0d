#include "runbook/scenario.h"

#include <stdlib.h>
#include <unistd.h>

#include <cmath>

#include "base/fs.h"
#include "base/process.h"
#include "base/time.h"
#include "pg/fence.h"
#include "pg/lineage.h"
#include "pg/restore.h"
#include "pg/wal.h"
#include "platform/http_probe.h"
#include "platform/releases.h"
#include "runbook/drill.h"
#include "runbook/scenario_state.h"
#include "verify/snapshot_verification.h"

namespace lifeboat::runbook {

namespace {

std::string Iso(UnixNanos t) { return FormatIso8601(t, true); }

std::string Seconds(double s, int decimals = 1) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.*f s", decimals, s);
  return buf;
}

}  // namespace

pg::RestoreRequest RestoreRequestFor(const Config& cfg, const std::string& name, const std::string& self,
                                     const std::string& repository) {
  pg::RestoreRequest req;
  if (repository != "primary") req.repository = repository;
  req.wal_prefetch_bytes = static_cast<uint64_t>(cfg.recovery.wal_prefetch_mib) << 20;
  req.name = name;
  req.instances_dir = cfg.instances.dir;
  req.state_dir = cfg.state.dir;
  req.port_first = cfg.instances.port_first;
  req.port_last = cfg.instances.port_last;
  req.lifeboat_binary = self;
  req.config_file = cfg.file;
  return req;
}

verify::Policy PolicyFor(const Config& cfg, double sample) {
  verify::Policy p;
  p.critical_tables = cfg.verify.critical_tables;
  p.shrink_limit = cfg.verify.shrink_limit;
  p.size_tolerance = cfg.verify.size_tolerance;
  p.amcheck_timeout_seconds = cfg.verify.amcheck_timeout_seconds;
  p.sample = sample >= 0 ? sample : cfg.verify.sample;
  if (cfg.verify.budget_seconds > 0) p.budget_seconds = static_cast<double>(cfg.verify.budget_seconds);
  p.coverage_file = verify::CoverageFile(cfg.state.dir);
  p.rpo_seconds = cfg.objectives.rpo_seconds;
  for (const auto& f : cfg.verify.freshness) p.freshness.push_back({f.database, f.table, f.column});
  for (const auto& c : cfg.verify.checks) p.checks.push_back({c.name, c.database, c.sql, c.expect});
  return p;
}

Result<verify::Report> VerifyManagedInstance(Repository& repo, const Config& cfg,
                                             const pg::Instance& instance, double sample) {
  pg::ClusterConfig cluster = platform::ClusterFor(cfg);
  LB_ASSIGN_OR_RETURN(std::vector<pg::PgSnapshot> snaps, pg::LoadPgSnapshots(repo));
  pg::WalArchive archive(&repo);
  LB_ASSIGN_OR_RETURN(std::optional<uint64_t> sysid, archive.ClusterIdentity());
  for (const pg::PgSnapshot& s : snaps) {
    if (s.id.Hex() != instance.origin_snapshot) continue;
    pg::ConnInfo conn = cluster.conn;
    conn.host = instance.host;
    conn.port = instance.port;
    return verify::VerifyInstance(conn, verify::BaselineFor(s, sysid.value_or(0), instance),
                                  PolicyFor(cfg, sample));
  }
  return Status::NotFound("instance '" + instance.name + "' came from snapshot " +
                          instance.origin_snapshot.substr(0, 8) + ", which is no longer in the repository");
}

std::vector<std::string> Scenario::ServicesUsingSecret() const {
  std::vector<std::string> out;
  for (const auto& svc : cfg_.services) {
    if (!cfg_.recovery.secret.empty() && svc.secret == cfg_.recovery.secret) out.push_back(svc.name);
  }
  return out;
}

Result<nlohmann::json> Scenario::ResolveCutover(const std::string& instance) {
  LB_ASSIGN_OR_RETURN(CutoverParams p, CutoverParamsFor(instance));
  return p.ToJson();
}

Result<CutoverParams> Scenario::CutoverParamsFor(const std::string& instance) {
  if (!cfg_.database.present) return Status::Config("config '" + cfg_.file + "' has no [database] section");
  if (cfg_.recovery.secret.empty()) {
    return Status::Config("no secret to cut over",
                          "set [recovery] secret, or give a service a secret (its PGHOST and PGPORT "
                          "are what cutover changes)");
  }
  platform::SecretStore store(cfg_.state.dir, repo_);
  LB_ASSIGN_OR_RETURN(platform::Secret secret, store.Get(cfg_.recovery.secret));
  CutoverParams p;
  p.instance = instance;
  // The cluster that is production now is the one the cutover retires (and fences).
  RetiredRef retired;
  pg::ClusterConfig current = platform::ProductionClusterFor(cfg_, &retired.instance);
  retired.data_dir = current.data_dir;
  retired.host = current.conn.host;
  retired.port = current.conn.port;
  p.retired = retired;
  p.secret = secret.name;
  p.secret_version = secret.current;
  p.new_secret_version = secret.versions.empty() ? 1 : secret.versions.back().version + 1;
  p.services = ServicesUsingSecret();
  p.gate_timeout_seconds = cfg_.recovery.gate_timeout_seconds;
  if (stack_->load_balancer().configured()) p.load_balancer = stack_->load_balancer().url();
  return p;
}

Result<nlohmann::json> Scenario::ResolveRecover(const RecoverRequest& request) {
  if (!cfg_.database.present) return Status::Config("config '" + cfg_.file + "' has no [database] section");
  pg::ClusterConfig cluster = platform::ClusterFor(cfg_);
  LB_ASSIGN_OR_RETURN(std::vector<pg::PgSnapshot> snaps, pg::LoadPgSnapshots(*repo_));
  LB_ASSIGN_OR_RETURN(pg::Window window, pg::ComputeWindow(*repo_, 0, &snaps));
  if (window.empty()) {
    return Status::Usage("nothing to recover: the repository has no restorable snapshot",
                         "take one with 'lifeboat backup'");
  }
  UnixNanos point = request.time ? *request.time : window.latest();
  std::string lsn;
  if (!request.restore_point.empty()) {
    // Deploys record their restore points in the services' revisions.
    platform::Releases releases(cfg_, repo_);
    for (const auto& svc : cfg_.services) {
      LB_ASSIGN_OR_RETURN(std::vector<platform::Revision> revs, releases.Revisions(svc.name));
      for (const auto& r : revs) {
        if (r.restore_point && r.restore_point->name == request.restore_point) {
          lsn = r.restore_point->lsn;
          LB_ASSIGN_OR_RETURN(point, ParseTimestamp(r.restore_point->time));
        }
      }
    }
    if (lsn.empty()) {
      return Status::NotFound("no restore point named '" + request.restore_point + "'",
                              "restore points are listed by 'lifeboat migrations SERVICE'");
    }
  }
  std::optional<pg::WindowRange> range = window.Covering(point);
  if (!range) {
    return Status::Usage("recovery target " + Iso(point) + " is outside the restorable window " +
                             pg::DescribeWindow(window),
                         "choose a time inside the window, or --latest");
  }
  std::string name = NewRunId("restore");  // restore-YYYYMMDD-HHMMSS
  pg::InstanceRegistry registry(cfg_.state.dir);
  LB_ASSIGN_OR_RETURN(std::vector<pg::Instance> taken, registry.List());
  LB_ASSIGN_OR_RETURN(int port, pg::FreePort(cfg_.instances.port_first, cfg_.instances.port_last, taken));
  RecoverParams p;
  LB_ASSIGN_OR_RETURN(p.cutover, CutoverParamsFor(name));
  p.target = !lsn.empty() ? RecoverTarget::kLsn : request.time ? RecoverTarget::kTime : RecoverTarget::kLatest;
  if (!lsn.empty()) {
    p.target_lsn = lsn;
    p.restore_point = request.restore_point;
  }
  p.target_time = point;
  p.window_earliest = window.earliest();
  p.window_latest = window.latest();
  p.window_timeline = window.timeline;
  // Production's own newest commit when it answers; when it is gone, the newest that reached
  // the repository (what a streamer stored last).
  LB_ASSIGN_OR_RETURN(auto newest, ProductionNewestCommit(cfg_, *repo_, &window));
  p.production_newest_commit = std::max(newest.first, window.latest());
  p.newest_commit_source = newest.second;
  p.snapshot = range->snapshot.Hex();
  p.port = port;
  p.rto_objective_seconds = cfg_.objectives.rto_seconds;
  p.rpo_objective_seconds = cfg_.objectives.rpo_seconds;
  p.repository = repository_;
  return p.ToJson();
}

Result<nlohmann::json> Scenario::ResolveRevert() {
  if (cfg_.recovery.secret.empty()) return Status::Config("no secret to revert: set [recovery] secret");
  platform::SecretStore store(cfg_.state.dir, repo_);
  LB_ASSIGN_OR_RETURN(platform::Secret secret, store.Get(cfg_.recovery.secret));
  if (secret.previous == 0) {
    return Status::Usage("secret '" + secret.name + "' has no previous version to revert to");
  }
  RevertParams p;
  p.secret = secret.name;
  p.secret_version = secret.current;
  p.revert_to_version = secret.previous;
  p.services = ServicesUsingSecret();
  if (stack_->load_balancer().configured()) p.load_balancer = stack_->load_balancer().url();
  return p.ToJson();
}

Status Scenario::SwitchServices(const std::vector<std::string>& services, const Say& say) {
  platform::SecretStore store(cfg_.state.dir, repo_);
  LB_ASSIGN_OR_RETURN(platform::Secret secret, store.Get(cfg_.recovery.secret));
  for (const std::string& name : services) {
    const ServiceConfig* svc = stack_->FindService(name);
    if (svc == nullptr) return Status::Config("service '" + name + "' is not in the config");
    LB_ASSIGN_OR_RETURN(std::vector<platform::ReplicaHealth> replicas, stack_->manager().Health(*svc));
    int current = 0;
    for (const auto& h : replicas) {
      current += h.healthy && h.replica.registered && h.replica.secret_version == secret.current ? 1 : 0;
    }
    if (current >= svc->replicas && current == static_cast<int>(replicas.size())) continue;
    say("  switching " + name + " onto secret version " + std::to_string(secret.current));
    LB_RETURN_IF_ERROR(stack_->SwitchService(*svc, repo_));
  }
  return Status::Ok();
}

Result<std::string> Scenario::Gate(const std::vector<std::string>& services, double deadline) {
  std::string passed;
  for (const std::string& name : services) {
    const ServiceConfig* svc = stack_->FindService(name);
    std::vector<std::string> paths = {svc->health_path};
    if (!svc->smoke_path.empty()) paths.push_back(svc->smoke_path);
    for (const std::string& path : paths) {
      for (int attempt = 0;; ++attempt) {
        Result<platform::HttpReply> r = stack_->Probe(*svc, path, attempt);
        if (r.ok() && r->status == 200) break;
        std::string last = "GET " + path + " of " + name + " answered " +
                           (r.ok() ? std::to_string(r->status) + " " + r->body.substr(0, 200) : r.status().message());
        if (MonotonicSeconds() > deadline) return Status::Verification("health gate failed: " + last);
        usleep(200000);
      }
      passed += (passed.empty() ? "" : ", ") + name + " " + path + " 200";
    }
  }
  return passed;
}

Result<CutoverParams> Scenario::CutoverOf(const RunRecord& run) const {
  return CutoverParams::FromJson(run.params, "run " + run.id);
}

Result<ScenarioVars> Scenario::VarsOf(const RunRecord& run) const {
  return ScenarioVars::FromJson(run.vars, "run " + run.id);
}

Status Scenario::SaveVars(StepContext& ctx, const ScenarioVars& vars) {
  ctx.run.vars.update(vars.ToJson());
  return ctx.save();
}

Result<std::string> Scenario::Cutover(StepContext& ctx) {
  LB_ASSIGN_OR_RETURN(CutoverParams p, CutoverOf(ctx.run));
  LB_ASSIGN_OR_RETURN(ScenarioVars vars, VarsOf(ctx.run));
  const std::string& name = p.instance;
  pg::InstanceRegistry registry(cfg_.state.dir);
  LB_ASSIGN_OR_RETURN(std::optional<pg::Instance> inst, registry.Find(name));
  if (!inst) return Status::NotFound("instance '" + name + "' does not exist", "list instances with 'lifeboat instances'");
  if (pg::StateOf(*inst) != pg::InstanceState::kRunning) {
    return Status::Verification("health gate failed: instance '" + name + "' is not running");
  }
  platform::SecretStore store(cfg_.state.dir, repo_);
  LB_ASSIGN_OR_RETURN(platform::Secret secret, store.Get(cfg_.recovery.secret));
  if (!vars.previous_secret_version) {
    vars.previous_secret_version = secret.current;
    LB_RETURN_IF_ERROR(SaveVars(ctx, vars));
  }
  const platform::SecretVersion* cur = secret.Find(secret.current);
  std::string port = std::to_string(inst->port);
  bool points = cur != nullptr && cur->values.count("PGHOST") && cur->values.at("PGHOST") == inst->host &&
                cur->values.count("PGPORT") && cur->values.at("PGPORT") == port;
  if (!points) {
    vars.secret_changed = true;
    LB_RETURN_IF_ERROR(SaveVars(ctx, vars));
    LB_ASSIGN_OR_RETURN(int v, store.Set(secret.name, {{"PGHOST", inst->host}, {"PGPORT", port}}, false,
                                         "cutover to " + name));
    vars.cutover_secret_version = v;
    LB_RETURN_IF_ERROR(SaveVars(ctx, vars));
    ctx.say("  secret " + secret.name + ": version " + std::to_string(v) + " points at " + name +
            " (port " + port + ")");
  }
  Status switched = SwitchServices(p.services, ctx.say);
  if (!switched.ok()) return Status::Verification("health gate failed: " + switched.message());
  // No request reaches the retired cluster's replicas any more: fence it before anything else,
  // so that whatever still writes to it (a client outside the stack) fails instead of landing
  // there unseen.
  LB_ASSIGN_OR_RETURN(std::string fence, FenceRetired(ctx, p, &vars));
  LB_ASSIGN_OR_RETURN(std::string gate, Gate(p.services, ctx.deadline));
  UnixNanos gate_passed_at = NowNanos();
  LB_ASSIGN_OR_RETURN(std::string protection, Protect(ctx, *inst, &vars));
  // The inventory: the restored instance is production now; any earlier one is retired.
  LB_ASSIGN_OR_RETURN(std::vector<pg::Instance> all, registry.List());
  for (pg::Instance i : all) {
    pg::InstanceRole role = i.name == name                              ? pg::InstanceRole::kProduction
                            : i.role == pg::InstanceRole::kProduction ? pg::InstanceRole::kRetired
                                                                      : i.role;
    if (role == i.role) continue;
    i.role = role;
    LB_RETURN_IF_ERROR(registry.Update(i));
  }
  // Last: it marks the step done (and is the RTO's end), so a resumed run repeats the above.
  vars.gate_passed_at = gate_passed_at;
  ctx.run.vars.update(vars.ToJson());
  return "secret " + secret.name + " now points at " + name + "; gate: " + gate + "; " + protection + "; " + fence;
}

Result<std::string> Scenario::Protect(StepContext& ctx, const pg::Instance& inst, ScenarioVars* vars) {
  vars->protecting = true;  // before archiving starts: a revert knows to stop it
  LB_RETURN_IF_ERROR(SaveVars(ctx, *vars));
  LB_ASSIGN_OR_RETURN(uint32_t tli, pg::ArmArchiving(*repo_, platform::ClusterFor(cfg_), inst,
                                                     pg::WalPushCommand(self_, cfg_.file), "lifeboat",
                                                     static_cast<double>(cfg_.database.archive_timeout_seconds)));
  vars->timeline = tli;
  LB_RETURN_IF_ERROR(SaveVars(ctx, *vars));
  LB_RETURN_IF_ERROR(pg::Lineage(repo_).MarkProduction(tli, pg::TimelineOrigin::kRecovery, inst.name, ctx.run.id));
  return "protected: timeline " + std::to_string(tli) + " is production, archiving, slot 'lifeboat'";
}

pg::ClusterConfig Scenario::RetiredCluster(const CutoverParams& p) const {
  pg::ClusterConfig c = platform::ClusterFor(cfg_);
  if (p.retired) {
    c.data_dir = p.retired->data_dir;
    c.conn.host = p.retired->host;
    c.conn.port = p.retired->port;
  }
  return c;
}

Result<std::string> Scenario::FenceRetired(StepContext& ctx, const CutoverParams& p, ScenarioVars* vars) {
  if (!p.retired) return std::string("retired cluster not recorded: not fenced");
  if (p.retired->instance == p.instance) return std::string("the instance was production already: nothing to fence");
  vars->fenced = true;  // before fencing: a revert lifts it
  LB_RETURN_IF_ERROR(SaveVars(ctx, *vars));
  pg::ClusterConfig retired = RetiredCluster(p);
  LB_ASSIGN_OR_RETURN(pg::FenceResult f, pg::FenceCluster(retired));
  if (!f.present) return "retired cluster gone (" + retired.data_dir + "): nothing to fence";
  if (!f.reachable) {
    ctx.say("  retired cluster at " + retired.data_dir + " is down: fenced for its next start");
    return std::string("retired cluster not running: fenced for its next start");
  }
  std::string last;
  if (f.last_commit) {
    // Its last write: the end of what a --latest recovery loses (the report's RPO).
    vars->retired_last_commit = *f.last_commit;
    LB_RETURN_IF_ERROR(SaveVars(ctx, *vars));
    last = ", its last commit " + Iso(*f.last_commit);
  }
  ctx.say("  retired cluster at " + retired.data_dir + " fenced: read-only, " + std::to_string(f.terminated) +
          " session(s) ended" + last);
  return "retired cluster read-only" + last;
}

Result<std::string> Scenario::Revert(StepContext& ctx) {
  RunRecord& run = ctx.run;
  std::vector<std::string> services;
  int previous = 0;
  if (run.kind == "revert") {
    LB_ASSIGN_OR_RETURN(RevertParams p, RevertParams::FromJson(run.params, "run " + run.id));
    services = p.services;
    previous = p.revert_to_version;
  } else {
    LB_ASSIGN_OR_RETURN(CutoverParams p, CutoverOf(run));
    LB_ASSIGN_OR_RETURN(ScenarioVars vars, VarsOf(run));
    if (vars.fenced) {
      LB_RETURN_IF_ERROR(pg::UnfenceCluster(RetiredCluster(p)));
      ctx.say("  retired cluster accepts writes again");
    }
    // The instance is not production after all: its timeline leaves production's lineage.
    if (vars.protecting && vars.timeline) LB_RETURN_IF_ERROR(pg::Lineage(repo_).Unmark(*vars.timeline));
    if (!vars.secret_changed) return std::string();
    if (!vars.previous_secret_version) {
      return Status::IO("run " + run.id + " changed the secret but recorded no previous version to revert to");
    }
    services = p.services;
    previous = *vars.previous_secret_version;
  }
  platform::SecretStore store(cfg_.state.dir, repo_);
  LB_RETURN_IF_ERROR(store.Promote(cfg_.recovery.secret, previous));
  ctx.say("  secret " + cfg_.recovery.secret + ": version " + std::to_string(previous) + " is current again");
  LB_RETURN_IF_ERROR(SwitchServices(services, ctx.say));
  LB_ASSIGN_OR_RETURN(std::string gate, Gate(services, MonotonicSeconds() + static_cast<double>(cfg_.recovery.gate_timeout_seconds)));
  // Whatever was made production by the cutover goes back to being a restored instance.
  pg::InstanceRegistry registry(cfg_.state.dir);
  LB_ASSIGN_OR_RETURN(std::vector<pg::Instance> all, registry.List());
  for (pg::Instance i : all) {
    if (i.role != pg::InstanceRole::kProduction) continue;
    i.role = pg::InstanceRole::kRestored;
    LB_RETURN_IF_ERROR(registry.Update(i));
  }
  return "secret " + cfg_.recovery.secret + " back to version " + std::to_string(previous) +
         ", services rolled back; gate: " + gate;
}

Result<std::string> Scenario::Report(StepContext& ctx) {
  RunRecord& run = ctx.run;
  LB_ASSIGN_OR_RETURN(RecoverParams p, RecoverParams::FromJson(run.params, "run " + run.id));
  LB_ASSIGN_OR_RETURN(ScenarioVars vars, VarsOf(run));
  LB_ASSIGN_OR_RETURN(UnixNanos started, ParseTimestamp(run.started_at));
  if (!vars.gate_passed_at || !vars.recovered_to) {
    return Status::IO("run " + run.id + " has no cutover or no recovery point recorded");
  }
  // The RPO of the choice: for a time, what was committed before it and is lost; for the latest
  // point or a restore point, everything production committed after the point recovered.
  std::string basis_key = "target_time";
  UnixNanos basis = p.target_time;
  if (p.target != RecoverTarget::kTime) {
    basis_key = "production_newest_commit";
    basis = p.production_newest_commit;
    // Production did not answer: what it committed after its WAL last reached the repository
    // is unknown, so this RPO is measured against the repository (the streamer's interval
    // bounds the rest).
    if (p.newest_commit_source == kNewestArchivedCommit) basis_key = "repository_newest_commit";
    // The retired cluster kept taking writes until the cutover fenced it; its last one counts.
    if (vars.retired_last_commit && *vars.retired_last_commit > basis) {
      basis = *vars.retired_last_commit;
      basis_key = "retired_last_commit";
    }
  }
  double rto = static_cast<double>(*vars.gate_passed_at - started) / 1e9;
  double rpo = std::max(0.0, static_cast<double>(basis - *vars.recovered_to) / 1e9);
  double rto_obj = static_cast<double>(cfg_.objectives.rto_seconds);
  double rpo_obj = static_cast<double>(cfg_.objectives.rpo_seconds);
  RecoverResult result;
  result.rto_seconds = std::round(rto * 1000) / 1000;
  result.rpo_seconds = std::round(rpo * 1000) / 1000;
  result.rto_objective_seconds = cfg_.objectives.rto_seconds;
  result.rpo_objective_seconds = cfg_.objectives.rpo_seconds;
  result.rto_met = rto <= rto_obj;
  result.rpo_met = rpo <= rpo_obj;
  result.rpo_basis = basis_key;
  result.instance = p.cutover.instance;
  result.recovered_to = *vars.recovered_to;
  result.repository = p.repository;
  run.result = result.ToJson();
  return "RTO " + Seconds(rto) + " (objective " + FormatDuration(rto_obj) + (rto <= rto_obj ? ", met" : ", MISSED") +
         "); RPO " + Seconds(rpo, 3) + " (objective " + FormatDuration(rpo_obj) + (rpo <= rpo_obj ? ", met" : ", MISSED") + ")" +
         (basis_key == "repository_newest_commit"
              ? " against the newest commit in the repository: production did not answer"
              : basis_key == "retired_last_commit" ? " up to the retired cluster's last commit" : "") +
         (p.repository != "primary" ? "; restored from the " + p.repository + " repository" : "");
}

Step Scenario::CutoverStep() {
  Step s;
  s.name = "cutover";
  s.description = "new secret version pointing at the restored instance, services switched, retired cluster fenced, health gate";
  s.timeout_seconds = static_cast<double>(cfg_.recovery.gate_timeout_seconds) + 600;
  s.done = [this](StepContext& ctx) -> Result<bool> {
    LB_ASSIGN_OR_RETURN(ScenarioVars vars, VarsOf(ctx.run));
    return vars.gate_passed_at.has_value();
  };
  s.run = [this](StepContext& ctx) { return Cutover(ctx); };
  return s;
}

Plan Scenario::RecoverPlan() {
  Plan plan;
  plan.kind = "recover";
  Step window;
  window.name = "window";
  window.description = "the restorable window and the chosen recovery point";
  window.run = [](StepContext& ctx) -> Result<std::string> {
    LB_ASSIGN_OR_RETURN(RecoverParams p, RecoverParams::FromJson(ctx.run.params, "run " + ctx.run.id));
    return "window " + Iso(p.window_earliest) + " .. " + Iso(p.window_latest) + "; recovery point " +
           Iso(p.target_time) + " (" + RecoverTargetName(p.target) + ")";
  };
  plan.steps.push_back(window);

  Step restore;
  restore.name = "restore";
  restore.description = "restore to a new instance (production untouched)";
  restore.timeout_seconds = 6 * 3600;
  // Done: the instance runs, recovered, and the run recorded where to. The check only looks.
  restore.done = [this](StepContext& ctx) -> Result<bool> {
    LB_ASSIGN_OR_RETURN(CutoverParams p, CutoverOf(ctx.run));
    LB_ASSIGN_OR_RETURN(ScenarioVars vars, VarsOf(ctx.run));
    pg::InstanceRegistry registry(cfg_.state.dir);
    LB_ASSIGN_OR_RETURN(std::optional<pg::Instance> inst, registry.Find(p.instance));
    return inst && pg::StateOf(*inst) == pg::InstanceState::kRunning && !inst->recovered_to.empty() &&
           vars.recovered_to.has_value();
  };
  restore.run = [this](StepContext& ctx) -> Result<std::string> {
    LB_ASSIGN_OR_RETURN(RecoverParams p, RecoverParams::FromJson(ctx.run.params, "run " + ctx.run.id));
    LB_ASSIGN_OR_RETURN(ScenarioVars vars, VarsOf(ctx.run));
    pg::InstanceRegistry registry(cfg_.state.dir);
    LB_ASSIGN_OR_RETURN(std::optional<pg::Instance> left, registry.Find(p.cutover.instance));
    if (left) {
      // A restore interrupted midway left a registered, incomplete instance: start over.
      ctx.say("  removing the incomplete instance " + left->name + " an interrupted run left");
      LB_RETURN_IF_ERROR(pg::DropInstance(platform::ClusterFor(cfg_), cfg_.state.dir, *left));
    }
    pg::RestoreRequest req = RestoreRequestFor(cfg_, p.cutover.instance, self_, repository_);
    if (p.target == RecoverTarget::kTime) {
      req.target.kind = pg::RestoreTarget::Kind::kTime;
      req.target.time = p.target_time;
    } else if (p.target == RecoverTarget::kLsn) {
      req.target.kind = pg::RestoreTarget::Kind::kLsn;
      LB_ASSIGN_OR_RETURN(req.target.lsn, pg::ParseLsn(p.target_lsn));
    }
    // It archives on its new timeline once the cutover makes it production, never before.
    req.archive = pg::RestoreRequest::Archive::kDeferred;
    LB_ASSIGN_OR_RETURN(pg::RestoreResult r, pg::RestoreInstance(*repo_, platform::ClusterFor(cfg_), req, nullptr));
    if (!r.recovered_to) {
      return Status::Verification("instance " + r.instance.name + " replayed no transaction",
                                  "the snapshot's WAL holds no commit; choose another target");
    }
    vars.recovered_to = *r.recovered_to;
    vars.port = r.instance.port;
    ctx.run.vars.update(vars.ToJson());
    return r.instance.name + " on port " + std::to_string(r.instance.port) + " from snapshot " +
           r.snapshot.Short() + ", newest transaction " + Iso(*r.recovered_to);
  };
  plan.steps.push_back(restore);

  Step check;
  check.name = "verify";
  check.description = "verify the restored instance (rows, freshness, integrity, user checks)";
  check.timeout_seconds = 3 * 3600;
  check.run = [this](StepContext& ctx) -> Result<std::string> {
    LB_ASSIGN_OR_RETURN(CutoverParams p, CutoverOf(ctx.run));
    LB_ASSIGN_OR_RETURN(ScenarioVars vars, VarsOf(ctx.run));
    pg::InstanceRegistry registry(cfg_.state.dir);
    const std::string& name = p.instance;
    LB_ASSIGN_OR_RETURN(std::optional<pg::Instance> inst, registry.Find(name));
    if (!inst) return Status::NotFound("instance '" + name + "' does not exist");
    LB_ASSIGN_OR_RETURN(verify::Report report, VerifyManagedInstance(*repo_, cfg_, *inst));
    vars.verification = report.ToJson();
    ctx.run.vars.update(vars.ToJson());
    for (const auto& c : report.checks) {
      ctx.say("  " + std::string(verify::OutcomeName(c.outcome)) + "  " + c.name +
              (c.outcome == verify::Outcome::kPass ? "" : ": " + c.detail));
    }
    std::vector<std::string> failed = report.Failed();
    if (!failed.empty()) {
      std::string names;
      for (const auto& f : failed) names += (names.empty() ? "" : ", ") + f;
      return Status::Verification("verification of instance '" + name + "' failed: " + names,
                                  "production is untouched; the restored instance is kept for "
                                  "inspection; remove it with 'lifeboat instance drop " + name + "'");
    }
    return std::to_string(report.checks.size()) + " checks passed";
  };
  plan.steps.push_back(check);
  plan.steps.push_back(CutoverStep());

  Step report;
  report.name = "report";
  report.description = "measured RTO and RPO against the objectives";
  report.run = [this](StepContext& ctx) { return Report(ctx); };
  plan.steps.push_back(report);
  plan.revert = [this](StepContext& ctx, const Status&) { return Revert(ctx); };
  return plan;
}

Result<Plan> Scenario::PlanFor(const std::string& kind) {
  if (kind == "recover") return RecoverPlan();
  if (kind == "cutover") {
    Plan plan;
    plan.kind = "cutover";
    plan.steps.push_back(CutoverStep());
    plan.revert = [this](StepContext& ctx, const Status&) { return Revert(ctx); };
    return plan;
  }
  if (kind == "cleanup") return CleanupPlan();
  if (kind == "revert") {
    Plan plan;
    plan.kind = "revert";
    Step s;
    s.name = "revert";
    s.description = "previous secret version, services switched back, health gate";
    s.timeout_seconds = static_cast<double>(cfg_.recovery.gate_timeout_seconds) + 600;
    s.run = [this](StepContext& ctx) { return Revert(ctx); };
    plan.steps.push_back(s);
    return plan;
  }
  return Status::Usage("runs of kind '" + kind + "' cannot be resumed by this lifeboat");
}

}  // namespace lifeboat::runbook
