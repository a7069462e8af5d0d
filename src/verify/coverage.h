// Integrity checks that fit a time budget. amcheck and a read of every page grow with the
// database, so a verify with `[verify] budget` checks the units (B-tree indexes for amcheck,
// relations for page checksums) most worth checking first and skips the rest when the next
// one would not fit, and it reports exactly which it checked and which it skipped. A history
// kept between runs makes successive verifies (drills) rotate through everything.
//
// The order: first every unit written since it was last checked (or never checked), largest
// first, since a write is what can have broken it and large units hold most of the data;
// then the units unchanged since their last check, the longest unchecked first. "Written" is
// the modification time of the unit's first file: a restore keeps production's times and
// replay updates them, so it is production's newest write to the unit.
//
// Everything here is logic without a database: the verifier (verifier.cc) collects the units
// and runs the checks; the unit tests drive it with a fake clock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "base/time.h"

namespace lifeboat::verify {

enum class UnitKind { kIndex, kRelation };  // amcheck of a B-tree index; the pages of a relation
const char* UnitKindName(UnitKind k);       // "index", "relation"

struct IntegrityUnit {
  std::string database;
  UnitKind kind = UnitKind::kRelation;
  std::string oid;   // for the check's SQL
  std::string name;  // schema.relation
  std::string quoted;  // the same, quoted for SQL
  int64_t bytes = 0;
  UnixNanos written = 0;  // 0 when unknown
  // Stable across restores of the same cluster: "database/kind/schema.relation".
  std::string Key() const;
};

// What earlier runs checked and how fast. Stored as JSON in the state directory
// (CoverageFile); a damaged file is Code::kIO naming it.
struct CoverageHistory {
  std::map<std::string, UnixNanos> last_checked;  // by IntegrityUnit::Key
  double index_bytes_per_second = 0;               // measured; 0 when never measured
  double relation_bytes_per_second = 0;

  nlohmann::json ToJson() const;
  static Result<CoverageHistory> FromJson(const nlohmann::json& j, const std::string& where);
  // A missing file is an empty history.
  static Result<CoverageHistory> Load(const std::string& file);
  Status Save(const std::string& file) const;  // durable: temp, fsync, rename
};

std::string CoverageFile(const std::string& state_dir);  // <state>/verify-coverage.json

// The budget's order (see the top of this file); ties go by name, so it is deterministic.
std::vector<IntegrityUnit> OrderForBudget(std::vector<IntegrityUnit> units, const CoverageHistory& history);

// What one run checked and skipped.
struct Coverage {
  std::optional<double> budget_seconds;  // empty: no budget, everything was checked
  std::vector<IntegrityUnit> checked, skipped;
  double seconds = 0;  // spent on the units
  int64_t CheckedBytes() const;
  int64_t SkippedBytes() const;
  nlohmann::json ToJson() const;
  static Result<Coverage> FromJson(const nlohmann::json& j, const std::string& where);
  // "12 of 40 units (1.2 GiB of 3.0 GiB) within a 30 s budget"
  std::string Summary() const;
};

// Runs `check` (false: the unit is damaged, and is not recorded as checked in the history, so
// the next run checks it again) on each of `ordered` while it fits: a unit whose estimated time (its bytes at
// the rate measured so far in this run, else the history's, else 64 MiB/s, plus 5 ms) would
// end past `deadline` (seconds on `now`'s clock) is skipped, and the smaller ones after it
// may still fit. No deadline checks everything. `history` gets the checked units' times and
// the measured rates.
Coverage CheckWithinBudget(const std::vector<IntegrityUnit>& ordered, std::optional<double> budget_seconds,
                           std::optional<double> deadline, const std::function<double()>& now,
                           const std::function<bool(const IntegrityUnit&)>& check, UnixNanos checked_at,
                           CoverageHistory* history);

}  // namespace lifeboat::verify
