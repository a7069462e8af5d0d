#include "runbook/drill_record.h"

#include "base/json_fields.h"

namespace lifeboat::runbook {

namespace {

constexpr DrillKind kKinds[] = {DrillKind::kRestore, DrillKind::kRollback};

nlohmann::json Figure(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

}  // namespace

const char* DrillKindName(DrillKind k) { return k == DrillKind::kRollback ? "rollback" : "restore"; }

nlohmann::json DrillRecord::ToJson() const {
  nlohmann::json cs = nlohmann::json::array();
  for (const DrillCheck& c : checks) cs.push_back({{"name", c.name}, {"passed", c.passed}, {"detail", c.detail}});
  nlohmann::json j = {{"id", id},         {"kind", DrillKindName(kind)}, {"started_at", started_at},
                      {"finished_at", finished_at}, {"passed", passed}, {"checks", cs},
                      {"reason", reason}};
  j["config_fingerprint"] = config_fingerprint.empty() ? nlohmann::json() : nlohmann::json(config_fingerprint);
  if (kind == DrillKind::kRestore) {
    j["rto_seconds"] = Figure(rto_seconds);
    j["rpo_seconds"] = Figure(rpo_seconds);
    j["rpo_basis"] = rpo_basis;
    j["repository"] = repository;
    j["point"] = point;
    j["target"] = target.empty() ? nlohmann::json() : nlohmann::json(target);
    j["recovered_to"] = recovered_to.empty() ? nlohmann::json() : nlohmann::json(recovered_to);
    j["objectives"] = objectives ? nlohmann::json{{"rto_seconds", objectives->rto_seconds},
                                                  {"rpo_seconds", objectives->rpo_seconds}}
                                 : nlohmann::json();
    j["coverage"] = coverage ? nlohmann::json{{"checked", coverage->checked},
                                              {"skipped", coverage->skipped},
                                              {"checked_bytes", coverage->checked_bytes},
                                              {"skipped_bytes", coverage->skipped_bytes}}
                             : nlohmann::json();
  } else {
    j["service"] = service;
    j["detect_seconds"] = Figure(detect_seconds);
    j["rollback_seconds"] = Figure(rollback_seconds);
    j["failed_requests"] = failed_requests;
    j["requests"] = requests;
  }
  return j;
}

Result<DrillRecord> DrillRecord::FromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f(j, where);
  LB_RETURN_IF_ERROR(f.IsObject());
  DrillRecord r;
  LB_RETURN_IF_ERROR(f.String("id", &r.id));
  LB_RETURN_IF_ERROR(f.Enum("kind", kKinds, &DrillKindName, "'restore' or 'rollback'", &r.kind));
  LB_RETURN_IF_ERROR(f.String("started_at", &r.started_at));
  LB_RETURN_IF_ERROR(f.String("finished_at", &r.finished_at));
  LB_RETURN_IF_ERROR(f.Bool("passed", &r.passed));
  LB_RETURN_IF_ERROR(f.String("reason", &r.reason));
  // Records from before configurations were fingerprinted have none.
  if (f.Has("config_fingerprint") && !j["config_fingerprint"].is_null()) {
    LB_RETURN_IF_ERROR(f.String("config_fingerprint", &r.config_fingerprint));
  }
  nlohmann::json cs;
  LB_RETURN_IF_ERROR(f.Array("checks", &cs));
  for (size_t i = 0; i < cs.size(); ++i) {
    JsonFields c(cs[i], where + ", check " + std::to_string(i + 1));
    LB_RETURN_IF_ERROR(c.IsObject());
    DrillCheck check;
    LB_RETURN_IF_ERROR(c.String("name", &check.name));
    LB_RETURN_IF_ERROR(c.Bool("passed", &check.passed));
    LB_RETURN_IF_ERROR(c.String("detail", &check.detail));
    r.checks.push_back(std::move(check));
  }
  if (r.kind == DrillKind::kRestore) {
    LB_RETURN_IF_ERROR(f.OptionalDouble("rto_seconds", &r.rto_seconds));
    LB_RETURN_IF_ERROR(f.OptionalDouble("rpo_seconds", &r.rpo_seconds));
    LB_RETURN_IF_ERROR(f.String("rpo_basis", &r.rpo_basis));
    if (f.Has("repository")) LB_RETURN_IF_ERROR(f.String("repository", &r.repository));
    // Records from before point-in-time drills have none of these: they restored the latest.
    if (f.Has("point")) LB_RETURN_IF_ERROR(f.String("point", &r.point));
    if (f.Has("target") && !j["target"].is_null()) LB_RETURN_IF_ERROR(f.String("target", &r.target));
    if (f.Has("recovered_to") && !j["recovered_to"].is_null()) {
      LB_RETURN_IF_ERROR(f.String("recovered_to", &r.recovered_to));
    }
    if (f.Has("objectives") && !j["objectives"].is_null()) {
      nlohmann::json o;
      LB_RETURN_IF_ERROR(f.Object("objectives", &o));
      JsonFields of(o, where + ", objectives");
      Objectives obj;
      LB_RETURN_IF_ERROR(of.Int("rto_seconds", &obj.rto_seconds));
      LB_RETURN_IF_ERROR(of.Int("rpo_seconds", &obj.rpo_seconds));
      r.objectives = obj;
    }
    if (f.Has("coverage") && !j["coverage"].is_null()) {
      nlohmann::json o;
      LB_RETURN_IF_ERROR(f.Object("coverage", &o));
      JsonFields cf(o, where + ", coverage");
      Coverage c;
      LB_RETURN_IF_ERROR(cf.Int("checked", &c.checked));
      LB_RETURN_IF_ERROR(cf.Int("skipped", &c.skipped));
      LB_RETURN_IF_ERROR(cf.Int("checked_bytes", &c.checked_bytes));
      LB_RETURN_IF_ERROR(cf.Int("skipped_bytes", &c.skipped_bytes));
      r.coverage = c;
    }
  } else {
    LB_RETURN_IF_ERROR(f.String("service", &r.service));
    LB_RETURN_IF_ERROR(f.OptionalDouble("detect_seconds", &r.detect_seconds));
    LB_RETURN_IF_ERROR(f.OptionalDouble("rollback_seconds", &r.rollback_seconds));
    LB_RETURN_IF_ERROR(f.Int("failed_requests", &r.failed_requests));
    LB_RETURN_IF_ERROR(f.Int("requests", &r.requests));
  }
  return r;
}

}  // namespace lifeboat::runbook
