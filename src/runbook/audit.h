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
// Oldest first; a line that does not decode (torn by a crash mid-append) is skipped.
Result<std::vector<AuditEntry>> ReadAudit(const std::string& state_dir);
nlohmann::json AuditToJson(const AuditEntry& e);
Result<AuditEntry> AuditFromJson(const nlohmann::json& j, const std::string& where);

}  // namespace lifeboat::runbook
