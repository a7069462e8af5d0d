// `verify --snapshot`: restore a snapshot to a temporary instance, verify it, record the outcome
// in the repository (named object "verify/<snapshot id>"), and remove the instance, also after
// a failure.
#pragma once

#include <optional>
#include <string>

#include "pg/restore.h"
#include "verify/verifier.h"

namespace lifeboat::verify {

struct SnapshotVerification {
  Id snapshot;
  UnixNanos verified_at = 0;
  Report report;
};

// The baseline for an instance restored from `snap` with the registry's `instance` record.
Baseline BaselineFor(const pg::PgSnapshot& snap, uint64_t system_identifier, const pg::Instance& instance);

// `request` names the temporary instance and where it goes; its target is replaced by the
// snapshot. Fails only when the restore itself cannot be made (the report says the rest).
Result<SnapshotVerification> VerifySnapshot(Repository& repo, const pg::ClusterConfig& cluster,
                                            pg::RestoreRequest request, const std::string& snapshot,
                                            const Policy& policy);

// The last recorded verification of each snapshot (by full hex id).
Result<std::optional<nlohmann::json>> LastVerification(Repository& repo, const Id& snapshot);

}  // namespace lifeboat::verify
