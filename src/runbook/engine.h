// The runbook engine: runs a plan's steps in order, each checked for "already done" first (so a
// resumed run skips what an interrupted one finished), timed, bounded by its timeout, and
// recorded in the run's journal before and after it runs. One run executes at a time per state
// directory. The recover, cutover, drill and later procedures are plans on this engine.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/say.h"
#include "runbook/journal.h"

namespace lifeboat::runbook {

struct StepContext {
  RunRecord& run;
  const Say& say;
  double deadline = 0;  // monotonic seconds; steps bound their waits by it
  // Saves the journal now: a step records a value in run.vars before the change it describes
  // becomes visible, so that a resumed run knows about it.
  std::function<Status()> save;
  double SecondsLeft() const;
};

struct Step {
  std::string name;
  std::string description;
  double timeout_seconds = 600;
  // True when the step's effect is already there (nothing to do). May be empty: never done.
  std::function<Result<bool>(StepContext&)> done;
  // Does the work; the returned text becomes the step's detail.
  std::function<Result<std::string>(StepContext&)> run;
};

struct Plan {
  std::string kind;
  std::vector<Step> steps;
  // Called when a step fails, to undo what earlier steps changed (cutover's revert). Returns
  // what it did; the run is then "reverted" rather than "failed". An empty text: there was
  // nothing to undo.
  std::function<Result<std::string>(StepContext&, const Status& failure)> revert;
};

class Engine {
 public:
  Engine(Journal* journal, Say say) : journal_(journal), say_(std::move(say)) {}

  // A new run of `plan` with its resolved inputs (journal saved before any step runs).
  Result<RunRecord> Begin(const Plan& plan, const nlohmann::json& params);
  // Executes every step not yet done, from the first one; the run's final state is saved.
  // Fails with the failing step's status (after a revert, if the plan has one).
  Status Execute(RunRecord* run, const Plan& plan);

 private:
  Status Finish(RunRecord* run, const Status& s, RunState state);
  Journal* journal_;
  Say say_;
};

// Holds <state>/runs/lock (flock) so that only one run executes at a time.
class RunLock {
 public:
  // Code::kBusy when another process holds it.
  static Result<RunLock> Take(const std::string& state_dir);
  RunLock(RunLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  RunLock(const RunLock&) = delete;
  ~RunLock();

 private:
  explicit RunLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace lifeboat::runbook
