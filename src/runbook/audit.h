// The audit log: one JSON line per action that changed something (when, who, what, result),
// appended to <state>/audit.log and fsynced, never rewritten.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace lifeboat::runbook {

struct AuditEntry {
  std::string when;    // ISO 8601
  std::string who;     // user@host
  std::string what;    // the command line, secret values masked
  std::string result;  // "ok" or "exit N: message"
};

Status AppendAudit(const std::string& state_dir, const AuditEntry& entry);
// Oldest first.
Result<std::vector<AuditEntry>> ReadAudit(const std::string& state_dir);
nlohmann::json AuditToJson(const AuditEntry& e);

}  // namespace lifeboat::runbook
