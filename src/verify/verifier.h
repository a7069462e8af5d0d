// Checks on a restored (or any reachable) instance: the runbook's Scenario 1 step 3 (sizes,
// row counts, critical tables, freshness) plus integrity (amcheck, page checksums) and the
// user's own checks, each compared with what the snapshot recorded and reported as pass, warn
// or fail with expected and actual values and its duration.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "base/time.h"
#include "pg/connection.h"
#include "pg/snapshot_meta.h"
#include "verify/coverage.h"

namespace lifeboat::verify {

enum class Outcome { kPass, kWarn, kFail };
const char* OutcomeName(Outcome o);

struct CheckResult {
  std::string name;
  Outcome outcome = Outcome::kPass;
  std::string expected;
  std::string actual;
  std::string detail;   // why it warned or failed
  double seconds = 0;
};

struct Report {
  std::vector<CheckResult> checks;
  std::optional<Coverage> coverage;  // the integrity checks' units; empty when none ran
  Outcome overall() const;
  nlohmann::json ToJson() const;
  // A report as ToJson wrote it; a bad key is Code::kCorruption naming `where` and the key.
  static Result<Report> FromJson(const nlohmann::json& j, const std::string& where);
  std::vector<std::string> Failed() const;  // names of failed checks
};

struct FreshnessColumn {
  std::string database, table, column;
};

struct UserCheck {
  std::string name, database, sql, expect;
};

struct Policy {
  std::vector<std::string> critical_tables;  // "db.schema.table"
  double shrink_limit = 0.10;
  double size_tolerance = 0.50;
  int64_t amcheck_timeout_seconds = 600;
  double sample = 1.0;
  // The integrity checks stop choosing units when the whole verify would pass this; empty:
  // check everything.
  std::optional<double> budget_seconds;
  std::string coverage_file;  // the rotation's history (CoverageFile); "" keeps none
  int64_t rpo_seconds = 24 * 3600;
  std::vector<FreshnessColumn> freshness;
  std::vector<UserCheck> checks;
};

// What the instance should hold.
struct Baseline {
  pg::PgSnapshotMeta snapshot;            // what the PostgreSQL snapshot it came from recorded
  uint64_t system_identifier = 0;         // the repository's cluster
  std::optional<UnixNanos> target;        // recovery target (or the newest commit recovered)
  bool ends_at_snapshot = false;          // restored to the snapshot's own end
};

// Runs every check against the instance reachable with `conn` (dbname is replaced per check).
// Never fails as a whole: an unreachable instance makes the checks fail with the reason.
Report VerifyInstance(const pg::ConnInfo& conn, const Baseline& baseline, const Policy& policy);

}  // namespace lifeboat::verify
