// What differs between the stack's definition and what runs (`lifeboat plan`), resource by
// resource in the order a rebuild brings them back (the seed's Scenario 3: database, secrets,
// front end, services, load balancer), and each resource brought back alone (`lifeboat
// recreate`, Scenario 4). The definition is the config, with the front-end version the
// repository's stack definition records.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "base/say.h"
#include "config/config.h"
#include "platform/stack.h"
#include "repository/repository.h"

namespace lifeboat::platform {

enum class DriftKind { kMissing, kStopped, kDifferent, kExtra };
const char* DriftKindName(DriftKind k);  // "missing", "stopped", "different version", "extra"

struct Drift {
  std::string resource;  // as `recreate` names it: "instance production", "secret NAME", "frontend",
                         // "service NAME", "load-balancer"; an extra instance: "instance NAME"
  DriftKind kind = DriftKind::kMissing;
  std::string detail;
  nlohmann::json ToJson() const;
};

// Every difference, in rebuild order; empty when everything matches. `frontend` is the
// snapshot the definition says serves ("" when it records none: any published one will do).
Result<std::vector<Drift>> FindDrift(const Config& cfg, Stack& stack, Repository& repo, const std::string& frontend);

// Brings one resource back as the definition has it; a resource that exists and matches is
// left alone. `resource` is one of Drift::resource's forms but "instance" (a recovery does that).
// Returns what it did. Code::kUsage for a resource the definition does not have.
Result<std::string> Recreate(const Config& cfg, Stack& stack, Repository& repo, const std::string& resource,
                             const std::string& frontend, const Say& say);

}  // namespace lifeboat::platform
