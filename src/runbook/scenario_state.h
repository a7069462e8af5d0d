// The state of Scenario 1's runs, typed: what recover, cutover, revert and cleanup resolve
// before they start (a run's `params`) and what their steps hand on (its `vars`). The engine
// keeps both as JSON in the journal; the steps decode them here, so that a missing or mistyped
// key is a Status naming the run and the key (exit 2), never an exception mid-recovery. Each
// ToJson writes exactly the keys the journal has always had (tests and `runs --json` read them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "base/time.h"

namespace lifeboat::runbook {

// The cluster that was production when a cutover was resolved: it retires, and is fenced.
struct RetiredRef {
  std::string instance;  // "" for the configured [database] cluster
  std::string data_dir;
  std::string host;
  int port = 0;
};

struct CutoverParams {
  std::string instance;              // the instance that becomes production
  std::optional<RetiredRef> retired;  // absent in journals of older versions
  std::string secret;
  int secret_version = 0;
  int new_secret_version = 0;
  std::vector<std::string> services;  // those that use the secret
  int64_t gate_timeout_seconds = 0;
  std::string load_balancer;  // its URL, "" when there is none

  nlohmann::json ToJson() const;
  static Result<CutoverParams> FromJson(const nlohmann::json& j, const std::string& where);
};

enum class RecoverTarget { kLatest, kTime, kLsn };
const char* RecoverTargetName(RecoverTarget t);  // "latest", "time", "lsn"

struct RecoverParams {
  CutoverParams cutover;
  RecoverTarget target = RecoverTarget::kLatest;
  std::string target_lsn;     // kLsn
  std::string restore_point;  // kLsn: the restore point's name
  UnixNanos target_time = 0;  // the point recovered to (for kLatest the window's end)
  UnixNanos window_earliest = 0;
  UnixNanos window_latest = 0;
  uint32_t window_timeline = 1;
  UnixNanos production_newest_commit = 0;
  std::string newest_commit_source;  // ProductionNewestCommit's second element
  std::string snapshot;               // hex id
  int port = 0;
  int64_t rto_objective_seconds = 0;
  int64_t rpo_objective_seconds = 0;
  std::string repository = "primary";  // the one the restore read from (absent in older journals)

  nlohmann::json ToJson() const;
  static Result<RecoverParams> FromJson(const nlohmann::json& j, const std::string& where);
};

struct RevertParams {
  std::string secret;
  int secret_version = 0;
  int revert_to_version = 0;
  std::vector<std::string> services;
  std::string load_balancer;

  nlohmann::json ToJson() const;
  static Result<RevertParams> FromJson(const nlohmann::json& j, const std::string& where);
};

// What recover's and cutover's steps hand on. Each field is recorded before the change it
// describes becomes visible, so a resumed run (or a revert) knows about it.
struct ScenarioVars {
  std::optional<UnixNanos> recovered_to;  // the newest transaction the restore replayed
  std::optional<int> port;                // the restored instance's
  nlohmann::json verification;            // verify::Report::ToJson(); null before the verify step
  std::optional<int> previous_secret_version;
  bool secret_changed = false;
  std::optional<int> cutover_secret_version;
  bool protecting = false;               // archiving is being armed: a revert must unmark
  std::optional<uint32_t> timeline;      // the new production's timeline
  bool fenced = false;                   // the retired cluster is (being) fenced
  std::optional<UnixNanos> retired_last_commit;
  std::optional<UnixNanos> gate_passed_at;  // set last: the cutover is done

  nlohmann::json ToJson() const;
  static Result<ScenarioVars> FromJson(const nlohmann::json& j, const std::string& where);
};

// What a recovery measured (its run's result).
struct RecoverResult {
  double rto_seconds = 0;
  double rpo_seconds = 0;
  int64_t rto_objective_seconds = 0;
  int64_t rpo_objective_seconds = 0;
  bool rto_met = false;
  bool rpo_met = false;
  // What the RPO is measured against: "target_time", "production_newest_commit",
  // "repository_newest_commit" (production did not answer) or "retired_last_commit".
  std::string rpo_basis;
  std::string instance;
  UnixNanos recovered_to = 0;
  std::string repository = "primary";  // the one that served the restore

  nlohmann::json ToJson() const;
  static Result<RecoverResult> FromJson(const nlohmann::json& j, const std::string& where);
};

struct CleanupParams {
  std::string production;  // the instance that took over
  std::string production_data_dir;
  std::string production_host;
  int production_port = 0;
  std::string retired;  // [database] name
  std::string retired_data_dir;
  bool retired_reachable = false;
  std::string cutover_at;
  bool force = false;

  nlohmann::json ToJson() const;
  static Result<CleanupParams> FromJson(const nlohmann::json& j, const std::string& where);
};

struct CleanupVars {
  bool final_snapshot_done = false;
  std::string final_snapshot;  // hex id; "" when none could be taken (--force)

  nlohmann::json ToJson() const;
  static Result<CleanupVars> FromJson(const nlohmann::json& j, const std::string& where);
};

}  // namespace lifeboat::runbook
