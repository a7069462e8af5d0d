#include "runbook/scenario_state.h"

#include "base/json_fields.h"

namespace lifeboat::runbook {

namespace {

std::string Iso(UnixNanos t) { return FormatIso8601(t, true); }

// Journals of the local state directory: a bad field is a failed operation (exit 2).
JsonFields Fields(const nlohmann::json& j, const std::string& where) { return JsonFields(j, where, &Status::IO); }

constexpr RecoverTarget kTargets[] = {RecoverTarget::kLatest, RecoverTarget::kTime, RecoverTarget::kLsn};

}  // namespace

const char* RecoverTargetName(RecoverTarget t) {
  switch (t) {
    case RecoverTarget::kLatest: return "latest";
    case RecoverTarget::kTime: return "time";
    case RecoverTarget::kLsn: return "lsn";
  }
  return "latest";
}

nlohmann::json CutoverParams::ToJson() const {
  nlohmann::json p = {{"instance", instance},
                      {"secret", secret},
                      {"secret_version", secret_version},
                      {"new_secret_version", new_secret_version},
                      {"services", services},
                      {"gate_timeout_seconds", gate_timeout_seconds}};
  if (retired) {
    p["retired"] = {{"instance", retired->instance}, {"data_dir", retired->data_dir},
                    {"host", retired->host}, {"port", retired->port}};
  }
  if (!load_balancer.empty()) p["load_balancer"] = load_balancer;
  return p;
}

Result<CutoverParams> CutoverParams::FromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f = Fields(j, where);
  LB_RETURN_IF_ERROR(f.IsObject());
  CutoverParams p;
  LB_RETURN_IF_ERROR(f.String("instance", &p.instance));
  LB_RETURN_IF_ERROR(f.String("secret", &p.secret));
  LB_RETURN_IF_ERROR(f.Int("secret_version", &p.secret_version));
  LB_RETURN_IF_ERROR(f.Int("new_secret_version", &p.new_secret_version));
  LB_RETURN_IF_ERROR(f.Strings("services", &p.services));
  LB_RETURN_IF_ERROR(f.Int("gate_timeout_seconds", &p.gate_timeout_seconds));
  if (f.Has("load_balancer")) LB_RETURN_IF_ERROR(f.String("load_balancer", &p.load_balancer));
  if (f.Has("retired")) {
    nlohmann::json r;
    LB_RETURN_IF_ERROR(f.Object("retired", &r));
    JsonFields rf = Fields(r, where + ", retired");
    RetiredRef ref;
    LB_RETURN_IF_ERROR(rf.String("instance", &ref.instance));
    LB_RETURN_IF_ERROR(rf.String("data_dir", &ref.data_dir));
    LB_RETURN_IF_ERROR(rf.String("host", &ref.host));
    LB_RETURN_IF_ERROR(rf.Int("port", &ref.port));
    p.retired = ref;
  }
  return p;
}

nlohmann::json RecoverParams::ToJson() const {
  nlohmann::json p = cutover.ToJson();
  p["target"] = RecoverTargetName(target);
  if (target == RecoverTarget::kLsn) {
    p["target_lsn"] = target_lsn;
    p["restore_point"] = restore_point;
  }
  p["target_time"] = Iso(target_time);
  p["window"] = {{"earliest", Iso(window_earliest)}, {"latest", Iso(window_latest)}, {"timeline", window_timeline}};
  p["production_newest_commit"] = Iso(production_newest_commit);
  p["newest_commit_source"] = newest_commit_source;
  p["snapshot"] = snapshot;
  p["port"] = port;
  p["objectives"] = {{"rto_seconds", rto_objective_seconds}, {"rpo_seconds", rpo_objective_seconds}};
  p["repository"] = repository;
  return p;
}

Result<RecoverParams> RecoverParams::FromJson(const nlohmann::json& j, const std::string& where) {
  RecoverParams p;
  LB_ASSIGN_OR_RETURN(p.cutover, CutoverParams::FromJson(j, where));
  JsonFields f = Fields(j, where);
  LB_RETURN_IF_ERROR(f.Enum("target", kTargets, &RecoverTargetName, "latest, time or lsn", &p.target));
  if (p.target == RecoverTarget::kLsn) {
    LB_RETURN_IF_ERROR(f.String("target_lsn", &p.target_lsn));
    LB_RETURN_IF_ERROR(f.String("restore_point", &p.restore_point));
  }
  LB_RETURN_IF_ERROR(f.Time("target_time", &p.target_time));
  nlohmann::json w, o;
  LB_RETURN_IF_ERROR(f.Object("window", &w));
  JsonFields wf = Fields(w, where + ", window");
  LB_RETURN_IF_ERROR(wf.Time("earliest", &p.window_earliest));
  LB_RETURN_IF_ERROR(wf.Time("latest", &p.window_latest));
  LB_RETURN_IF_ERROR(wf.Uint32("timeline", &p.window_timeline));
  LB_RETURN_IF_ERROR(f.Time("production_newest_commit", &p.production_newest_commit));
  if (f.Has("newest_commit_source")) LB_RETURN_IF_ERROR(f.String("newest_commit_source", &p.newest_commit_source));
  LB_RETURN_IF_ERROR(f.String("snapshot", &p.snapshot));
  LB_RETURN_IF_ERROR(f.Int("port", &p.port));
  LB_RETURN_IF_ERROR(f.Object("objectives", &o));
  JsonFields of = Fields(o, where + ", objectives");
  LB_RETURN_IF_ERROR(of.Int("rto_seconds", &p.rto_objective_seconds));
  LB_RETURN_IF_ERROR(of.Int("rpo_seconds", &p.rpo_objective_seconds));
  if (f.Has("repository")) LB_RETURN_IF_ERROR(f.String("repository", &p.repository));
  return p;
}

nlohmann::json RevertParams::ToJson() const {
  nlohmann::json p = {{"secret", secret},
                      {"secret_version", secret_version},
                      {"revert_to_version", revert_to_version},
                      {"services", services}};
  if (!load_balancer.empty()) p["load_balancer"] = load_balancer;
  return p;
}

Result<RevertParams> RevertParams::FromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f = Fields(j, where);
  LB_RETURN_IF_ERROR(f.IsObject());
  RevertParams p;
  LB_RETURN_IF_ERROR(f.String("secret", &p.secret));
  LB_RETURN_IF_ERROR(f.Int("secret_version", &p.secret_version));
  LB_RETURN_IF_ERROR(f.Int("revert_to_version", &p.revert_to_version));
  LB_RETURN_IF_ERROR(f.Strings("services", &p.services));
  if (f.Has("load_balancer")) LB_RETURN_IF_ERROR(f.String("load_balancer", &p.load_balancer));
  return p;
}

nlohmann::json ScenarioVars::ToJson() const {
  nlohmann::json v = nlohmann::json::object();
  if (recovered_to) v["recovered_to"] = Iso(*recovered_to);
  if (port) v["port"] = *port;
  if (!verification.is_null()) v["verification"] = verification;
  if (previous_secret_version) v["previous_secret_version"] = *previous_secret_version;
  if (secret_changed) v["secret_changed"] = true;
  if (cutover_secret_version) v["cutover_secret_version"] = *cutover_secret_version;
  if (protecting) v["protecting"] = true;
  if (timeline) v["timeline"] = *timeline;
  if (fenced) v["fenced"] = true;
  if (retired_last_commit) v["retired_last_commit"] = Iso(*retired_last_commit);
  if (gate_passed_at) v["gate_passed_at"] = Iso(*gate_passed_at);
  return v;
}

Result<ScenarioVars> ScenarioVars::FromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f = Fields(j, where);
  LB_RETURN_IF_ERROR(f.IsObject());
  ScenarioVars v;
  auto flag = [&](const char* key, bool* out) -> Status { return f.Has(key) ? f.Bool(key, out) : Status::Ok(); };
  LB_RETURN_IF_ERROR(f.OptionalTime("recovered_to", &v.recovered_to));
  LB_RETURN_IF_ERROR(f.OptionalInt("port", &v.port));
  if (f.Has("verification")) LB_RETURN_IF_ERROR(f.Object("verification", &v.verification));
  LB_RETURN_IF_ERROR(f.OptionalInt("previous_secret_version", &v.previous_secret_version));
  LB_RETURN_IF_ERROR(flag("secret_changed", &v.secret_changed));
  LB_RETURN_IF_ERROR(f.OptionalInt("cutover_secret_version", &v.cutover_secret_version));
  LB_RETURN_IF_ERROR(flag("protecting", &v.protecting));
  if (f.Has("timeline")) {
    uint32_t t = 0;
    LB_RETURN_IF_ERROR(f.Uint32("timeline", &t));
    v.timeline = t;
  }
  LB_RETURN_IF_ERROR(flag("fenced", &v.fenced));
  LB_RETURN_IF_ERROR(f.OptionalTime("retired_last_commit", &v.retired_last_commit));
  LB_RETURN_IF_ERROR(f.OptionalTime("gate_passed_at", &v.gate_passed_at));
  return v;
}

nlohmann::json RecoverResult::ToJson() const {
  return {{"rto_seconds", rto_seconds},
          {"rpo_seconds", rpo_seconds},
          {"rto_objective_seconds", rto_objective_seconds},
          {"rpo_objective_seconds", rpo_objective_seconds},
          {"rto_met", rto_met},
          {"rpo_met", rpo_met},
          {"rpo_basis", rpo_basis},
          {"instance", instance},
          {"recovered_to", Iso(recovered_to)},
          {"repository", repository}};
}

Result<RecoverResult> RecoverResult::FromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f = Fields(j, where);
  LB_RETURN_IF_ERROR(f.IsObject());
  RecoverResult r;
  LB_RETURN_IF_ERROR(f.Double("rto_seconds", &r.rto_seconds));
  LB_RETURN_IF_ERROR(f.Double("rpo_seconds", &r.rpo_seconds));
  LB_RETURN_IF_ERROR(f.Int("rto_objective_seconds", &r.rto_objective_seconds));
  LB_RETURN_IF_ERROR(f.Int("rpo_objective_seconds", &r.rpo_objective_seconds));
  LB_RETURN_IF_ERROR(f.Bool("rto_met", &r.rto_met));
  LB_RETURN_IF_ERROR(f.Bool("rpo_met", &r.rpo_met));
  LB_RETURN_IF_ERROR(f.String("rpo_basis", &r.rpo_basis));
  LB_RETURN_IF_ERROR(f.String("instance", &r.instance));
  LB_RETURN_IF_ERROR(f.Time("recovered_to", &r.recovered_to));
  if (f.Has("repository")) LB_RETURN_IF_ERROR(f.String("repository", &r.repository));
  return r;
}

nlohmann::json CleanupParams::ToJson() const {
  return {{"production", production},
          {"production_data_dir", production_data_dir},
          {"production_host", production_host},
          {"production_port", production_port},
          {"retired", retired},
          {"retired_data_dir", retired_data_dir},
          {"retired_reachable", retired_reachable},
          {"cutover_at", cutover_at},
          {"force", force}};
}

Result<CleanupParams> CleanupParams::FromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f = Fields(j, where);
  LB_RETURN_IF_ERROR(f.IsObject());
  CleanupParams p;
  LB_RETURN_IF_ERROR(f.String("production", &p.production));
  LB_RETURN_IF_ERROR(f.String("production_data_dir", &p.production_data_dir));
  LB_RETURN_IF_ERROR(f.String("production_host", &p.production_host));
  LB_RETURN_IF_ERROR(f.Int("production_port", &p.production_port));
  LB_RETURN_IF_ERROR(f.String("retired", &p.retired));
  LB_RETURN_IF_ERROR(f.String("retired_data_dir", &p.retired_data_dir));
  LB_RETURN_IF_ERROR(f.Bool("retired_reachable", &p.retired_reachable));
  LB_RETURN_IF_ERROR(f.String("cutover_at", &p.cutover_at));
  LB_RETURN_IF_ERROR(f.Bool("force", &p.force));
  return p;
}

nlohmann::json CleanupVars::ToJson() const {
  nlohmann::json v = nlohmann::json::object();
  if (final_snapshot_done) v["final_snapshot"] = final_snapshot.empty() ? nlohmann::json() : nlohmann::json(final_snapshot);
  return v;
}

Result<CleanupVars> CleanupVars::FromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f = Fields(j, where);
  LB_RETURN_IF_ERROR(f.IsObject());
  CleanupVars v;
  if (f.Has("final_snapshot")) {
    v.final_snapshot_done = true;
    if (!j["final_snapshot"].is_null()) LB_RETURN_IF_ERROR(f.String("final_snapshot", &v.final_snapshot));
  }
  return v;
}

}  // namespace lifeboat::runbook
