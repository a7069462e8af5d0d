// What a drill measured, as stored in the repository (named/drills/<id>) and printed by
// `lifeboat drills`: the restore test (RTO, RPO, the checks it ran) or the deployment drill
// (time to detect a bad revision and to roll back, failed requests).
//
// The codec is the record's only reader: a record that lacks a key or has one of the wrong
// type is a Status::Corruption naming the record and the key, never an exception.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace lifeboat::runbook {

enum class DrillKind { kRestore, kRollback };
const char* DrillKindName(DrillKind k);  // "restore", "rollback"

struct DrillCheck {
  std::string name;
  bool passed = false;
  std::string detail;
};

struct DrillRecord {
  std::string id;
  DrillKind kind = DrillKind::kRestore;
  std::string started_at;   // ISO 8601
  std::string finished_at;  // ISO 8601
  bool passed = false;
  std::vector<DrillCheck> checks;
  std::string reason;  // "" when it passed
  std::string config_fingerprint;  // Config::recovery_fingerprint it ran with; "" in old records

  // The restore test. Figures are empty when the drill failed before they could be measured.
  std::optional<double> rto_seconds;
  std::optional<double> rpo_seconds;
  std::string rpo_basis;
  std::string repository = "primary";  // the one the scratch instance was restored from
  std::string point = "latest";  // "latest", or a point in the window: "random" or "time"
  std::string target;            // the point (ISO 8601); "" for "latest"
  std::string recovered_to;      // the restored instance's newest transaction; "" when not known
  struct Objectives {
    int64_t rto_seconds = 0;
    int64_t rpo_seconds = 0;
  };
  std::optional<Objectives> objectives;  // empty when the drill's own params could not be read
  // What the verify's integrity checks covered ([verify] budget): over successive drills the
  // rotation covers everything. Empty when the verify did not get that far.
  struct Coverage {
    int checked = 0, skipped = 0;  // indexes and relations
    int64_t checked_bytes = 0, skipped_bytes = 0;
  };
  std::optional<Coverage> coverage;

  // The deployment drill.
  std::string service;
  std::optional<double> detect_seconds;
  std::optional<double> rollback_seconds;
  int failed_requests = 0;
  int requests = 0;

  // Each kind writes its own keys only.
  nlohmann::json ToJson() const;
  static Result<DrillRecord> FromJson(const nlohmann::json& j, const std::string& where);
};

}  // namespace lifeboat::runbook
