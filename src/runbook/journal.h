// Runs and their journals. A run is one execution of a plan (recover, cutover, drill, ...); its
// journal records the resolved inputs, each step's state and timing, and the values steps hand
// to later steps, so that an interrupted run resumes at its first unfinished step with the same
// values. Journals live in <state>/runs/<id>.json (written durably after every transition) and
// are mirrored to the repository as named/runs/<id>.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "repository/repository.h"

namespace lifeboat::runbook {

// A step's state as its journal records it.
enum class StepState { kPending, kRunning, kDone, kFailed };
// A run's state as its journal records it, and kInterrupted, which is never written: what a
// run recorded as running is when its process is gone.
enum class RunState { kRunning, kSucceeded, kFailed, kReverted, kInterrupted };

// Their names in journals and output ("pending", "done", "succeeded", "interrupted", ...).
const char* StepStateName(StepState s);
const char* RunStateName(RunState s);

struct StepRecord {
  std::string name;
  std::string description;
  StepState state = StepState::kPending;
  std::string started_at;
  std::string finished_at;
  double seconds = 0;
  std::string detail;             // what it did, or why it failed
};

struct RunRecord {
  std::string id;          // "<kind>-YYYYMMDD-HHMMSS"
  std::string kind;        // "recover", "cutover", "revert", "drill", ...
  RunState state = RunState::kRunning;  // never kInterrupted (see Effective)
  std::string started_at;
  std::string finished_at;
  double started_monotonic = 0;  // not persisted meaningfully across machines; for durations
  std::string who;         // user@host
  pid_t pid = 0;           // the process executing it
  int exit_code = 0;
  std::string error;
  nlohmann::json params = nlohmann::json::object();  // resolved inputs (shown by --dry-run)
  nlohmann::json vars = nlohmann::json::object();    // values steps hand on
  nlohmann::json result = nlohmann::json::object();  // measured outcome
  std::vector<StepRecord> steps;

  // The state, or kInterrupted when recorded as running but its process is gone.
  RunState Effective() const;
  std::string DisplayState() const { return RunStateName(Effective()); }
  StepRecord* Step(const std::string& name);
};

nlohmann::json RunToJson(const RunRecord& r);
// A journal as RunToJson wrote it. A missing or mistyped key, or an unknown state, is a
// Code::kIO status naming `where` (the journal's file) and the key.
Result<RunRecord> RunFromJson(const nlohmann::json& j, const std::string& where);

class Journal {
 public:
  // `repo` (the mirror) may be null: local journal only.
  Journal(std::string state_dir, Repository* repo)
      : dir_(std::move(state_dir) + "/runs"), repo_(repo) {}
  Status Save(const RunRecord& run);
  // Code::kNotFound for an unknown id.
  Result<RunRecord> Load(const std::string& id) const;
  // Every run, newest first.
  Result<std::vector<RunRecord>> List() const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  Repository* repo_;
};

// A new run id: kind and the current UTC time, "recover-20261129-031500".
std::string NewRunId(const std::string& kind);

}  // namespace lifeboat::runbook
