// The stack definition: what a new machine needs, beyond the repository's own contents, to
// bring the whole stack back (runbook Scenario 3). The config, portable (paths under its
// directory made relative), and which front-end version serves. The rest already lives in the
// repository and is found from the config: secrets (named/secrets), releases and the serving
// revision (named/revisions), the runs, drills and runbook. Stored as named/stack/definition,
// rewritten by every `up`, deploy, rollback, front-end change, drill and agent start or reload
// (`lifeboat stack record`), so it is as current as the last change.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "config/config.h"
#include "repository/repository.h"

namespace lifeboat::platform {

struct StackDefinition {
  static constexpr int kFormat = 1;
  std::string config;        // TOML, portable (config/portable.h)
  std::string recorded_at;   // ISO 8601 UTC
  std::string recorded_from; // the config file it came from, for messages
  std::string recovery_fingerprint;  // Config::recovery_fingerprint when recorded
  std::string frontend;      // the front-end snapshot serving ("" none)

  nlohmann::json ToJson() const;
  // A missing or mistyped key, or a newer format, is Code::kCorruption naming `where`.
  static Result<StackDefinition> FromJson(const nlohmann::json& j, const std::string& where);
};

// The definition of the stack `cfg` describes, as it stands now.
Result<StackDefinition> CaptureDefinition(const Config& cfg);
// Writes it to `repo` (one named object: visible whole or not at all).
Status StoreDefinition(const StackDefinition& def, Repository& repo);
// The definition `repo` holds; Code::kNotFound with how to record one when there is none.
Result<StackDefinition> StoredDefinition(Repository& repo);

}  // namespace lifeboat::platform
